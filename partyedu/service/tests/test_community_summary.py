"""The service summary (units and members registered, services and hours, pledges planned and
done, requests solved) and the community area's figures: pledges planned vs done by organisation,
requests solved by community, a centre's use — each counted from the records, with pinned query
counts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.service.choices import BookingStatus, RecordStatus
from partyedu.service.models import Agreement, Booking, Registration, ServiceRecord
from partyedu.service.selectors_community import centre_usage, pledge_stats, request_stats
from partyedu.service.selectors_summary import service_summary, summary_children, summary_sources
from partyedu.service.services.community import (
    booking_decide,
    pledge_complete,
    pledge_confirm,
    resident_request_log,
    resident_request_resolve,
)
from partyedu.service.services.figures import records_refresh
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_org, make_user

from .test_community_factories import make_booking, make_centre, make_grid, make_pledge, member_user

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def city(tree):
    """Two bureaus under 甲区's 机关工委 (units that should register), one registered with 甲一支部's
    community; three in-service members of the first bureau, two registered, one retired."""
    works = make_org(tree.district_a, "甲区直属机关工委", "working_committee", "organ")
    bureau = make_org(works, "甲区财政局机关党支部", "branch", "organ")
    other = make_org(works, "甲区教育局机关党支部", "branch", "organ")
    Agreement.objects.create(organization=bureau, community=tree.branch_a, signed_on=date(THIS_YEAR, 1, 10))
    Agreement.objects.create(  # ended last year: does not count this year
        organization=other,
        community=tree.branch_a,
        signed_on=date(THIS_YEAR - 2, 1, 1),
        ends_on=date(THIS_YEAR - 1, 6, 30),
    )
    employed = [make_member(bureau, name, categories=["employed"]) for name in ("甲", "乙", "丙")]
    make_member(bureau, "丁", categories=["retired"])
    for member in employed[:2]:
        Registration.objects.create(
            member=member, community=tree.branch_a, registered_on=date(THIS_YEAR, 2, 1)
        )
    return {"tree": tree, "works": works, "bureau": bureau, "other": other, "employed": employed}


def record(member, day, hours, status=RecordStatus.CONFIRMED):
    """A record in the given state, counted in the kept figures as the record services count it."""
    done = ServiceRecord.objects.create(
        member=member, date=day, hours=Decimal(hours), kind="policy", status=status
    )
    records_refresh([member.pk])
    return done


def volunteer(org, members, *, hours=2):
    start = timezone.make_aware(datetime.combine(date(THIS_YEAR, 1, 5), time(9)))
    activity = activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "volunteer_service",
            "topic": "疫苗接种服务",
            "start": start,
            "end": start + timedelta(hours=hours),
            "roster": [m.pk for m in members],
        },
    )
    attendance_mark(
        actor=None, activity=activity, records=[{"member": m.pk, "status": "present"} for m in members]
    )
    return activity


def test_the_summary_counts_every_area_from_the_records(city, django_assert_max_num_queries):
    tree, bureau, employed = city["tree"], city["bureau"], city["employed"]
    record(employed[0], date(THIS_YEAR, 3, 1), "3")
    record(employed[0], date(THIS_YEAR, 3, 2), "2.5")
    record(employed[1], date(THIS_YEAR, 3, 2), "4", status=RecordStatus.PENDING)  # not confirmed
    record(employed[1], date(THIS_YEAR - 1, 3, 2), "4")  # last year
    volunteer(bureau, employed[:2])
    done = make_pledge(bureau, due=date(THIS_YEAR, 12, 31))
    pledge_complete(actor=None, pledge=done, note="已办好")
    make_pledge(bureau, due=date(THIS_YEAR, 12, 31))
    make_pledge(member=employed[2], due=date(THIS_YEAR, 12, 31))
    make_pledge(tree.branch_b, due=date(THIS_YEAR, 12, 31))  # another district
    cells = make_grid(tree.branch_a)
    solved = resident_request_log(actor=None, unit=cells["building"], household="1-101", summary="路灯")
    resident_request_resolve(actor=None, request=solved, resolution="已修", households_benefited=12)
    resident_request_log(actor=None, unit=cells["other"], household="2-202", summary="降坡")
    admin = make_user(role="org_admin", org=tree.district_a)

    with django_assert_max_num_queries(12):
        figures = service_summary(user=admin, organization=tree.district_a, year=THIS_YEAR)

    assert figures["units_total"] == 2
    assert figures["units_registered"] == 1
    assert figures["members_expected"] == 3
    assert figures["members_registered"] == 2
    assert figures["services"] == 2 + 2  # two confirmed records, two volunteer attendances
    assert figures["service_hours"] == Decimal("5.5") + Decimal("4.0")
    assert figures["pledges_planned"] == 3
    assert figures["pledges_done"] == 1
    assert figures["requests_solved"] == 1
    assert figures["households_benefited"] == 12


def test_the_summary_of_an_organisation_outside_scope_is_empty(city):
    outsider = make_user(role="org_admin", org=city["tree"].district_b)
    figures = service_summary(user=outsider, organization=city["tree"].district_a, year=THIS_YEAR)
    assert figures["units_total"] == 0
    assert figures["pledges_planned"] == 0


def test_the_sources_give_the_same_figures_as_the_summary(city):
    """The supervision dashboards group these sources: over one subtree they add up to the API's."""
    tree, employed = city["tree"], city["employed"]
    record(employed[0], date(THIS_YEAR, 3, 1), "3")
    make_pledge(city["bureau"], due=date(THIS_YEAR, 6, 1))
    admin = make_user(role="org_admin", org=tree.root)
    summary = service_summary(user=admin, organization=tree.district_a, year=THIS_YEAR)
    merged = {}
    from partyedu.core.scope import subtree_q

    for source in summary_sources(first_day=date(THIS_YEAR, 1, 1), last_day=date(THIS_YEAR, 12, 31)):
        merged.update(
            source.queryset.filter(subtree_q(source.path_field, [tree.district_a.path])).aggregate(
                **source.aggregates
            )
        )
    assert merged["units_total"] == summary["units_total"]
    assert merged["units_registered"] == summary["units_registered"]
    assert merged["members_expected"] == summary["members_expected"]
    assert merged["members_registered"] == summary["members_registered"]
    assert merged["records"] == 1
    assert merged["pledges_planned"] == summary["pledges_planned"]


def test_the_children_rows_do_not_grow_with_children(city, django_assert_max_num_queries):
    tree = city["tree"]
    admin = make_user(role="org_admin", org=tree.root)
    with django_assert_max_num_queries(8):
        rows = summary_children(user=admin, organization=tree.root, year=THIS_YEAR)
    assert [r["organization"].name for r in rows] == ["甲区委", "乙区委"]
    for n in range(5):
        make_org(tree.root, f"新区{n}", "committee", "organ")
    with django_assert_max_num_queries(8):
        rows = summary_children(user=admin, organization=tree.root, year=THIS_YEAR)
    assert len(rows) == 7
    assert rows[0]["units_total"] == 2


def test_planned_vs_done_by_organisation(city, django_assert_max_num_queries):
    tree, bureau = city["tree"], city["bureau"]
    for n in range(3):
        pledge = make_pledge(bureau, title=f"组织实事{n}", due=date(THIS_YEAR, 12, 1))
        if n < 2:
            pledge_complete(actor=None, pledge=pledge, note="好")
        if n == 0:
            pledge_confirm(actor=None, pledge=pledge)
    _user, member = member_user(tree.branch_a, "党员甲")
    pledge_complete(actor=None, pledge=make_pledge(member=member, due=date(THIS_YEAR, 12, 1)), note="好")
    make_pledge(member=member, due=date(THIS_YEAR, 12, 2))
    make_pledge(bureau, due=date(THIS_YEAR + 1, 1, 2))  # next year's
    admin = make_user(role="org_admin", org=tree.district_a)
    with django_assert_max_num_queries(3):  # the user's roles, the children, one grouped count
        stats = pledge_stats(user=admin, organization=tree.district_a, year=THIS_YEAR)
    total = stats.total
    assert (total.org_planned, total.org_done, total.org_confirmed) == (3, 2, 1)
    assert (total.member_planned, total.member_done) == (2, 1)
    by_name = {row.organization.name: row for row in stats.children}
    assert by_name["甲区直属机关工委"].org_planned == 3
    assert by_name["甲一支部"].member_planned == 2
    assert total.org_rate == "66.7%"


def test_requests_solved_by_community(tree, django_assert_max_num_queries):
    cells = make_grid(tree.branch_a)
    for n in range(3):
        item = resident_request_log(
            actor=None, unit=cells["building"], household=f"1-10{n}", summary="飞线充电"
        )
        if n:
            resident_request_resolve(
                actor=None, request=item, resolution="已整改", households_benefited=10 * n
            )
    admin = make_user(role="org_admin", org=tree.root)
    with django_assert_max_num_queries(3):  # the user's roles, one grouped count, the communities
        rows = request_stats(user=admin, organization=tree.root, year=THIS_YEAR)
    assert [(r.organization, r.logged, r.solved, r.households) for r in rows] == [(tree.branch_a, 3, 2, 30)]


def test_a_centres_use_by_month_and_unit(tree, django_assert_max_num_queries):
    centre, room = make_centre(tree.district_a)
    held = make_booking(room, tree.branch_a, days=1)
    booking_decide(actor=None, booking=held, approve=True)
    make_booking(room, tree.branch_b, days=2)  # pending: not counted
    # a past approved booking of this year (bookings are made ahead; the clock moved on)
    start = timezone.make_aware(datetime.combine(date(THIS_YEAR, 1, 2), time(9)))
    Booking.objects.create(
        room=room,
        organization=tree.branch_b,
        start=start,
        end=start + timedelta(hours=2),
        attendees=20,
        purpose="党课",
        status=BookingStatus.APPROVED,
    )
    Booking.objects.filter(pk=held.pk).update(
        start=start + timedelta(days=1), end=start + timedelta(days=1, hours=2)
    )
    manager = make_user(role="org_admin", org=tree.district_a)
    with django_assert_max_num_queries(3):  # the user's roles, by month, by unit
        usage = centre_usage(user=manager, centre=centre, year=THIS_YEAR)
    assert usage.total == 2
    assert usage.by_month[0] == 2
    assert {row["organization__name"]: row["n"] for row in usage.by_unit} == {"甲一支部": 1, "乙一支部": 1}


# --- the supervision figures and the monthly report ----------------------------------------------------


def test_the_dashboard_family_counts_the_same_as_the_summary(city, django_assert_max_num_queries):
    from partyedu.organizations.models import Organization
    from partyedu.supervision.figures import subtree_figures

    tree, bureau, employed = city["tree"], city["bureau"], city["employed"]
    record(employed[0], date(THIS_YEAR, 3, 1), "3")
    volunteer(bureau, employed[:1])
    pledge_complete(actor=None, pledge=make_pledge(bureau, due=date(THIS_YEAR, 12, 31)), note="好")
    cells = make_grid(tree.branch_a)
    item = resident_request_log(actor=None, unit=cells["building"], household="1-101", summary="路灯")
    resident_request_resolve(actor=None, request=item, resolution="已修", households_benefited=5)
    root = Organization.objects.get(pk=tree.root.pk)
    children = list(Organization.objects.filter(parent=root).order_by("path"))
    figures = subtree_figures(organizations=[root, *children], year=THIS_YEAR)
    district = figures[tree.district_a.pk]
    assert (district.service_units_total, district.service_units_registered) == (2, 1)
    assert (district.service_members_expected, district.service_members_registered) == (3, 2)
    assert district.services == 2
    assert district.service_hours == Decimal("5.0")
    assert (district.pledges_planned, district.pledges_done) == (1, 1)
    assert (district.requests_solved, district.households_benefited) == (1, 5)
    assert figures[root.pk].services == district.services + figures[tree.district_b.pk].services
    assert figures[root.pk].indicators()["service_hours"] == 5.0


def test_the_monthly_report_counts_the_months_service(tree):
    from partyedu.supervision.reports_derive import figures_difference, report_figures

    _user, member = member_user(tree.branch_a, "甲")
    month = 3
    record(member, date(THIS_YEAR, month, 10), "2")
    record(member, date(THIS_YEAR, month + 1, 10), "2")  # another month
    pledge_complete(actor=None, pledge=make_pledge(tree.branch_a, due=date(THIS_YEAR, month, 20)), note="好")
    cells = make_grid(tree.branch_a)
    item = resident_request_log(
        actor=None,
        unit=cells["building"],
        household="1-101",
        summary="路灯",
        logged_on=date(THIS_YEAR, month, 1),
    )
    resident_request_resolve(
        actor=None,
        request=item,
        resolution="已修",
        households_benefited=7,
        resolved_on=date(THIS_YEAR, month, 5),
    )
    figures, _details = report_figures(tree.branch_a, THIS_YEAR, month)
    assert figures["services"] == 1
    assert figures["service_hours"] == "2.0"
    assert (figures["pledges_planned"], figures["pledges_done"]) == (1, 1)
    assert (figures["requests_solved"], figures["households_benefited"]) == (1, 7)
    # a report frozen before the service figures existed shows no difference for them
    frozen = {k: v for k, v in figures.items() if k not in ("services", "service_hours")}
    assert figures_difference(frozen, figures) == []
