"""The monthly counts the cadence report reads (``ActivityMonthCount``): a party group's 党小组会
counted for the group itself, its other activities for its branch — kept by the activity services
and proved equal to a recount (``activity_counts_rebuild``) after every change."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.organizations.services import organization_move
from partyedu.study.models import ActivityMonthCount
from partyedu.study.services import activity_counts_rebuild, activity_delete, activity_update
from partyedu.testsupport.factories import Tree, make_org

from .conftest import at, record

pytestmark = pytest.mark.django_db


def months(org: Any, activity_type: str) -> list[int]:
    row = ActivityMonthCount.objects.filter(organization=org, year=2025, activity_type=activity_type).first()
    return row.months if row is not None else [0] * 12


def assert_counts_equal_rebuild() -> None:
    assert activity_counts_rebuild() == 0


def test_a_party_group_meeting_counts_for_the_group_itself(tree: Tree) -> None:
    """DOMAIN_RULES 党小组会 1 per month: 支部条例 — counted per group, not for the branch."""
    record(tree.group_a, "group_meeting", start=at(5))
    assert months(tree.group_a, "group_meeting")[4] == 1
    assert months(tree.branch_a, "group_meeting") == [0] * 12
    assert_counts_equal_rebuild()


def test_a_party_groups_other_activities_count_for_its_branch(tree: Tree) -> None:
    """DOMAIN_RULES cadence: the branch's figures keep its groups' branch-level activities."""
    record(tree.group_a, "party_lecture", start=at(5))
    assert months(tree.branch_a, "party_lecture")[4] == 1
    assert not ActivityMonthCount.objects.filter(
        organization=tree.group_a, activity_type="party_lecture"
    ).exists()
    assert_counts_equal_rebuild()


def test_changing_a_group_activitys_type_moves_its_count_between_group_and_branch(tree: Tree) -> None:
    activity = record(tree.group_a, "group_meeting", start=at(3))
    activity_update(actor=None, activity=activity, data={"activity_type": "theme_day"})
    assert months(tree.group_a, "group_meeting") == [0] * 12
    assert months(tree.branch_a, "theme_day")[2] == 1
    assert_counts_equal_rebuild()
    activity_update(
        actor=None,
        activity=activity,
        data={"activity_type": "group_meeting", "start": at(4), "end": at(4, hour=16)},
    )
    assert months(tree.branch_a, "theme_day") == [0] * 12
    assert months(tree.group_a, "group_meeting")[3] == 1
    assert_counts_equal_rebuild()


def test_a_group_moved_to_another_branch_keeps_its_meetings_and_takes_the_rest_along(tree: Tree) -> None:
    branch_a2 = make_org(tree.district_a, "甲二支部")
    record(tree.group_a, "group_meeting", start=at(5))
    record(tree.group_a, "theme_day", start=at(5))
    organization_move(actor=None, org=tree.group_a, new_parent=branch_a2)
    assert months(tree.group_a, "group_meeting")[4] == 1
    assert months(tree.branch_a, "theme_day") == [0] * 12
    assert months(branch_a2, "theme_day")[4] == 1
    assert_counts_equal_rebuild()


def test_deleting_a_group_meeting_takes_its_count_away(tree: Tree) -> None:
    activity = record(tree.group_a, "group_meeting", start=at(5))
    activity_delete(actor=None, activity=activity)
    assert months(tree.group_a, "group_meeting") == [0] * 12
    assert_counts_equal_rebuild()


def test_a_party_committees_activities_count_for_itself(tree: Tree) -> None:
    """DOMAIN_RULES 中心组学习 and 书记讲党课: counted for the 党委 that held them."""
    record(tree.district_a, "central_group_study", start=at(2))
    record(tree.district_a, "party_lecture", start=at(2))
    assert months(tree.district_a, "central_group_study")[1] == 1
    assert months(tree.district_a, "party_lecture")[1] == 1
    assert_counts_equal_rebuild()


def test_the_rebuild_moves_a_group_meeting_counted_the_old_way(tree: Tree) -> None:
    """Counts written before party groups were counted on their own are found and repaired."""
    record(tree.group_a, "group_meeting", start=at(5))
    ActivityMonthCount.objects.filter(organization=tree.group_a).update(organization=tree.branch_a)
    assert activity_counts_rebuild() == 2  # the branch's row to remove, the group's to write
    activity_counts_rebuild(apply=True)
    assert months(tree.group_a, "group_meeting")[4] == 1
    assert_counts_equal_rebuild()
