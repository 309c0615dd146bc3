"""Attendance marks and make-up study (补学): marking a roster, a member's report of 补学, the
secretary's confirmation, and the one entry point of the attendance screen's 补学 button."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor, User
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member

from ..choices import AttendanceMethod, AttendanceStatus
from ..models import Activity, Attendance
from ._common import APP, WRITE_BATCH, _lock_activity, _user, sync_attendance_hours

MARKABLE_STATUSES = frozenset(AttendanceStatus.values)


@dataclass
class AttendanceMarkResult:
    """What one marking call did: the attendance rows it changed and how many were already so."""

    changed: list[Attendance]
    unchanged: int


# What ``_apply_mark`` sets (column names: the users as ids).
MARK_FIELDS = (
    "status",
    "method",
    "marked_at",
    "marked_by_id",
    "makeup_confirmed_at",
    "makeup_confirmed_by_id",
    "updated_at",
)


def _apply_mark(row: Attendance, status: str, *, method: str, at: datetime, user: User | None) -> None:
    row.status = status
    row.method = method if status else ""
    row.marked_at = at if status else None
    row.marked_by = user if status else None
    if status == AttendanceStatus.MAKEUP:
        # The secretary marking 补学 is the one who confirms it.
        row.makeup_confirmed_at = row.makeup_confirmed_at or at
        row.makeup_confirmed_by = row.makeup_confirmed_by or user
    else:
        row.makeup_confirmed_at = None
        row.makeup_confirmed_by = None
    row.updated_at = at


def _unchanged(row: Attendance, status: str) -> bool:
    if row.status != status:
        return False
    return status != AttendanceStatus.MAKEUP or row.makeup_confirmed_at is not None


@transaction.atomic
def attendance_mark(
    *,
    actor: Actor,
    activity: Activity,
    records: Sequence[dict[str, Any]],
    method: str = AttendanceMethod.ROSTER,
) -> AttendanceMarkResult:
    """Set attendance marks: ``records`` is a list of ``{"member": id, "status": …}``.

    Idempotent: a mark already in place changes nothing and writes no audit row. Every record is
    checked before anything is written; a member not on the roster (or invitees) or outside the
    actor's scope fails the whole call. Markings of one activity are serialised by a lock on the
    activity row, and the rows are read and locked after taking it (a member's QR check-in locks
    only that member's row, never the activity), so a stale caller cannot undo or duplicate
    another's marks. Marking 补学 here confirms it."""
    activity = _lock_activity(activity)
    require(actor, "change", activity.organization, app_label=APP, message="您无权登记该活动的出勤")
    if method not in AttendanceMethod.values:
        raise ValidationError({"method": ["未知的登记方式"]})

    errors: list[str] = []
    wanted: dict[int, str] = {}
    for number, record in enumerate(records, start=1):
        member = record.get("member") if isinstance(record, dict) else None
        status = record.get("status") if isinstance(record, dict) else None
        status = "" if status is None else str(status)
        try:
            # A missing member (None) is refused by the TypeError, like any other junk.
            pk = int(member.pk if isinstance(member, Member) else member)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.append(f"第{number}条：党员编号无效")
            continue
        if status not in MARKABLE_STATUSES:
            errors.append(f"第{number}条：出勤情况“{status}”无效")
            continue
        if pk in wanted and wanted[pk] != status:
            errors.append(f"党员（ID {pk}）在同一次提交中有两种出勤情况")
            continue
        wanted[pk] = status
    if not wanted and not errors:
        errors.append("请至少登记一名党员的出勤")
    rows = {
        row.member_id: row
        for row in Attendance.objects.select_for_update()
        .filter(activity=activity, member_id__in=list(wanted))
        .order_by("pk")
    }
    members = Member.objects.all() if actor is None else Member.objects.restrict(actor, "view")
    visible = dict(members.filter(pk__in=list(wanted)).values_list("pk", "name"))
    for pk in wanted:
        if pk not in visible:
            errors.append(f"党员（ID {pk}）不存在或不在您的管理范围内")
        elif pk not in rows:
            errors.append(f"{visible[pk]}（ID {pk}）不在本活动的应到名单或列席名单中")
    if errors:
        raise ValidationError({"records": errors})

    now = timezone.now()
    user = _user(actor)
    changed: list[Attendance] = []
    log: dict[str, list[str]] = {}
    for pk, status in wanted.items():
        row = rows[pk]
        if _unchanged(row, status):
            continue
        log[str(pk)] = [row.status, status]
        _apply_mark(row, status, method=method, at=now, user=user)
        changed.append(row)
    if changed:
        # Rows that now hold the same values are written by one plain UPDATE (a roster of 50 is
        # a handful of statements), not bulk_update's CASE over every row and field.
        same: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for row in changed:
            same[tuple(getattr(row, f) for f in MARK_FIELDS)].append(row.pk)
        for values, pks in same.items():
            for start in range(0, len(pks), WRITE_BATCH):
                Attendance.objects.filter(pk__in=pks[start : start + WRITE_BATCH]).update(
                    **dict(zip(MARK_FIELDS, values, strict=True))
                )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=activity,
            changes={"attendance": log, "method": method},
            message=f"登记出勤{len(changed)}人",
        )
        sync_attendance_hours(
            attendance_ids=[row.pk for row in changed], actor=actor, activity_ids=[activity.pk]
        )
    return AttendanceMarkResult(changed=changed, unchanged=len(wanted) - len(changed))


def _lock_attendance(attendance: Attendance) -> tuple[Activity, Attendance]:
    activity = _lock_activity(attendance.activity_id)
    row = Attendance.objects.select_for_update(of=("self",)).select_related("member").get(pk=attendance.pk)
    return activity, row


@transaction.atomic
def attendance_makeup_request(*, actor: Actor, attendance: Attendance, note: str = "") -> Attendance:
    """A member absent or on leave reports 补学 (make-up study) of the activity; the member
    themself or a secretary in scope may report it. It credits hours only once confirmed."""
    activity, row = _lock_attendance(attendance)
    own = (
        actor is not None
        and row.member.user_id is not None
        and row.member.user_id == getattr(actor, "pk", None)
    )
    if not own:
        require(actor, "change", activity.organization, app_label=APP, message="您无权为该党员登记补学")
    if row.status == AttendanceStatus.MAKEUP:
        raise ValidationError({"status": ["已登记补学"]})
    if row.status not in (AttendanceStatus.ABSENT, AttendanceStatus.LEAVE):
        raise ValidationError({"status": ["只有缺席或请假的党员需要补学"]})
    if activity.start > timezone.now():
        raise ValidationError({"status": ["活动尚未开始，不能补学"]})
    old = row.status
    now = timezone.now()
    row.status = AttendanceStatus.MAKEUP
    row.marked_at = now
    row.marked_by = _user(actor)
    row.makeup_confirmed_at = None
    row.makeup_confirmed_by = None
    row.note = note.strip()[:200] or row.note
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        changes={"attendance": {str(row.member_id): [old, row.status]}},
        message="登记补学，待确认",
    )
    sync_attendance_hours(attendance_ids=[row.pk], actor=actor, activity_ids=[activity.pk])
    return row


@transaction.atomic
def attendance_makeup_confirm(*, actor: Actor, attendance: Attendance) -> Attendance:
    """The secretary confirms a reported 补学; from then on it credits hours. Confirming twice
    changes nothing."""
    activity, row = _lock_attendance(attendance)
    require(actor, "change", activity.organization, app_label=APP, message="您无权确认该党员的补学")
    if row.status != AttendanceStatus.MAKEUP:
        raise ValidationError({"status": ["该党员没有待确认的补学"]})
    if row.makeup_confirmed_at is not None:
        return row
    row.makeup_confirmed_at = timezone.now()
    row.makeup_confirmed_by = _user(actor)
    row.save(update_fields=["makeup_confirmed_at", "makeup_confirmed_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        changes={"attendance": {str(row.member_id): ["makeup", "makeup"]}, "makeup_confirmed": True},
        message="确认补学",
    )
    sync_attendance_hours(attendance_ids=[row.pk], actor=actor, activity_ids=[activity.pk])
    return row


@transaction.atomic
def attendance_makeup_settle(*, actor: Actor, attendance: Attendance) -> Attendance:
    """The 补学 button of the attendance screen: confirm a reported 补学, or record (and so
    confirm) 补学 for a member who was absent or on leave; any other mark is refused. Decided on
    the locked row, so a mark changed meanwhile is not overwritten."""
    activity, row = _lock_attendance(attendance)
    require(actor, "change", activity.organization, app_label=APP, message="您无权为该党员登记补学")
    if row.status == AttendanceStatus.MAKEUP:
        return attendance_makeup_confirm(actor=actor, attendance=row)
    if row.status not in (AttendanceStatus.ABSENT, AttendanceStatus.LEAVE):
        raise ValidationError("只有缺席或请假的党员需要补学")
    attendance_mark(
        actor=actor,
        activity=activity,
        records=[{"member": row.member_id, "status": AttendanceStatus.MAKEUP}],
    )
    row.refresh_from_db()
    return row
