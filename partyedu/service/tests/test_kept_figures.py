"""The kept service figures: service records (``service.records`` / ``service.record_hours``: the
records confirmed by the community side, per year and month of the service, counted under the
member's organisation) and pledges (``service.pledges`` …, per due month, under the pledging
organisation), cumulative per organisation — kept by the services and the members' changes,
carried by an organisation's move, and proved by the rebuilds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from partyedu.members.services import member_transfer
from partyedu.organizations.models import SubtreeFigure
from partyedu.organizations.services import organization_move
from partyedu.service.services import registration as services
from partyedu.service.services.community import pledge_complete, pledge_confirm
from partyedu.service.services.figures import (
    PLEDGE_NAMES,
    PLEDGES,
    PLEDGES_CONFIRMED,
    PLEDGES_DONE,
    RECORD_HOURS,
    RECORDS,
    pledges_rebuild,
    records_rebuild,
)
from partyedu.testsupport.factories import make_member

from .test_community_factories import make_pledge
from .test_registration_factories import record

pytestmark = pytest.mark.django_db


def figures(org: Any) -> tuple[Decimal, Decimal]:
    """(records, hours) kept for the organisation's subtree, all months together."""
    rows = SubtreeFigure.objects.filter(organization=org, name__in=[RECORDS, RECORD_HOURS])
    values = {RECORDS: Decimal("0"), RECORD_HOURS: Decimal("0")}
    for row in rows:
        values[row.name] += row.value
    return values[RECORDS], values[RECORD_HOURS]


def confirmed(org: Any, hours: str = "2") -> Any:
    done = record(make_member(org, "甲", categories=["employed"]), hours=hours)
    services.service_record_confirm(actor=None, record=done)
    return done


def test_a_confirmed_record_counts_for_the_members_organisation_and_every_one_above(tree):
    done = confirmed(tree.branch_a, "1.5")
    for org in (tree.branch_a, tree.district_a, tree.root):
        assert figures(org) == (1, Decimal("1.5"))
    assert figures(tree.district_b) == (0, 0)
    row = SubtreeFigure.objects.get(organization=tree.root, name=RECORDS)
    assert (row.year, row.month) == (done.date.year, done.date.month)


def test_a_record_waiting_for_confirmation_counts_nowhere(tree):
    record(make_member(tree.branch_a, "甲", categories=["employed"]))
    assert figures(tree.root) == (0, 0)


def test_rejecting_a_confirmed_record_takes_it_back(tree):
    done = confirmed(tree.branch_a)
    services.service_record_reject(actor=None, record=done, reason="时长不符")
    assert figures(tree.root) == (0, 0)
    assert records_rebuild(apply=False) == (0, 0)


def test_deleting_a_confirmed_record_takes_it_back(tree):
    done = confirmed(tree.branch_a)
    services.service_record_delete(actor=None, record=done)
    assert figures(tree.root) == (0, 0)
    assert records_rebuild(apply=False) == (0, 0)


def test_a_transferred_member_takes_their_records_to_the_new_organisation(tree):
    done = confirmed(tree.branch_a)
    member_transfer(actor=None, member=done.member, to_organization=tree.branch_b)
    assert (figures(tree.district_a), figures(tree.district_b)) == ((0, 0), (1, Decimal("2")))
    assert records_rebuild(apply=False) == (0, 0)


def test_a_moved_subtree_takes_its_records_from_the_old_ancestors_to_the_new(tree):
    confirmed(tree.group_a)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert (figures(tree.district_a), figures(tree.district_b), figures(tree.root)) == (
        (0, 0),
        (1, Decimal("2")),
        (1, Decimal("2")),
    )
    assert records_rebuild(apply=False) == (0, 0)


def test_the_rebuild_reports_and_repairs_a_drifted_figure_and_a_lost_copy(tree):
    done = confirmed(tree.branch_a)
    SubtreeFigure.objects.filter(organization=tree.district_a, name=RECORDS).update(value=5)
    type(done).objects.filter(pk=done.pk).update(counted_org=None)
    assert records_rebuild(apply=True) == (1, 1)
    assert figures(tree.district_a) == (1, Decimal("2"))
    assert records_rebuild(apply=False) == (0, 0)


# --- pledges --------------------------------------------------------------------------------------


def pledge_figures(org: Any) -> tuple[Decimal, Decimal, Decimal]:
    """(planned, done, confirmed) kept for the organisation's subtree, all months together."""
    values = dict.fromkeys(PLEDGE_NAMES, Decimal("0"))
    for row in SubtreeFigure.objects.filter(organization=org, name__in=PLEDGE_NAMES):
        values[row.name] += row.value
    return values[PLEDGES], values[PLEDGES_DONE], values[PLEDGES_CONFIRMED]


def test_a_pledge_counts_as_planned_then_done_then_confirmed_up_the_tree(tree):
    pledge = make_pledge(tree.branch_a)
    assert pledge_figures(tree.root) == (1, 0, 0)
    pledge_complete(actor=None, pledge=pledge, note="路灯已装好")
    assert pledge_figures(tree.district_a) == (1, 1, 0)
    pledge_confirm(actor=None, pledge=pledge)
    assert [pledge_figures(o) for o in (tree.branch_a, tree.district_a, tree.root)] == [(1, 1, 1)] * 3
    assert pledge_figures(tree.district_b) == (0, 0, 0)
    row = SubtreeFigure.objects.get(organization=tree.root, name=PLEDGES)
    assert (row.year, row.month) == (pledge.due.year, pledge.due.month)
    assert pledges_rebuild(apply=False) == (0, 0)


def test_a_moved_subtree_takes_its_pledges_along(tree):
    make_pledge(tree.group_a)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert (pledge_figures(tree.district_a), pledge_figures(tree.district_b)) == ((0, 0, 0), (1, 0, 0))
    assert pledges_rebuild(apply=False) == (0, 0)


def test_the_rebuild_repairs_a_pledge_counted_with_an_old_status(tree):
    pledge = make_pledge(tree.branch_a)
    type(pledge).objects.filter(pk=pledge.pk).update(status="completed")
    assert pledges_rebuild(apply=True) == (1, 3)
    assert pledge_figures(tree.root) == (1, 1, 0)
    assert pledges_rebuild(apply=False) == (0, 0)
