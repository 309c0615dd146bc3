"""Coverage of 双报到 by organisation and year: the units expected to register and those with an
agreement in force, in-service members expected and registered, services and hours per unit and
per member, the list of who has not registered, and the xlsx export — in a fixed number of
queries."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.organizations.models import Organization
from partyedu.service.selectors_registration import (
    coverage,
    coverage_members,
    member_rows,
    service_figures,
    unit_q,
)
from partyedu.service.services import registration as services
from partyedu.testsupport.factories import make_member, make_org, make_user

from .test_registration_factories import TODAY, YEAR, attend, make_units, past_volunteer, record, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(tree):
    """The bureau (a unit under the 机关工委) has signed with the community; two in-service
    members, one registered and serving; a retiree. The hospital's 党委 (a unit under the 区委,
    of another type) has one in-service member in a branch of its own and no agreement. A
    community branch's in-service member is not expected."""
    units = make_units(tree)
    hospital = make_org(tree.district_a, "甲区人民医院党委", "committee", "institution")
    ward = make_org(hospital, "甲区人民医院内科党支部", "branch", "institution")
    services.agreement_create(
        actor=None,
        organization=units.bureau,
        data={"community": units.community.pk, "signed_on": TODAY - timedelta(days=400)},
    )
    serving = make_member(units.bureau, "张伟", categories=["employed"])
    make_member(units.bureau, "王芳", categories=["employed"])
    make_member(units.bureau, "李老", categories=["retired"])
    make_member(ward, "赵医生", categories=["employed"])
    make_member(units.community, "社区在职党员", categories=["employed"])
    make_member(units.bureau, "积极分子", categories=["employed"], status="activist")
    register(serving, units.community, registered_on=TODAY - timedelta(days=30))
    services.service_record_confirm(
        actor=None, record=record(serving, "2", days_ago=min(3, TODAY.timetuple().tm_yday - 1))
    )
    found = past_volunteer(units.bureau, days_ago=min(2, TODAY.timetuple().tm_yday - 1), hours=2)
    attend(found, serving)
    return units, hospital, ward, serving


def test_the_units_are_the_heads_of_organ_institution_and_soe_organisations(city, tree):
    units, hospital, _ward, _serving = city
    found = set(Organization.objects.filter(unit_q()).values_list("name", flat=True))
    assert found == {units.bureau.name, hospital.name}


def test_coverage_of_the_district(city, tree, django_assert_max_num_queries):
    units, hospital, _ward, _serving = city
    admin = make_user(role="org_admin", org=tree.root)
    with django_assert_max_num_queries(8):
        result = coverage(user=admin, organization=tree.district_a, year=YEAR)
    assert (result.units_total, result.units_registered) == (2, 1)
    t = result.totals
    assert (t.members_expected, t.members_registered) == (3, 1)
    assert (t.records, t.volunteer, t.services) == (1, 1, 2)
    assert t.hours == Decimal("4") and t.activities == 1
    by_name = {row.organization.name: row for row in result.units}
    bureau, clinic = by_name[units.bureau.name], by_name[hospital.name]
    assert bureau.registered and not clinic.registered
    assert (bureau.figures.members_expected, bureau.figures.members_registered) == (2, 1)
    assert clinic.figures.members_expected == 1 and clinic.figures.services == 0
    assert [u.organization.name for u in result.units_unregistered] == [hospital.name]


def test_the_summary_figures_have_the_contract_keys(city, tree):
    admin = make_user(role="org_admin", org=tree.root)
    figures = service_figures(user=admin, organization=tree.district_a, year=YEAR)
    assert figures == {
        "units_registered": 1,
        "units_total": 2,
        "members_registered": 1,
        "members_expected": 3,
        "services": 2,
        "service_hours": Decimal("4"),
    }


def test_an_earlier_year_counts_nothing_of_this_year(city, tree):
    admin = make_user(role="org_admin", org=tree.root)
    result = coverage(user=admin, organization=tree.district_a, year=YEAR - 2)
    assert (
        result.units_registered == 0 and result.totals.members_registered == 0 and result.totals.services == 0
    )


def test_an_organisation_outside_scope_is_404(city, tree):
    stranger = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(Http404):
        coverage(user=stranger, organization=tree.district_a, year=YEAR)


def test_who_has_not_registered(city, tree, django_assert_max_num_queries):
    _units, _hospital, _ward, _serving = city
    admin = make_user(role="org_admin", org=tree.root)
    missing = coverage_members(user=admin, organization=tree.district_a, year=YEAR, state="unregistered")
    assert sorted(missing.values_list("name", flat=True)) == ["王芳", "赵医生"]
    everyone = list(coverage_members(user=admin, organization=tree.district_a, year=YEAR))
    with django_assert_max_num_queries(3):
        rows = {row.member.name: row for row in member_rows(user=admin, members=everyone, year=YEAR)}
    assert rows["张伟"].registration is not None and rows["张伟"].figures.hours == Decimal("4")
    assert rows["王芳"].registration is None and rows["王芳"].figures.services == 0


def test_the_export_has_the_summary_the_units_and_the_members(city, tree):
    admin = make_user(role="org_admin", org=tree.root)
    content = services.coverage_export(actor=admin, organization=tree.district_a, year=YEAR)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["汇总", "单位", "在职党员"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["应报到单位"] == 2 and summary["已报到在职党员"] == 1
    members = [row[0] for row in book["在职党员"].iter_rows(min_row=2, values_only=True)]
    assert sorted(members) == ["张伟", "王芳", "赵医生"]
    assert AuditLog.objects.filter(action="export", object_type="service.registration").count() == 1
