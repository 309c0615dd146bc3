"""Service hours feed points through the derived source 志愿服务时长 (points per hour, capped by
the item's cap): a confirmed record credits at once (``service.hours_changed``), a rejected or
removed one takes its points back, volunteer attendance follows ``study.attendance_changed``, and
after each the ledger equals a rebuild."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from partyedu.points.models import PointsEntry
from partyedu.points.services import points_rebuild
from partyedu.service.services import registration as services
from partyedu.study.services import activity_delete, attendance_mark

from .test_registration_factories import (
    YEAR,
    attend,
    make_units,
    member_user,
    past_volunteer,
    record,
    service_scheme,
)

pytestmark = pytest.mark.django_db


def net(member) -> Decimal:
    return PointsEntry.objects.filter(member=member, year=YEAR).aggregate(s=Sum("points"))["s"] or Decimal(
        "0"
    )


def assert_ledger_equals_rebuild() -> None:
    report = points_rebuild()
    assert report.differences == 0, report.samples


@pytest.fixture
def setup(tree):
    units = make_units(tree)
    service_scheme(tree.root, points="1.5")
    _user, member = member_user(units.bureau, "张伟")
    return units, member


def test_a_pending_record_credits_nothing(setup):
    _units, member = setup
    record(member, "2")
    assert net(member) == 0
    assert_ledger_equals_rebuild()


def test_a_confirmed_record_gives_points_per_hour(setup):
    _units, member = setup
    done = record(member, "2")
    services.service_record_confirm(actor=None, record=done)
    assert net(member) == Decimal("3")  # 2 hours × 1.5
    entry = PointsEntry.objects.get(member=member)
    assert entry.source_type == "service_hours" and "服务2小时" in entry.description
    assert_ledger_equals_rebuild()


def test_a_rejected_record_takes_its_points_back(setup):
    _units, member = setup
    done = record(member, "2")
    services.service_record_confirm(actor=None, record=done)
    services.service_record_reject(actor=None, record=done, reason="与实际不符")
    assert net(member) == 0
    assert list(
        PointsEntry.objects.filter(member=member).order_by("id").values_list("points", "version")
    ) == [
        (Decimal("3"), 1),
        (Decimal("-3"), 2),
    ]
    assert_ledger_equals_rebuild()


def test_a_removed_confirmed_record_takes_its_points_back(setup):
    _units, member = setup
    done = record(member, "2")
    services.service_record_confirm(actor=None, record=done)
    services.service_record_delete(actor=None, record=done)
    assert net(member) == 0
    assert_ledger_equals_rebuild()


def test_the_cap_of_the_item_holds(setup):
    _units, member = setup
    for days_ago in (1, 2, 3):
        services.service_record_confirm(actor=None, record=record(member, "4", days_ago=days_ago))
    assert net(member) == Decimal("10")  # 3 × 4 h × 1.5 = 18, capped at 10 a year
    assert_ledger_equals_rebuild()


def test_volunteer_attendance_gives_points_and_its_deletion_takes_them_back(setup):
    units, member = setup
    found = past_volunteer(units.bureau, hours=2)
    attend(found, member)
    assert net(member) == Decimal("3")
    assert PointsEntry.objects.get(member=member).source_type == "volunteer"
    assert_ledger_equals_rebuild()
    attendance_mark(actor=None, activity=found.activity, records=[{"member": member.pk, "status": "absent"}])
    assert net(member) == 0
    attendance_mark(actor=None, activity=found.activity, records=[{"member": member.pk, "status": "late"}])
    assert net(member) == Decimal("3")
    activity_delete(actor=None, activity=found.activity)
    assert net(member) == 0
    assert_ledger_equals_rebuild()


def test_record_and_volunteer_ids_do_not_collide(setup):
    units, member = setup
    done = record(member, "1")
    services.service_record_confirm(actor=None, record=done)
    found = past_volunteer(units.bureau, hours=2)
    attend(found, member)
    assert net(member) == Decimal("4.5")
    assert sorted(PointsEntry.objects.values_list("source_type", flat=True)) == ["service_hours", "volunteer"]
    assert_ledger_equals_rebuild()
