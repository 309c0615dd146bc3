"""Writes to study: activities and their rosters, attendance and make-up study, study plans,
training classes and enrolment, teaching sites, education bases, printed study materials and
cadence rules.

Every service runs in one transaction, validates everything before it writes, checks the actor's
scope on the organisation it writes to (``PermissionDenied``), raises ``ValidationError({field:
[中文]})`` for bad input and writes its audit row in the same transaction. ``actor=None`` is the
system (commands, demo seed) and passes every scope check.

Learning hours are derived from attendance by the learning app. Every service here that creates,
changes or deletes attendance — or changes what an attendance is worth (times, credited hours,
type) — ends by calling ``sync_attendance_hours`` with the ids it touched, inside its transaction,
so the ledger is corrected in the same commit as its source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Case, Count, F, When
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import path_in, role_paths, subtree_q, user_scope
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from .choices import ActivityType, AttendanceMethod, AttendanceStatus, PlanKind, SiteKind
from .models import (
    MONTH_FIELDS,
    Activity,
    ActivityMonthCount,
    Attendance,
    CadenceRule,
    ClassEnrollment,
    EducationBase,
    MaterialDistribution,
    RequiredTopic,
    StudyMaterial,
    StudyPlan,
    TeachingSite,
    TrainingClass,
)

APP = "study"
# Default check-in window around an activity (DOMAIN_RULES leaves it to local practice).
CHECKIN_MARGIN = timedelta(minutes=30)
WRITE_BATCH = 1000

M = TypeVar("M", bound=models.Model)


# --- shared helpers ------------------------------------------------------------------------------


def _user(actor: Any) -> Any:
    """The actor as a value for a user foreign key (None for the system or an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_org(actor: Any, action: str, org: Organization, message: str) -> None:
    if actor is None:
        return
    if not path_in(org.path, user_scope(actor, action, APP).paths):
        raise PermissionDenied(message)


def _require_policy(actor: Any, org: Organization) -> None:
    """Cadence rules are policy: set by the organisation departments (组织部/工委管理员) over
    their subtree, never by a branch for itself."""
    if actor is None:
        return
    if not path_in(org.path, role_paths(actor, RoleCode.ORG_ADMIN)):
        raise PermissionDenied("组织生活频次规定由组织部门（组织部/工委管理员）设置")


def _is_ancestor_or_self(ancestor_path: str, path: str) -> bool:
    return path.startswith(ancestor_path)


def _reachable(actor: Any, owner: Organization, org: Organization) -> bool:
    """Whether a place, plan or material owned by ``owner`` may be used by ``org``'s activity: it
    belongs to the organisation itself or to one above it (a district's party school, a city's
    education base), or it lies within the actor's own view scope."""
    if _is_ancestor_or_self(owner.path, org.path):
        return True
    return actor is None or path_in(owner.path, user_scope(actor, "view", APP).paths)


def _resolve(model: type[M], value: Any, field_name: str, label: str) -> M | None:
    """An instance given as itself or by primary key; a missing one is a field error."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        return model._default_manager.get(pk=value)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise ValidationError({field_name: [f"{label}不存在或不在您的管理范围内"]}) from None


def _member_ids(values: Iterable[Any] | None, field_name: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        pk = value.pk if isinstance(value, Member) else value
        try:
            out.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError({field_name: [f"无效的党员编号：{value}"]}) from None
    return list(dict.fromkeys(out))


def _members_in_scope(actor: Any, ids: Sequence[int], field_name: str) -> list[int]:
    """The given members, all of whom must be on the roll and visible to the actor; otherwise a
    field error naming them (by id when out of scope, so a name outside scope is never revealed)."""
    if not ids:
        return []
    qs = Member.objects.all() if actor is None else Member.objects.restrict(actor, "view")
    found = {
        pk: (active, name)
        for pk, active, name in qs.filter(pk__in=ids).values_list("pk", "is_active", "name")
    }
    errors = []
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        errors.append(f"以下党员不存在或不在您的管理范围内：ID {'、'.join(unknown)}")
    inactive = [found[pk][1] for pk in ids if pk in found and not found[pk][0]]
    if inactive:
        errors.append(f"以下党员已离册：{'、'.join(inactive)}")
    if errors:
        raise ValidationError({field_name: errors})
    return list(ids)


def _check_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})


def _clean_strings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def sync_attendance_hours(
    *, attendance_ids: Iterable[int], actor: Any, member_ids: Iterable[int] | None = None
) -> None:
    """Have the learning ledger recompute what each attendance credits (0 for a row that no longer
    exists) and append correcting rows. Call inside the transaction that changed the rows.
    ``member_ids``: the rows' members when at hand (spares the ledger looking them up)."""
    ids = sorted(set(attendance_ids))
    if not ids:
        return
    from partyedu.learning.services import learning_hours_sync_attendance

    if member_ids is None:
        learning_hours_sync_attendance(attendance_ids=ids, actor=actor)
    else:
        learning_hours_sync_attendance(attendance_ids=ids, actor=actor, member_ids=sorted(set(member_ids)))


def _lectures_activities_changed(activity_ids: list[int]) -> None:
    """The lecture statistics count a 党课 by its activity's year; keep their summary rows in step
    when an activity's date changed or it was deleted (with its lecture), in the same transaction."""
    from partyedu.lectures.summaries import lectures_activities_changed

    lectures_activities_changed(activity_ids=activity_ids)


def checkin_window(activity: Activity) -> tuple[datetime, datetime]:
    """When members may check themselves in: as set on the activity, else from 30 minutes before
    the start to 30 minutes after the end."""
    opens = activity.checkin_opens_at or activity.start - CHECKIN_MARGIN
    closes = activity.checkin_closes_at or activity.end + CHECKIN_MARGIN
    return opens, closes


# --- activities ----------------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "activity_type",
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
    "checkin_opens_at",
    "checkin_closes_at",
)
# Given at creation only: an activity does not move to another organisation or class.
ACTIVITY_CREATE_FIELDS = ("organization", "training_class", "roster", "invitees")
AUDITED_ACTIVITY_FIELDS = (
    "organization",
    "activity_type",
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
    "checkin_opens_at",
    "checkin_closes_at",
)
# Fields whose change changes what an attendance credits.
HOUR_FIELDS = ("activity_type", "start", "end", "credited_hours")
CLASS_SESSION_TYPES = (ActivityType.TRAINING_SESSION, ActivityType.ONLINE_CLASS)


def _apply_activity_data(activity: Activity, data: dict[str, Any], *, actor: Any) -> None:
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
            resolved[name] = _resolve(model, resolved[name], name, label)  # type: ignore[type-var]
    for name in ("start", "end", "checkin_opens_at", "checkin_closes_at"):
        if name in resolved:
            resolved[name] = _aware(resolved[name])
    for name, value in resolved.items():
        if name in ("place", "host", "recorder", "minutes", "topic") and value is None:
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


def _default_roster(activity: Activity) -> list[int]:
    if activity.training_class_id:
        return list(
            ClassEnrollment.objects.filter(
                training_class_id=activity.training_class_id, member__is_active=True
            )
            .order_by("member_id")
            .values_list("member_id", flat=True)
        )
    return list(
        Member.objects.filter(subtree_q("org_path", [activity.organization.path]), is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def activity_record(*, actor: Any, data: dict[str, Any]) -> Activity:
    """Record an activity and its expected roster (one UNMARKED attendance row per member).

    The roster is, in order of precedence: the explicit ``roster`` (member ids within the actor's
    scope — a party group, or one frail member for 送学上门); a training class's enrolled members;
    the active members of the organisation's whole subtree. ``invitees`` (列席, member ids within
    the actor's scope) are added as invitees; a member given as an invitee is an invitee even when
    the roster includes them."""
    data = _clean_strings(dict(data))
    _check_fields(data, (*ACTIVITY_FIELDS, *ACTIVITY_CREATE_FIELDS))
    roster = data.pop("roster", None)
    invitees = data.pop("invitees", None)

    training_class = _resolve(TrainingClass, data.pop("training_class", None), "training_class", "培训班")
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None and training_class is not None:
        org = training_class.organization
    if org is None:
        raise ValidationError({"organization": ["请选择组织"]})
    _require_org(actor, "add", org, "您无权为该组织登记活动")
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
    roster_ids = (
        _members_in_scope(actor, _member_ids(roster, "roster"), "roster")
        if roster is not None
        else _default_roster(activity)
    )
    invitee_ids = _members_in_scope(actor, _member_ids(invitees, "invitees"), "invitees")
    activity.checkin_opens_at, activity.checkin_closes_at = checkin_window(activity)
    activity.full_clean()
    activity.save()
    activity_counts_add([_count_key(activity, org)])

    invited = set(invitee_ids)
    rows = [Attendance(activity=activity, member_id=pk) for pk in roster_ids if pk not in invited]
    rows += [Attendance(activity=activity, member_id=pk, is_invitee=True) for pk in invitee_ids]
    Attendance.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        changes={
            "after": snapshot(activity, AUDITED_ACTIVITY_FIELDS),
            "roster": len(rows) - len(invitee_ids),
            "invitees": len(invitee_ids),
        },
    )
    return activity


def _lock_activity(activity: Activity | int) -> Activity:
    pk = activity.pk if isinstance(activity, Activity) else activity
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("organization", "training_class")
        .get(pk=pk)
    )


def _same_pk(value: Any, current: int | None) -> bool:
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return (None if pk in (None, "") else int(pk)) == current
    except (TypeError, ValueError):
        return False


@dataclass
class RosterChange:
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    flipped: list[int] = field(default_factory=list)
    # Attendance ids whose rows were deleted or changed, for the hours sync.
    attendance_ids: list[int] = field(default_factory=list)


def _replace_roster(
    activity: Activity, *, actor: Any, roster: list[int] | None, invitees: list[int] | None
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
def activity_update(*, actor: Any, activity: Activity, data: dict[str, Any]) -> Activity:
    """Change an activity. ``roster`` / ``invitees`` (member ids), when given, replace the current
    roster / invitees. Hours are resynced for every attendance whose worth may have changed (all
    rows when times, type or credited hours change) and for every row removed."""
    activity = _lock_activity(activity)
    _require_org(actor, "change", activity.organization, "您无权修改该组织的活动")
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
    sync_attendance_hours(attendance_ids=affected, actor=actor)
    if before["start"] != after["start"]:
        _lectures_activities_changed([activity.pk])
    return activity


@transaction.atomic
def activity_delete(*, actor: Any, activity: Activity) -> None:
    """Delete an activity with its attendance and photos; the hours it credited are reversed."""
    activity = _lock_activity(activity)
    _require_org(actor, "delete", activity.organization, "您无权删除该组织的活动")
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
    sync_attendance_hours(attendance_ids=attendance_ids, actor=actor)
    _lectures_activities_changed([activity_pk])
    # Stored images go once the deletion has committed (a rollback keeps them).
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))


# --- monthly counts of activities (the cadence report's summary) --------------------------------

CountKey = tuple[int, int, str, int]  # (counted organisation, year, activity type, month)


def counted_organization_id(org: Organization) -> int:
    """The organisation an activity of ``org`` is counted for: a party group's branch (groups
    exist only under branches, and a group stays a group), else ``org`` itself."""
    if org.level == OrgLevel.GROUP and org.parent_id is not None:
        return org.parent_id
    return org.pk


def _count_key(activity: Activity, org: Organization) -> CountKey:
    local = timezone.localtime(activity.start)
    return (counted_organization_id(org), local.year, activity.activity_type, local.month)


def activity_counts_add(keys: Sequence[CountKey], signs: Sequence[int] | None = None) -> None:
    """Add ``signs[i]`` (default +1) to the month of ``keys[i]`` in ``ActivityMonthCount``, by
    increments (``INSERT … ON CONFLICT DO UPDATE SET m = m + excluded.m``), so concurrent writers
    never lose one another's change. Called inside the transaction that writes the activity."""
    deltas: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0] * 12)
    for (org_id, year, activity_type, month), sign in zip(keys, signs or [1] * len(keys), strict=True):
        deltas[(org_id, year, activity_type)][month - 1] += sign
    rows = [(key, months) for key, months in sorted(deltas.items()) if any(months)]
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(ActivityMonthCount._meta.db_table)
    keys_sql = ", ".join(qn(c) for c in ("organization_id", "year", "activity_type"))
    columns = f"{keys_sql}, {', '.join(qn(m) for m in MONTH_FIELDS)}"
    sets = ", ".join(f"{qn(m)} = {table}.{qn(m)} + excluded.{qn(m)}" for m in MONTH_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * 15) + ")"
    params: list[Any] = []
    for key, months in rows:
        params += [*key, *months]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(rows))} "
            f"ON CONFLICT ({keys_sql}) DO UPDATE SET {sets}",
            params,
        )


def _month_counts_of(
    activities: models.QuerySet[Activity], counted: Any
) -> dict[tuple[int, int, str], list[int]]:
    """``{(organisation, year, type): [12 monthly counts]}`` of the activities, each counted for
    the organisation the expression ``counted`` gives (months in local time, as the report)."""
    rows = (
        activities.annotate(counted=counted, year=ExtractYear("start"), month=ExtractMonth("start"))
        .values("counted", "year", "activity_type", "month")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("counted", "year", "activity_type", "month", "n")
    )
    counts: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0] * 12)
    for org_id, year, activity_type, month, n in rows.iterator(chunk_size=10_000):
        counts[(org_id, year, activity_type)][month - 1] += n
    return counts


def activity_counts_org_moved(*, organization: Organization, old_parent_id: int | None) -> None:
    """A party group moved to another branch: its activities now count for the new branch
    (call inside ``organization_move``'s transaction; other organisations keep their key)."""
    if organization.level != OrgLevel.GROUP or old_parent_id == organization.parent_id:
        return
    counts = _month_counts_of(Activity.objects.filter(organization=organization), F("organization_id"))
    keys: list[CountKey] = []
    signs: list[int] = []
    for (_org, year, activity_type), months in counts.items():
        for month, n in enumerate(months, start=1):
            if not n:
                continue
            if old_parent_id is not None:
                keys.append((old_parent_id, year, activity_type, month))
                signs.append(-n)
            keys.append((counted_organization_id(organization), year, activity_type, month))
            signs.append(n)
    activity_counts_add(keys, signs)


def activity_counts_rebuild(*, apply: bool = False) -> int:
    """Compare ``ActivityMonthCount`` with a recount of every activity (a party group's counted
    for its branch) and return how many rows differ; with ``apply``, make them equal. One grouped
    query over the activities (a city's year: a few seconds)."""
    counted = Case(
        When(
            organization__level=OrgLevel.GROUP,
            organization__parent__isnull=False,
            then=F("organization__parent_id"),
        ),
        default=F("organization_id"),
    )
    want = _month_counts_of(Activity.objects.all(), counted)
    have = {
        (row.organization_id, row.year, row.activity_type): row for row in ActivityMonthCount.objects.all()
    }
    create: list[ActivityMonthCount] = []
    update: list[ActivityMonthCount] = []
    delete: list[int] = []
    for key, months in want.items():
        row = have.get(key)
        if row is None:
            org_id, year, activity_type = key
            create.append(
                ActivityMonthCount(
                    organization_id=org_id,
                    year=year,
                    activity_type=activity_type,
                    **dict(zip(MONTH_FIELDS, months, strict=True)),
                )
            )
        elif row.months != months:
            for name, n in zip(MONTH_FIELDS, months, strict=True):
                setattr(row, name, n)
            update.append(row)
    for key, row in have.items():
        if key not in want and any(row.months):
            delete.append(row.pk)
    if apply:
        with transaction.atomic():
            ActivityMonthCount.objects.filter(pk__in=delete).delete()
            ActivityMonthCount.objects.bulk_create(create, batch_size=2000)
            ActivityMonthCount.objects.bulk_update(update, list(MONTH_FIELDS), batch_size=2000)
    return len(create) + len(update) + len(delete)


# --- attendance ----------------------------------------------------------------------------------

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


def _apply_mark(row: Attendance, status: str, *, method: str, at: datetime, user: Any) -> None:
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
    actor: Any,
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
    _require_org(actor, "change", activity.organization, "您无权登记该活动的出勤")
    if method not in AttendanceMethod.values:
        raise ValidationError({"method": ["未知的登记方式"]})

    errors: list[str] = []
    wanted: dict[int, str] = {}
    for number, record in enumerate(records, start=1):
        member = record.get("member") if isinstance(record, dict) else None
        status = record.get("status") if isinstance(record, dict) else None
        status = "" if status is None else str(status)
        try:
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
        sync_attendance_hours(attendance_ids=[row.pk for row in changed], actor=actor)
    return AttendanceMarkResult(changed=changed, unchanged=len(wanted) - len(changed))


def _lock_attendance(attendance: Attendance) -> tuple[Activity, Attendance]:
    activity = _lock_activity(attendance.activity_id)
    row = Attendance.objects.select_for_update(of=("self",)).select_related("member").get(pk=attendance.pk)
    return activity, row


@transaction.atomic
def attendance_makeup_request(*, actor: Any, attendance: Attendance, note: str = "") -> Attendance:
    """A member absent or on leave reports 补学 (make-up study) of the activity; the member
    themself or a secretary in scope may report it. It credits hours only once confirmed."""
    activity, row = _lock_attendance(attendance)
    own = (
        actor is not None
        and row.member.user_id is not None
        and row.member.user_id == getattr(actor, "pk", None)
    )
    if not own:
        _require_org(actor, "change", activity.organization, "您无权为该党员登记补学")
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
    sync_attendance_hours(attendance_ids=[row.pk], actor=actor)
    return row


@transaction.atomic
def attendance_makeup_confirm(*, actor: Any, attendance: Attendance) -> Attendance:
    """The secretary confirms a reported 补学; from then on it credits hours. Confirming twice
    changes nothing."""
    activity, row = _lock_attendance(attendance)
    _require_org(actor, "change", activity.organization, "您无权确认该党员的补学")
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
    sync_attendance_hours(attendance_ids=[row.pk], actor=actor)
    return row


# --- study plans ---------------------------------------------------------------------------------

PLAN_FIELDS = ("organization", "title", "kind", "year", "description", "topics")
PLAN_AUDIT_FIELDS = ("organization", "title", "kind", "year")
TOPIC_FIELDS = ("title", "description", "due_date", "sort_order")


def _plan_errors(plan: StudyPlan) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not plan.title:
        errors["title"] = ["请填写计划名称"]
    if not plan.year or not 2000 <= int(plan.year) <= 2100:
        errors["year"] = ["请填写正确的年度"]
    return errors


@transaction.atomic
def study_plan_issue(*, actor: Any, data: dict[str, Any]) -> StudyPlan:
    """Issue a study plan to an organisation's subtree, with its required topics (必修课):
    ``topics`` is a list of ``{"title", "description"?, "due_date"?}``."""
    data = _clean_strings(dict(data))
    _check_fields(data, PLAN_FIELDS)
    topics = data.pop("topics", None) or []
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择下发组织"]})
    _require_org(actor, "add", org, "您无权以该组织名义下发学习计划")
    plan = StudyPlan(organization=org, issued_by=_user(actor), **data)
    if not plan.kind:
        plan.kind = PlanKind.ANNUAL
    errors = _plan_errors(plan)
    topic_rows = []
    for number, item in enumerate(topics, start=1):
        item = _clean_strings(dict(item))
        unknown = [k for k in item if k not in TOPIC_FIELDS]
        if unknown or not item.get("title"):
            errors.setdefault("topics", []).append(f"第{number}个专题：请填写专题名称")
            continue
        item.setdefault("sort_order", number)
        topic_rows.append(RequiredTopic(**item))
    if errors:
        raise ValidationError(errors)
    plan.full_clean()
    plan.save()
    for topic in topic_rows:
        topic.plan = plan
        topic.full_clean()
    RequiredTopic.objects.bulk_create(topic_rows)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        changes={
            "after": snapshot(plan, PLAN_AUDIT_FIELDS),
            "topics": [t.title for t in topic_rows],
        },
    )
    return plan


def _topic_log(topic: RequiredTopic) -> str:
    return f"{topic.title}（{topic.due_date:%Y-%m-%d}）" if topic.due_date else topic.title


def _replace_topics(plan: StudyPlan, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Make the plan's required topics equal to ``items`` (in this order): an item with the
    ``id`` of one of the plan's topics changes it, one without adds a topic, and a topic left out
    is removed. A topic that activities already cover is never removed (the activities would
    silently lose it): the whole change is refused. Returns the audit log of what changed."""
    # Locked so that an activity being recorded against a topic meanwhile either commits first
    # (and is counted below) or waits and then fails on the deleted topic.
    current = {t.pk: t for t in plan.topics.select_for_update()}
    errors: list[str] = []
    kept: set[int] = set()
    rows: list[tuple[RequiredTopic, bool]] = []
    for number, raw in enumerate(items, start=1):
        item = _clean_strings(dict(raw))
        pk = item.pop("id", None)
        unknown = [k for k in item if k not in TOPIC_FIELDS]
        if unknown or not item.get("title"):
            errors.append(f"第{number}个专题：请填写专题名称")
            continue
        if pk in (None, ""):
            topic = RequiredTopic(plan=plan)
        else:
            try:
                topic = current[int(pk)]
            except (KeyError, TypeError, ValueError):
                errors.append(f"第{number}个专题不属于本计划")
                continue
            if topic.pk in kept:
                errors.append(f"第{number}个专题重复")
                continue
            kept.add(topic.pk)
        before = (topic.title, topic.description, topic.due_date, topic.sort_order)
        for name, value in item.items():
            setattr(topic, name, value)
        topic.sort_order = number
        rows.append((topic, before != (topic.title, topic.description, topic.due_date, topic.sort_order)))
    removed = [t for pk, t in current.items() if pk not in kept]
    if removed:
        used = dict(
            Activity.objects.filter(required_topic__in=removed)
            .values("required_topic_id")
            .annotate(n=models.Count("id"))
            .order_by()
            .values_list("required_topic_id", "n")
        )
        for topic in removed:
            if used.get(topic.pk):
                errors.append(
                    f"专题“{topic.title}”已有{used[topic.pk]}次活动对应，不能删除；"
                    "如需调整，请修改专题名称或完成期限"
                )
    if errors:
        raise ValidationError({"topics": errors})
    log: dict[str, Any] = {}
    if removed:
        log["removed"] = [_topic_log(t) for t in removed]
        RequiredTopic.objects.filter(pk__in=[t.pk for t in removed]).delete()
    for topic, changed in rows:
        if topic.pk is None:
            topic.full_clean()
            topic.save()
            log.setdefault("added", []).append(_topic_log(topic))
        elif changed:
            topic.full_clean()
            topic.save()
            log.setdefault("changed", []).append(_topic_log(topic))
    return log


@transaction.atomic
def study_plan_update(*, actor: Any, plan: StudyPlan, data: dict[str, Any]) -> StudyPlan:
    """Change a study plan: its title, kind, year and description, and — when ``topics`` is given
    — its required topics, a list of ``{"id"?, "title", "description"?, "due_date"?}`` that
    replaces them (see ``_replace_topics``). The issuing organisation is fixed."""
    plan = StudyPlan.objects.select_for_update(of=("self",)).select_related("organization").get(pk=plan.pk)
    _require_org(actor, "change", plan.organization, "您无权修改该学习计划")
    data = _clean_strings(dict(data))
    _check_fields(data, PLAN_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), plan.organization_id):
        raise ValidationError({"organization": ["学习计划的下发组织不能修改"]})
    topics = data.pop("topics", None)
    before = snapshot(plan, PLAN_AUDIT_FIELDS)
    old_description = plan.description
    for name, value in data.items():
        setattr(plan, name, "" if name == "description" and value is None else value)
    errors = _plan_errors(plan)
    if errors:
        raise ValidationError(errors)
    plan.full_clean()
    plan.save()
    changes: dict[str, Any] = diff(before, snapshot(plan, PLAN_AUDIT_FIELDS))
    if plan.description != old_description:
        changes["description"] = ["…", "…"]
    if topics is not None:
        topic_log = _replace_topics(plan, list(topics))
        if topic_log:
            changes["topics"] = topic_log
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=plan, changes=changes)
    return plan


# --- training classes ----------------------------------------------------------------------------

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


def _apply_class_data(tc: TrainingClass, data: dict[str, Any], *, actor: Any) -> None:
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
def training_class_create(*, actor: Any, data: dict[str, Any]) -> TrainingClass:
    """Open a training class (培训班). ``members`` (ids) may enrol members at once."""
    data = _clean_strings(dict(data))
    members = data.pop("members", None)
    _check_fields(data, CLASS_FIELDS)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择主办组织"]})
    _require_org(actor, "add", org, "您无权以该组织名义举办培训班")
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
    *, actor: Any, training_class: TrainingClass, data: dict[str, Any]
) -> TrainingClass:
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    _require_org(actor, "change", tc.organization, "您无权修改该培训班")
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
    return tc


def _enroll(actor: Any, tc: TrainingClass, ids: list[int]) -> list[int]:
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
def training_class_enroll(*, actor: Any, training_class: TrainingClass, members: Iterable[Any]) -> list[int]:
    """Enrol members (ids within the actor's scope) in a class; enrolling again changes nothing.
    New enrollees join the roster of the sessions still to come. Returns the newly enrolled ids."""
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    _require_org(actor, "change", tc.organization, "您无权管理该培训班的学员")
    return _enroll(actor, tc, _member_ids(members, "members"))


@transaction.atomic
def training_class_unenroll(
    *, actor: Any, training_class: TrainingClass, members: Iterable[Any]
) -> list[int]:
    """Withdraw members from a class. They leave the roster of sessions still to come; past
    sessions keep their attendance (and the hours it earned). Returns the withdrawn ids."""
    tc = (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=training_class.pk)
    )
    _require_org(actor, "change", tc.organization, "您无权管理该培训班的学员")
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
    attendance_ids = list(upcoming.values_list("pk", flat=True))
    Attendance.objects.filter(pk__in=attendance_ids).delete()
    if removed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=tc,
            changes={"withdrawn": removed},
            message=f"退出{len(removed)}人",
        )
    sync_attendance_hours(attendance_ids=attendance_ids, actor=actor)
    return removed


# --- teaching sites and education bases ----------------------------------------------------------

SITE_FIELDS = ("organization", "name", "kind", "address", "capacity", "contact", "is_active")
BASE_FIELDS = ("organization", "name", "base_type", "address", "description", "is_active")


def _place_create(
    actor: Any, model: type[TeachingSite] | type[EducationBase], data: dict[str, Any], fields: tuple[str, ...]
) -> Any:
    data = _clean_strings(dict(data))
    _check_fields(data, fields)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择所属组织"]})
    _require_org(actor, "add", org, "您无权为该组织登记")
    instance = model(organization=org, **data)
    if not instance.name:
        raise ValidationError({"name": ["请填写名称"]})
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=instance,
        changes={"after": snapshot(instance, fields)},
    )
    return instance


def _place_update(actor: Any, instance: Any, data: dict[str, Any], fields: tuple[str, ...]) -> Any:
    instance = (
        type(instance)
        .objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=instance.pk)
    )
    _require_org(actor, "change", instance.organization, "您无权修改")
    data = _clean_strings(dict(data))
    _check_fields(data, fields)
    if "organization" in data and not _same_pk(data.pop("organization"), instance.organization_id):
        raise ValidationError({"organization": ["所属组织不能修改"]})
    before = snapshot(instance, fields)
    for name, value in data.items():
        setattr(instance, name, value)
    if not instance.name:
        raise ValidationError({"name": ["请填写名称"]})
    instance.full_clean()
    instance.save()
    changes = diff(before, snapshot(instance, fields))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes)
    return instance


@transaction.atomic
def teaching_site_create(*, actor: Any, data: dict[str, Any]) -> TeachingSite:
    """Register a teaching site of the party school network ("1+5+N")."""
    data = dict(data)
    data.setdefault("kind", SiteKind.SITE)
    site: TeachingSite = _place_create(actor, TeachingSite, data, SITE_FIELDS)
    return site


@transaction.atomic
def teaching_site_update(*, actor: Any, site: TeachingSite, data: dict[str, Any]) -> TeachingSite:
    updated: TeachingSite = _place_update(actor, site, data, SITE_FIELDS)
    return updated


@transaction.atomic
def education_base_create(*, actor: Any, data: dict[str, Any]) -> EducationBase:
    """Register an education base (红色教育基地 …); its visits are activities held there."""
    base: EducationBase = _place_create(actor, EducationBase, data, BASE_FIELDS)
    return base


@transaction.atomic
def education_base_update(*, actor: Any, base: EducationBase, data: dict[str, Any]) -> EducationBase:
    updated: EducationBase = _place_update(actor, base, data, BASE_FIELDS)
    return updated


# --- printed study materials ---------------------------------------------------------------------

MATERIAL_FIELDS = ("organization", "title", "year")


def _material_errors(material: StudyMaterial) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not material.title:
        errors["title"] = ["请填写材料名称"]
    if not material.year or not 2000 <= int(material.year) <= 2100:
        errors["year"] = ["请填写正确的年度"]
    return errors


@transaction.atomic
def material_create(*, actor: Any, data: dict[str, Any]) -> StudyMaterial:
    """Record a printed study material handed out to members (人手一册)."""
    data = _clean_strings(dict(data))
    _check_fields(data, MATERIAL_FIELDS)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择发放组织"]})
    _require_org(actor, "add", org, "您无权以该组织名义发放学习材料")
    material = StudyMaterial(organization=org, **data)
    errors = _material_errors(material)
    if errors:
        raise ValidationError(errors)
    material.full_clean()
    material.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=material,
        changes={"after": snapshot(material, MATERIAL_FIELDS)},
    )
    return material


@transaction.atomic
def material_update(*, actor: Any, material: StudyMaterial, data: dict[str, Any]) -> StudyMaterial:
    """Correct a study material's title or year. The issuing organisation is fixed: the copies
    handed out were counted against its subtree."""
    material = (
        StudyMaterial.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=material.pk)
    )
    _require_org(actor, "change", material.organization, "您无权修改该学习材料")
    data = _clean_strings(dict(data))
    _check_fields(data, MATERIAL_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), material.organization_id):
        raise ValidationError({"organization": ["学习材料的发放组织不能修改"]})
    before = snapshot(material, MATERIAL_FIELDS)
    for name, value in data.items():
        setattr(material, name, value)
    errors = _material_errors(material)
    if errors:
        raise ValidationError(errors)
    material.full_clean()
    material.save()
    changes = diff(before, snapshot(material, MATERIAL_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=material, changes=changes)
    return material


@transaction.atomic
def material_distribute(
    *, actor: Any, material: StudyMaterial, members: Iterable[Any], distributed_on: date | None = None
) -> list[int]:
    """Record that members received a copy. Members must lie within the material's organisation
    subtree and the actor's study scope (a branch secretary records the city's booklet for the
    branch). Recording a member again changes nothing. Returns the newly recorded member ids."""
    material = (
        StudyMaterial.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=material.pk)
    )
    ids = _member_ids(members, "members")
    if not ids:
        raise ValidationError({"members": ["请选择党员"]})
    qs = Member.objects.filter(pk__in=ids, is_active=True).filter(
        subtree_q("org_path", [material.organization.path])
    )
    if actor is not None:
        qs = qs.filter(subtree_q("org_path", user_scope(actor, "add", APP).paths))
    allowed = set(qs.values_list("pk", flat=True))
    refused = [str(pk) for pk in ids if pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "members": [
                    f"以下党员不存在、已离册或不在本材料的发放范围及您的管理范围内：ID {'、'.join(refused)}"
                ]
            }
        )
    existing = set(
        MaterialDistribution.objects.filter(material=material, member_id__in=ids).values_list(
            "member_id", flat=True
        )
    )
    new = [pk for pk in ids if pk not in existing]
    day = distributed_on or timezone.localdate()
    MaterialDistribution.objects.bulk_create(
        [MaterialDistribution(material=material, member_id=pk, distributed_on=day) for pk in new],
        batch_size=WRITE_BATCH,
        ignore_conflicts=True,
    )
    if new:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=material,
            changes={"distributed": new},
            message=f"发放{len(new)}份",
        )
    return new


# --- cadence rules -------------------------------------------------------------------------------

PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)


@transaction.atomic
def cadence_rule_set(
    *, actor: Any, organization: Organization, activity_type: str, per_months: int, times: int = 1
) -> CadenceRule:
    """Set how often the organisation's subtree must hold an activity type (overriding the
    DOMAIN_RULES default and any rule above). ``times=0`` lifts the requirement for the subtree."""
    _require_org(actor, "change", organization, "您无权设置该组织的组织生活频次")
    _require_policy(actor, organization)
    errors: dict[str, list[str]] = {}
    if activity_type not in ActivityType.values:
        errors["activity_type"] = ["请选择活动类型"]
    if per_months not in PERIOD_MONTHS:
        errors["per_months"] = ["周期应为1、2、3、4、6或12个月"]
    if times < 0:
        errors["times"] = ["次数不能为负数"]
    if errors:
        raise ValidationError(errors)
    rule = CadenceRule.objects.filter(organization=organization, activity_type=activity_type).first()
    before = snapshot(rule, ("per_months", "times")) if rule else {}
    rule = rule or CadenceRule(organization=organization, activity_type=activity_type)
    rule.per_months, rule.times = per_months, times
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=rule,
        changes=diff(before, snapshot(rule, ("per_months", "times"))),
    )
    return rule


@transaction.atomic
def cadence_rule_delete(*, actor: Any, rule: CadenceRule) -> None:
    """Remove an override; the rule above (or the default) applies again."""
    rule = CadenceRule.objects.select_related("organization").get(pk=rule.pk)
    _require_org(actor, "change", rule.organization, "您无权设置该组织的组织生活频次")
    _require_policy(actor, rule.organization)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=rule,
        changes={"before": snapshot(rule, ("organization", "activity_type", "per_months", "times"))},
    )
    rule.delete()


@transaction.atomic
def activity_files_update(
    *,
    actor: Any,
    activity: Activity,
    photos: Sequence[Any] = (),
    sign_in_sheet: Any = None,
    remove: Iterable[Any] = (),
) -> Activity:
    """Add photos (at most ``MAX_PHOTOS`` in all) and/or replace the sign-in sheet scan of an
    activity, and drop the files ticked for removal, with one audit row. Files must be images
    (``ActivityFile.file`` is an ImageField; Pillow checks the content, not the name)."""
    from django.core.files.images import get_image_dimensions

    from .choices import MAX_PHOTOS, FileKind
    from .models import ActivityFile

    activity = _lock_activity(activity)
    _require_org(actor, "change", activity.organization, "您无权修改该组织的活动")
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
