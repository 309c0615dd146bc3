"""Starting attempts and saving answers at the same moment (PostgreSQL only: SQLite serialises
writers by locking the whole database, so there is no race to test there). They run in the
PostgreSQL stage of CI, which fails when PostgreSQL is missing (``.ci/ensure-postgres``)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.exams.models import Answer, Attempt
from partyedu.exams.services import answer_save, attempt_start, attempt_submit

from .conftest import make_exam, taker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def outcome(call):
    def run():
        try:
            return call()
        except ValidationError as exc:
            return exc

    return run


def test_two_devices_starting_at_once_get_one_attempt(tree):
    exam = make_exam(tree.district_a, attempts_allowed=1)
    user = taker(tree.branch_a)
    results = run_at_once(*[outcome(lambda: attempt_start(actor=user, exam=exam).pk)] * 2)
    assert Attempt.objects.filter(exam=exam).count() == 1
    assert results[0] == results[1]


def test_starts_beyond_the_cap_are_refused_when_racing(tree):
    exam = make_exam(tree.district_a, attempts_allowed=2)
    user = taker(tree.branch_a)

    def start_and_submit():
        # One transaction each: a start that waits on the member's lock sees the finished attempts.
        attempt = attempt_start(actor=user, exam=exam)
        attempt_submit(actor=user, attempt=attempt)
        return attempt.number

    results = run_at_once(*[outcome(start_and_submit)] * 4, atomic=True)
    numbers = sorted(r for r in results if isinstance(r, int))
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert numbers == [1, 2]
    assert len(refused) == 2
    assert Attempt.objects.filter(exam=exam).count() == 2


def test_two_devices_saving_the_same_answer_at_once_keep_one_row(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    question = exam.paper.items.get(position=3).question_id
    run_at_once(
        lambda: answer_save(actor=user, attempt=attempt, question=question, response=True),
        lambda: answer_save(actor=user, attempt=attempt, question=question, response=False),
    )
    answers = Answer.objects.filter(attempt_question__attempt=attempt)
    assert answers.count() == 1
    assert answers.get().response in (True, False)


def test_a_save_racing_a_submit_is_either_kept_and_graded_or_refused(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    question = exam.paper.items.get(position=3).question_id
    results = run_at_once(
        outcome(lambda: answer_save(actor=user, attempt=attempt, question=question, response=True)),
        outcome(lambda: attempt_submit(actor=user, attempt=attempt)),
    )
    answer = Answer.objects.get(
        attempt_question__attempt=attempt, attempt_question__version__question_id=question
    )
    saved_first = not any(isinstance(r, ValidationError) for r in results)
    # Either the save came first and its answer was graded, or it was refused and nothing was lost silently.
    assert answer.points is not None
    assert (answer.response is True) == saved_first


def test_a_submit_racing_a_start_that_closes_the_same_attempt_credits_hours_once(tree):
    from datetime import timedelta

    from django.utils import timezone

    from partyedu.learning.models import LearningHourEntry

    exam = make_exam(
        tree.district_a, attempts_allowed=2, pass_score=0, counts_as_hours=True, credit_hours="1.0"
    )
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=5))
    results = run_at_once(
        outcome(lambda: attempt_submit(actor=user, attempt=attempt).pk),
        outcome(lambda: attempt_start(actor=user, exam=exam).pk),
        atomic=True,
    )
    assert not any(isinstance(r, Exception) for r in results)
    assert sum(e.hours for e in LearningHourEntry.objects.filter(member__user=user)) == 1
