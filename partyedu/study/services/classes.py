"""Training classes (培训班) and their enrolment."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..models import Attendance, ClassEnrollment, TeachingSite, TrainingClass
from ._common import (
    APP,
    WRITE_BATCH,
    _check_fields,
    _clean_strings,
    _member_ids,
    _members_in_scope,
    _reachable,
    _resolve,
    _same_pk,
    sync_attendance_hours,
    sync_class_hours,
)

CLASS_FIELDS = (
    "organization",
    "name",
    "start_date",
    "end_date",
    "schedule",
    "site",
    "completion_ratio",
    "is_online",
)


def _apply_class_data(tc: TrainingClass, data: dict[str, Any], *, actor: Actor) -> None:
    if "site" in data:
        data["site"] = _resolve(TeachingSite, data["site"], "site", "教学点")
    for name, value in data.items():
        setattr(tc, name, value)
    errors: dict[str, list[str]] = {}
    if not tc.name:
        errors["name"] = ["请填写班次名称"]
    if tc.start_date and tc.end_date and tc.end_date < tc.start_date:
        errors["end_date"] = ["结业日期不能早于开班日期"]
    ratio = tc.completion_ratio
    if ratio is not None and not Decimal("0") < Decimal(ratio) <= Decimal("1"):
        errors["completion_ratio"] = ["结业出勤比例应大于0且不超过1"]
    if data.get("site") is not None and not _reachable(actor, data["site"].organization, tc.organization):
        errors["site"] = ["教学点不存在或不在您的管理范围内"]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def training_class_create(*, actor: Actor, data: dict[str, Any]) -> TrainingClass:
    """Open a training class (培训班). ``members`` (ids) may enrol members at once."""
    data = _clean_strings(dict(data))
    members = data.pop("members", None)
    _check_fields(data, CLASS_FIELDS)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择主办组织"]})
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义举办培训班")
    tc = TrainingClass(organization=org)
    _apply_class_data(tc, data, actor=actor)
    tc.full_clean()
    tc.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=tc,
        changes={"after": snapshot(tc, list(CLASS_FIELDS))},
    )
    if members:
        _enroll(actor, tc, _member_ids(members, "members"))
    return tc


@transaction.atomic
def training_class_update(
    *, actor: Actor, training_class: TrainingClass, data: dict[str, Any]
) -> TrainingClass:
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    require(actor, "change", tc.organization, app_label=APP, message="您无权修改该培训班")
    data = _clean_strings(dict(data))
    _check_fields(data, CLASS_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), tc.organization_id):
        raise ValidationError({"organization": ["培训班的主办组织不能修改"]})
    before = snapshot(tc, CLASS_FIELDS)
    _apply_class_data(tc, data, actor=actor)
    tc.full_clean()
    tc.save()
    changes = diff(before, snapshot(tc, CLASS_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=tc, changes=changes)
    if {"completion_ratio", "end_date"} & set(changes):
        sync_class_hours(training_class_id=tc.pk, actor=actor)
    return tc


def _enroll(actor: Actor, tc: TrainingClass, ids: list[int]) -> list[int]:
    existing = set(ClassEnrollment.objects.filter(training_class=tc).values_list("member_id", flat=True))
    new = [pk for pk in ids if pk not in existing]
    _members_in_scope(actor, new, "members")
    ClassEnrollment.objects.bulk_create(
        [ClassEnrollment(training_class=tc, member_id=pk) for pk in new], batch_size=WRITE_BATCH
    )
    # Sessions still to come expect the new members too; past sessions keep their roster.
    upcoming = list(tc.sessions.filter(start__gt=timezone.now()).values_list("pk", flat=True))
    on_roster = set(
        Attendance.objects.filter(activity_id__in=upcoming, member_id__in=new).values_list(
            "activity_id", "member_id"
        )
    )
    Attendance.objects.bulk_create(
        [
            Attendance(activity_id=session, member_id=pk)
            for session in upcoming
            for pk in new
            if (session, pk) not in on_roster
        ],
        batch_size=WRITE_BATCH,
    )
    if new:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=tc,
            changes={"enrolled": new},
            message=f"报名{len(new)}人",
        )
    return new


@transaction.atomic
def training_class_enroll(
    *, actor: Actor, training_class: TrainingClass, members: Iterable[Any]
) -> list[int]:
    """Enrol members (ids within the actor's scope) in a class; enrolling again changes nothing.
    New enrollees join the roster of the sessions still to come. Returns the newly enrolled ids."""
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    require(actor, "change", tc.organization, app_label=APP, message="您无权管理该培训班的学员")
    return _enroll(actor, tc, _member_ids(members, "members"))


@transaction.atomic
def training_class_unenroll(
    *, actor: Actor, training_class: TrainingClass, members: Iterable[Any]
) -> list[int]:
    """Withdraw members from a class. They leave the roster of sessions still to come; past
    sessions keep their attendance (and the hours it earned). Returns the withdrawn ids."""
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    require(actor, "change", tc.organization, app_label=APP, message="您无权管理该培训班的学员")
    ids = _member_ids(members, "members")
    removed = list(
        ClassEnrollment.objects.filter(training_class=tc, member_id__in=ids).values_list(
            "member_id", flat=True
        )
    )
    ClassEnrollment.objects.filter(training_class=tc, member_id__in=removed).delete()
    upcoming = Attendance.objects.filter(
        activity__training_class=tc, activity__start__gt=timezone.now(), member_id__in=removed
    )
    rows = list(upcoming.values_list("pk", "activity_id"))
    attendance_ids = [pk for pk, _ in rows]
    Attendance.objects.filter(pk__in=attendance_ids).delete()
    if removed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=tc,
            changes={"withdrawn": removed},
            message=f"退出{len(removed)}人",
        )
    sync_attendance_hours(
        attendance_ids=attendance_ids, actor=actor, activity_ids=[activity for _, activity in rows]
    )
    return removed
