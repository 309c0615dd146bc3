"""The member-development demo (``demo.development``): about sixty cases in every stage taken
through the services on a small demo city — branch_sec's four cases of the workbench, one extended
probation, the votes at 支部党员大会 of the case's branch with a quorum, the training from the hours
ledger, the members' statuses following their cases — and its plan, which keeps every rule on any
day it is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.scope import can_act_above
from partyedu.demo.development import (
    TOPICS,
    Branch,
    ClassA,
    Context,
    Meeting,
    Planner,
    Story,
    seed_development,
)
from partyedu.demo.seed import clear_data
from partyedu.demo.study import STUDY_YEAR
from partyedu.demo.testing import on_standard_demo
from partyedu.development.choices import ABOVE_STEPS, VOTE_STEPS, ConversionOutcome, Stage, Step
from partyedu.development.models import CaseStep, DevelopmentCase, DevelopmentPlan, DevelopmentPolicy
from partyedu.development.policy import add_months, default_policy
from partyedu.development.selectors import case_next
from partyedu.development.services.steps import MEMBER_STATUS
from partyedu.development.timing import next_steps, timing_violations
from partyedu.learning.candidates import candidate_training_for
from partyedu.members.choices import MemberStatus
from partyedu.study.choices import ActivityType
from partyedu.study.selectors import activity_quorum

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


def cases():
    return DevelopmentCase.objects.select_related("organization", "member")


def steps_of(case):
    return list(case.steps.order_by("seq"))


# --- What is seeded --------------------------------------------------------------------------------------


def test_the_seed_prints_the_development_summary(demo_lines):
    assert any(line.startswith("发展党员 ") for line in demo_lines)
    assert any(line.startswith("发展党员表决会议") for line in demo_lines)


def test_about_sixty_cases_in_every_stage(demo_lines):
    stages = set(DevelopmentCase.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert 55 <= DevelopmentCase.objects.count() <= 65


def test_the_cases_are_spread_over_the_city(demo_lines):
    branches = set(DevelopmentCase.objects.values_list("organization__path", flat=True))
    assert len(branches) >= 4
    assert len({path[:8] for path in branches}) >= 2


def test_one_case_has_an_extended_probation(demo_lines):
    [case] = cases().filter(extension_months__gt=0)
    assert case.stage == Stage.PROBATIONARY and case.extension_months == 6
    assert case.probation_end == add_months(add_months(case.admitted_on, 12), 6)
    assert case.probation_end > timezone.localdate()
    decisions = case.steps.filter(step=Step.CONVERSION_APPROVAL).values_list("outcome", flat=True)
    assert list(decisions) == [ConversionOutcome.EXTEND]


def test_some_full_members_were_converted_this_year(demo_lines):
    year = timezone.localdate().year
    converted = CaseStep.objects.filter(step=Step.CONVERSION_APPROVAL, outcome=ConversionOutcome.CONVERT)
    assert converted.filter(date__year=year).count() >= 3


def test_some_cases_are_stalled_or_overdue(demo_lines):
    today = timezone.localdate()
    open_cases = cases().exclude(stage__in=(Stage.FULL, Stage.CLOSED))
    assert open_cases.filter(next_due__lt=today).count() >= 3
    waiting = today - timedelta(days=default_policy().applicant_wait_days)
    assert open_cases.filter(stage__in=(Stage.APPLIED, Stage.TALKED), last_step_on__lt=waiting).count() >= 2
    assert open_cases.filter(stage=Stage.ADMISSION_VOTED, next_due__lt=today).exists()


def test_closed_cases_were_withdrawn_before_the_person_was_on_the_roll(demo_lines):
    closed = cases().filter(stage=Stage.CLOSED)
    assert closed.count() >= 2
    assert all(c.member_id is None and c.closed_reason and c.closed_on >= c.last_step_on for c in closed)


# --- branch_sec's branch: the workbench's alerts ----------------------------------------------------------


def test_branch_secs_branch_has_an_applicant_whose_talk_is_due_soon(demo_lines):
    today = timezone.localdate()
    warn = timedelta(days=default_policy().warn_days)
    applicants = cases().filter(organization=home(), stage=Stage.APPLIED)
    assert any(today <= c.next_due <= today + warn for c in applicants)


def test_branch_secs_branch_has_an_activist_ready_to_become_a_candidate(demo_lines):
    today = timezone.localdate()
    [activist] = cases().filter(organization=home(), stage=Stage.ACTIVIST)
    steps = steps_of(activist)
    assert add_months(activist.activist_on, 12) <= today
    assert today - steps[-1].date <= timedelta(days=31) and steps[-1].step == Step.ASSESSMENT
    assert Step.CANDIDATE in [n.step for n in case_next(case=activist)]
    assert timing_violations(activist, steps, default_policy(), Step.CANDIDATE, today) == []


def test_branch_secs_branch_has_a_candidate_in_publicity(demo_lines):
    [candidate] = cases().filter(organization=home(), stage=Stage.CANDIDATE)
    assert steps_of(candidate)[-1].step == Step.PRE_REVIEW
    assert [n.step for n in case_next(case=candidate)] == [Step.PUBLICITY]


def test_branch_secs_branch_has_a_probationer_whose_probation_ends_within_30_days(demo_lines):
    today = timezone.localdate()
    probationers = cases().filter(organization=home(), stage=Stage.PROBATIONARY)
    assert any(today < c.probation_end <= today + timedelta(days=30) for c in probationers)


def test_branch_secs_steps_are_confirmed_by_branch_sec_and_the_district_admin(demo_lines):
    branch_sec = User.objects.get(username="branch_sec")
    district_admin = User.objects.get(username="district_admin")
    for step in CaseStep.objects.filter(case__organization=home()).select_related("confirmed_by"):
        assert step.confirmed_by == (district_admin if step.step in ABOVE_STEPS else branch_sec), step


# --- Rules --------------------------------------------------------------------------------------------------


def test_no_step_sets_a_rule_aside(demo_lines):
    assert not CaseStep.objects.exclude(overridden=[]).exists()
    assert not CaseStep.objects.exclude(override_reason="").exists()


def test_steps_of_the_level_above_are_confirmed_by_an_org_admin_above_the_branch(demo_lines):
    for step in CaseStep.objects.filter(step__in=ABOVE_STEPS).select_related(
        "confirmed_by", "case__organization"
    ):
        assert step.confirmed_by is not None and can_act_above(step.confirmed_by, step.case.organization)


def test_every_vote_is_held_at_a_branch_assembly_of_the_case_branch_with_a_quorum(demo_lines):
    votes = CaseStep.objects.filter(step__in=VOTE_STEPS).select_related("meeting", "case")
    assert votes.exists()
    for vote in votes:
        meeting = vote.meeting
        assert meeting.activity_type == ActivityType.BRANCH_ASSEMBLY
        assert meeting.organization_id == vote.case.organization_id
        assert timezone.localdate(meeting.start) == vote.date
        assert vote.voting_present * 2 > vote.voting_expected
        assert vote.voting_expected < vote.yes_votes * 2 and vote.yes_votes <= vote.voting_present
        assert activity_quorum(user=None, activity=meeting)["quorum_met"]


def test_some_votes_are_held_at_the_demo_years_own_assemblies(demo_lines):
    topics = CaseStep.objects.filter(step__in=VOTE_STEPS).values_list("meeting__topic", flat=True)
    assert any(t not in TOPICS for t in topics) and any(t in TOPICS for t in topics)


def test_every_trained_candidate_met_the_training_rule_from_the_hours_ledger(demo_lines):
    trained = CaseStep.objects.filter(step=Step.TRAINING_DONE).select_related("case__member")
    assert trained.count() >= 10
    for step in trained:
        member = step.case.member
        training = candidate_training_for(user=None, members=[member], today=step.date)[member.pk]
        assert training.met and training.start == step.case.candidate_on, (member.name, training)


def test_members_statuses_and_dates_follow_their_cases(demo_lines):
    for case in cases():
        if case.stage in (Stage.APPLIED, Stage.TALKED, Stage.CLOSED):
            assert case.member is None
            continue
        member = case.member
        assert member.is_active and member.organization_id == case.organization_id
        assert member.status == MEMBER_STATUS[case.stage], case
        assert (member.candidate_on, member.joined_on, member.full_member_on) == (
            case.candidate_on,
            case.admitted_on,
            case.full_member_on,
        )


def test_mentors_and_sponsors_are_full_members_of_the_case_branch(demo_lines):
    for case in cases().prefetch_related("mentors", "sponsors"):
        people = [*case.mentors.all(), *case.sponsors.all()]
        assert all(
            p.status == MemberStatus.FULL and p.org_path.startswith(case.organization.path) for p in people
        )
        if case.member_id is not None:
            assert 1 <= len(case.mentors.all()) <= 2
        if case.candidate_on is not None:
            assert len(case.sponsors.all()) == 2


def test_the_districts_have_a_plan_for_the_year_and_no_rules_of_their_own(demo_lines):
    plans = DevelopmentPlan.objects.filter(year=STUDY_YEAR).select_related("organization")
    assert plans.count() >= 2
    assert all(p.organization.depth == 1 and p.planned >= 2 for p in plans)
    assert not DevelopmentPolicy.objects.exists()


def test_seeding_again_adds_nothing(demo_lines):
    before = DevelopmentCase.objects.count()
    assert seed_development(seed=SEED, today=timezone.localdate(), say=lambda message: None) == []
    assert DevelopmentCase.objects.count() == before


def test_clearing_the_demo_removes_the_cases(demo_lines):
    clear_data()
    assert not DevelopmentCase.objects.exists() and not CaseStep.objects.exists()
    assert not DevelopmentPlan.objects.exists()


# --- The plan keeps every rule, on any day (no database) --------------------------------------------------


def fake_context(today: date, *, meetings: bool = True, with_class: bool = True) -> Context:
    """A city of one home branch and five others (in two districts), some of them with the
    quarterly 支部党员大会 of the demo year and, in the home branch's street, the 发展对象培训班."""

    def branch(pk: int, district: int) -> Branch:
        return Branch(
            pk=pk,
            path=f"0001000{district}{pk:04d}",
            name=f"第{pk}党支部",
            district_pk=district,
            district_name=f"{district}区委",
            region="370102",
            full=list(range(pk * 100, pk * 100 + 8)),
            secretary="书记",
            committee="委员",
        )

    home = branch(1, 1)
    others = [branch(pk, 1 + pk % 2) for pk in range(2, 7)]
    held: dict[int, list[Meeting]] = {}
    if meetings:
        for b in [home, *others[:3]]:
            days = [date(STUDY_YEAR, month, 10 + b.pk) for month in (2, 5, 8, 10)]
            held[b.pk] = [Meeting(workday_of(d), pk=b.pk * 10 + n) for n, d in enumerate(days)]
    class_a = None
    if with_class:
        sessions = tuple((900 + n, date(STUDY_YEAR, 9, 1) + timedelta(days=n * 3)) for n in range(16))
        class_a = ClassA(pk=1, path="00010001", sessions=sessions)
    return Context(today=today, home=home, branches=others, meetings=held, class_a=class_a)


def workday_of(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass
class Replay:
    """A case as ``step_confirm`` would move it, for the pure timing functions."""

    stage: str
    applied_on: date
    activist_on: date | None = None
    candidate_on: date | None = None
    admitted_on: date | None = None
    probation_end: date | None = None
    extension_months: int = 0
    steps: list[Any] = field(default_factory=list)


@dataclass
class Done:
    step: str
    date: date
    outcome: str = ""


def replay(story: Story, today: date) -> Replay:
    """Confirm the story's steps in order against the rules the service checks (order, dates,
    timing, publicity, the meeting's day, the training days); return the case as it ends."""
    policy = default_policy()
    case = Replay(stage=Stage.APPLIED, applied_on=story.applied_on)
    assert story.applied_on <= today
    assert (story.applied_on - story.birth).days >= 18 * 365 + 5
    last = story.applied_on
    for p in story.steps:
        where = (story.kind, p.step, p.day, today)
        assert p.step in {n.step for n in next_steps(case, case.steps, policy)}, where
        assert last <= p.day <= today, where
        assert timing_violations(case, case.steps, policy, p.step, p.day) == [], where
        assert p.step in (Step.PUBLICITY, Step.ADMISSION_VOTE, Step.CONVERSION_VOTE) or p.day.weekday() < 5, (
            where
        )
        if p.step == Step.PUBLICITY:
            assert (p.day - p.data["start_on"]).days + 1 >= policy.publicity_days, where
        if p.step in VOTE_STEPS:
            assert p.meeting is not None and p.meeting.day == p.day, where
        if p.step == Step.TRAINING_DONE:
            assert case.candidate_on is not None
            if isinstance(story.training, list):
                days = {d for _, d in story.training if case.candidate_on <= d <= p.day}
            else:
                assert story.training is not None
                days = {d for d in story.training.days if case.candidate_on <= d <= p.day}
            assert len(days) >= 3, where
        if p.step == Step.ACTIVIST:
            assert 1 <= len(p.data["mentors"]) <= policy.mentors_max
            case.stage, case.activist_on = Stage.ACTIVIST, p.day
        elif p.step == Step.TALK:
            case.stage = Stage.TALKED
        elif p.step == Step.CANDIDATE:
            assert len(p.data["sponsors"]) == policy.sponsors_required
            case.stage, case.candidate_on = Stage.CANDIDATE, p.day
        elif p.step == Step.ADMISSION_VOTE:
            case.stage = Stage.ADMISSION_VOTED
        elif p.step == Step.APPROVAL:
            vote = [s for s in case.steps if s.step == Step.ADMISSION_VOTE][-1]
            case.stage, case.admitted_on = Stage.PROBATIONARY, vote.date
            case.probation_end = add_months(vote.date, policy.probation_months)
        elif p.step == Step.CONVERSION_VOTE:
            case.stage = Stage.CONVERSION_VOTED
        elif p.step == Step.CONVERSION_APPROVAL:
            vote = [s for s in case.steps if s.step == Step.CONVERSION_VOTE][-1]
            if vote.outcome == ConversionOutcome.EXTEND:
                assert case.probation_end is not None
                case.stage, case.extension_months = Stage.PROBATIONARY, EXTENDED
                case.probation_end = add_months(case.probation_end, EXTENDED)
            else:
                case.stage = Stage.FULL
        case.steps.append(Done(p.step, p.day, p.data.get("outcome", "")))
        last = p.day
    if story.close is not None:
        assert last <= story.close[0] <= today
        case.stage = Stage.CLOSED
    return case


EXTENDED = 6
# Days the plan is checked on: month ends, a leap day, the demo's own season, a January.
DAYS = (
    date(2026, 12, 7),
    date(2026, 11, 30),
    date(2027, 1, 4),
    date(2027, 3, 1),
    date(2028, 2, 29),
    date(2028, 8, 31),
    date(2026, 6, 15),
    date(2029, 12, 31),
)


@pytest.mark.parametrize("today", DAYS)
def test_every_planned_case_keeps_the_rules(today):
    for seed in (1, 7, 2026):
        for meetings in (True, False):
            planner = Planner(fake_context(today, meetings=meetings), seed)
            ends = {s.key: replay(s, today) for s in planner.stories()}
            stages = {case.stage for case in ends.values()}
            assert stages == set(Stage.values), (today, seed, stages)


def test_branch_secs_planned_cases_meet_the_workbench_on_any_day():
    for today in DAYS:
        planner = Planner(fake_context(today), SEED)
        home = {s.kind: replay(s, today) for s in planner.stories() if s.key.startswith("home-")}
        assert home["talk_due"].stage == Stage.APPLIED
        assert today <= add_months(home["talk_due"].applied_on, 1) <= today + timedelta(days=30)
        activist = home["activist_ready"]
        assert timing_violations(activist, activist.steps, default_policy(), Step.CANDIDATE, today) == []
        assert home["pre_review"].steps[-1].step == Step.PRE_REVIEW
        end = home["probation_ending"].probation_end
        assert end is not None and today < end <= today + timedelta(days=30)


def test_the_plan_is_the_same_for_a_seed_and_a_day():
    def digest(seed: int) -> list[Any]:
        planner = Planner(fake_context(date(2026, 12, 7)), seed)
        return [
            (
                s.key,
                s.kind,
                s.branch.pk,
                s.name,
                s.id_number,
                s.applied_on,
                [(p.step, p.day) for p in s.steps],
            )
            for s in planner.stories()
        ]

    assert digest(SEED) == digest(SEED)
    assert digest(SEED) != digest(SEED + 1)


def test_the_plan_prefers_the_demo_years_assemblies_and_records_the_others():
    planner = Planner(fake_context(date(2026, 12, 7)), SEED)
    votes = [p.meeting for s in planner.stories() for p in s.steps if p.meeting is not None]
    assert any(m.pk is not None for m in votes) and any(m.key for m in votes)
    assert all(m.key in planner.new_meetings for m in votes if m.key)
