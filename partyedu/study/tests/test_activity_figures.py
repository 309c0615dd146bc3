"""The figures the supervision dashboards read (``ActivityFigures``): per organisation, cumulative
over its subtree, per month and type, the activities and their attendance person-times (出席,
迟到) — kept by every service that records an activity or its attendance, carried by an
organisation's move, and proved equal to a recount (``activity_figures_rebuild``) after each
change."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.organizations.services import organization_move
from partyedu.study.models import ActivityFigures, ActivityTally
from partyedu.study.services import (
    activity_delete,
    activity_figures_rebuild,
    activity_update,
    attendance_mark,
)
from partyedu.testsupport.factories import Tree, make_member

from .conftest import at, record

pytestmark = pytest.mark.django_db


def row(org: Any, activity_type: str = "theme_day") -> tuple[list[int], list[int]]:
    """(activities by month, person-times by month) of the organisation's subtree in 2025."""
    figures = ActivityFigures.objects.filter(organization=org, year=2025, activity_type=activity_type).first()
    if figures is None:
        return [0] * 12, [0] * 12
    return (
        [getattr(figures, f"m{m}") for m in range(1, 13)],
        [getattr(figures, f"a{m}") for m in range(1, 13)],
    )


def test_recording_an_activity_counts_it_in_its_month(tree: Tree) -> None:
    record(tree.branch_a, start=at(5))
    assert row(tree.branch_a)[0][4] == 1
    assert activity_figures_rebuild() == 0


def test_an_activity_counts_for_the_organisation_that_held_it_and_every_one_above(tree: Tree) -> None:
    record(tree.group_a, "party_lecture", start=at(5))
    for org in (tree.group_a, tree.branch_a, tree.district_a, tree.root):
        assert row(org, "party_lecture")[0][4] == 1
    assert row(tree.district_b, "party_lecture")[0] == [0] * 12


def test_person_times_add_up_the_tree(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    activity = record(tree.branch_a, start=at(5), roster=[member.pk])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    assert row(tree.root)[1][4] == 1
    assert row(tree.district_a)[1][4] == 1


def test_a_moved_subtree_takes_its_figures_from_the_old_ancestors_to_the_new(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    activity = record(tree.group_a, start=at(5), roster=[member.pk])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert row(tree.district_a) == ([0] * 12, [0] * 12)
    assert row(tree.district_b)[0][4] == 1
    assert row(tree.district_b)[1][4] == 1
    assert row(tree.root)[0][4] == 1
    assert activity_figures_rebuild() == 0


def test_marking_present_and_late_counts_person_times_but_not_absent_or_leave(tree: Tree) -> None:
    members = [make_member(tree.branch_a, name) for name in ("甲", "乙", "丙", "丁")]
    activity = record(tree.branch_a, start=at(5), roster=[m.pk for m in members])
    attendance_mark(
        actor=None,
        activity=activity,
        records=[
            {"member": members[0].pk, "status": "present"},
            {"member": members[1].pk, "status": "late"},
            {"member": members[2].pk, "status": "absent"},
            {"member": members[3].pk, "status": "leave"},
        ],
    )
    assert row(tree.branch_a)[1][4] == 2
    assert activity_figures_rebuild() == 0


def test_changing_a_mark_moves_the_person_time(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    activity = record(tree.branch_a, start=at(5), roster=[member.pk])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "absent"}])
    assert row(tree.branch_a)[1][4] == 0
    assert activity_figures_rebuild() == 0


def test_moving_an_activity_to_another_month_and_type_moves_its_figures(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    activity = record(tree.branch_a, start=at(5), roster=[member.pk])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    activity_update(
        actor=None,
        activity=activity,
        data={"activity_type": "party_lecture", "start": at(7), "end": at(7, hour=16)},
    )
    assert row(tree.branch_a) == ([0] * 12, [0] * 12)
    activities, attended = row(tree.branch_a, "party_lecture")
    assert activities[6] == 1 and attended[6] == 1
    assert activity_figures_rebuild() == 0


def test_removing_a_member_from_the_roster_removes_their_person_time(tree: Tree) -> None:
    members = [make_member(tree.branch_a, name) for name in ("甲", "乙")]
    activity = record(tree.branch_a, start=at(5), roster=[m.pk for m in members])
    attendance_mark(
        actor=None, activity=activity, records=[{"member": m.pk, "status": "present"} for m in members]
    )
    activity_update(actor=None, activity=activity, data={"roster": [members[0].pk]})
    assert row(tree.branch_a)[1][4] == 1
    assert activity_figures_rebuild() == 0


def test_deleting_an_activity_removes_its_figures_and_its_tally(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    activity = record(tree.branch_a, start=at(5), roster=[member.pk])
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    activity_delete(actor=None, activity=activity)
    assert row(tree.branch_a) == ([0] * 12, [0] * 12)
    assert not ActivityTally.objects.exists()
    assert activity_figures_rebuild() == 0


def test_the_rebuild_reports_and_repairs_a_figure_that_drifted(tree: Tree) -> None:
    record(tree.branch_a, start=at(5))
    ActivityFigures.objects.filter(organization=tree.district_a).update(m5=3, a2=7)
    assert activity_figures_rebuild() == 1
    assert activity_figures_rebuild(apply=True) == 1
    assert row(tree.district_a) == ([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0] * 12)
    assert row(tree.branch_a) == ([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0] * 12)
    assert activity_figures_rebuild() == 0


def test_the_rebuild_repairs_a_lost_tally(tree: Tree) -> None:
    record(tree.branch_a, start=at(5))
    ActivityTally.objects.all().delete()
    assert activity_figures_rebuild(apply=True) == 1
    assert ActivityTally.objects.count() == 1
    assert activity_figures_rebuild() == 0
