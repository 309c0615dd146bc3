"""The member's exam pages: my exams, starting, the take page, saving answers, submitting and the
result. Each page is the member's own: another member's attempt is 404."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.exams import targets
from partyedu.exams.models import Answer, Attempt, Exam
from partyedu.exams.selectors.take import _exams_for_member as exams_for_member
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db

SECRET_EXPLANATION = "解析密文：党的最高理想是实现共产主义"
SECRET_FILL = "实事求是群众路线"
SECRET_REFERENCE = "参考答案密文：理论联系实际"


def secret_exam(org, **data):
    """An exam whose keys, explanation and reference answer are easy to look for in a response."""
    bank = make_bank(org, f"保密题库{org.pk}")
    questions = [
        make_question(
            bank,
            qtype="single",
            stem="党的最高理想是什么？",
            options=["小康", "共产主义", "富强"],
            answer="B",
            explanation=SECRET_EXPLANATION,
        ),
        make_question(bank, qtype="fill", stem="党的思想路线核心是____。", answer=[SECRET_FILL]),
        make_question(bank, qtype="essay", stem="谈谈学习体会。", reference_answer=SECRET_REFERENCE),
    ]
    return make_exam(org, questions=questions, scores=[40, 30, 30], **data)


def start(client, exam):
    response = client.post(reverse("exams:attempt_start", args=[exam.pk]))
    assert response.status_code == 302, response.content
    return Attempt.objects.get(pk=int(re.search(r"/attempts/(\d+)/", response["Location"]).group(1)))


def save(client, attempt, question, answer):
    return client.post(
        reverse("exams:attempt_answer", args=[attempt.pk]),
        data={"question": question, "answer": answer},
        content_type="application/json",
    )


def shown_letter(html, question_id, text):
    """The letter the take page shows for an option's text."""
    match = re.search(
        rf'name="q{question_id}" value="([A-F])"[^>]*>\s*<span class="pe-take-letter">[A-F]</span><span>{text}</span>',
        html,
    )
    assert match, f"option {text} not found"
    return match.group(1)


def question_ids(attempt):
    return {
        item.version.question.qtype: item.version.question_id
        for item in attempt.questions.select_related("version__question")
    }


# --- my exams ------------------------------------------------------------------------------------------


def test_my_page_lists_an_open_exam_with_attempts_used(client, tree):
    user = taker(tree.branch_a)
    make_exam(tree.district_a, title="党章知识测试", attempts_allowed=2)
    client.force_login(user)
    html = client.get(reverse("exams:my")).content.decode()
    assert "党章知识测试" in html
    assert "已答0/2次" in html
    assert "开始答题" in html


def test_my_page_says_continue_for_an_open_attempt(client, tree):
    user = taker(tree.branch_a)
    exam = make_exam(tree.district_a)
    client.force_login(user)
    start(client, exam)
    assert "继续答题" in client.get(reverse("exams:my")).content.decode()


def test_my_page_leaves_out_an_exam_of_another_district(client, tree):
    user = taker(tree.branch_a)
    make_exam(tree.district_b, title="乙区专属测试")
    client.force_login(user)
    assert "乙区专属测试" not in client.get(reverse("exams:my")).content.decode()


def test_a_user_without_a_member_record_gets_a_plain_message(client, tree):
    client.force_login(make_user(role="member", org=tree.branch_a))
    response = client.get(reverse("exams:my"))
    assert response.status_code == 200
    assert "没有关联党员档案" in response.content.decode()


def test_an_organiser_without_a_member_record_gets_the_message_too(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(reverse("exams:my"))
    assert response.status_code == 200
    assert "没有关联党员档案" in response.content.decode()


def test_my_page_lists_past_attempts_with_score_and_pass(client, tree):
    user = taker(tree.branch_a)
    exam = make_exam(tree.district_a, title="已考测试")
    client.force_login(user)
    attempt = start(client, exam)
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    html = client.get(reverse("exams:my")).content.decode()
    assert "0/100分" in html
    assert "未及格" in html
    assert "查看解析" in html  # the sample exam shows answers at once


def test_my_page_queries_do_not_grow_with_exams_and_attempts(client, tree, django_assert_max_num_queries):
    user = taker(tree.branch_a)
    bank = make_bank(tree.district_a)
    questions = [make_question(bank, stem=f"题{i}") for i in range(2)]
    client.force_login(user)
    for i in range(6):
        exam = make_exam(tree.district_a, questions=questions, title=f"测试{i}", attempts_allowed=3)
        attempt = start(client, exam)
        if i % 2:
            client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    make_exam(tree.district_a, questions=questions, kind="practice", title="应知应会")
    client.get(reverse("exams:my"))  # warm the per-user caches (roles, menu)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("exams:my"))
    assert response.content.decode().count('data-testid="my-exam"') == 7


@pytest.mark.parametrize(
    "case", ["subtree", "other_district", "exempt", "exempt_named", "listed", "not_listed"]
)
def test_exams_for_member_agrees_with_the_target_rule(tree, case):
    member = make_member(tree.branch_a, "李四", is_exempt=case.startswith("exempt"), exempt_reason="年老体弱")
    other = make_member(tree.branch_a, "王五")
    bank = make_bank(tree.root)
    questions = [make_question(bank)]
    org = tree.district_b if case == "other_district" else tree.district_a
    data = {}
    if case in ("exempt_named", "listed"):
        data["target_members"] = [member.pk]
    if case == "not_listed":
        data["target_members"] = [other.pk]
    exam = make_exam(org, questions=questions, scores=[100], **data)
    assert (exam in exams_for_member(member)) == targets.member_is_target(exam, member)


# --- starting and taking ---------------------------------------------------------------------------------


def test_starting_an_exam_not_given_to_me_is_404(client, tree):
    exam = make_exam(tree.district_b)
    client.force_login(taker(tree.branch_a))
    assert client.post(reverse("exams:attempt_start", args=[exam.pk])).status_code == 404


def test_starting_twice_resumes_the_same_attempt(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    assert start(client, exam).pk == start(client, exam).pk


def test_starting_after_the_attempts_are_used_says_so(client, tree):
    exam = make_exam(tree.district_a, attempts_allowed=1)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    response = client.post(reverse("exams:attempt_start", args=[exam.pk]), follow=True)
    assert "全部答题次数" in response.content.decode()
    assert Attempt.objects.filter(exam=exam).count() == 1


def test_the_take_page_shows_every_question_and_no_key(client, tree):
    exam = secret_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    assert "党的最高理想是什么？" in html and "谈谈学习体会。" in html
    for secret in (SECRET_EXPLANATION, SECRET_FILL, SECRET_REFERENCE, "正确答案"):
        assert secret not in html


def test_the_answer_endpoint_returns_no_key(client, tree):
    exam = secret_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    ids = question_ids(attempt)
    body = save(client, attempt, ids["fill"], "不知道").content.decode()
    assert SECRET_FILL not in body
    assert SECRET_EXPLANATION not in save(client, attempt, ids["single"], "A").content.decode()


def test_the_take_page_sends_the_seconds_the_server_says_remain(client, tree):
    exam = make_exam(tree.district_a, time_limit_minutes=30)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    remaining = int(re.search(r'data-remaining="(\d+)"', html).group(1))
    assert 29 * 60 < remaining <= 30 * 60


def test_another_members_attempt_is_404_on_every_page(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a, "甲"))
    attempt = start(client, exam)
    client.force_login(taker(tree.branch_a, "乙"))
    question = attempt.questions.first().version.question_id
    assert client.get(reverse("exams:attempt_take", args=[attempt.pk])).status_code == 404
    assert save(client, attempt, question, "A").status_code == 404
    assert client.post(reverse("exams:attempt_submit", args=[attempt.pk])).status_code == 404
    assert client.get(reverse("exams:attempt_result", args=[attempt.pk])).status_code == 404
    assert not Answer.objects.exists()


def test_an_organiser_above_cannot_answer_for_a_member(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(reverse("exams:attempt_take", args=[attempt.pk])).status_code == 404
    assert save(client, attempt, attempt.questions.first().version.question_id, "A").status_code == 404


def test_a_save_is_acknowledged_with_the_time(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = save(client, attempt, question_ids(attempt)["judge"], True)
    assert response.status_code == 200
    assert response.json()["saved_at"]
    assert Answer.objects.get().response is True


def test_a_save_after_the_deadline_and_grace_is_refused_in_chinese(client, tree):
    exam = make_exam(tree.district_a, time_limit_minutes=10, grace_seconds=60)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    question = question_ids(attempt)["judge"]
    late = timezone.now() + timedelta(minutes=10, seconds=61)
    with mock.patch("django.utils.timezone.now", return_value=late):
        response = save(client, attempt, question, True)
    assert response.status_code == 400
    assert response.json()["detail"] == "答题时间已到，答案未能保存"
    assert response.json()["closed"] is True
    assert not Answer.objects.exists()


def test_a_save_within_the_grace_is_kept(client, tree):
    exam = make_exam(tree.district_a, time_limit_minutes=10, grace_seconds=60)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    late = timezone.now() + timedelta(minutes=10, seconds=30)
    with mock.patch("django.utils.timezone.now", return_value=late):
        assert save(client, attempt, question_ids(attempt)["judge"], True).status_code == 200


def test_a_bad_answer_is_refused_naming_the_problem(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = save(client, attempt, question_ids(attempt)["single"], "Z")
    assert response.status_code == 400
    assert "选项应在" in response.json()["detail"]
    assert response.json()["closed"] is False


def test_a_question_not_in_the_attempt_is_refused(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = save(client, attempt, 999999, "A")
    assert response.status_code == 400
    assert response.json()["detail"] == "该题不在本次答卷中"


def test_a_reload_shows_every_saved_answer(client, tree):
    bank = make_bank(tree.district_a)
    questions = [
        make_question(bank, qtype="multiple", stem="多选题", options=["甲", "乙", "丙"], answer="AC"),
        make_question(bank, qtype="judge", stem="判断题", answer=False),
        make_question(bank, qtype="fill", stem="填空题____", answer=["答案"]),
        make_question(bank, qtype="essay", stem="简答题"),
    ]
    exam = make_exam(tree.district_a, questions=questions)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    ids = question_ids(attempt)
    save(client, attempt, ids["multiple"], "BC")
    save(client, attempt, ids["judge"], False)
    save(client, attempt, ids["fill"], "我的填空")
    save(client, attempt, ids["essay"], "我的体会")
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    checked = set(re.findall(r'name="q(\d+)" value="(\w+)"\s+checked', html))
    assert checked == {(str(ids["multiple"]), "B"), (str(ids["multiple"]), "C"), (str(ids["judge"]), "false")}
    assert 'value="我的填空"' in html
    assert ">我的体会</textarea>" in html
    assert "已答 4/4" in html


def test_a_stem_with_several_blanks_gets_one_input_each_and_is_marked_whole(client, tree):
    bank = make_bank(tree.district_a)
    question = make_question(bank, qtype="fill", stem="坚持____、坚持____。", answer=["实事求是 群众路线"])
    exam = make_exam(tree.district_a, questions=[question], scores=[10])
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    assert html.count("data-blank") == 2
    save(client, attempt, question.pk, "实事求是｜群众路线")
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    assert 'value="实事求是"' in html and 'value="群众路线"' in html
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    attempt.refresh_from_db()
    assert attempt.score == 10


def test_a_shuffled_choice_saved_by_its_shown_letter_is_marked_right(client, tree):
    bank = make_bank(tree.district_a)
    options = ["选项一", "选项二", "选项三", "选项四", "选项五", "选项六"]
    question = make_question(bank, qtype="single", stem="乱序题", options=options, answer="E")
    exam = make_exam(tree.district_a, questions=[question], scores=[10], shuffle_options=True)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    letter = shown_letter(html, question.pk, "选项五")
    save(client, attempt, question.pk, letter)
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    attempt.refresh_from_db()
    assert attempt.score == 10


def test_submit_is_idempotent_and_answers_json_to_the_script(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    save(client, attempt, question_ids(attempt)["judge"], True)
    url = reverse("exams:attempt_submit", args=[attempt.pk])
    first = client.post(url, HTTP_ACCEPT="application/json").json()
    second = client.post(url, HTTP_ACCEPT="application/json").json()
    assert first == second
    assert first["score"] == "25.00"
    assert first["result_url"] == reverse("exams:attempt_result", args=[attempt.pk])


def test_without_the_script_the_submit_form_saves_its_answers_and_scores_them(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    ids = question_ids(attempt)
    form = {f"q{ids['single']}": "B", f"q{ids['judge']}": "true", f"q{ids['multiple']}": ["C", "A"]}
    response = client.post(reverse("exams:attempt_submit", args=[attempt.pk]), form)
    assert response["Location"] == reverse("exams:attempt_result", args=[attempt.pk])
    saved = dict(
        Answer.objects.filter(attempt_question__attempt=attempt, response__isnull=False).values_list(
            "attempt_question__version__question_id", "response"
        )
    )
    assert saved == {ids["single"]: "B", ids["judge"]: True, ids["multiple"]: "AC"}


def test_without_the_script_a_submit_after_the_grace_keeps_only_what_was_saved(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    ids = question_ids(attempt)
    save(client, attempt, ids["judge"], True)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=10))
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]), {f"q{ids['single']}": "B"})
    assert list(
        Answer.objects.filter(attempt_question__attempt=attempt, response__isnull=False).values_list(
            "attempt_question__version__question_id", flat=True
        )
    ) == [ids["judge"]]


def test_a_save_after_submission_is_refused(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    response = save(client, attempt, question_ids(attempt)["judge"], True)
    assert response.status_code == 400
    assert response.json()["closed"] is True


def test_the_take_page_of_a_submitted_attempt_goes_to_the_result(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    response = client.get(reverse("exams:attempt_take", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:attempt_result", args=[attempt.pk])


# --- the result ----------------------------------------------------------------------------------------


def submitted(client, tree, **data):
    exam = secret_exam(tree.district_a, **data)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    ids = question_ids(attempt)
    save(client, attempt, ids["single"], shown_letter(html, ids["single"], "共产主义"))
    save(client, attempt, ids["essay"], "我的体会")
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    return attempt


def test_the_result_shows_keys_and_explanations_when_allowed_at_once(client, tree):
    attempt = submitted(client, tree, show_answers="immediately")
    html = client.get(reverse("exams:attempt_result", args=[attempt.pk])).content.decode()
    assert SECRET_EXPLANATION in html and SECRET_FILL in html and SECRET_REFERENCE in html
    assert "我的体会" in html


def test_the_result_hides_keys_until_the_exam_closes(client, tree):
    attempt = submitted(client, tree, show_answers="after_close")
    html = client.get(reverse("exams:attempt_result", args=[attempt.pk])).content.decode()
    for secret in (SECRET_EXPLANATION, SECRET_FILL, SECRET_REFERENCE):
        assert secret not in html
    assert "考试结束" in html
    # given the exam has closed since
    Exam.objects.filter(pk=attempt.exam_id).update(closes_at=timezone.now() - timedelta(minutes=1))
    html = client.get(reverse("exams:attempt_result", args=[attempt.pk])).content.decode()
    assert SECRET_EXPLANATION in html


def test_the_result_never_shows_keys_when_the_exam_says_never(client, tree):
    attempt = submitted(client, tree, show_answers="never")
    html = client.get(reverse("exams:attempt_result", args=[attempt.pk])).content.decode()
    for secret in (SECRET_EXPLANATION, SECRET_FILL, SECRET_REFERENCE, "正确答案"):
        assert secret not in html
    assert "不公布答案" in html


def test_a_written_essay_waits_for_a_grader(client, tree):
    attempt = submitted(client, tree)
    html = client.get(reverse("exams:attempt_result", args=[attempt.pk])).content.decode()
    assert "待阅卷" in html
    assert "40" in html  # the objective points so far


def test_the_result_of_an_open_attempt_goes_back_to_the_take_page(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = client.get(reverse("exams:attempt_result", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:attempt_take", args=[attempt.pk])


def test_the_take_page_queries_do_not_grow_with_questions(client, tree, django_assert_max_num_queries):
    bank = make_bank(tree.district_a)
    questions = [make_question(bank, stem=f"第{i}题题干") for i in range(12)]
    exam = make_exam(tree.district_a, questions=questions, scores=[5] * 12)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    for item in attempt.questions.select_related("version")[:6]:
        save(client, attempt, item.version.question_id, "A")
    client.get(reverse("exams:attempt_take", args=[attempt.pk]))
    with django_assert_max_num_queries(9):
        html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    assert html.count("data-question=") == 12
