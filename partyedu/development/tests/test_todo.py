"""The workbench items of member development: counts for the secretary's work due soon or late,
for the committee above its approvals (overdue first), in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.core.todo import todos_for
from partyedu.development.services import policy_set
from partyedu.development.todo import development_todos
from partyedu.testsupport.factories import make_user

from .conftest import new_case, walk_to

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _items(user):
    return {item.key: item for item in development_todos(user=user)}


def test_secretary_is_told_of_talks_due_soon_and_overdue_as_one_count(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=5), name="甲")
    new_case(setup, applied_on=TODAY - timedelta(days=6), name="乙")
    new_case(setup, applied_on=TODAY - timedelta(days=60), name="丙")

    item = _items(setup.secretary)["development.talk"]

    assert item.count == 3 and item.priority == 0
    assert item.title == "发展党员：3 名入党申请人待派人谈话，其中1名已逾期"
    assert item.url == "/development/?alert=talk"


def test_a_talk_due_beyond_the_warning_days_is_not_an_item_yet(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=5))
    policy_set(actor=None, organization=setup.tree.district_a, data={"warn_days": 7})

    assert "development.talk" not in _items(setup.secretary)


def test_a_talk_due_soon_and_none_overdue_is_priority_one(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=5))

    item = _items(setup.secretary)["development.talk"]

    assert (item.count, item.priority) == (1, 1) and "逾期" not in item.title


def test_an_activist_whose_assessment_is_overdue_is_counted(setup):
    walk_to(setup, new_case(setup), "activist")  # made activist in 2023, never assessed since

    item = _items(setup.secretary)["development.assessment"]

    assert (item.count, item.priority) == (1, 0) and "待培养考察" in item.title


def test_probation_ending_within_the_warning_days_is_counted(setup):
    case = walk_to(setup, new_case(setup), "oath")
    case.probation_end = TODAY + timedelta(days=10)
    case.save(update_fields=["probation_end"])

    item = _items(setup.secretary)["development.probation"]

    assert item.count == 1 and "预备期将满" in item.title


def test_an_applicant_waiting_past_the_rule_is_counted(setup):
    walk_to(setup, new_case(setup, applied_on=TODAY - timedelta(days=220)), "talk")

    items = _items(setup.secretary)

    assert items["development.waiting"].count == 1 and "development.talk" not in items


def test_the_committee_above_is_told_of_approvals_waiting_overdue_first(setup):
    late = walk_to(setup, new_case(setup), "admission_vote")  # voted in 2024: the approval is late
    recent = walk_to(
        setup, new_case(setup, applied_on=TODAY - timedelta(days=500), name="近期"), "committee_review"
    )

    items = _items(setup.above)

    assert items["development.above.approval"].count == 1
    assert (
        items["development.above.approval"].priority == 0
        and "超过审批期限" in items["development.above.approval"].title
    )
    assert (
        items["development.above.pre_review"].count == 1
        and items["development.above.pre_review"].priority == 1
    )
    assert "development.above.approval" not in _items(setup.secretary)
    assert late.stage == "admission_voted" and recent.stage == "candidate"


def test_a_user_without_the_change_action_gets_no_item(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=60))
    member = make_user(role="member", org=setup.branch)

    assert development_todos(user=member) == []


def test_a_secretary_of_another_branch_is_not_told(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=60))
    other = make_user(role="branch_admin", org=setup.tree.branch_b)

    assert _items(other) == {}


def test_items_reach_the_workbench(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=60))

    keys = [item.key for item in todos_for(user=setup.secretary)]

    assert "development.talk" in keys


def test_the_items_cost_a_fixed_number_of_queries(setup, django_assert_max_num_queries):
    for n in range(3):
        new_case(setup, applied_on=TODAY - timedelta(days=5 + n), name=f"申请人{n}")
    walk_to(setup, new_case(setup, name="积极分子"), "activist")
    policy_set(actor=None, organization=setup.branch, data={"warn_days": 40})
    setup.above.refresh_from_db()  # roles are loaded again, inside the count
    with django_assert_max_num_queries(7):
        development_todos(user=setup.above)
