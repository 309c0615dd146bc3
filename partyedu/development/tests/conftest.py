"""Fixtures of the development tests: a branch with full members (voters, mentors, sponsors), its
secretary, the district's org_admin (the level above) and helpers that take a case from the
application through its steps with dates in the past."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from partyedu.development.models import DevelopmentCase
from partyedu.development.services import case_create, step_confirm
from partyedu.learning.tests.factories import attend, make_activity
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The application day of the standard case: far enough back for every interval to have passed.
APPLIED = date(2023, 3, 1)


@dataclass
class Setup:
    tree: Any
    branch: Any
    secretary: Any
    above: Any  # org_admin at the district (the level above the branch)
    voters: list[Any]
    probationary: Any
    meetings: list[Any] = field(default_factory=list)

    def meeting(self, day: date, present: int | None = None) -> Any:
        """A 支部党员大会 of the branch on ``day`` with the voters (all present unless ``present``
        says how many) and the probationary member on the roll."""
        start = datetime.combine(day, time(9), tzinfo=SHANGHAI)
        activity = make_activity(self.branch, activity_type="branch_assembly", start=start, hours=2)
        count = len(self.voters) if present is None else present
        for i, member in enumerate(self.voters):
            attend(activity, member, "present" if i < count else "absent", sync=False)
        attend(activity, self.probationary, "present", sync=False)
        self.meetings.append(activity)
        return activity

    def training(self, member: Any, day: date, days: int = 3) -> list[Any]:
        """Concentrated training (培训班 sessions of a full day) for ``member`` on ``days``
        consecutive days from ``day``: 3 days and 24 学时 by default, which meets the rule."""
        sessions = []
        for n in range(days):
            start = datetime.combine(day + timedelta(days=n), time(8), tzinfo=SHANGHAI)
            activity = make_activity(self.branch, activity_type="training_session", start=start, hours=8)
            attend(activity, member, "present")
            sessions.append(activity)
        return sessions


@pytest.fixture
def setup(tree: Any) -> Setup:
    voters = [make_member(tree.branch_a, f"党员{i}") for i in range(5)]
    probationary = make_member(tree.branch_a, "预备", status="probationary")
    return Setup(
        tree=tree,
        branch=tree.branch_a,
        secretary=make_user(role="branch_admin", org=tree.branch_a),
        above=make_user(role="org_admin", org=tree.district_a),
        voters=voters,
        probationary=probationary,
    )


def new_case(
    setup: Setup, applied_on: date = APPLIED, birth: date = date(2000, 5, 1), **data: Any
) -> DevelopmentCase:
    return case_create(
        actor=setup.secretary,
        data={
            "organization": setup.branch,
            "name": data.pop("name", "申请人"),
            "id_number": data.pop("id_number", valid_id_number(birth)),
            "applied_on": applied_on,
            **data,
        },
    )


def confirm(setup: Setup, case: DevelopmentCase, step: str, day: date, actor: Any = None, **data: Any) -> Any:
    """Confirm ``step`` on ``day`` by the secretary (or ``actor``), with the fields a real user
    would give it."""
    from partyedu.development.choices import ABOVE_STEPS

    if actor is None:
        actor = setup.above if step in ABOVE_STEPS else setup.secretary
    return step_confirm(actor=actor, case=case, data={"step": step, "date": day, **data})


# The standard case's steps, each on a day that meets its rule (dates relative to APPLIED).
def walk_to(setup: Setup, case: DevelopmentCase, last: str) -> DevelopmentCase:
    """Confirm the steps of ``case`` in order with valid data up to and including ``last``."""
    a = case.applied_on
    plan: list[tuple[str, date, dict[str, Any]]] = [
        ("talk", a + timedelta(days=20), {}),
        ("activist", a + timedelta(days=40), {"mentors": [setup.voters[0].pk], "recommendation": "members"}),
        ("assessment", a + timedelta(days=220), {"note": "表现良好"}),
        ("assessment", a + timedelta(days=400), {"note": "表现良好"}),
        ("candidate", a + timedelta(days=410), {"sponsors": [setup.voters[1].pk, setup.voters[2].pk]}),
        ("training_done", a + timedelta(days=430), {}),
        ("committee_review", a + timedelta(days=440), {"note": "政治审查合格；支委会审查同意"}),
        ("pre_review", a + timedelta(days=450), {}),
        ("publicity", a + timedelta(days=460), {"start_on": a + timedelta(days=455)}),
        ("admission_vote", a + timedelta(days=470), {"yes_votes": 5}),
        ("approval", a + timedelta(days=500), {"people": "区委组织部 王某"}),
        ("oath", a + timedelta(days=510), {}),
        ("conversion_vote", None, {"yes_votes": 5}),
        ("conversion_approval", None, {}),
    ]
    done = {s.seq for s in case.steps.all()}
    for index, (step, day, data) in enumerate(plan):
        if index < len(done):
            if step == last:
                break
            continue
        case.refresh_from_db()
        if step == "training_done":
            setup.training(case.member, a + timedelta(days=420))
        if step in ("admission_vote", "conversion_vote"):
            if day is None:
                assert case.probation_end is not None
                day = case.probation_end
            data = {**data, "meeting": setup.meeting(day).pk}
        if day is None:
            day = case.steps.order_by("-seq").first().date + timedelta(days=20)
        confirm(setup, case, step, day, **data)
        if step == last:
            break
    case.refresh_from_db()
    return case
