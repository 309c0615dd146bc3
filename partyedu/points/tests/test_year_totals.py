"""The kept year totals (``PointsYearTotal``): kept by the ledger's sync, checked and rewritten
by the rebuild, read by the distribution."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partyedu.points.models import PointsEntry, PointsYearTotal
from partyedu.points.services import points_rebuild
from partyedu.testsupport.factories import make_member

from .conftest import YEAR, at, mark, meeting, scheme

pytestmark = pytest.mark.django_db


def kept(member) -> Decimal | None:
    total = PointsYearTotal.objects.filter(member=member, year=YEAR).first()
    return total.net if total else None


def ledger(member) -> Decimal:
    return sum((e.points for e in PointsEntry.objects.filter(member=member, year=YEAR)), Decimal("0"))


def test_the_sync_keeps_the_year_total_equal_to_the_ledger(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    mark(meeting(tree.branch_a, at(4)), member, "absent")

    assert kept(member) == ledger(member) == Decimal("1")


def test_a_correction_moves_the_kept_total_by_its_difference(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    activity = meeting(tree.branch_a, at(3))
    mark(activity, member)
    mark(activity, member, "absent")

    assert kept(member) == ledger(member) == Decimal("-1")


def test_the_rebuild_finds_a_wrong_kept_total_and_apply_rewrites_it(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    PointsYearTotal.objects.filter(member=member, year=YEAR).update(net=Decimal("99"))

    found = points_rebuild()
    fixed = points_rebuild(apply=True)

    assert (found.totals_differences, fixed.totals_differences) == (1, 1)
    assert kept(member) == Decimal("2")
    assert points_rebuild().differences == 0
