"""The workbench items (``core.todo``) of the appraisal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.appraisal.choices import StepCode
from partyedu.appraisal.models import FollowUp
from partyedu.appraisal.services import appraisal_decide, ballot_submit, self_evaluation_save
from partyedu.core.todo import todos_for
from partyedu.testsupport.factories import make_user

from .conftest import make_appraisal, open_step, others

pytestmark = pytest.mark.django_db


def titles(user) -> list[str]:
    return [item.title for item in todos_for(user=user)]


def test_a_participant_is_asked_for_the_self_evaluation_until_written(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    before = titles(branch.users["甲"])

    self_evaluation_save(actor=branch.users["甲"], appraisal=appraisal, text="认真学习")

    assert "请完成自我评价" in before
    assert "请完成自我评价" not in titles(branch.users["甲"])


def test_a_voter_is_asked_to_vote_until_voted_and_a_probationary_member_never(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    before = titles(branch.users["甲"])

    ballot_submit(
        actor=branch.users["甲"],
        appraisal=appraisal,
        votes=[{"member": branch.members[n].pk, "grade": g} for n, g in others("甲").items()],
    )

    assert "请参加民主测评" in before
    assert "请参加民主测评" not in titles(branch.users["甲"])
    assert "请参加民主测评" not in titles(branch.users["丁"])


def test_the_secretary_is_told_of_follow_ups_past_their_deadline(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    appraisal_decide(
        actor=branch.secretary,
        appraisal=appraisal,
        grades=[
            {
                "member": branch.members["丙"].pk,
                "grade": "unqualified",
                "measure": "rectify_by_deadline",
                "deadline": timezone.localdate() + timedelta(days=30),
            }
        ],
    )
    assert not [t for t in titles(branch.secretary) if t.startswith("民主评议")]
    FollowUp.objects.update(deadline=timezone.localdate() - timedelta(days=1))

    assert "民主评议：1 项不合格党员整改待跟进" in titles(branch.secretary)
    assert not [
        t for t in titles(make_user(role="branch_admin", org=tree.branch_b)) if t.startswith("民主评议")
    ]
