"""Selectors of study figures that continue from an object or a summary read nothing outside the
viewer's scope, even when handed another viewer's object."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from partyedu.study.selectors import (
    activity_quorum,
    cadence_rows,
    cadence_summary,
    class_completion,
    plan_branch_marks,
    plan_branches,
    plan_coverage_summary,
)
from partyedu.study.services import attendance_mark, study_plan_issue, training_class_create
from partyedu.testsupport.factories import Tree, make_member, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider(tree: Tree) -> Any:
    """org_admin of 乙区委: nothing of 甲区委 is theirs."""
    return make_user(role="org_admin", org=tree.district_b)


@pytest.fixture
def admin_a(tree: Tree) -> Any:
    return make_user(role="org_admin", org=tree.district_a)


def test_quorum_of_an_activity_outside_the_scope_counts_nobody(
    tree: Tree, admin_a: Any, outsider: Any
) -> None:
    people = [make_member(tree.branch_a, f"正式{i}") for i in range(3)]
    activity = record(tree.branch_a, "branch_assembly", roster=[p.pk for p in people])
    attendance_mark(
        actor=None, activity=activity, records=[{"member": p.pk, "status": "present"} for p in people]
    )

    assert activity_quorum(user=admin_a, activity=activity)["voting_expected"] == 3
    assert activity_quorum(user=outsider, activity=activity) == {
        "voting_expected": 0,
        "voting_present": 0,
        "quorum_met": False,
    }


def test_completion_of_a_class_outside_the_scope_has_no_rows(tree: Tree, admin_a: Any, outsider: Any) -> None:
    member = make_member(tree.branch_a)
    tc = training_class_create(
        actor=None,
        data={
            "organization": tree.district_a,
            "name": "培训班",
            "start_date": date(2025, 3, 1),
            "end_date": date(2025, 4, 30),
            "completion_ratio": Decimal("0.75"),
            "members": [member.pk],
        },
    )
    record(tree.district_a, "training_session", start=at(3, 4), training_class=tc)

    assert [row.held for row in class_completion(user=admin_a, training_class=tc, at=at(3, 20))] == [1]
    assert class_completion(user=outsider, training_class=tc, at=at(3, 20)) == []


def test_plan_branches_of_another_viewers_summary_are_none(tree: Tree, admin_a: Any, outsider: Any) -> None:
    plan = study_plan_issue(
        actor=None,
        data={
            "organization": tree.root,
            "title": "学习计划",
            "year": 2025,
            "topics": [{"title": "学习党章"}],
        },
    )
    summary = plan_coverage_summary(plan, admin_a)
    branches = list(plan_branches(user=admin_a, summary=summary))
    assert branches == [tree.branch_a]

    assert list(plan_branches(user=outsider, summary=summary)) == []
    assert plan_branch_marks(user=outsider, summary=summary, branches=branches) == {}
    assert plan_branch_marks(user=admin_a, summary=summary, branches=branches) == {tree.branch_a.pk: [False]}


def test_cadence_rows_of_another_viewers_summary_are_none(tree: Tree, admin_a: Any, outsider: Any) -> None:
    summary = cadence_summary(user=admin_a, organization=tree.district_a, year=2025, as_of=date(2025, 12, 31))
    branches = list(summary.organizations("branch"))
    rows = cadence_rows(user=admin_a, summary=summary, organizations=branches)
    assert [row.organization for row in rows] == [tree.branch_a]
    assert cadence_rows(user=outsider, summary=summary, organizations=branches) == []
