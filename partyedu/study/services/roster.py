"""Adding members to an activity's expected roster one by one, and taking them off again, without
replacing the whole roster (``activity_update``'s ``roster``): for activities members sign up
for, such as the service app's volunteer activities, whose organiser records the activity with
an empty roster and lets members join it until the sign-up closes.

Study knows nothing of sign-up rules (who may join, how many, until when): the caller checks
them and calls these as the system (``actor=None``) or as someone who may change the activity."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require

from ..choices import AttendanceStatus
from ..models import Activity, Attendance
from ._common import APP, _lock_activity, _members_in_scope, sync_attendance_hours
from .counts import activity_figures_sync


@transaction.atomic
def activity_roster_add(*, actor: Actor, activity: Activity | int, member_ids: Sequence[int]) -> list[int]:
    """Put members (on the roll) on the activity's expected roster, as unmarked attendance rows;
    members already on it (or invited) are left as they are. Returns the ids added. Locks the
    activity, so that a caller counting the roster before adding (a capacity) counts under the
    same lock."""
    locked = _lock_activity(activity)
    require(actor, "change", locked.organization, app_label=APP, message="您无权修改该活动的应到名单")
    ids = _members_in_scope(actor, list(dict.fromkeys(int(pk) for pk in member_ids)), "roster")
    present = set(
        Attendance.objects.filter(activity=locked, member_id__in=ids).values_list("member_id", flat=True)
    )
    new = [pk for pk in ids if pk not in present]
    if not new:
        return []
    Attendance.objects.bulk_create([Attendance(activity=locked, member_id=pk) for pk in new])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={"roster": {"added": new}},
        message=f"应到名单增加{len(new)}人",
    )
    activity_figures_sync([locked.pk])
    return new


@transaction.atomic
def activity_roster_remove(*, actor: Actor, activity: Activity | int, member_ids: Sequence[int]) -> list[int]:
    """Take members off the activity's expected roster. Only unmarked rows go: a member whose
    attendance was recorded stays (the record is the source of hours). Returns the ids removed."""
    locked = _lock_activity(activity)
    require(actor, "change", locked.organization, app_label=APP, message="您无权修改该活动的应到名单")
    rows = list(
        Attendance.objects.select_for_update()
        .filter(activity=locked, member_id__in=[int(pk) for pk in member_ids], is_invitee=False)
        .order_by("pk")
    )
    marked = [row for row in rows if row.status != AttendanceStatus.UNMARKED]
    if marked:
        raise ValidationError({"roster": ["已登记出勤的党员不能移出应到名单"]})
    if not rows:
        return []
    removed = [row.member_id for row in rows]
    Attendance.objects.filter(pk__in=[row.pk for row in rows]).delete()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={"roster": {"removed": removed}},
        message=f"应到名单减少{len(removed)}人",
    )
    sync_attendance_hours(
        attendance_ids=[row.pk for row in rows], actor=actor, member_ids=removed, activity_ids=[locked.pk]
    )
    return removed
