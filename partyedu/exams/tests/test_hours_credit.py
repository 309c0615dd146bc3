"""Exams that credit learning hours: off by default; a member's counted attempt that passed credits
the exam's hours once, through the learning ledger, corrected by appended rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from partyedu.exams.credit import class_completion_exams, desired_for_exams
from partyedu.exams.forms_exams import ExamSettingsForm
from partyedu.exams.models import Answer, Attempt
from partyedu.exams.services import (
    answer_grade,
    answer_save,
    attempt_start,
    attempt_submit,
    exam_update,
    question_key_correct,
)
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.selectors import member_learning_hours
from partyedu.learning.services import learning_hours_rebuild
from partyedu.learning.tests.factories import assert_ledger_equals_rebuild
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker
from .test_attempts import answer_all_correctly

pytestmark = pytest.mark.django_db

D = Decimal


def take(user, exam, *, correct=True):
    """One attempt of ``user`` at ``exam``, every answer right (or none given), submitted."""
    attempt = attempt_start(actor=user, exam=exam)
    if correct:
        answer_all_correctly(user, attempt)
    return attempt_submit(actor=user, attempt=attempt)


def lines(user):
    member = Member.objects.get(user=user)
    return list(
        LearningHourEntry.objects.filter(member=member, source_type="exam")
        .order_by("id")
        .values_list("hours", "kind", "version", "description")
    )


def counting_exam(org, **data):
    data.setdefault("counts_as_hours", True)
    data.setdefault("credit_hours", D("2.0"))
    return make_exam(org, **data)


def test_an_exam_credits_no_hours_by_default(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    assert exam.counts_as_hours is False
    assert lines(user) == []
    assert_ledger_equals_rebuild()


def test_passing_an_exam_that_counts_credits_its_hours_once(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    (hours, kind, version, description), *rest = lines(user)
    assert (hours, kind, version, rest) == (D(2), "online", 1, [])
    assert "考试：党章知识测试" in description and "及格" in description
    year = timezone.localdate().year
    assert MemberYearHours.objects.get(member__user=user, year=year).online == D(2)
    assert_ledger_equals_rebuild()


def test_the_organiser_chooses_the_kind_of_hours(tree):
    exam = counting_exam(tree.district_a, credit_kind="concentrated")
    user = taker(tree.branch_a)
    take(user, exam)
    assert [(h, k) for h, k, _v, _d in lines(user)] == [(D(2), "concentrated")]


def test_a_failed_exam_credits_nothing(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam, correct=False)
    assert lines(user) == []


def test_submitting_twice_credits_once(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = take(user, exam)
    attempt_submit(actor=user, attempt=attempt)
    assert len(lines(user)) == 1


def test_a_retake_that_passes_again_adds_no_line(tree):
    exam = counting_exam(tree.district_a, attempts_allowed=3)
    user = taker(tree.branch_a)
    take(user, exam)
    take(user, exam)
    take(user, exam, correct=False)
    assert [(h, v) for h, _k, v, _d in lines(user)] == [(D(2), 1)]
    assert_ledger_equals_rebuild()


def test_a_retake_that_passes_after_a_fail_credits_once(tree):
    exam = counting_exam(tree.district_a, attempts_allowed=2)
    user = taker(tree.branch_a)
    take(user, exam, correct=False)
    take(user, exam)
    assert [h for h, _k, _v, _d in lines(user)] == [D(2)]


def test_under_the_last_attempt_rule_a_failed_retake_appends_a_correction(tree):
    exam = counting_exam(tree.district_a, attempts_allowed=2, grading="last")
    user = taker(tree.branch_a)
    take(user, exam)
    take(user, exam, correct=False)
    assert [(h, v) for h, _k, v, _d in lines(user)] == [(D(2), 1), (D(-2), 2)]
    assert_ledger_equals_rebuild()


def test_a_regrade_that_turns_a_pass_into_a_fail_appends_a_correction(tree):
    exam = counting_exam(tree.district_a, pass_score=100)
    judge = exam.paper.items.get(position=3).question
    user = taker(tree.branch_a)
    take(user, exam)
    first = LearningHourEntry.objects.get(member__user=user, source_type="exam")

    question_key_correct(actor=None, question=judge, answer=False)

    assert Attempt.objects.get(exam=exam).passed is False
    assert [(h, v) for h, _k, v, _d in lines(user)] == [(D(2), 1), (D(-2), 2)]
    assert "冲销2学时" in lines(user)[1][3]
    assert LearningHourEntry.objects.get(pk=first.pk).hours == D(2)  # the original line stands
    assert_ledger_equals_rebuild()


def test_grading_the_last_short_answer_to_a_pass_credits_the_hours(tree):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="谈谈体会", reference_answer="联系实际")
    judge = make_question(bank, qtype="judge", stem="判断", answer=True)
    exam = counting_exam(tree.district_a, questions=[essay, judge], scores=[10, 5], pass_score=10)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="我的体会")
    answer_save(actor=user, attempt=attempt, question=judge.pk, response=True)
    attempt_submit(actor=user, attempt=attempt)
    assert lines(user) == []  # 待阅卷: not passed yet

    answer = Answer.objects.get(attempt_question__attempt=attempt, attempt_question__version__question=essay)
    answer_grade(actor=make_user(role="org_admin", org=tree.district_a), answer=answer, points=6)

    assert [h for h, _k, _v, _d in lines(user)] == [D(2)]


def test_switching_crediting_on_later_credits_past_passes(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    exam_update(actor=None, exam=exam, data={"counts_as_hours": True, "credit_hours": D("1.5")})
    assert [h for h, _k, _v, _d in lines(user)] == [D("1.5")]
    assert_ledger_equals_rebuild()


def test_switching_crediting_off_appends_a_reversal(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    exam_update(actor=None, exam=exam, data={"counts_as_hours": False})
    assert [h for h, _k, _v, _d in lines(user)] == [D(2), D(-2)]
    assert "考试改为不计学时" in lines(user)[1][3]
    assert_ledger_equals_rebuild()


def test_a_practice_set_cannot_credit_hours(tree):
    with pytest.raises(ValidationError) as raised:
        counting_exam(tree.district_a, kind="practice")
    assert "练习和竞赛轮次不计入学时" in str(raised.value.message_dict["counts_as_hours"])


def test_credit_hours_beyond_a_full_day_are_refused(tree):
    with pytest.raises(ValidationError) as raised:
        counting_exam(tree.district_a, credit_hours=D(9))
    assert "计入学时数" in raised.value.message_dict["credit_hours"][0]


def test_zero_credit_hours_are_refused_and_nothing_is_written(tree):
    from partyedu.exams.models import Exam

    with pytest.raises(ValidationError):
        counting_exam(tree.district_a, credit_hours=D(0))
    assert not Exam.objects.exists()


def test_the_rebuild_finds_no_difference_after_exam_credits_and_finds_a_tampered_line(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = take(user, exam)
    assert learning_hours_rebuild(apply=False).differences == 0

    member = Member.objects.get(user=user)
    LearningHourEntry.objects.create(
        member=member,
        year=timezone.localdate().year,
        kind="online",
        hours=D(1),
        source_type="exam",
        source_id=attempt.pk,
        version=2,
        description="篡改",
    )
    report = learning_hours_rebuild(apply=False)
    assert report.ledger == 1
    assert any("考试#" in line for line in report.samples)


def test_the_member_hours_page_shows_the_exam_line(tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    member = Member.objects.get(user=user)
    hours = member_learning_hours(user=user, member=member, year=timezone.localdate().year)
    (line,) = [e for e in hours.entries if e.source_type == "exam"]
    assert line.source.startswith(f"{timezone.localdate():%Y-%m-%d} 考试：党章知识测试")
    assert hours.by_kind["online"] == D(2)


def test_the_hours_page_renders_the_exam_line(client, tree):
    exam = counting_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    client.force_login(user)

    response = client.get(reverse("learning:my_hours"))
    assert response.status_code == 200
    assert "考试：党章知识测试" in response.content.decode()


def test_what_exams_credit_is_read_in_two_queries(tree, django_assert_num_queries):
    exam = counting_exam(tree.district_a)
    attempts = [take(taker(tree.branch_a, f"党员{n}"), exam) for n in range(3)]
    with django_assert_num_queries(2):
        desired = desired_for_exams([a.pk for a in attempts])
    assert sorted(d.hours[("online", timezone.localdate().year)] for d in desired.values()) == [D(2)] * 3


def test_an_exam_that_decides_no_class_costs_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert class_completion_exams(class_ids=[1, 2], member_ids=[1, 2]) == (set(), set())


def test_the_form_offers_the_switch_off_by_default_and_says_so():
    form = ExamSettingsForm()
    field = form.fields["counts_as_hours"]
    assert field.initial is False
    assert "默认不计入" in str(field.help_text)
    assert form.fields["credit_kind"].initial == "online"


def test_the_form_asks_for_the_hours_when_crediting(tree):
    now = timezone.localtime()
    form = ExamSettingsForm(
        data={
            "title": "测试",
            "kind": "exam",
            "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "grace_seconds": 60,
            "attempts_allowed": 1,
            "grading": "highest",
            "pass_score": 60,
            "show_answers": "after_close",
            "counts_as_hours": "on",
            "credit_hours": "",
            "credit_kind": "online",
        }
    )
    assert not form.is_valid()
    assert "计入学时数" in form.errors["credit_hours"][0]


def test_exam_create_keeps_the_hours_settings(tree):
    exam = counting_exam(tree.district_a, credit_kind="collective")
    assert (exam.counts_as_hours, exam.credit_hours, exam.credit_kind) == (True, D(2), "collective")


def test_a_large_exam_is_re_derived_by_a_background_job(
    tree, monkeypatch, django_capture_on_commit_callbacks
):
    from partyedu.core.models import Job
    from partyedu.exams.services import hours

    monkeypatch.setattr(hours, "HOURS_INLINE_MAX", 0)
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    take(user, exam)
    with django_capture_on_commit_callbacks(execute=True):
        exam_update(actor=None, exam=exam, data={"counts_as_hours": True})
    assert Job.objects.get(kind="exams.hours_resync").status == "succeeded"
    assert [h for h, _k, _v, _d in lines(user)] == [D(1)]
    assert_ledger_equals_rebuild()
