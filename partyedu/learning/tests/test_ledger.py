from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.services import (
    learning_hours_manual_reverse,
    learning_hours_rebuild,
    learning_hours_record_manual,
    learning_hours_sync_attendance,
)
from partyedu.study.models import Activity, Attendance
from partyedu.testsupport.factories import make_member, make_user

from .factories import assert_ledger_equals_rebuild, attend, local, make_activity


@pytest.fixture
def zhang(tree):
    return make_member(tree.branch_a, "张三")


def year_hours(member, year=2026):
    return MemberYearHours.objects.get(member=member, year=year)


def lines(member):
    return list(
        LearningHourEntry.objects.filter(member=member).order_by("id").values_list("hours", "version")
    )


def test_attendance_credits_the_activity_hours(tree, zhang):
    activity = make_activity(tree.branch_a, hours=2)
    attend(activity, zhang)
    entry = LearningHourEntry.objects.get(member=zhang)
    assert entry.hours == Decimal("2")
    assert entry.kind == "collective"
    assert entry.year == 2026
    assert entry.description == "2026-03-15 主题党日：学习二十届三中全会精神（出席）"
    assert year_hours(zhang).total == Decimal("2")
    assert year_hours(zhang).collective == Decimal("2")
    assert_ledger_equals_rebuild()


def test_sync_is_idempotent(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang)
    assert learning_hours_sync_attendance(attendance_ids=[row.pk]) == 0
    assert learning_hours_sync_attendance(attendance_ids=[row.pk, row.pk]) == 0
    assert LearningHourEntry.objects.count() == 1
    assert year_hours(zhang).total == Decimal("2")


@pytest.mark.parametrize("status", ["leave", "absent", "", "makeup"])
def test_statuses_that_credit_nothing(tree, zhang, status):
    attend(make_activity(tree.branch_a), zhang, status)
    assert not LearningHourEntry.objects.exists()


def test_late_credits_like_present(tree, zhang):
    attend(make_activity(tree.branch_a), zhang, "late")
    assert year_hours(zhang).total == Decimal("2")


def test_training_session_is_concentrated(tree, zhang):
    attend(make_activity(tree.branch_a, activity_type="training_session", hours=8), zhang)
    assert year_hours(zhang).concentrated == Decimal("8")


def test_status_change_appends_a_correction(tree, zhang):
    # given a credited attendance
    row = attend(make_activity(tree.branch_a), zhang)
    first = LearningHourEntry.objects.get()
    # when the secretary corrects the mark to absent
    attend(row.activity, zhang, "absent")
    # then a negative line is appended and the first line is untouched
    assert lines(zhang) == [(Decimal("2"), 1), (Decimal("-2"), 2)]
    first.refresh_from_db()
    assert first.hours == Decimal("2")
    last = LearningHourEntry.objects.order_by("id").last()
    assert last.description == "2026-03-15 主题党日：学习二十届三中全会精神（更正：改为缺席，冲销2学时）"
    assert year_hours(zhang).total == 0
    assert_ledger_equals_rebuild()


def test_back_and_forth_keeps_appending(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang)
    attend(row.activity, zhang, "absent")
    attend(row.activity, zhang, "present")
    assert lines(zhang) == [(Decimal("2"), 1), (Decimal("-2"), 2), (Decimal("2"), 3)]
    assert year_hours(zhang).total == Decimal("2")
    assert_ledger_equals_rebuild()


def test_double_submit_awards_once(tree, zhang):
    activity = make_activity(tree.branch_a)
    attend(activity, zhang)
    attend(activity, zhang)  # the same form posted twice
    assert LearningHourEntry.objects.count() == 1
    assert_ledger_equals_rebuild()


def test_activity_time_change_corrects_hours(tree, zhang):
    row = attend(make_activity(tree.branch_a, hours=2), zhang)
    Activity.objects.filter(pk=row.activity_id).update(end=local(2026, 3, 15, 13))  # 4 h: half day
    learning_hours_sync_attendance(attendance_ids=[row.pk])
    assert lines(zhang) == [(Decimal("2"), 1), (Decimal("2"), 2)]
    assert "学时由2改为4" in LearningHourEntry.objects.order_by("id").last().description
    assert year_hours(zhang).total == Decimal("4")
    assert_ledger_equals_rebuild()


def test_activity_moved_to_another_year_moves_the_hours(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang)
    Activity.objects.filter(pk=row.activity_id).update(start=local(2027, 1, 5, 9), end=local(2027, 1, 5, 11))
    learning_hours_sync_attendance(attendance_ids=[row.pk])
    assert year_hours(zhang, 2026).total == 0
    assert year_hours(zhang, 2027).total == Decimal("2")
    assert_ledger_equals_rebuild()


def test_activity_delete_reverses_the_hours(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang)
    ids = [row.pk]
    Activity.objects.filter(pk=row.activity_id).delete()
    learning_hours_sync_attendance(attendance_ids=ids)
    assert lines(zhang) == [(Decimal("2"), 1), (Decimal("-2"), 2)]
    assert (
        LearningHourEntry.objects.order_by("id").last().description
        == "2026-03-15 主题党日：学习二十届三中全会精神（更正：记录已删除，冲销2学时）"
    )
    assert year_hours(zhang).total == 0
    assert_ledger_equals_rebuild()


def test_makeup_credits_only_when_confirmed(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang, "makeup")
    assert not LearningHourEntry.objects.exists()
    Attendance.objects.filter(pk=row.pk).update(makeup_confirmed_at=timezone.now())
    learning_hours_sync_attendance(attendance_ids=[row.pk])
    assert year_hours(zhang).total == Decimal("2")
    assert LearningHourEntry.objects.get().description.endswith("（补学）")
    assert_ledger_equals_rebuild()


def test_hours_never_go_negative_for_a_source(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang, "absent")
    Attendance.objects.filter(pk=row.pk).delete()
    learning_hours_sync_attendance(attendance_ids=[row.pk])
    assert not LearningHourEntry.objects.exists()


def test_a_whole_activity_in_one_call(tree):
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(5)]
    activity = make_activity(tree.branch_a)
    rows = [attend(activity, m, sync=False) for m in members]
    assert learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows]) == 5
    assert set(MemberYearHours.objects.values_list("total", flat=True)) == {Decimal("2")}
    assert_ledger_equals_rebuild()


def test_a_sync_of_fifty_attendees_takes_a_bounded_number_of_queries(tree, django_assert_max_num_queries):
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(50)]
    activity = make_activity(tree.branch_a)
    rows = [attend(activity, m, sync=False) for m in members]
    with django_assert_max_num_queries(25):
        learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows])


def test_concurrent_writer_with_the_same_version_is_retried(tree, zhang, monkeypatch):
    # given another writer that committed version 1 after our first read of the ledger
    from collections import defaultdict

    from partyedu.learning import services

    row = attend(make_activity(tree.branch_a), zhang, sync=False)
    LearningHourEntry.objects.create(
        member=zhang,
        year=2026,
        kind="collective",
        hours=2,
        source_type="attendance",
        source_id=row.pk,
        version=1,
        description="并发写入",
    )
    MemberYearHours.objects.create(member=zhang, year=2026, total=2, collective=2)
    real = services._ledger_nets
    reads = []

    def stale_first_read(source_type, ids):
        reads.append(ids)
        return defaultdict(dict) if len(reads) == 1 else real(source_type, ids)

    monkeypatch.setattr("partyedu.learning.services.ledger._ledger_nets", stale_first_read)
    # when we sync: our version 1 clashes with theirs, and the retry reads the ledger again
    assert services.learning_hours_sync_attendance(attendance_ids=[row.pk]) == 0
    # then hours were awarded once, by the other writer
    assert len(reads) == 2
    assert list(LearningHourEntry.objects.values_list("description", flat=True)) == ["并发写入"]
    assert year_hours(zhang).total == Decimal("2")


def test_ledger_rows_cannot_repeat_a_version(tree, zhang):
    attend(make_activity(tree.branch_a), zhang)
    entry = LearningHourEntry.objects.get()
    entry.pk = None
    with pytest.raises(IntegrityError):
        entry.save()


# --- manual records ------------------------------------------------------------------------------


def test_manual_record_within_scope(tree, zhang):
    admin = make_user(role="branch_admin", org=tree.branch_a)
    entry = learning_hours_record_manual(
        actor=admin, member=zhang, year=2026, kind="self", hours="3", description="自学《党章》"
    )
    assert entry.source_type == "manual"
    assert entry.description == "自学《党章》（手工登记）"
    assert year_hours(zhang).self_study == Decimal("3")
    assert_ledger_equals_rebuild()


def test_manual_record_outside_scope_is_refused(tree, zhang):
    admin = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(PermissionDenied):
        learning_hours_record_manual(
            actor=admin, member=zhang, year=2026, kind="self", hours=3, description="x"
        )


@pytest.mark.parametrize(
    ("hours", "field"),
    [("0", "hours"), ("-1", "hours"), ("1000", "hours"), ("1.25", "hours"), ("abc", "hours")],
)
def test_manual_record_validates_hours(tree, zhang, hours, field):
    with pytest.raises(ValidationError) as exc:
        learning_hours_record_manual(
            actor=None, member=zhang, year=2026, kind="self", hours=hours, description="x"
        )
    assert field in exc.value.message_dict


def test_manual_records_are_separate_sources(tree, zhang):
    for _ in range(2):
        learning_hours_record_manual(
            actor=None, member=zhang, year=2026, kind="self", hours=2, description="自学"
        )
    assert year_hours(zhang).total == Decimal("4")


def test_manual_reverse_appends_a_negative_line(tree, zhang):
    entry = learning_hours_record_manual(
        actor=None, member=zhang, year=2026, kind="self", hours=2, description="自学"
    )
    correction = learning_hours_manual_reverse(actor=None, entry=entry, reason="登记重复")
    assert correction.hours == Decimal("-2")
    assert correction.version == 2
    assert year_hours(zhang).total == 0
    with pytest.raises(ValidationError):
        learning_hours_manual_reverse(actor=None, entry=entry, reason="再次撤销")
    assert_ledger_equals_rebuild()


# --- the rebuild ---------------------------------------------------------------------------------


def test_rebuild_finds_and_fixes_a_source_changed_behind_the_ledger(tree, zhang):
    row = attend(make_activity(tree.branch_a), zhang)
    Attendance.objects.filter(pk=row.pk).update(status="absent")  # no sync: the ledger is stale
    report = learning_hours_rebuild(apply=False)
    assert report.ledger == 1
    assert "台账差 -2 学时" in report.samples[0]
    applied = learning_hours_rebuild(apply=True)
    assert applied.ledger_rows_appended == 1
    assert "核对更正" in LearningHourEntry.objects.order_by("id").last().description
    assert year_hours(zhang).total == 0
    assert_ledger_equals_rebuild()


def test_rebuild_repairs_a_tampered_summary(tree, zhang):
    attend(make_activity(tree.branch_a), zhang)
    MemberYearHours.objects.filter(member=zhang).update(total=99)
    report = learning_hours_rebuild(apply=True)
    assert report.year_hours == 1
    assert year_hours(zhang).total == Decimal("2")
    assert_ledger_equals_rebuild()


def test_rebuild_keeps_manual_lines(tree, zhang):
    learning_hours_record_manual(
        actor=None, member=zhang, year=2026, kind="self", hours=2, description="自学"
    )
    assert learning_hours_rebuild(apply=True).differences == 0
    assert year_hours(zhang).total == Decimal("2")
