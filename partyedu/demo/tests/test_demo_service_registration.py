"""双报到 and volunteer service in a small demo city: most 机关 units with an agreement and its
three lists, most in-service members registered and serving (some not, member1 not), the
bulk-written rows as the services would leave them, volunteer activities with sign-ups and
attendance that credit no learning hours, and a second seed that adds nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.demo.service_registration import seed_service_registration
from partyedu.demo.testing import on_standard_demo
from partyedu.learning.models import LearningHourEntry
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.service.choices import ListKind, RecordStatus
from partyedu.service.models import Agreement, AgreementItem, Registration, ServiceRecord, VolunteerActivity
from partyedu.service.selectors_registration import coverage, expected_members, unit_q
from partyedu.study.models import Attendance

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

MEMBERS = 300
SEED = 7


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output.splitlines()


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def test_the_seed_reports_the_registration_area(demo_lines):
    assert any(line.startswith("双报到：") and "共驻共建协议" in line for line in demo_lines)
    assert any(line.startswith("社区服务记录") for line in demo_lines)


def test_most_organ_units_signed_with_a_community_of_the_tree_with_three_lists(demo_lines):
    units = Organization.objects.filter(unit_q(), org_type="organ")
    signed = Agreement.objects.filter(organization__in=units)
    assert 0 < signed.count() <= units.count()
    assert signed.count() >= units.count() // 2
    for agreement in signed.select_related("community"):
        assert agreement.community is not None and agreement.community.org_type == "community"
        kinds = Counter(agreement.items.values_list("kind", flat=True))
        assert kinds == {ListKind.NEED: 2, ListKind.RESOURCE: 2, ListKind.PROJECT: 2}
    projects = AgreementItem.objects.filter(kind=ListKind.PROJECT)
    assert not projects.filter(owner="").exists() and not projects.filter(due__isnull=True).exists()
    assert not AgreementItem.objects.exclude(kind=ListKind.PROJECT).exclude(owner="").exists()


def test_registrations_are_of_in_service_members_one_in_force_each(demo_lines):
    registrations = Registration.objects.select_related("member", "community", "agreement_item__agreement")
    assert registrations.exists()
    expected = set(expected_members(Member.objects.all()).values_list("pk", flat=True))
    assert {r.member_id for r in registrations} <= expected
    in_force = Counter(Registration.objects.filter(ended_on__isnull=True).values_list("member_id", flat=True))
    assert max(in_force.values()) == 1
    assert Registration.objects.count() < len(expected)  # some have not registered
    today = timezone.localdate()
    for registration in registrations:
        assert registration.registered_on <= today
        assert bool(registration.community_id) != bool(registration.community_name)
        assert registration.post or registration.agreement_item_id
        if registration.agreement_item_id:
            item = registration.agreement_item
            assert item.kind == ListKind.PROJECT
            assert registration.member.org_path.startswith(item.agreement.organization.path)
            assert registration.community_id == item.agreement.community_id


def test_member1_is_left_for_the_visitor(demo_lines):
    member1 = Member.objects.get(user__username="member1")
    assert not Registration.objects.filter(member=member1).exists()
    assert not ServiceRecord.objects.filter(member=member1).exists()


def test_records_are_what_the_service_would_accept(demo_lines):
    today = timezone.localdate()
    records = ServiceRecord.objects.all()
    assert records.exists()
    assert not records.filter(date__gt=today).exists()
    per_day = records.exclude(status=RecordStatus.REJECTED).values("member", "date").annotate(h=Sum("hours"))
    assert max(row["h"] for row in per_day) <= 24
    for record in records.select_related("registration"):
        assert record.registration is not None and record.registration.member_id == record.member_id
        assert record.registration.registered_on <= record.date
        assert record.hours * 2 == int(record.hours * 2) and record.hours >= 1
        if record.status == RecordStatus.PENDING:
            assert record.confirmed_at is None
        else:
            assert record.confirmed_at is not None
        assert bool(record.reject_reason) == (record.status == RecordStatus.REJECTED)
    statuses = Counter(records.values_list("status", flat=True))
    assert statuses[RecordStatus.CONFIRMED] > statuses[RecordStatus.PENDING] > 0


def test_volunteer_activities_have_sign_ups_and_attendance_and_credit_no_hours(demo_lines):
    found = VolunteerActivity.objects.select_related("activity").annotate(n=Count("activity__attendances"))
    assert found.count() >= 3
    assert all(v.activity.activity_type == "volunteer_service" and v.n > 0 for v in found)
    attended = Attendance.objects.filter(
        activity__activity_type="volunteer_service", status__in=("present", "late")
    )
    assert attended.exists()
    credited = LearningHourEntry.objects.filter(
        source_type="attendance", source_id__in=attended.values("pk")
    ).aggregate(s=Sum("hours"))["s"]
    assert not credited


def test_an_upcoming_activity_in_branch_secs_branch_has_places_for_member1(demo_lines):
    home = RoleAssignment.objects.get(user__username="branch_sec").organization
    member1 = Member.objects.get(user__username="member1")
    coming = VolunteerActivity.objects.filter(activity__organization=home, activity__start__gt=timezone.now())
    assert coming.exists()
    volunteer = coming.first()
    taken = Attendance.objects.filter(activity=volunteer.activity).count()
    assert volunteer.capacity is None or taken < volunteer.capacity
    assert not Attendance.objects.filter(activity=volunteer.activity, member=member1).exists()


def test_the_coverage_of_the_city_counts_the_demo(demo_lines):
    from partyedu.accounts.models import User

    city_admin = User.objects.get(username="city_admin")
    root = Organization.objects.get(depth=0)
    result = coverage(user=city_admin, organization=root, year=timezone.localdate().year)
    assert 0 < result.units_registered < result.units_total
    assert 0 < result.totals.members_registered < result.totals.members_expected
    assert result.totals.services > 0 and result.totals.hours > 0


def test_seeding_again_adds_nothing(demo_lines):
    before = (Agreement.objects.count(), Registration.objects.count(), ServiceRecord.objects.count())
    assert seed_service_registration(seed=SEED, today=timezone.localdate(), say=lambda _m: None) == []
    assert (Agreement.objects.count(), Registration.objects.count(), ServiceRecord.objects.count()) == before
