"""The democratic appraisal's demo data on a small demo city: last year's appraisals reported in
most branches (with branch_sec's 不合格 and its closed follow-up), the bulk-written ones as the
services would leave them, ballots stored as ``ballot_submit`` stores them, and this year's
appraisal of branch_sec's branch open at the vote with member1 not having voted."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.appraisal.anonymity import ballot_key
from partyedu.appraisal.choices import STEP_ORDER
from partyedu.appraisal.models import Appraisal, AppraisalStep, BallotReceipt, FollowUp, Participant, Vote
from partyedu.appraisal.services import ballot_submit, branch_members, excellent_limit
from partyedu.appraisal.services.appraisals import is_exempt
from partyedu.demo.appraisal import (
    BALLOT_VOTERS,
    FOLLOW_UP_CLOSING_NOTE,
    LAST_YEAR,
    MEMBER1_SELF_EVALUATION,
    MIN_PARTICIPANTS,
    THIS_YEAR,
    clear_appraisal,
    seed_appraisal,
)
from partyedu.demo.seed import clear_data
from partyedu.demo.testing import on_standard_demo
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.points.models import PointsPublication

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

MEMBERS = 300
SEED = 7


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output.splitlines()


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def home():
    return RoleAssignment.objects.get(user__username="branch_sec").organization


def member1():
    return Member.objects.get(user__username="member1")


def last_year_of(organization):
    return Appraisal.objects.get(organization=organization, year=LAST_YEAR)


def this_year():
    return Appraisal.objects.get(organization=home(), year=THIS_YEAR)


def eligible_branches():
    return [
        b
        for b in Organization.objects.filter(level="branch")
        if branch_members(b).count() >= MIN_PARTICIPANTS
    ]


# --- Last year -------------------------------------------------------------------------------------------


def test_last_years_appraisal_is_reported_in_most_branches(demo_lines):
    eligible = {b.pk for b in eligible_branches()}
    reported = set(
        Appraisal.objects.filter(year=LAST_YEAR, status="reported").values_list("organization_id", flat=True)
    )
    assert reported <= eligible
    assert len(reported) >= 0.7 * len(eligible)
    assert any(line.startswith(f"{LAST_YEAR}年度民主评议党员") for line in demo_lines)


def test_every_participant_of_last_year_has_a_decided_grade(demo_lines):
    participants = Participant.objects.filter(appraisal__year=LAST_YEAR)
    assert participants.exists()
    assert not participants.filter(grade="").exists()
    assert not participants.filter(decided_at__isnull=True).exists()


def test_last_years_decisions_are_mostly_qualified_with_some_excellent_and_a_few_basically(demo_lines):
    grades = Counter(Participant.objects.filter(appraisal__year=LAST_YEAR).values_list("grade", flat=True))
    assert grades.most_common(1)[0][0] == "qualified"
    assert grades["excellent"] > 0
    assert 0 < grades["basically_qualified"] < grades["excellent"]


def test_no_branch_rated_more_excellent_than_its_share(demo_lines):
    for appraisal in Appraisal.objects.filter(year=LAST_YEAR):
        grades = list(appraisal.participants.values_list("grade", flat=True))
        assert grades.count("excellent") <= excellent_limit(appraisal.excellent_share, len(grades))
        assert appraisal.reason == ""


def test_branch_secs_branch_rated_one_member_unqualified(demo_lines):
    appraisal = last_year_of(home())
    unqualified = appraisal.participants.filter(grade="unqualified")
    assert unqualified.count() == 1
    assert Participant.objects.filter(appraisal__year=LAST_YEAR, grade="unqualified").count() == 1
    assert unqualified.get().decided_by.username == "branch_sec"


def test_the_unqualified_members_rectification_was_closed_with_a_note(demo_lines):
    appraisal = last_year_of(home())
    follow_up = FollowUp.objects.select_related("closed_by").get(appraisal=appraisal)
    assert follow_up.member_id == appraisal.participants.get(grade="unqualified").member_id
    assert (follow_up.measure, follow_up.status) == ("rectify_by_deadline", "closed")
    assert follow_up.deadline is not None
    assert follow_up.closing_note == FOLLOW_UP_CLOSING_NOTE
    assert follow_up.closed_by.username == "branch_sec"


def test_last_years_steps_are_dated_in_january_in_order(demo_lines):
    steps = AppraisalStep.objects.filter(appraisal__year=LAST_YEAR).order_by("appraisal_id", "position")
    by_appraisal: dict[int, list[AppraisalStep]] = {}
    for step in steps:
        by_appraisal.setdefault(step.appraisal_id, []).append(step)
    for rows in by_appraisal.values():
        assert [s.code for s in rows] == list(STEP_ORDER)
        moments = [m for s in rows for m in (s.opened_at, s.closed_at)]
        assert moments == sorted(moments)
        assert {(m.year, m.month) for m in moments} == {(THIS_YEAR, 1)}


def test_last_years_reports_are_dated_in_january(demo_lines):
    dates = Appraisal.objects.filter(year=LAST_YEAR).values_list("reported_at", flat=True)
    assert {(d.year, d.month) for d in dates} == {(THIS_YEAR, 1)}


def test_a_bulk_written_appraisal_holds_what_the_services_would(demo_lines):
    appraisal = Appraisal.objects.filter(year=LAST_YEAR).exclude(organization=home()).first()
    # The development seed, written after, adds the people it admits (each with a case) to the roll.
    members = {m.pk: m for m in branch_members(appraisal.organization).filter(development_case__isnull=True)}
    participants = list(appraisal.participants.all())
    assert {p.member_id for p in participants} == set(members)
    for p in participants:
        member = members[p.member_id]
        assert p.status_at_snapshot == member.status
        assert p.is_voter == (member.status == "full")
        assert p.exempt == is_exempt(member)
    steps = list(appraisal.steps.order_by("position"))
    assert [(s.code, s.position) for s in steps] == [(c, n) for n, c in enumerate(STEP_ORDER, start=1)]
    assert all(s.planned_start == s.opened_at.date() for s in steps)


# --- Ballots ---------------------------------------------------------------------------------------------


def test_ballots_are_stored_as_the_service_stores_them(demo_lines):
    appraisal = last_year_of(home())
    participants = appraisal.participants.count()
    receipts = list(appraisal.receipts.all())
    assert receipts
    for receipt in receipts:
        votes = Vote.objects.filter(
            appraisal=appraisal, ballot_key=ballot_key(appraisal.pk, receipt.voter_id)
        )
        assert votes.count() == participants - 1
        assert not votes.filter(appraisee_id=receipt.voter_id).exists()
    keys = Vote.objects.filter(appraisal=appraisal).values("ballot_key").distinct().count()
    assert keys == len(receipts)


def test_only_voting_participants_cast_ballots(demo_lines):
    voters = Participant.objects.filter(is_voter=True).values_list("appraisal_id", "member_id")
    receipts = BallotReceipt.objects.values_list("appraisal_id", "voter_id")
    assert set(receipts) <= set(voters)


def test_the_ballots_stay_within_the_budget(demo_lines):
    assert 0 < BallotReceipt.objects.count() <= BALLOT_VOTERS


def test_the_tally_agrees_with_the_committees_decision(demo_lines):
    appraisal = last_year_of(home())
    unqualified = appraisal.participants.get(grade="unqualified").member_id
    tally = Counter(
        Vote.objects.filter(appraisal=appraisal, appraisee_id=unqualified).values_list("grade", flat=True)
    )
    assert tally.most_common(1)[0][0] == "unqualified"


# --- This year -------------------------------------------------------------------------------------------


def test_branch_secs_appraisal_this_year_is_at_the_vote_step(demo_lines):
    appraisal = this_year()
    steps = {s.code: s for s in appraisal.steps.all()}
    assert appraisal.status == "in_progress"
    assert steps["self"].closed_at and steps["peer"].closed_at
    assert steps["vote"].opened_at and not steps["vote"].closed_at
    assert not steps["decide"].opened_at
    assert any(line.startswith(f"{THIS_YEAR}年度民主评议") for line in demo_lines)


def test_member1_wrote_a_self_evaluation(demo_lines):
    participant = Participant.objects.get(appraisal=this_year(), member=member1())
    assert participant.self_evaluation == MEMBER1_SELF_EVALUATION
    assert participant.self_evaluated_at is not None


def test_member1_has_not_voted(demo_lines):
    appraisal = this_year()
    assert not BallotReceipt.objects.filter(appraisal=appraisal, voter=member1()).exists()
    assert not Vote.objects.filter(
        appraisal=appraisal, ballot_key=ballot_key(appraisal.pk, member1().pk)
    ).exists()


def test_some_other_voters_have_voted(demo_lines):
    appraisal = this_year()
    voters = appraisal.participants.filter(is_voter=True).count()
    assert 0 < BallotReceipt.objects.filter(appraisal=appraisal).count() < voters


def test_member1_can_cast_their_ballot(demo_lines):
    appraisal = this_year()
    others = appraisal.participants.exclude(member=member1()).values_list("member_id", flat=True)
    user = User.objects.get(username="member1")
    result = ballot_submit(
        actor=user, appraisal=appraisal, votes=[{"member": m, "grade": "qualified"} for m in others]
    )
    assert result.created


# --- Seeding again, clearing -------------------------------------------------------------------------------


def test_seeding_again_adds_nothing(demo_lines):
    before = (Appraisal.objects.count(), Participant.objects.count(), Vote.objects.count())
    assert seed_appraisal(seed=SEED, today=this_year().created_at.date(), say=lambda message: None) == []
    assert (Appraisal.objects.count(), Participant.objects.count(), Vote.objects.count()) == before


def appraisal_digest():
    """What the seed decided: appraisals, participants with grades and self-evaluations, the
    votes (by appraisee and grade) and last year's receipts with their times."""
    return (
        sorted(Appraisal.objects.values_list("organization_id", "year", "status", "reported_at")),
        sorted(
            Participant.objects.values_list(
                "appraisal__organization_id", "appraisal__year", "member_id", "grade", "self_evaluation"
            )
        ),
        sorted(
            Vote.objects.values_list("appraisal__organization_id", "appraisal__year", "appraisee_id", "grade")
        ),
        sorted(
            BallotReceipt.objects.filter(appraisal__year=LAST_YEAR).values_list(
                "appraisal__organization_id", "voter_id", "submitted_at"
            )
        ),
    )


def test_seeding_again_after_clearing_writes_the_same_appraisals(demo_lines):
    before = appraisal_digest()
    clear_appraisal()
    # The roll as the appraisal seed found it: before the development seed admitted its people.
    Member.objects.filter(development_case__isnull=False).update(is_active=False)
    seed_appraisal(seed=SEED, today=timezone.localdate(), say=lambda message: None)
    assert appraisal_digest() == before


def test_clearing_the_demo_removes_the_appraisals_and_the_publication(demo_lines):
    clear_data()
    assert not Appraisal.objects.exists()
    assert not Vote.objects.exists()
    assert not PointsPublication.objects.exists()
    assert not Member.objects.exists()
