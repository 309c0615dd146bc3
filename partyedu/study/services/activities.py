"""Activities: recording one with its expected roster, changing it (the roster too), deleting it,
and its photos and sign-in sheet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.images import get_image_dimensions
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..choices import MAX_PHOTOS, ActivityType, FileKind
from ..models import (
    Activity,
    ActivityFile,
    Attendance,
    ClassEnrollment,
    EducationBase,
    RequiredTopic,
    TeachingSite,
    TrainingClass,
)
from ..rosters import default_roster
from ._common import (
    APP,
    WRITE_BATCH,
    _activities_changed,
    _aware,
    _check_fields,
    _clean_strings,
    _is_ancestor_or_self,
    _lock_activity,
    _member_ids,
    _members_in_scope,
    _reachable,
    _resolve,
    _same_pk,
    _user,
    sync_attendance_hours,
    sync_class_hours,
)
from .counts import _count_key, activity_counts_add, activity_figures_sync

# Default check-in window around an activity (DOMAIN_RULES leaves it to local practice).
CHECKIN_MARGIN = timedelta(minutes=30)


def checkin_window(activity: Activity) -> tuple[datetime, datetime]:
    """When members may check themselves in: as set on the activity, else from 30 minutes before
    the start to 30 minutes after the end."""
    opens = activity.checkin_opens_at or activity.start - CHECKIN_MARGIN
    closes = activity.checkin_closes_at or activity.end + CHECKIN_MARGIN
    return opens, closes


# --- activities ----------------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "activity_type",
    "teaching_format",
    "topic",
    "start",
    "end",
    "place",
    "site",
    "education_base",
    "host",
    "recorder",
    "minutes",
    "required_topic",
    "credited_hours",
    "study_minutes",
    "checkin_opens_at",
    "checkin_closes_at",
)
# Given at creation only: an activity does not move to another organisation or class.
# ``invite_suggested``: also invite the 列席 the default roster offers (``rosters.default_roster``).
ACTIVITY_CREATE_FIELDS = ("organization", "training_class", "roster", "invitees", "invite_suggested")
AUDITED_ACTIVITY_FIELDS = (
    "organization",
    "activity_type",
    "teaching_format",
    "topic",
    "start",
    "end",
    "place",
    "site",
    "education_base",
    "host",
    "recorder",
    "required_topic",
    "training_class",
    "credited_hours",
    "study_minutes",
    "checkin_opens_at",
    "checkin_closes_at",
)
# Fields whose change changes what an attendance credits.
HOUR_FIELDS = ("activity_type", "start", "end", "credited_hours", "study_minutes")
CLASS_SESSION_TYPES = (ActivityType.TRAINING_SESSION, ActivityType.ONLINE_CLASS)


def _check_study_minutes(activity: Activity, errors: dict[str, list[str]]) -> None:
    """The study part of a meeting (learning credits only it for some types) is whole minutes
    within the activity's time."""
    if activity.study_minutes is None:
        return
    try:
        activity.study_minutes = int(activity.study_minutes)
    except (TypeError, ValueError):
        errors["study_minutes"] = ["请填写学习的分钟数"]
        return
    if activity.study_minutes < 0:
        errors["study_minutes"] = ["学习时长不能为负数"]
    elif (
        activity.start
        and activity.end
        and activity.study_minutes * 60 > (activity.end - activity.start).total_seconds()
    ):
        errors["study_minutes"] = ["学习时长不能超过活动时长"]


def _apply_activity_data(activity: Activity, data: dict[str, Any], *, actor: Actor) -> None:  # noqa: PLR0912 - one branch per field rule, all errors reported at once
    """Set the editable fields from ``data`` and check them against the organisation (already set
    on ``activity``). Raises ValidationError keyed by field, all problems at once."""
    org = activity.organization
    before = {name: getattr(activity, f"{name}_id") for name in ("site", "education_base", "required_topic")}
    resolved = dict(data)
    for name, model, label in (
        ("site", TeachingSite, "教学点"),
        ("education_base", EducationBase, "教育基地"),
        ("required_topic", RequiredTopic, "必修专题"),
    ):
        if name in resolved:
            resolved[name] = _resolve(model, resolved[name], name, label)
    for name in ("start", "end", "checkin_opens_at", "checkin_closes_at"):
        if name in resolved:
            resolved[name] = _aware(resolved[name])
    for name, value in resolved.items():
        if name in ("place", "host", "recorder", "minutes", "topic", "teaching_format") and value is None:
            value = ""
        setattr(activity, name, value)

    errors: dict[str, list[str]] = {}
    if not activity.topic:
        errors["topic"] = ["请填写活动主题"]
    if activity.activity_type not in ActivityType.values:
        errors["activity_type"] = ["请选择活动类型"]
    elif activity.training_class_id and activity.activity_type not in CLASS_SESSION_TYPES:
        errors["activity_type"] = ["培训班课次的活动类型应为“培训班”或“网上班级”"]
    if not activity.start:
        errors["start"] = ["请填写开始时间"]
    if not activity.end:
        errors["end"] = ["请填写结束时间"]
    if activity.start and activity.end:
        if activity.end < activity.start:
            errors["end"] = ["结束时间不能早于开始时间"]
        elif activity.end == activity.start:
            errors["end"] = ["结束时间应晚于开始时间"]
    if activity.credited_hours is not None:
        try:
            activity.credited_hours = Decimal(str(activity.credited_hours))
        except ArithmeticError:
            errors["credited_hours"] = ["请填写正确的学时"]
        else:
            if activity.credited_hours < 0:
                errors["credited_hours"] = ["认定学时不能为负数"]
    _check_study_minutes(activity, errors)
    if activity.start and activity.end and "end" not in errors:
        opens, closes = checkin_window(activity)
        if closes <= opens:
            errors["checkin_closes_at"] = ["签到截止时间应晚于签到开始时间"]
    # A place or topic is checked when it changes: an unchanged one stays even if since retired.
    changed = {
        name for name in before if name in resolved and getattr(activity, f"{name}_id") != before[name]
    }
    if "site" in changed and activity.site is not None:
        site = activity.site
        if not _reachable(actor, site.organization, org):
            errors["site"] = ["教学点不存在或不在您的管理范围内"]
        elif not site.is_active:
            errors["site"] = ["该教学点已停用"]
    if "education_base" in changed and activity.education_base is not None:
        base = activity.education_base
        if not _reachable(actor, base.organization, org):
            errors["education_base"] = ["教育基地不存在或不在您的管理范围内"]
        elif not base.is_active:
            errors["education_base"] = ["该教育基地已停用"]
    if "required_topic" in changed and activity.required_topic is not None:
        plan_org = activity.required_topic.plan.organization
        if not _is_ancestor_or_self(plan_org.path, org.path):
            errors["required_topic"] = ["该必修专题不属于本组织或上级组织下发的学习计划"]
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class RosterDefault:
    """What an activity recorded without a ``roster`` expects: its members, the 列席 the type
    offers (used only when asked for) and where the default came from (for the audit row)."""

    member_ids: list[int]
    suggested_invitee_ids: list[int]
    source: str


def _default_roster(activity: Activity) -> RosterDefault:
    """A training class session expects the class's enrolled members; any other activity the
    default roster of its type (``rosters.default_roster``: the committee for 支委会, the group
    for 党小组会, the 中心组 list for 中心组学习, nobody for 送学上门, else the party members)."""
    if activity.training_class_id:
        enrolled = list(
            ClassEnrollment.objects.filter(
                training_class_id=activity.training_class_id, member__is_active=True
            )
            .order_by("member_id")
            .values_list("member_id", flat=True)
        )
        return RosterDefault(enrolled, [], "培训班学员")
    default = default_roster(activity.organization, activity.activity_type)
    invitees = default.invitees if default.invitees is not None else Member.objects.none()
    return RosterDefault(
        list(default.members.order_by("pk").values_list("pk", flat=True)),
        list(invitees.order_by("pk").values_list("pk", flat=True)),
        default.source,
    )


@transaction.atomic
def activity_record(*, actor: Actor, data: dict[str, Any]) -> Activity:
    """Record an activity and its expected roster (one UNMARKED attendance row per member).

    The roster is, in order of precedence: the explicit ``roster`` (member ids within the actor's
    scope — a party group, or one frail member for 送学上门); a training class's enrolled members;
    the default roster of the type (``rosters.default_roster``). ``invitees`` (列席, member ids
    within the actor's scope) are added as invitees; a member given as an invitee is an invitee
    even when the roster includes them. The 列席 a type offers (入党积极分子 and 发展对象, a
    中心组's 列席) are invited only when ``invite_suggested`` is true. A 送学上门 needs its
    member named: its roster may not be empty."""
    data = _clean_strings(dict(data))
    _check_fields(data, (*ACTIVITY_FIELDS, *ACTIVITY_CREATE_FIELDS))
    roster = data.pop("roster", None)
    invitees = data.pop("invitees", None)
    invite_suggested = bool(data.pop("invite_suggested", False))

    training_class = _resolve(TrainingClass, data.pop("training_class", None), "training_class", "培训班")
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None and training_class is not None:
        org = training_class.organization
    if org is None:
        raise ValidationError({"organization": ["请选择组织"]})
    require(actor, "add", org, app_label=APP, message="您无权为该组织登记活动")
    if not org.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})
    if training_class is not None:
        if training_class.organization_id != org.pk:
            raise ValidationError({"training_class": ["培训班课次须由培训班的主办组织登记"]})
        if not data.get("activity_type"):
            data["activity_type"] = (
                ActivityType.ONLINE_CLASS if training_class.is_online else ActivityType.TRAINING_SESSION
            )

    activity = Activity(organization=org, training_class=training_class, created_by=_user(actor))
    _apply_activity_data(activity, data, actor=actor)
    default = _default_roster(activity) if roster is None or invite_suggested else None
    if roster is not None:
        roster_ids = _members_in_scope(actor, _member_ids(roster, "roster"), "roster")
        source = "指定人员"
    else:
        assert default is not None
        roster_ids, source = default.member_ids, default.source
    if activity.activity_type == ActivityType.HOME_DELIVERY and not roster_ids:
        raise ValidationError({"roster": ["送学上门请指定上门看望的党员"]})
    invitee_ids = _members_in_scope(actor, _member_ids(invitees, "invitees"), "invitees")
    if invite_suggested and default is not None:
        invitee_ids = list(dict.fromkeys([*invitee_ids, *default.suggested_invitee_ids]))
    activity.checkin_opens_at, activity.checkin_closes_at = checkin_window(activity)
    activity.full_clean()
    activity.save()
    activity_counts_add([_count_key(activity, org)])

    invited = set(invitee_ids)
    rows = [Attendance(activity=activity, member_id=pk) for pk in roster_ids if pk not in invited]
    rows += [Attendance(activity=activity, member_id=pk, is_invitee=True) for pk in invitee_ids]
    Attendance.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    # A new session changes what completing the class takes.
    sync_class_hours(training_class_id=activity.training_class_id, actor=actor)
    activity_figures_sync([activity.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        changes={
            "after": snapshot(activity, AUDITED_ACTIVITY_FIELDS),
            "roster": len(rows) - len(invitee_ids),
            "invitees": len(invitee_ids),
            "roster_source": source,
        },
    )
    return activity


@dataclass
class RosterChange:
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    flipped: list[int] = field(default_factory=list)
    # Attendance ids whose rows were deleted or changed, for the hours sync.
    attendance_ids: list[int] = field(default_factory=list)


def _replace_roster(
    activity: Activity, *, actor: Actor, roster: list[int] | None, invitees: list[int] | None
) -> RosterChange:
    """Make the roster (non-invitees) and/or the invitees equal to the given member ids. Members
    newly added must be within the actor's scope; those kept need not be (an invitee from another
    district stays). Removed rows are deleted, with their marks."""
    current = {a.member_id: a for a in Attendance.objects.filter(activity=activity)}
    wanted: dict[int, bool] = {}
    for member_id, row in current.items():
        if (row.is_invitee and invitees is None) or (not row.is_invitee and roster is None):
            wanted[member_id] = row.is_invitee
    for member_id in roster or []:
        wanted[member_id] = False
    for member_id in invitees or []:
        wanted[member_id] = True
    change = RosterChange()
    new = [pk for pk in wanted if pk not in current]
    _members_in_scope(actor, new, "invitees" if roster is None else "roster")
    for member_id, row in current.items():
        if member_id not in wanted:
            change.removed.append(member_id)
            change.attendance_ids.append(row.pk)
        elif wanted[member_id] != row.is_invitee:
            change.flipped.append(member_id)
            change.attendance_ids.append(row.pk)
    if change.removed:
        Attendance.objects.filter(activity=activity, member_id__in=change.removed).delete()
    for is_invitee in (True, False):
        ids = [pk for pk in change.flipped if wanted[pk] is is_invitee]
        if ids:
            Attendance.objects.filter(activity=activity, member_id__in=ids).update(
                is_invitee=is_invitee, updated_at=timezone.now()
            )
    Attendance.objects.bulk_create(
        [Attendance(activity=activity, member_id=pk, is_invitee=wanted[pk]) for pk in new],
        batch_size=WRITE_BATCH,
    )
    change.added = new
    return change


@transaction.atomic
def activity_update(*, actor: Actor, activity: Activity, data: dict[str, Any]) -> Activity:
    """Change an activity. ``roster`` / ``invitees`` (member ids), when given, replace the current
    roster / invitees. Hours are resynced for every attendance whose worth may have changed (all
    rows when times, type or credited hours change) and for every row removed."""
    activity = _lock_activity(activity)
    require(actor, "change", activity.organization, app_label=APP, message="您无权修改该组织的活动")
    data = _clean_strings(dict(data))
    _check_fields(data, (*ACTIVITY_FIELDS, *ACTIVITY_CREATE_FIELDS))
    if "organization" in data and not _same_pk(data.pop("organization"), activity.organization_id):
        raise ValidationError({"organization": ["活动的组织不能修改，如有错误请删除后重新登记"]})
    if "training_class" in data and not _same_pk(data.pop("training_class"), activity.training_class_id):
        raise ValidationError({"training_class": ["活动所属培训班不能修改"]})
    roster = data.pop("roster", None)
    invitees = data.pop("invitees", None)

    before = snapshot(activity, AUDITED_ACTIVITY_FIELDS)
    old_key = _count_key(activity, activity.organization)
    old_minutes = activity.minutes
    default_window = (activity.start - CHECKIN_MARGIN, activity.end + CHECKIN_MARGIN)
    had_default_window = (activity.checkin_opens_at, activity.checkin_closes_at) == default_window
    _apply_activity_data(activity, data, actor=actor)
    if had_default_window and not {"checkin_opens_at", "checkin_closes_at"} & set(data):
        # The window followed the times; keep it following them.
        activity.checkin_opens_at = activity.start - CHECKIN_MARGIN
        activity.checkin_closes_at = activity.end + CHECKIN_MARGIN
    activity.full_clean()
    activity.save()
    new_key = _count_key(activity, activity.organization)
    if new_key != old_key:
        activity_counts_add([old_key, new_key], signs=(-1, 1))
    after = snapshot(activity, AUDITED_ACTIVITY_FIELDS)
    changes: dict[str, Any] = diff(before, after)
    if activity.minutes != old_minutes:
        changes["minutes"] = ["…", "…"]

    affected: set[int] = set()
    if any(before[name] != after[name] for name in HOUR_FIELDS):
        affected.update(Attendance.objects.filter(activity=activity).values_list("pk", flat=True))
    if roster is not None or invitees is not None:
        change = _replace_roster(
            activity,
            actor=actor,
            roster=_member_ids(roster, "roster") if roster is not None else None,
            invitees=_member_ids(invitees, "invitees") if invitees is not None else None,
        )
        affected.update(change.attendance_ids)
        if change.added or change.removed or change.flipped:
            changes["roster"] = {"added": change.added, "removed": change.removed, "flipped": change.flipped}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=activity, changes=changes)
    sync_attendance_hours(attendance_ids=affected, actor=actor, activity_ids=[activity.pk])
    if not affected:  # no attendance synced (none, or none changed): its month or type may have
        activity_figures_sync([activity.pk])
    if before["start"] != after["start"]:
        _activities_changed([activity.pk])
    return activity


@transaction.atomic
def activity_delete(*, actor: Actor, activity: Activity) -> None:
    """Delete an activity with its attendance and photos; the hours it credited are reversed."""
    activity = _lock_activity(activity)
    require(actor, "delete", activity.organization, app_label=APP, message="您无权删除该组织的活动")
    attendance_ids = list(Attendance.objects.filter(activity=activity).values_list("pk", flat=True))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=activity,
        changes={"before": snapshot(activity, AUDITED_ACTIVITY_FIELDS), "attendance": len(attendance_ids)},
    )
    files = [(f.file.storage, f.file.name) for f in activity.files.all()]
    activity_counts_add([_count_key(activity, activity.organization)], signs=(-1,))
    activity_pk = activity.pk
    activity.delete()
    sync_attendance_hours(attendance_ids=attendance_ids, actor=actor, activity_ids=[activity_pk])
    sync_class_hours(training_class_id=activity.training_class_id, actor=actor)
    if not attendance_ids:  # else the attendance sync above has removed its figures
        activity_figures_sync([activity_pk])
    _activities_changed([activity_pk])
    # Stored images go once the deletion has committed (a rollback keeps them).
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))


@transaction.atomic
def activity_files_update(
    *,
    actor: Actor,
    activity: Activity,
    photos: Sequence[Any] = (),
    sign_in_sheet: Any = None,
    remove: Iterable[Any] = (),
) -> Activity:
    """Add photos (at most ``MAX_PHOTOS`` in all) and/or replace the sign-in sheet scan of an
    activity, and drop the files ticked for removal, with one audit row. Files must be images
    (``ActivityFile.file`` is an ImageField; Pillow checks the content, not the name)."""
    activity = _lock_activity(activity)
    require(actor, "change", activity.organization, app_label=APP, message="您无权修改该组织的活动")
    remove_ids = [int(pk) for pk in remove]
    for upload in [*photos, *([sign_in_sheet] if sign_in_sheet else [])]:
        width, _height = get_image_dimensions(upload)
        if not width:
            raise ValidationError(
                {"photos": [f"“{getattr(upload, 'name', '')}”不是有效的图片文件，请上传照片（JPG、PNG）"]}
            )
    removed = list(ActivityFile.objects.filter(activity=activity, pk__in=remove_ids))
    if sign_in_sheet:
        removed += list(
            ActivityFile.objects.filter(activity=activity, kind=FileKind.SIGN_IN_SHEET).exclude(
                pk__in=remove_ids
            )
        )
    kept_photos = (
        ActivityFile.objects.filter(activity=activity, kind=FileKind.PHOTO)
        .exclude(pk__in=[f.pk for f in removed])
        .count()
    )
    if kept_photos + len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": [f"每次活动最多保存{MAX_PHOTOS}张照片，已有{kept_photos}张"]})
    for old in removed:
        # The file goes only once the transaction has committed.
        transaction.on_commit(partial(old.file.storage.delete, old.file.name))
        old.delete()
    added = [ActivityFile(activity=activity, kind=FileKind.PHOTO, file=photo) for photo in photos]
    if sign_in_sheet:
        added.append(ActivityFile(activity=activity, kind=FileKind.SIGN_IN_SHEET, file=sign_in_sheet))
    for item in added:
        item.full_clean(exclude=["activity"])
        item.save()
    if added or removed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=activity,
            changes={"files": {"added": len(added), "removed": len(removed)}},
            message="上传或删除活动图片",
        )
    return activity
