"""Taking an exam: targets, attempts, answers, submission, grading and regrading."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.exams import targets
from partyedu.exams.keys import LETTERS
from partyedu.exams.models import Answer, Attempt
from partyedu.exams.services import (
    answer_grade,
    answer_save,
    attempt_start,
    attempt_submit,
    attempts_close_expired,
    question_key_correct,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


def shown(item, letters):
    """The letters a member sees for the version's own ``letters``."""
    return "".join(sorted(LETTERS[item.option_order.index(LETTERS.index(ch))] for ch in letters))


def answer_all_correctly(user, attempt):
    for item in attempt.questions.select_related("version__question"):
        question, key = item.version.question, item.version.answer
        response = shown(item, key) if question.qtype in ("single", "multiple") else key
        if question.qtype == "fill":
            response = key[0]
        answer_save(actor=user, attempt=attempt, question=question.pk, response=response)


def later(seconds):
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=seconds))


def test_a_member_outside_the_targets_gets_404(tree):
    exam = make_exam(tree.district_a)
    with pytest.raises(Http404):
        attempt_start(actor=taker(tree.branch_b), exam=exam)


def test_an_exempt_member_is_not_a_target_unless_named(tree):
    exam = make_exam(tree.district_a)
    frail = make_member(tree.branch_a, "老党员", is_exempt=True, exempt_reason="年老体弱")
    assert not targets.member_is_target(exam, frail)
    named = make_exam(
        tree.district_a, questions=[q.question for q in exam.paper.items.all()], target_members=[frail.pk]
    )
    assert targets.member_is_target(named, frail)


def test_listed_members_are_the_only_targets(tree):
    listed, other = make_member(tree.branch_a, "甲"), make_member(tree.branch_a, "乙")
    exam = make_exam(tree.district_a, target_members=[listed.pk])
    assert list(targets.exam_target_members(exam)) == [listed]
    assert not targets.member_is_target(exam, other)


def test_starting_again_resumes_the_open_attempt(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    first = attempt_start(actor=user, exam=exam)
    assert attempt_start(actor=user, exam=exam).pk == first.pk


def test_a_second_attempt_beyond_the_allowed_number_is_refused(tree):
    exam = make_exam(tree.district_a, attempts_allowed=1)
    user = taker(tree.branch_a)
    attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    with pytest.raises(ValidationError) as caught:
        attempt_start(actor=user, exam=exam)
    assert caught.value.message_dict["exam"] == ["您已用完本次考试的全部答题次数（1次）"]


def test_an_exam_not_yet_open_cannot_be_started(tree):
    exam = make_exam(tree.district_a, opens_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError, match="考试尚未开始"):
        attempt_start(actor=taker(tree.branch_a), exam=exam)


def test_all_correct_answers_score_full_marks_and_pass(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_all_correctly(user, attempt)
    done = attempt_submit(actor=user, attempt=attempt)
    assert (done.score, done.passed, done.status) == (Decimal(100), True, "graded")


def test_saving_again_replaces_the_answer(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    question = exam.paper.items.get(position=3).question_id
    answer_save(actor=user, attempt=attempt, question=question, response=True)
    answer_save(actor=user, attempt=attempt, question=question, response=False)
    assert list(
        Answer.objects.filter(attempt_question__attempt=attempt).values_list("response", flat=True)
    ) == [False]


def test_an_answer_for_a_question_not_in_the_attempt_is_refused(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    stranger = make_question(make_bank(tree.root, "别的题库"), qtype="judge", stem="别的题", answer=True)
    with pytest.raises(ValidationError) as caught:
        answer_save(actor=user, attempt=attempt, question=stranger.pk, response=True)
    assert caught.value.message_dict["question"] == ["该题不在本次答卷中"]


def test_an_answer_after_the_deadline_and_grace_is_refused(tree):
    exam = make_exam(tree.district_a, time_limit_minutes=10, grace_seconds=30)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    question = exam.paper.items.get(position=3).question_id
    with later(10 * 60 + 20):
        answer_save(actor=user, attempt=attempt, question=question, response=True)  # within the grace
    with later(10 * 60 + 31), pytest.raises(ValidationError) as caught:
        answer_save(actor=user, attempt=attempt, question=question, response=False)
    assert caught.value.message_dict["answer"] == ["答题时间已到，答案未能保存"]


def test_another_member_cannot_answer_or_submit_an_attempt(tree):
    exam = make_exam(tree.district_a)
    attempt = attempt_start(actor=taker(tree.branch_a, "本人"), exam=exam)
    other = taker(tree.branch_a, "他人")
    with pytest.raises(Http404):
        answer_save(
            actor=other, attempt=attempt, question=exam.paper.items.first().question_id, response=True
        )
    with pytest.raises(Http404):
        attempt_submit(actor=other, attempt=attempt)


def test_an_organiser_without_a_member_account_cannot_answer(tree):
    exam = make_exam(tree.district_a)
    attempt = attempt_start(actor=taker(tree.branch_a), exam=exam)
    with pytest.raises(Http404):
        attempt_submit(actor=make_user(role="org_admin", org=tree.root), attempt=attempt)


def test_a_retried_submit_returns_the_same_result_and_audits_once(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    first = attempt_submit(actor=user, attempt=attempt)
    again = attempt_submit(actor=user, attempt=attempt)
    assert (again.score, again.passed, again.submitted_at) == (first.score, first.passed, first.submitted_at)
    assert AuditLog.objects.filter(object_type="exams.attempt", object_id=str(attempt.pk)).count() == 1


def test_no_answer_is_saved_after_submission(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    attempt_submit(actor=user, attempt=attempt)
    with pytest.raises(ValidationError, match="已交卷"):
        answer_save(actor=user, attempt=attempt, question=exam.paper.items.first().question_id, response=True)


def test_an_open_attempt_past_its_time_is_submitted_by_the_closing_job(tree):
    exam = make_exam(tree.district_a, time_limit_minutes=5, grace_seconds=0)
    attempt = attempt_start(actor=taker(tree.branch_a), exam=exam)
    with later(6 * 60):
        assert attempts_close_expired() == 1
    attempt.refresh_from_db()
    assert attempt.status == "graded"
    assert attempt.submitted_at == attempt.deadline


def test_an_essay_leaves_the_attempt_pending_until_graded(tree):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="谈谈体会", reference_answer="联系实际")
    judge = make_question(bank, qtype="judge", stem="判断", answer=True)
    exam = make_exam(tree.district_a, questions=[essay, judge], scores=[10, 5], pass_score=10)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="我的体会")
    answer_save(actor=user, attempt=attempt, question=judge.pk, response=True)
    done = attempt_submit(actor=user, attempt=attempt)
    assert (done.status, done.score, done.passed) == ("pending", Decimal(5), None)
    grader = make_user(role="org_admin", org=tree.district_a)
    answer = Answer.objects.get(attempt_question__attempt=attempt, attempt_question__version__question=essay)
    with pytest.raises(ValidationError, match="不能超过本题分值"):
        answer_grade(actor=grader, answer=answer, points=11)
    answer_grade(actor=grader, answer=answer, points=6)
    done.refresh_from_db()
    assert (done.status, done.score, done.passed) == ("graded", Decimal(11), True)


def test_a_grader_below_the_exams_organisation_cannot_grade_its_answers(tree):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="谈谈体会", reference_answer="联系实际")
    exam = make_exam(tree.root, questions=[essay], scores=[10])
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="我的体会")
    attempt_submit(actor=user, attempt=attempt)
    answer = Answer.objects.get(attempt_question__attempt=attempt)
    with pytest.raises(PermissionDenied):
        answer_grade(actor=make_user(role="org_admin", org=tree.district_a), answer=answer, points=6)
    assert Answer.objects.get(pk=answer.pk).points is None


def test_correcting_a_key_regrades_every_affected_attempt_with_an_audit_row(tree):
    exam = make_exam(tree.district_a)
    judge = exam.paper.items.get(position=3).question
    users = [taker(tree.branch_a, f"党员{n}") for n in range(2)]
    for user, response in zip(users, (True, False), strict=True):
        attempt = attempt_start(actor=user, exam=exam)
        answer_save(actor=user, attempt=attempt, question=judge.pk, response=response)
        attempt_submit(actor=user, attempt=attempt)
    regraded = question_key_correct(actor=None, question=judge, answer=False)
    assert len(regraded) == 2
    scores = dict(Attempt.objects.filter(exam=exam).values_list("member__name", "score"))
    assert scores == {"党员0": Decimal(0), "党员1": Decimal(25)}
    audit = AuditLog.objects.get(object_type="exams.question", object_id=str(judge.pk), action="update")
    assert sorted(audit.changes["regraded_attempts"]) == sorted(regraded)


def test_keys_are_hidden_before_submission(tree):
    exam = make_exam(tree.district_a, show_answers="immediately")
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    assert not targets.answers_visible(attempt)
    attempt_submit(actor=user, attempt=attempt)
    attempt.refresh_from_db()
    assert targets.answers_visible(attempt)


def test_a_key_correction_of_a_shuffled_choice_regrades_by_the_option_each_member_saw(tree):
    bank = make_bank(tree.root)
    single = make_question(bank, stem="单选", options=["甲", "乙", "丙", "丁"], answer="A")
    judge = make_question(bank, qtype="judge", stem="判断", answer=True)
    exam = make_exam(tree.district_a, questions=[single, judge], scores=[60, 40], pass_score=60)
    picks = {}
    for n in range(4):
        user = taker(tree.branch_a, f"党员{n}")
        attempt = attempt_start(actor=user, exam=exam)
        item = attempt.questions.get(version__question=single)
        picks[attempt.pk] = LETTERS[n]  # each picks a different original option
        answer_save(actor=user, attempt=attempt, question=single.pk, response=shown(item, LETTERS[n]))
        attempt_submit(actor=user, attempt=attempt)

    question_key_correct(actor=None, question=single, answer="C")

    results = {a.pk: (a.score, a.passed) for a in Attempt.objects.filter(exam=exam)}
    assert results == {
        pk: ((Decimal(60), True) if pick == "C" else (Decimal(0), False)) for pk, pick in picks.items()
    }


def test_a_large_key_correction_is_regraded_by_a_background_job(tree, django_capture_on_commit_callbacks):
    from partyedu.core.models import Job
    from partyedu.exams.services import question_key_fix

    exam = make_exam(tree.district_a)
    judge = exam.paper.items.get(position=3).question
    for n in range(2):
        user = taker(tree.branch_a, f"党员{n}")
        attempt = attempt_start(actor=user, exam=exam)
        answer_save(actor=user, attempt=attempt, question=judge.pk, response=False)
        attempt_submit(actor=user, attempt=attempt)

    with django_capture_on_commit_callbacks(execute=True):
        fixed = question_key_fix(actor=None, question=judge, answer=False, inline_max=1)

    assert (fixed.attempt_ids, fixed.pending) == ([], 2)
    assert Job.objects.get(pk=fixed.job.pk).status == "succeeded"
    assert sorted(Attempt.objects.filter(exam=exam).values_list("score", flat=True)) == [Decimal(25)] * 2


def test_running_the_regrade_again_changes_nothing(tree):
    from partyedu.exams.services import _regrade_version

    exam = make_exam(tree.district_a)
    judge = exam.paper.items.get(position=3).question
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=judge.pk, response=False)
    attempt_submit(actor=user, attempt=attempt)
    question_key_correct(actor=None, question=judge, answer=False)
    before = Attempt.objects.get(pk=attempt.pk).score
    _regrade_version(judge.current_version)
    assert Attempt.objects.get(pk=attempt.pk).score == before == Decimal(25)
