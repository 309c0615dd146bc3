"""Ballots cast at the same moment (PostgreSQL only: SQLite serialises writers by locking the whole
database, so there is no race to test there). Every ballot locks the appraisal's row first, as
closing a step does, so one voter's two ballots at once leave one receipt and one set of votes,
and a ballot racing the close of the vote is either counted before it or refused after it. They
run in the PostgreSQL stage of CI, which fails when PostgreSQL is missing
(``.ci/ensure-postgres``); the SQLite stage skips them, as every other concurrency test."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.appraisal.choices import StepCode
from partyedu.appraisal.models import BallotReceipt, Vote
from partyedu.appraisal.services import ballot_submit, step_close
from partyedu.core.testing import run_at_once

from .conftest import make_appraisal, make_branch, open_step, others

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def full_ballot(branch, voter, grade):
    return [{"member": branch.members[n].pk, "grade": grade} for n in others(voter)]


def test_two_ballots_of_one_voter_at_once_leave_one_receipt_and_one_set_of_votes(tree):
    # given: the vote is open
    branch = make_branch(tree)
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    user = branch.users["甲"]

    # when: the voter's phone sends the ballot twice at the same moment, with different grades
    results = run_at_once(
        lambda: ballot_submit(actor=user, appraisal=appraisal, votes=full_ballot(branch, "甲", "excellent")),
        lambda: ballot_submit(actor=user, appraisal=appraisal, votes=full_ballot(branch, "甲", "qualified")),
    )

    # then: one was first, the other replaced it; four votes of one grade remain
    assert sorted(r.created for r in results) == [False, True]
    assert BallotReceipt.objects.count() == 1
    assert Vote.objects.count() == 4
    assert Vote.objects.values("grade").distinct().count() == 1


def test_a_ballot_racing_the_close_of_the_vote_is_counted_or_refused_never_half(tree):
    # given: the vote is open, nobody voted
    branch = make_branch(tree)
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    user = branch.users["甲"]

    def vote():
        try:
            return ballot_submit(
                actor=user, appraisal=appraisal, votes=full_ballot(branch, "甲", "qualified")
            )
        except ValidationError as exc:
            return exc

    # when: the secretary closes the vote as the member submits
    results = run_at_once(vote, lambda: step_close(actor=None, appraisal=appraisal, code=StepCode.VOTE))

    # then: either the whole ballot counts, or nothing of it was written
    counted = any(getattr(r, "created", False) for r in results)
    assert (BallotReceipt.objects.count(), Vote.objects.count()) == ((1, 4) if counted else (0, 0))
