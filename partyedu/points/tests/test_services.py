"""The points ledger: derivation, caps, exemption, refusals, manual records, retries, rebuild."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from partyedu.core.models import AuditLog
from partyedu.points.models import ManualPoints, PointsEntry, PointsItem
from partyedu.points.services import (
    points_manual_record,
    points_rebuild,
    points_sync_members,
    scheme_create,
    scheme_update,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, items, mark, meeting, scheme

pytestmark = pytest.mark.django_db
DAY = at(6).date()


def net(member, code=None):
    qs = PointsEntry.objects.filter(member=member, year=YEAR)
    if code:
        qs = qs.filter(item__code=code)
    return qs.aggregate(s=Sum("points"))["s"] or Decimal("0")


def test_attendance_credits_the_items_points(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    assert net(member, "meetings") == Decimal("2")
    assert_ledger_equals_rebuild()


def test_monthly_cap_caps_the_later_sources_of_the_month(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    for day in (3, 10, 17):
        mark(meeting(tree.branch_a, at(3, day)), member)
    mark(meeting(tree.branch_a, at(4, 2)), member)
    lines = list(PointsEntry.objects.filter(member=member, item__code="meetings").order_by("source_date"))
    assert [line.points for line in lines] == [Decimal("2"), Decimal("1"), Decimal("2")]
    assert "已达本月上限3分" in lines[1].description
    assert_ledger_equals_rebuild()


def test_absence_deducts_from_a_member_who_is_not_exempt(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member, "absent")
    assert net(member, "absence") == Decimal("-1")


def test_exempt_member_is_not_deducted(tree):
    member = make_member(tree.branch_a, "乙", is_exempt=True, exempt_reason="年老体弱")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member, "absent")
    assert net(member, "absence") == Decimal("0")
    assert_ledger_equals_rebuild()


def test_changing_attendance_appends_a_correction_and_never_edits(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    activity = meeting(tree.branch_a, at(3))
    mark(activity, member)
    first = PointsEntry.objects.get(member=member, item__code="meetings")
    mark(activity, member, "leave")
    assert net(member, "meetings") == Decimal("0")
    correction = PointsEntry.objects.get(member=member, item__code="meetings", version=2)
    assert correction.points == Decimal("-2")
    first.refresh_from_db()
    assert first.points == Decimal("2")
    assert_ledger_equals_rebuild()


def test_a_retried_sync_appends_nothing(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    count = PointsEntry.objects.count()
    assert points_sync_members(pairs={(member.pk, YEAR)}) == 0
    assert points_sync_members(pairs={(member.pk, YEAR)}) == 0
    assert PointsEntry.objects.count() == count


def test_the_nearest_scheme_up_the_tree_applies(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    own = [dict(i, points="5", cap=None) if i["code"] == "meetings" else i for i in items()]
    scheme(tree.district_a, item_list=own)
    mark(meeting(tree.branch_a, at(3)), member)
    assert net(member) == Decimal("5")
    assert_ledger_equals_rebuild()


@pytest.mark.parametrize(
    ("code", "source", "name"),
    [
        ("online_time", "attendance", "在线时长"),
        ("login", "manual", "每日登录"),
        ("streak", "manual", "连续签到"),
        ("daily_checkin", "manual", "每日打卡"),
        ("study", "online_time", "学习"),
    ],
)
def test_scheme_refuses_sources_rewarding_time_online_logins_or_streaks(tree, code, source, name):
    bad = {
        "code": code,
        "name": name,
        "kind": "earn",
        "source": source,
        "points": "1",
        "cap": None,
        "cap_period": "year",
    }
    with pytest.raises(ValidationError) as exc:
        scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=[bad])
    assert "不得设置奖励在线时长" in str(exc.value)


def test_scheme_update_rederives_through_corrections(tree):
    member = make_member(tree.branch_a, "甲")
    s = scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    changed = [dict(i, points="4", cap=None) if i["code"] == "meetings" else i for i in items()]
    scheme_update(actor=None, scheme=s, base="70", items=changed)
    assert net(member, "meetings") == Decimal("4")
    assert PointsEntry.objects.filter(member=member, item__code="meetings").count() == 2
    assert_ledger_equals_rebuild()


def test_manual_award_needs_a_reason_and_writes_nothing_without(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        points_manual_record(
            actor=secretary, member=member, item="award", points="2", reason="  ", on_date=DAY
        )
    assert "理由" in str(exc.value)
    assert not ManualPoints.objects.exists() and not PointsEntry.objects.exists()
    assert_ledger_equals_rebuild()


def test_manual_deduction_only_from_a_deduct_item(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    points_manual_record(
        actor=secretary, member=member, item="penalty", points="3", reason="未按时交纳党费", on_date=DAY
    )
    assert net(member, "penalty") == Decimal("-3")
    with pytest.raises(ValidationError):
        points_manual_record(
            actor=secretary, member=member, item="absence", points="3", reason="x", on_date=DAY
        )
    assert AuditLog.objects.filter(object_type="points.manualpoints").count() == 1
    assert_ledger_equals_rebuild()


def test_manual_award_is_capped_per_year(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    for _ in range(3):
        points_manual_record(
            actor=None, member=member, item="award", points="4", reason="志愿服务", on_date=DAY
        )
    assert net(member, "award") == Decimal("10")


def test_manual_record_out_of_scope_is_refused(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    stranger = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(PermissionDenied):
        points_manual_record(actor=stranger, member=member, item="award", points="1", reason="x", on_date=DAY)


def test_rebuild_finds_a_missing_line_and_a_stray_one(tree, monkeypatch):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    from partyedu.points import hooks

    monkeypatch.setattr(hooks, "attendance_changed", lambda **kw: 0)
    from partyedu.core.hooks import hooks as registry

    monkeypatch.setitem(
        registry._hooks,
        "study.attendance_changed",
        [f for f in registry._hooks["study.attendance_changed"] if f.__module__ != "partyedu.points.hooks"],
    )
    mark(meeting(tree.branch_a, at(3)), member)  # the ledger misses this line
    stray_item = PointsItem.objects.get(code="award")
    PointsEntry.objects.create(
        member=member,
        year=YEAR,
        item=stray_item,
        points=Decimal("9"),
        source_type="manual",
        source_id=999,
        source_date=at(5).date(),
        description="篡改",
    )
    report = points_rebuild()
    # The two lines, and the kept year total and distribution copy the stray line (written around
    # the services) left behind.
    assert (report.differences, report.totals_differences, report.copies_differences) == (4, 1, 1)
    applied = points_rebuild(apply=True)
    assert applied.rows_appended == 2
    assert_ledger_equals_rebuild()
