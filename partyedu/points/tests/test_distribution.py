"""The distribution kept per organisation (``PointsOrgYear``): after every kind of change it
equals a count of the members on the roll (what the page showed before it was kept), the
rebuild finds a row that differs and rewrites it, and the page reads a fixed number of rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partyedu.members.services import member_leave_roll, member_transfer, member_update
from partyedu.organizations.services import organization_move
from partyedu.points import selectors
from partyedu.points.models import PointsOrgYear, PointsScheme
from partyedu.points.services import points_rebuild, scheme_update, veto_lift, veto_record
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, items, mark, meeting, scheme

pytestmark = pytest.mark.django_db


def kept_and_counted(tree, organization=None):
    """The distribution as the page reads it (kept rows) and as counted from the members."""
    organization = organization or tree.root
    admin = make_user(role="org_admin", org=tree.root)
    children = [
        f.organization
        for f in selectors.points_distribution(user=admin, organization=organization, year=YEAR)
    ]
    kept = {
        f.organization.pk: (f.members, f.average, dict(f.bands), f.vetoed)
        for f in selectors.points_distribution(user=admin, organization=organization, year=YEAR)
    }
    counted = selectors._distribution_counted(admin, organization, children, YEAR)
    as_counted = {}
    for child in children:
        n, total, vetoed, bands = counted.get(child.path, (0, Decimal(0), 0, [0] * 5))
        average = (total / n).quantize(Decimal("0.1")) if n else Decimal(0)
        labels = [label for label, _n in kept[child.pk][2].items()]
        as_counted[child.pk] = (n, average, dict(zip(labels, bands, strict=True)), vetoed)
    return kept, as_counted


def assert_kept(tree, organization=None):
    kept, counted = kept_and_counted(tree, organization)
    assert kept == counted
    assert_ledger_equals_rebuild()  # copies and rows included
    return kept


def members(tree):
    scheme(tree.root)
    a = [make_member(tree.branch_a, f"甲{n}") for n in range(3)]
    b = make_member(tree.branch_b, "乙")
    mark(meeting(tree.branch_a, at(3)), a[0])  # 62
    mark(meeting(tree.branch_a, at(4)), a[1], "absent")  # 59
    return a, b


def test_kept_distribution_counts_the_year_of_attendance_marked(tree):
    members(tree)
    kept = assert_kept(tree)
    assert kept[tree.district_a.pk][:2] == (3, Decimal("60.3"))


def test_kept_distribution_follows_a_veto_and_its_lift(tree):
    a, _b = members(tree)
    veto = veto_record(actor=None, member=a[0], year=YEAR, category="discipline", reason="受到党内警告处分")
    assert assert_kept(tree)[tree.district_a.pk][3] == 1
    veto_lift(actor=None, veto=veto, reason="处分撤销")
    assert assert_kept(tree)[tree.district_a.pk][3] == 0


def test_kept_distribution_follows_a_member_transferred(tree):
    a, _b = members(tree)
    member_transfer(actor=None, member=a[0], to_organization=tree.branch_b)
    kept = assert_kept(tree)
    assert (kept[tree.district_a.pk][0], kept[tree.district_b.pk][0]) == (2, 2)


def test_kept_distribution_drops_a_member_who_leaves_the_roll(tree):
    a, _b = members(tree)
    member_leave_roll(actor=None, member=a[2], reason="去世")
    assert assert_kept(tree)[tree.district_a.pk][0] == 2


def test_kept_distribution_counts_a_candidate_once_admitted(tree):
    scheme(tree.root)
    candidate = make_member(tree.branch_a, "发展对象", status="candidate")
    assert assert_kept(tree)[tree.district_a.pk][0] == 0
    member_update(actor=None, member=candidate, data={"status": "probationary"})
    assert assert_kept(tree)[tree.district_a.pk][0] == 1


def test_kept_distribution_follows_a_change_of_base(tree):
    members(tree)
    root_scheme = PointsScheme.objects.get(organization=tree.root, year=YEAR)
    scheme_update(actor=None, scheme=root_scheme, base="80", items=items(), background=False)
    assert assert_kept(tree)[tree.district_b.pk][1] == Decimal("80")


def test_kept_distribution_follows_an_organisation_moved(tree):
    members(tree)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    kept = assert_kept(tree)
    assert (kept[tree.district_a.pk][0], kept[tree.district_b.pk][0]) == (0, 4)


def test_moving_under_another_scheme_rederives_the_members(tree):
    members(tree)
    refined = items()
    refined[0]["points"] = "3"  # 参加三会一课: 3 points where district_b refines the city's scheme
    scheme(tree.district_b, item_list=refined)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert assert_kept(tree)[tree.district_b.pk][1] == Decimal("60.5")  # (63 + 59 + 60 + 60) / 4


def test_first_scheme_of_a_year_counts_members_outside_its_subtree(tree):
    make_member(tree.branch_b, "乙")
    scheme(tree.district_a, base="80", item_list=items())
    kept = assert_kept(tree)
    assert kept[tree.district_b.pk][:2] == (1, Decimal("0"))


def test_kept_distribution_counts_a_new_organisation_members(tree):
    members(tree)
    branch = make_org(tree.district_a, "甲二支部")
    make_member(branch, "新")
    assert assert_kept(tree, tree.district_a)[branch.pk][0] == 1


def test_rebuild_finds_a_kept_row_that_differs_and_rewrites_it(tree):
    members(tree)
    PointsOrgYear.objects.filter(organization=tree.district_a, year=YEAR).update(members=99)
    report = points_rebuild()
    assert report.figures_differences == 1
    points_rebuild(apply=True)
    assert_kept(tree)


def test_root_distribution_reads_four_queries_whatever_the_members(tree, django_assert_num_queries):
    members(tree)
    admin = make_user(role="org_admin", org=tree.root)
    selectors.points_distribution(user=admin, organization=tree.root, year=YEAR)  # grants read
    # the children, whether the year has a members' scheme, the kept rows (and the grants' cache)
    with django_assert_num_queries(3):
        figures = selectors.points_distribution(user=admin, organization=tree.root, year=YEAR)
    assert sum(f.members for f in figures) == 4
