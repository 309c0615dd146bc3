"""题库 pages: every URL's permission cases, a bank shared from above being read-only below, the
question form for each type, a new version when an answered question is edited, the key
correction re-scoring past attempts, the xlsx import's dry run and confirmation, the template and
the export, and the query counts of the list pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.exams.importing import QUESTION_COLUMNS
from partyedu.exams.models import Attempt, Question, QuestionBank
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [c.header for c in QUESTION_COLUMNS]


def bank_at(org: Any) -> QuestionBank:
    return make_bank(org, "标记题库")


def question_at(org: Any) -> Question:
    return make_question(bank_at(org), qtype="judge", stem="标记试题：预备期为一年。", answer=True)


# --- permission classes --------------------------------------------------------------------------------


class _BankPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return bank_at(org)


class TestBankList(_BankPage):
    url_name = "exams:bank_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("exams:bank_list")


class TestBankListForABranchAdmin(TestBankList):
    role = "branch_admin"


class TestBankListForAnExaminer(TestBankList):
    role = "examiner"


class TestBankCreate(ScopedEndpointTests):
    url_name = "exams:bank_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("exams:bank_create")


class TestBankDetail(_BankPage):
    url_name = "exams:bank_detail"

    def url(self, obj: Any) -> str:
        return reverse("exams:bank_detail", args=[obj.pk])


class TestBankEdit(_BankPage):
    url_name = "exams:bank_edit"

    def url(self, obj: Any) -> str:
        return reverse("exams:bank_edit", args=[obj.pk])


class TestQuestionCreate(_BankPage):
    url_name = "exams:question_create"

    def url(self, obj: Any) -> str:
        return reverse("exams:question_create", args=[obj.pk])


class TestQuestionCreateForAnExaminer(TestQuestionCreate):
    role = "examiner"


class TestQuestionImport(_BankPage):
    url_name = "exams:question_import"

    def url(self, obj: Any) -> str:
        return reverse("exams:question_import", args=[obj.pk])


class TestQuestionExport(_BankPage):
    url_name = "exams:question_export"

    def url(self, obj: Any) -> str:
        return reverse("exams:question_export", args=[obj.pk])


class _QuestionPage(ScopedEndpointTests):
    def make_object(self, org: Any) -> Any:
        return question_at(org)


class TestQuestionDetail(_QuestionPage):
    url_name = "exams:question_detail"

    def url(self, obj: Any) -> str:
        return reverse("exams:question_detail", args=[obj.pk])


class TestQuestionEdit(_QuestionPage):
    url_name = "exams:question_edit"

    def url(self, obj: Any) -> str:
        return reverse("exams:question_edit", args=[obj.pk])


class TestQuestionKey(PostEndpointTests, _QuestionPage):
    url_name = "exams:question_key"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"judge": "false"}

    def action_url(self, obj: Any) -> str:
        return reverse("exams:question_key", args=[obj.pk])


def test_the_template_is_refused_to_a_user_without_the_import_action(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.district_a))
    assert client.get(reverse("exams:question_template")).status_code == 403


# --- a bank shared from above ------------------------------------------------------------------------


@pytest.fixture
def city_question(tree):
    return make_question(make_bank(tree.root, "全市题库"), qtype="judge", stem="市级题。", answer=True)


@pytest.fixture
def district_admin(client, tree):
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)
    return user


def test_a_city_bank_is_listed_below_as_read_only(client, district_admin, city_question):
    content = client.get(reverse("exams:bank_list")).content.decode()
    assert "全市题库" in content
    assert "上级共享·只读" in content


def test_a_city_bank_shows_no_edit_buttons_below(client, district_admin, city_question):
    response = client.get(reverse("exams:bank_detail", args=[city_question.bank_id]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="bank-readonly"' in content
    assert reverse("exams:question_create", args=[city_question.bank_id]) not in content
    assert reverse("exams:bank_edit", args=[city_question.bank_id]) not in content


@pytest.mark.parametrize("name", ["exams:bank_edit", "exams:question_create", "exams:question_import"])
def test_a_city_bank_cannot_be_changed_below(client, district_admin, city_question, name):
    assert client.get(reverse(name, args=[city_question.bank_id])).status_code == 404


def test_a_city_question_cannot_be_edited_or_corrected_below(client, district_admin, city_question):
    assert client.get(reverse("exams:question_edit", args=[city_question.pk])).status_code == 404
    response = client.post(reverse("exams:question_key", args=[city_question.pk]), {"judge": "false"})
    assert response.status_code == 404
    city_question.current_version.refresh_from_db()
    assert city_question.current_version.answer is True


def test_a_city_question_is_readable_below_without_the_key_form(client, district_admin, city_question):
    response = client.get(reverse("exams:question_detail", args=[city_question.pk]))
    assert response.status_code == 200
    assert 'data-testid="key-form"' not in response.content.decode()


# --- banks -----------------------------------------------------------------------------------------------


def test_a_bank_is_created_at_the_chosen_organisation(client, tree, district_admin):
    response = client.post(
        reverse("exams:bank_create"),
        {"organization": tree.branch_a.pk, "title": "支部题库", "description": ""},
    )
    bank = QuestionBank.objects.get(title="支部题库")
    assert response["Location"] == reverse("exams:bank_detail", args=[bank.pk])
    assert bank.organization == tree.branch_a


def test_a_bank_title_used_twice_at_one_organisation_is_refused_on_the_form(client, tree, district_admin):
    make_bank(tree.district_a, "理论题库")
    response = client.post(
        reverse("exams:bank_create"),
        {"organization": tree.district_a.pk, "title": "理论题库", "description": ""},
    )
    assert response.status_code == 200
    assert QuestionBank.objects.filter(title="理论题库").count() == 1


def test_a_bank_can_be_deactivated(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    client.post(reverse("exams:bank_edit", args=[bank.pk]), {"title": bank.title, "description": ""})
    bank.refresh_from_db()
    assert bank.is_active is False


def test_the_bank_filters_by_type(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    make_question(bank, qtype="judge", stem="判断题一。", answer=True)
    make_question(bank, qtype="single", stem="单选题一？")
    content = client.get(reverse("exams:bank_detail", args=[bank.pk]), {"qtype": "judge"}).content.decode()
    assert "判断题一" in content
    assert "单选题一" not in content


def test_the_bank_filters_by_tag_and_text(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    make_question(bank, qtype="judge", stem="党史题甲。", answer=True, tags=["党史"])
    make_question(bank, qtype="judge", stem="党史题乙。", answer=True, tags=["党章"])
    make_question(bank, qtype="judge", stem="另一题。", answer=True, tags=["党史"])
    response = client.get(reverse("exams:bank_detail", args=[bank.pk]), {"tag": "党史", "q": "党史题"})
    content = response.content.decode()
    assert "党史题甲" in content
    assert "党史题乙" not in content
    assert "另一题" not in content


def test_an_htmx_filter_returns_only_the_table(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    response = client.get(reverse("exams:bank_detail", args=[bank.pk]), HTTP_HX_REQUEST="true")
    assert 'data-testid="question-table"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_bank_list_runs_a_fixed_number_of_queries(
    client, tree, district_admin, django_assert_max_num_queries
):
    for index in range(8):
        bank = make_bank(tree.district_a if index % 2 else tree.root, f"题库{index}")
        make_question(bank, qtype="judge", stem=f"题{index}。", answer=True, tags=["党史"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("exams:bank_list"))
    assert response.content.decode().count("题库") >= 8


def test_the_bank_page_runs_a_fixed_number_of_queries(
    client, tree, district_admin, django_assert_max_num_queries
):
    bank = make_bank(tree.district_a)
    for index in range(25):
        make_question(bank, qtype="judge", stem=f"第{index}题。", answer=True, tags=["党史", f"标签{index}"])
    with django_assert_max_num_queries(16):
        response = client.get(reverse("exams:bank_detail", args=[bank.pk]))
    assert "第24题" in response.content.decode()


# --- the question form -------------------------------------------------------------------------------


def question_post(**data: Any) -> dict[str, Any]:
    base = {
        "qtype": "single",
        "stem": "党的最高理想是什么？",
        "option_a": "小康",
        "option_b": "共产主义",
        "option_c": "",
        "option_d": "",
        "option_e": "",
        "option_f": "",
        "answer": "B",
        "judge": "",
        "fill_answers": "",
        "reference_answer": "",
        "rubric": "",
        "explanation": "党章总纲",
        "difficulty": "2",
        "tags": "党章、党史",
    }
    base.update(data)
    return base


def test_a_single_choice_question_is_added_with_its_tags(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    response = client.post(reverse("exams:question_create", args=[bank.pk]), question_post())
    question = Question.objects.get()
    assert response["Location"] == reverse("exams:question_detail", args=[question.pk])
    assert question.current_version.options == ["小康", "共产主义"]
    assert question.current_version.answer == "B"
    assert set(question.tags.values_list("name", flat=True)) == {"党章", "党史"}


def test_an_answer_letter_beyond_the_options_is_shown_on_the_answer_field(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    response = client.post(reverse("exams:question_create", args=[bank.pk]), question_post(answer="D"))
    assert response.status_code == 200
    assert "答案“D”超出选项范围（共2个选项）" in response.content.decode()
    assert not Question.objects.exists()


def test_a_judge_question_takes_its_key_from_the_radio(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    client.post(
        reverse("exams:question_create", args=[bank.pk]),
        question_post(qtype="judge", stem="预备期为一年。", answer="ZZ", judge="true"),
    )
    version = Question.objects.get().current_version
    assert version.answer is True
    assert version.options == []


def test_a_fill_in_question_takes_one_accepted_answer_a_line(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    client.post(
        reverse("exams:question_create", args=[bank.pk]),
        question_post(qtype="fill", stem="全心全意为____服务。", fill_answers="人民\n人民群众\n"),
    )
    assert Question.objects.get().current_version.answer == ["人民", "人民群众"]


def test_a_short_answer_question_keeps_its_reference_answer_and_rubric(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    client.post(
        reverse("exams:question_create", args=[bank.pk]),
        question_post(qtype="essay", stem="谈谈体会。", reference_answer="联系实际", rubric="观点3分"),
    )
    version = Question.objects.get().current_version
    assert (version.answer, version.reference_answer, version.rubric) == (None, "联系实际", "观点3分")


def test_a_duplicate_stem_is_refused_on_the_stem_field(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    make_question(bank, qtype="judge", stem="党的最高理想是什么?", answer=True)
    response = client.post(reverse("exams:question_create", args=[bank.pk]), question_post())
    assert "题库中已有相同题干的试题" in response.content.decode()
    assert Question.objects.count() == 1


@pytest.fixture
def answered(tree):
    """A judge question (key 正确) of a district bank, answered 错误 in a submitted attempt."""
    bank = make_bank(tree.district_a)
    question = make_question(bank, qtype="judge", stem="预备期为一年。", answer=True)
    exam = make_exam(tree.district_a, questions=[question], scores=[10])
    member = taker(tree.branch_a)
    attempt = attempt_start(actor=member, exam=exam)
    answer_save(actor=member, attempt=attempt, question=question.pk, response=False)
    attempt = attempt_submit(actor=member, attempt=attempt)
    return question, attempt


def test_editing_an_answered_question_makes_a_new_version(client, district_admin, answered):
    question, attempt = answered
    response = client.post(
        reverse("exams:question_edit", args=[question.pk]),
        question_post(qtype="judge", stem="预备党员的预备期为一年。", judge="true"),
        follow=True,
    )
    question.refresh_from_db()
    assert question.current_version.number == 2
    assert "已保存为第2版" in response.content.decode()
    assert attempt.questions.get().version.stem == "预备期为一年。"


def test_the_question_page_lists_each_version_with_its_attempts(client, district_admin, answered):
    question, _attempt = answered
    client.post(
        reverse("exams:question_edit", args=[question.pk]),
        question_post(qtype="judge", stem="预备党员的预备期为一年。", judge="true"),
    )
    response = client.get(reverse("exams:question_detail", args=[question.pk]))
    rows = response.context["versions"]
    assert [(r.version.number, r.attempts, r.is_current) for r in rows] == [(2, 0, True), (1, 1, False)]


def test_the_type_of_an_answered_question_is_locked_on_the_form(client, district_admin, answered):
    question, _attempt = answered
    response = client.get(reverse("exams:question_edit", args=[question.pk]))
    assert response.context["form"].fields["qtype"].disabled
    assert 'data-testid="version-note"' in response.content.decode()


def test_editing_an_unanswered_question_keeps_its_version(client, tree, district_admin):
    question = make_question(make_bank(tree.district_a), qtype="judge", stem="旧题干。", answer=True)
    client.post(
        reverse("exams:question_edit", args=[question.pk]),
        question_post(qtype="judge", stem="新题干。", judge="false"),
    )
    question.refresh_from_db()
    assert question.current_version.number == 1
    assert (question.current_version.stem, question.current_version.answer) == ("新题干。", False)


def test_correcting_the_key_rescores_the_attempts_and_says_how_many(client, district_admin, answered):
    question, attempt = answered
    assert attempt.score == 0
    response = client.post(reverse("exams:question_key", args=[question.pk]), {"judge": "false"}, follow=True)
    assert "已重新评分1份答卷" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.score == 10


def test_a_key_correction_without_an_answer_is_refused_and_changes_nothing(client, tree, district_admin):
    question = make_question(make_bank(tree.district_a), qtype="single", stem="选哪个？", answer="A")
    response = client.post(reverse("exams:question_key", args=[question.pk]), {"answer": "G"})
    assert response.status_code == 400
    assert "不是选项字母" in response.content.decode()
    question.current_version.refresh_from_db()
    assert question.current_version.answer == "A"


def test_the_key_form_shows_no_field_for_a_short_answer(client, tree, district_admin):
    question = make_question(make_bank(tree.district_a), qtype="essay", stem="谈谈体会。")
    response = client.get(reverse("exams:question_detail", args=[question.pk]))
    assert 'data-testid="key-form"' not in response.content.decode()


def test_an_attempt_is_not_rescored_when_the_key_is_unchanged(client, district_admin, answered):
    question, attempt = answered
    response = client.post(reverse("exams:question_key", args=[question.pk]), {"judge": "true"}, follow=True)
    assert "没有需要重新评分的答卷" in response.content.decode()
    assert Attempt.objects.get(pk=attempt.pk).score == 0


# --- import and export -------------------------------------------------------------------------------


def sheet(*rows: list[Any]) -> SimpleUploadedFile:
    book = Workbook()
    ws = book.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("试题.xlsx", out.getvalue(), content_type=XLSX)


def row(qtype: str, stem: str, options: tuple[str, ...] = (), answer: str = "", tags: str = "") -> list[Any]:
    return [qtype, stem, *options, *[""] * (6 - len(options)), answer, "", 3, tags]


def test_an_import_dry_run_lists_row_errors_and_writes_nothing(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    upload = sheet(row("单选题", "第一题？", ("甲", "乙"), "A"), row("单选题", "第二题？", ("甲", "乙"), "E"))
    response = client.post(reverse("exams:question_import", args=[bank.pk]), {"file": upload})
    content = response.content.decode()
    assert "第3行 答案: 答案“E”超出选项范围（共2个选项）" in content
    assert 'name="token"' not in content
    assert not Question.objects.exists()


def test_an_import_dry_run_reports_a_stem_already_in_the_bank(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    make_question(bank, qtype="judge", stem="预备期为一年", answer=True)
    upload = sheet(row("判断题", "预备期为一年。", (), "正确"), row("判断", "预备期 为一年!", (), "正确"))
    content = client.post(reverse("exams:question_import", args=[bank.pk]), {"file": upload}).content.decode()
    assert "第2行 题干: 题库中已有相同题干的试题" in content
    assert "第3行 题干: " in content


def test_an_import_is_written_only_on_confirmation(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    upload = sheet(
        row("单选题", "第一题？", ("甲", "乙"), "A", "党史"), row("判断题", "第二题。", (), "错误")
    )
    url = reverse("exams:question_import", args=[bank.pk])
    response = client.post(url, {"file": upload})
    token = response.context["token"]
    assert not Question.objects.exists()
    response = client.post(url, {"token": token, "confirm": "1"})
    assert response["Location"] == reverse("exams:bank_detail", args=[bank.pk])
    assert bank.questions.count() == 2


def test_an_import_token_of_one_bank_is_not_accepted_at_another(client, tree, district_admin):
    bank = make_bank(tree.district_a, "甲库")
    other = make_bank(tree.district_a, "乙库")
    response = client.post(
        reverse("exams:question_import", args=[bank.pk]), {"file": sheet(row("判断题", "一题。", (), "正确"))}
    )
    client.post(reverse("exams:question_import", args=[other.pk]), {"token": response.context["token"]})
    assert not Question.objects.exists()


def test_a_large_import_is_checked_and_written_into_its_bank_as_background_jobs(
    client, tree, district_admin, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_MIN_ROWS = 2
    bank = make_bank(tree.district_a)
    upload = sheet(*[row("判断题", f"第{n}题。", (), "正确") for n in range(5)])
    url = reverse("exams:question_import", args=[bank.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload})
    check_page = client.get(response["Location"]).content.decode()
    assert "检查通过：共5行，将新增5条" in check_page
    assert not Question.objects.exists()
    token = next(iter(client.session["pending_imports"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"token": token, "confirm": "1"})
    assert "导入完成：共5行，新增5条" in client.get(response["Location"]).content.decode()
    assert bank.questions.count() == 5


def test_a_large_import_into_a_bank_disabled_meanwhile_writes_nothing(
    client, tree, district_admin, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_MIN_ROWS = 2
    bank = make_bank(tree.district_a)
    url = reverse("exams:question_import", args=[bank.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"file": sheet(*[row("判断题", f"第{n}题。", (), "正确") for n in range(3)])})
    token = next(iter(client.session["pending_imports"]))
    QuestionBank.objects.filter(pk=bank.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"token": token, "confirm": "1"})
    assert "题库不存在或已停用" in client.get(response["Location"]).content.decode()
    assert not Question.objects.exists()


def test_the_template_has_the_published_columns_an_example_and_notes(client, district_admin):
    response = client.get(reverse("exams:question_template"))
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    first = book.worksheets[0]
    assert [c.value for c in first[1]] == HEADER
    assert first.max_row == 2
    assert first["A2"].value == "单选题"
    assert "填写说明" in book.sheetnames


def test_the_template_example_imports_cleanly(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    content = client.get(reverse("exams:question_template")).content
    upload = SimpleUploadedFile("模板.xlsx", content, content_type=XLSX)
    response = client.post(reverse("exams:question_import", args=[bank.pk]), {"file": upload})
    assert response.context["report"].ok, response.context["report"].errors


def test_the_export_is_the_bank_in_the_template(client, tree, district_admin):
    bank = make_bank(tree.district_a)
    make_question(bank, qtype="fill", stem="全心全意为____服务。", answer=["人民", "人民群众"])
    response = client.get(reverse("exams:question_export", args=[bank.pk]))
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == HEADER
    assert ws["B2"].value == "全心全意为____服务。"
    assert ws["I2"].value == "人民|人民群众"
