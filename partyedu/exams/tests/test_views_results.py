"""Results pages: permissions, the figures on a small known data set, exports, query pins."""

import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.models import AuditLog, Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.exams.selectors import results as fast
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.exams.tests.reference import reference_exam_results
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


def take(user, exam, answers):
    attempt = attempt_start(actor=user, exam=exam)
    for question, response in answers.items():
        answer_save(actor=user, attempt=attempt, question=question.pk, response=response)
    return attempt_submit(actor=user, attempt=attempt)


def known_exam(tree, **data):
    bank = make_bank(tree.root)
    first, second, bad = (make_question(bank, qtype="judge", stem=s, answer=True) for s in ("一", "二", "坏"))
    exam = make_exam(
        tree.district_a, questions=[first, second, bad], scores=[40, 40, 20], pass_score=50, **data
    )
    take(taker(tree.branch_a, "甲"), exam, {first: True, second: True, bad: False})  # 80
    take(taker(tree.branch_a, "乙"), exam, {first: True, second: True, bad: False})  # 80
    take(taker(tree.branch_a, "丙"), exam, {first: True, second: False, bad: False})  # 40
    take(taker(tree.branch_a, "丁"), exam, {first: False, second: False, bad: True})  # 20
    taker(tree.branch_a, "戊")  # a target who has not taken it
    return exam, first, second, bad


def test_fast_results_equal_the_reference_selector(tree):
    exam, *_ = known_exam(tree)
    admin = make_user(role="org_admin", org=tree.root)
    assert fast.exam_results(user=admin, exam=exam) == reference_exam_results(user=admin, exam=exam)


def test_fast_results_flag_the_bad_question(tree):
    exam, first, _second, bad = known_exam(tree)
    results = fast.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    items = {i["question"]: i for i in results["items"]}
    assert items[bad.pk]["flagged"] and items[bad.pk]["discrimination"] < 0
    assert items[first.pk]["discrimination"] > 0.5
    assert (results["targets"], results["attempted"], results["mean_score"]) == (5, 4, Decimal("55.00"))


def test_fast_results_equal_the_reference_when_the_highest_attempt_counts(tree):
    bank = make_bank(tree.root)
    good, bad = (make_question(bank, qtype="judge", stem=s, answer=True) for s in ("好", "坏"))
    exam = make_exam(
        tree.district_a, questions=[good, bad], scores=[50, 50], attempts_allowed=2, grading="highest"
    )
    user = taker(tree.branch_a, "甲")
    take(user, exam, {good: True, bad: True})
    take(user, exam, {good: False, bad: True})
    take(taker(tree.branch_a, "乙"), exam, {good: True, bad: False})
    admin = make_user(role="org_admin", org=tree.root)
    assert fast.exam_results(user=admin, exam=exam) == reference_exam_results(user=admin, exam=exam)


def test_fast_results_equal_the_reference_when_the_last_attempt_counts(tree):
    bank = make_bank(tree.root)
    good, bad = (make_question(bank, qtype="judge", stem=s, answer=True) for s in ("好", "坏"))
    exam = make_exam(
        tree.district_a, questions=[good, bad], scores=[50, 50], attempts_allowed=3, grading="last"
    )
    user = taker(tree.branch_a, "甲")
    take(user, exam, {good: True, bad: True})
    take(user, exam, {good: False, bad: False})
    admin = make_user(role="org_admin", org=tree.root)
    assert fast.exam_results(user=admin, exam=exam)["mean_score"] == Decimal("0.00")
    assert fast.exam_results(user=admin, exam=exam) == reference_exam_results(user=admin, exam=exam)


def test_pearson_of_constant_marks_is_none():
    assert fast.pearson(n=3, sx=3.0, sxx=3.0, sy=60.0, syy=1400.0, sxy=60.0) is None


def test_the_histogram_counts_each_band_and_the_full_mark_in_the_last(tree):
    exam, *_ = known_exam(tree)
    histogram = fast.score_histogram(user=make_user(role="org_admin", org=tree.root), exam=exam)
    # scores 80, 80, 40, 20 of 100
    assert histogram["counts"] == [0, 0, 1, 0, 1, 0, 0, 0, 2, 0]
    assert histogram["labels"][0] == "0–10"


# --- pages -----------------------------------------------------------------------------------------


class _Results(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        exam = make_exam(org, title="标记考试")
        take(taker(org, "甲"), exam, {})
        return exam


class TestExamResults(_Results):
    url_name = "exams:exam_results"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_results", args=[obj.pk])


class TestNonparticipantsExport(_Results):
    url_name = "exams:exam_nonparticipants_export"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_nonparticipants_export", args=[obj.pk])


class TestResultsExport(_Results):
    url_name = "exams:exam_results_export"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_results_export", args=[obj.pk])


def test_the_results_page_shows_the_figures_and_highlights_the_flagged_question(client, tree):
    exam, _first, _second, _bad = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:exam_results", args=[exam.pk])).content.decode()
    assert 'data-testid="card-targets">5<' in body
    assert 'data-testid="card-attempted">4<' in body
    assert 'data-testid="card-pass-rate">50.0%<' in body
    assert 'data-testid="card-mean">55.00<' in body
    flagged = [row for row in body.split('data-testid="item-row"')[1:] if 'data-flagged="1"' in row[:40]]
    assert len(flagged) == 1 and "坏" in flagged[0]
    assert 'id="results-data"' in body and "vendor/echarts/echarts.min.js" in body


def test_the_results_drill_down_from_a_district_to_a_branchs_members(client, tree):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("exams:exam_results", args=[exam.pk])
    district = client.get(url).content.decode()
    assert f"?organization={tree.branch_a.pk}" in district
    assert 'data-testid="member-row"' not in district
    branch = client.get(url, {"organization": tree.branch_a.pk}).content.decode()
    assert branch.count('data-testid="member-row"') == 5
    assert "未参考" in branch


def test_drilling_into_an_organisation_outside_scope_is_404(client, tree):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(reverse("exams:exam_results", args=[exam.pk]), {"organization": tree.district_b.pk})
    assert response.status_code == 404


def test_a_branch_secretary_does_not_reach_a_district_exam(client, tree):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_b))
    assert client.get(reverse("exams:exam_results", args=[exam.pk])).status_code == 404


def test_a_member_cannot_open_results(client, tree):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert client.get(reverse("exams:exam_results", args=[exam.pk])).status_code == 403


def test_the_results_page_is_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("exams:exam_results", args=[exam.pk])
    client.get(url, {"organization": tree.branch_a.pk})
    with django_assert_max_num_queries(18):
        client.get(url, {"organization": tree.branch_a.pk})


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_the_nonparticipants_export_lists_who_has_not_taken_it_with_a_masked_phone(client, tree):
    exam, *_ = known_exam(tree)
    member = Member.objects.get(name="戊")
    member.phone = "13812345678"
    member.phone_masked = "138****5678"
    member.save(update_fields=["phone", "phone_masked"])
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    rows = _sheet(client.get(reverse("exams:exam_nonparticipants_export", args=[exam.pk])))
    assert rows[0][:3] == ("所属组织", "姓名", "手机号")
    assert rows[1:] == [(tree.branch_a.name, "戊", "138****5678", tree.branch_a.code)]
    assert AuditLog.objects.filter(message="导出未参考人员1名").exists()


def test_the_nonparticipants_export_shows_the_phone_to_a_pii_grant_holder(client, tree):
    exam, *_ = known_exam(tree)
    member = Member.objects.get(name="戊")
    member.phone = "13812345678"
    member.phone_masked = "138****5678"
    member.save(update_fields=["phone", "phone_masked"])
    client.force_login(make_user(role="org_admin", org=tree.district_a, pii=True))
    rows = _sheet(client.get(reverse("exams:exam_nonparticipants_export", args=[exam.pk])))
    assert rows[1][2] == "13812345678"


def test_the_results_export_has_one_row_per_counted_attempt(client, tree):
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    rows = _sheet(client.get(reverse("exams:exam_results_export", args=[exam.pk])))
    assert rows[0][:4] == ("所属组织", "姓名", "第几次", "得分")
    assert sorted((r[1], r[3], r[5]) for r in rows[1:]) == [
        ("丁", 20, "不及格"),
        ("丙", 40, "不及格"),
        ("乙", 80, "及格"),
        ("甲", 80, "及格"),
    ]


def test_a_long_export_runs_as_a_background_job(client, tree, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    exam, *_ = known_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("exams:exam_results_export", args=[exam.pk]))
    job = Job.objects.get(kind="exams.results_export")
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.result_file


def test_the_cached_analysis_follows_a_new_submission(tree):
    exam, first, second, bad = known_exam(tree)
    admin = make_user(role="org_admin", org=tree.root)
    assert fast.exam_results_cached(user=admin, exam=exam)["attempted"] == 4
    take(Member.objects.get(name="戊").user, exam, {first: True, second: True, bad: True})
    assert fast.exam_results_cached(user=admin, exam=exam)["attempted"] == 5


def test_the_cached_analysis_is_per_scope(tree):
    exam, *_ = known_exam(tree)
    assert (
        fast.exam_results_cached(user=make_user(role="org_admin", org=tree.root), exam=exam)["targets"] == 5
    )
    secretary = make_user(role="branch_admin", org=tree.group_a)
    assert fast.exam_results_cached(user=secretary, exam=exam)["targets"] == 0


# --- an exam of a level above, seen read-only by a lower level -----------------------------------------


def city_exam(tree):
    """A city exam of its whole subtree: branch A has 赵一 (80, pass), 钱二 (40) and 孙三 (not
    taken); branch B has 李四 (80, pass) and 周五 (not taken)."""
    bank = make_bank(tree.root)
    first, second = (make_question(bank, qtype="judge", stem=s, answer=True) for s in ("一", "二"))
    exam = make_exam(tree.root, questions=[first, second], scores=[40, 40], pass_score=60, title="全市考试")
    take(taker(tree.branch_a, "赵一"), exam, {first: True, second: True})
    take(taker(tree.branch_a, "钱二"), exam, {first: True, second: False})
    taker(tree.branch_a, "孙三")
    take(taker(tree.branch_b, "李四"), exam, {first: True, second: True})
    taker(tree.branch_b, "周五")
    return exam


@pytest.fixture
def secretary(tree):
    return make_user(role="branch_admin", org=tree.branch_a)


def test_a_branch_secretary_sees_a_city_exams_results_for_their_branch_only(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    response = client.get(reverse("exams:exam_results", args=[exam.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="card-targets">3<' in body
    assert 'data-testid="card-attempted">2<' in body
    assert 'data-testid="card-pass-rate">50.0%<' in body
    assert 'data-testid="card-mean">60.00<' in body
    assert body.count('data-testid="member-row"') == 3
    assert "李四" not in body and "周五" not in body


def test_a_sibling_branch_sees_nothing_of_another_branch_in_a_city_exam(client, tree):
    exam = city_exam(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_b))
    body = client.get(reverse("exams:exam_results", args=[exam.pk])).content.decode()
    assert 'data-testid="card-targets">2<' in body
    assert 'data-testid="card-attempted">1<' in body
    assert "赵一" not in body and "钱二" not in body and "孙三" not in body
    response = client.get(reverse("exams:exam_results", args=[exam.pk]), {"organization": tree.branch_a.pk})
    assert response.status_code == 404


def test_the_reached_results_page_is_read_only_without_item_analysis(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    body = client.get(reverse("exams:exam_results", args=[exam.pk])).content.decode()
    assert 'data-testid="results-reached"' in body
    assert 'data-testid="results-items-owner"' in body
    assert 'data-testid="item-row"' not in body
    assert f'href="{reverse("exams:exam_detail", args=[exam.pk])}"' not in body
    assert reverse("exams:grading_queue") + f"?exam={exam.pk}" not in body


def test_the_owners_results_page_keeps_the_item_analysis(client, tree):
    exam = city_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.root))
    body = client.get(reverse("exams:exam_results", args=[exam.pk])).content.decode()
    assert body.count('data-testid="item-row"') == 2
    assert 'data-testid="results-reached"' not in body


def test_the_settings_and_edit_pages_of_a_reached_exam_are_404(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    assert client.get(reverse("exams:exam_detail", args=[exam.pk])).status_code == 404
    assert client.get(reverse("exams:exam_edit", args=[exam.pk])).status_code == 404
    assert client.post(reverse("exams:exam_edit", args=[exam.pk]), {"title": "改"}).status_code == 404


def test_correcting_a_key_of_a_reached_exam_is_404(client, tree, secretary):
    exam = city_exam(tree)
    question = exam.paper.items.first().question
    client.force_login(secretary)
    response = client.post(reverse("exams:question_key", args=[question.pk]), {"answer": "false"})
    assert response.status_code == 404


def test_grading_a_reached_exams_short_answer_is_404(client, tree, secretary):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="简述", reference_answer="要点", rubric="每点五分")
    exam = make_exam(tree.root, questions=[essay], scores=[10])
    attempt = take(taker(tree.branch_a, "赵一"), exam, {essay: "我的理解"})
    answer = attempt.questions.get().answer
    client.force_login(secretary)
    assert client.get(reverse("exams:grade_answer", args=[answer.pk])).status_code == 404
    assert client.post(reverse("exams:grade_answer", args=[answer.pk]), {"points": 10}).status_code == 404
    answer.refresh_from_db()
    assert answer.points is None


def test_the_reached_nonparticipants_export_lists_the_viewers_members_only(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    rows = _sheet(client.get(reverse("exams:exam_nonparticipants_export", args=[exam.pk])))
    assert [r[1] for r in rows[1:]] == ["孙三"]


def test_the_reached_scores_export_lists_the_viewers_members_only(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    rows = _sheet(client.get(reverse("exams:exam_results_export", args=[exam.pk])))
    assert sorted(r[1] for r in rows[1:]) == sorted(["赵一", "钱二"])


def test_a_long_reached_export_runs_as_a_background_job(
    client, tree, secretary, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    exam = city_exam(tree)
    client.force_login(secretary)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("exams:exam_results_export", args=[exam.pk]))
    job = Job.objects.get(kind="exams.results_export")
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    with job.result_file.open("rb") as handle:
        rows = list(load_workbook(handle, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sorted(r[1] for r in rows[1:]) == sorted(["赵一", "钱二"])


def test_the_reached_results_page_is_a_fixed_number_of_queries(
    client, tree, secretary, django_assert_max_num_queries
):
    exam = city_exam(tree)
    client.force_login(secretary)
    url = reverse("exams:exam_results", args=[exam.pk])
    client.get(url)
    with django_assert_max_num_queries(18):
        client.get(url)


# --- the list's tab 上级组织的考试 ---------------------------------------------------------------------


def test_the_list_shows_reached_exams_in_their_own_tab_with_in_scope_counts(client, tree, secretary):
    exam = city_exam(tree)
    client.force_login(secretary)
    own = client.get(reverse("exams:exam_list")).content.decode()
    assert "全市考试" not in own
    assert 'data-testid="exam-tab-reached"' in own
    body = client.get(reverse("exams:exam_list"), {"tab": "reached"}).content.decode()
    assert body.count('data-testid="exam-row"') == 1
    assert reverse("exams:exam_results", args=[exam.pk]) in body
    assert "本组织应参考 3 人 · 已参考 2 人" in body
    assert 'data-testid="exam-readonly"' in body


def test_the_list_has_no_reached_tab_when_nothing_reaches(client, tree):
    city_exam(tree)
    client.force_login(make_user(role="org_admin", org=tree.root))
    body = client.get(reverse("exams:exam_list")).content.decode()
    assert "全市考试" in body
    assert 'data-testid="exam-list-tabs"' not in body


def test_a_sibling_districts_exam_is_not_in_a_branchs_reached_tab(client, tree):
    make_exam(tree.district_a, title="甲区考试")
    client.force_login(make_user(role="branch_admin", org=tree.branch_b))
    body = client.get(reverse("exams:exam_list"), {"tab": "reached"}).content.decode()
    assert "甲区考试" not in body


def test_the_reached_tab_is_a_fixed_number_of_queries(client, tree, secretary, django_assert_max_num_queries):
    bank = make_bank(tree.root)
    questions = [make_question(bank, qtype="judge", stem=f"题{i}", answer=True) for i in range(2)]
    for i in range(12):
        make_exam(tree.root, questions=questions, title=f"全市考试{i}")
    taker(tree.branch_a, "赵一")
    client.force_login(secretary)
    url = reverse("exams:exam_list")
    client.get(url, {"tab": "reached"})
    with django_assert_max_num_queries(9):
        response = client.get(url, {"tab": "reached"})
    assert response.content.decode().count('data-testid="exam-row"') == 12
