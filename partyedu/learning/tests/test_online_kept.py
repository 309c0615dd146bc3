"""The kept online figure (``learning.online``): the online hours credited to the members of each
subtree for a year, cumulative per organisation — added by the ledger's writes, moved by a
member's transfer and by an organisation's move, and proved by the hours rebuild."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from partyedu.learning.models import MemberYearHours
from partyedu.learning.services import learning_hours_rebuild
from partyedu.learning.services.manual import learning_hours_manual_reverse, learning_hours_record_manual
from partyedu.learning.services.online import ONLINE
from partyedu.members.services import member_transfer
from partyedu.organizations.models import SubtreeFigure
from partyedu.organizations.services import organization_move
from partyedu.testsupport.factories import Tree, make_member

pytestmark = pytest.mark.django_db

YEAR = 2026


def online(org: Any, year: int = YEAR) -> Decimal:
    row = SubtreeFigure.objects.filter(organization=org, year=year, month=0, name=ONLINE).first()
    return row.value if row else Decimal("0")


def credit(member: Any, hours: str, kind: str = "online") -> Any:
    return learning_hours_record_manual(
        actor=None, member=member, year=YEAR, kind=kind, hours=hours, description="网上专题班"
    )


def test_online_hours_credited_count_for_the_members_organisation_and_every_one_above(tree: Tree) -> None:
    credit(make_member(tree.branch_a, "甲"), "2.5")
    assert [online(o) for o in (tree.branch_a, tree.district_a, tree.root)] == [Decimal("2.5")] * 3
    assert online(tree.district_b) == 0


def test_hours_of_another_kind_are_not_online_hours(tree: Tree) -> None:
    credit(make_member(tree.branch_a, "甲"), "3", kind="self")
    assert online(tree.root) == 0


def test_a_reversed_line_takes_its_hours_back(tree: Tree) -> None:
    entry = credit(make_member(tree.branch_a, "甲"), "2")
    learning_hours_manual_reverse(actor=None, entry=entry, reason="重复登记")
    assert online(tree.root) == 0
    assert learning_hours_rebuild(apply=False).online == 0


def test_a_transferred_member_takes_their_online_hours_to_the_new_organisation(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    credit(member, "4")
    member_transfer(actor=None, member=member, to_organization=tree.branch_b)
    assert (online(tree.district_a), online(tree.district_b), online(tree.root)) == (
        0,
        Decimal("4"),
        Decimal("4"),
    )
    assert MemberYearHours.objects.get(member=member).online_org == tree.branch_b.pk


def test_a_moved_subtree_takes_its_online_hours_from_the_old_ancestors_to_the_new(tree: Tree) -> None:
    credit(make_member(tree.group_a, "甲"), "1.5")
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert (online(tree.district_a), online(tree.district_b), online(tree.root)) == (
        0,
        Decimal("1.5"),
        Decimal("1.5"),
    )
    assert learning_hours_rebuild(apply=False).online == 0


def test_the_rebuild_reports_and_repairs_a_figure_that_drifted(tree: Tree) -> None:
    credit(make_member(tree.branch_a, "甲"), "2")
    SubtreeFigure.objects.filter(organization=tree.district_a, name=ONLINE).update(value=Decimal("9"))
    assert learning_hours_rebuild(apply=False).online == 1
    assert learning_hours_rebuild(apply=True).online == 1
    assert online(tree.district_a) == Decimal("2")
    assert learning_hours_rebuild(apply=False).differences == 0


def test_the_rebuild_repairs_a_lost_copy(tree: Tree) -> None:
    member = make_member(tree.branch_a, "甲")
    credit(member, "2")
    MemberYearHours.objects.filter(member=member).update(online_counted=0, online_org=None)
    assert learning_hours_rebuild(apply=True).online == 1
    assert MemberYearHours.objects.get(member=member).online_counted == Decimal("2")
    assert learning_hours_rebuild(apply=False).differences == 0
