"""Writes of the learning app: the hour ledger (学时台账), the summaries kept with it, hour
requirements, online study resources and their server-measured progress, and the rebuild that
proves every derived row equals a recomputation from the sources.

The ledger is append-only. A source (an attendance row, a member's progress on a resource, a
manual record) credits hours; when it changes, ``_sync_sources`` compares what the source credits
now with the ledger's net for it and appends a correcting row. ``version`` numbers the rows of one
(source, member, kind, year) and is part of a unique key, so two writers can never append the same
correction twice.

Three summaries follow the ledger in the same transaction, each proven by ``learning_hours_rebuild``:
``MemberYearHours`` (a member's hours of a year by kind), ``MemberRequirement`` (the requirement a
member is counted under) and the cumulative per-organisation counts ``OrgRequirementCounts`` and
``OrgYearCompletion`` that serve the completion summary of any subtree from one row — and, beside
them, ``OrgCategoryCounts`` and ``OrgYearCategoryCompletion``, the same by member category.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.bulk import adapt, insert_plain
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import EXPORT_PROGRESS_EVERY
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.models import Job
from partyedu.core.scope import path_in, role_paths, subtree_q, user_scope
from partyedu.members.models import Member
from partyedu.members.selectors import member_of_user
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from .choices import MEDIA_KINDS, HourKind, RequirementGroup, ResourceKind, SourceType
from .conversion import activity_hours, hour_kind
from .jobs import requirement_recount_enqueue, requirement_recount_unfinished
from .media import duration_seconds_of, media_duration, stored_duration
from .models import (
    Column,
    DailyOnlineStudy,
    HourRequirement,
    LearningHourEntry,
    MemberRequirement,
    MemberYearHours,
    OnlineResource,
    OrgCategoryCounts,
    OrgRequirementCounts,
    OrgYearCategoryCompletion,
    OrgYearCompletion,
    ResourceProgress,
)
from .selectors import (
    KIND_FIELDS,
    ZERO,
    ancestor_paths,
    requirement_met,
    requirement_of,
    resources_for_member,
    rule_for_path,
    rules_for_paths,
    short_list_for,
)

CHUNK = 500
# Sources per step of the rebuild (a city's year is millions of attendance rows).
REBUILD_CHUNK = 10_000
MAX_MANUAL_HOURS = Decimal("100")
# Completing a resource: at least this share of it actually played or read.
COMPLETION_SHARE = 0.95
# Seconds a heartbeat may claim beyond the wall time since the previous one (network jitter).
HEARTBEAT_TOLERANCE_SECONDS = 2

YEAR_FIELDS = ("total", *KIND_FIELDS.values())
COUNT_FIELDS = ("members", "general", "cadre", "candidate", "exempt", "not_required")
COMPLETION_FIELDS = ("general", "cadre", "candidate")
GROUP_FIELD = {
    RequirementGroup.GENERAL: "general",
    RequirementGroup.CADRE: "cadre",
    RequirementGroup.CANDIDATE: "candidate",
    RequirementGroup.EXEMPT: "exempt",
    RequirementGroup.NONE: "not_required",
}


def _is_system(actor: Any) -> bool:
    return actor is None


def _actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_learning_scope(
    actor: Any, action: str, path: str, message: str = "您无权管理该组织的学习"
) -> None:
    if _is_system(actor):
        return
    if not path_in(path, user_scope(actor, action, "learning").paths):
        raise PermissionDenied(message)


def _require_policy(actor: Any, path: str) -> None:
    """Hour requirements are policy: set by the organisation departments (组织部/工委管理员) over
    their subtree, never by a branch for itself (DOMAIN_RULES), whatever actions other roles
    carry."""
    if _is_system(actor):
        return
    if not path_in(path, role_paths(actor, RoleCode.ORG_ADMIN)):
        raise PermissionDenied("学时要求由组织部门（组织部/工委管理员）设定")


def _hours_text(hours: Decimal) -> str:
    return f"{Decimal(hours).normalize():f}"


def _ids_q(field_name: str, ids: Sequence[int]) -> Q:
    """``field IN (ids)``, or for a ``range`` of consecutive ids (the rebuild's steps) a range
    condition, which spares the database and the ORM a list of thousands of parameters."""
    if isinstance(ids, range) and ids.step == 1:
        return Q(**{f"{field_name}__gte": ids.start, f"{field_name}__lt": ids.stop})
    return Q(**{f"{field_name}__in": list(ids)})


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- what a source credits ------------------------------------------------------------------------


@dataclass
class Desired:
    """What one source credits now: its member, hours by (kind, year), the line's label (what
    the member recognises: date, type, topic) and a note on the state (出席, 改为缺席 …)."""

    member_id: int
    hours: dict[tuple[str, int], Decimal]
    label: str
    note: str


def _activity_label(activity: Any) -> str:
    start = timezone.localtime(activity.start) if timezone.is_aware(activity.start) else activity.start
    return f"{start:%Y-%m-%d} {activity.get_activity_type_display()}：{activity.topic[:150]}"


# Up to this many attendance rows are read joined to their activities (one query instead of two).
JOINED_READ_MAX = 100
# What an activity's label, kind and hours depend on.
ACTIVITY_HOUR_FIELDS = ("id", "activity_type", "topic", "start", "end", "credited_hours")


def desired_for_attendance(ids: Sequence[int]) -> dict[int, Desired]:
    """Attendance credits the activity's hours when the member was present or late, or made the
    session up (补学) and the secretary confirmed it; otherwise nothing.

    Two queries: the attendance rows as plain values, then their activities; an activity's label,
    kind and hours are worked out once for all its rows (the rebuild reads millions of rows). A
    few rows (a check-in, a marking) are read with their activities in one query."""
    from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus
    from partyedu.study.models import Activity, Attendance

    fields = ("pk", "member_id", "status", "makeup_confirmed_at", "activity_id")
    activities: dict[int, Any] = {}
    if isinstance(ids, range) or len(ids) > JOINED_READ_MAX:
        rows = list(Attendance.objects.filter(_ids_q("pk", ids)).order_by().values_list(*fields))
        if rows:
            activities = {
                a.pk: a
                for a in Activity.objects.filter(pk__in=sorted({r[4] for r in rows})).only(
                    *ACTIVITY_HOUR_FIELDS
                )
            }
    else:
        joined = [f"activity__{name}" for name in ACTIVITY_HOUR_FIELDS]
        rows = []
        for values in Attendance.objects.filter(pk__in=list(ids)).order_by().values_list(*fields, *joined):
            rows.append(values[: len(fields)])
            activities.setdefault(
                values[4],
                SimpleNamespace(**dict(zip(ACTIVITY_HOUR_FIELDS, values[len(fields) :], strict=True))),
            )
    if not rows:
        return {}
    # The labels as ``get_FOO_display()`` gives them, looked up once per call, not per row.
    type_labels = {value: str(label) for value, label in ActivityType.choices}
    status_labels = {value: str(label) for value, label in AttendanceStatus.choices}
    attended = {str(s) for s in ATTENDED_STATUSES}
    per_activity: dict[int, tuple[str, dict[tuple[str, int], Decimal]]] = {}
    result = {}
    for pk, member_id, status, confirmed_at, activity_id in rows:
        cached = per_activity.get(activity_id)
        if cached is None:
            activity = activities.get(activity_id)
            if activity is None:  # deleted meanwhile: its attendance is gone too and credits nothing
                continue
            start = (
                timezone.localtime(activity.start) if timezone.is_aware(activity.start) else activity.start
            )
            type_label = type_labels.get(activity.activity_type, activity.activity_type)
            label = f"{start:%Y-%m-%d} {type_label}：{activity.topic[:150]}"
            kind = str(hour_kind(activity))
            full = {(kind, year): h for year, h in activity_hours(activity).items() if h > 0}
            cached = per_activity[activity_id] = (label, full)
        label, full = cached
        status_label = status_labels.get(status, "")
        credited = status in attended or (status == AttendanceStatus.MAKEUP and confirmed_at is not None)
        hours: dict[tuple[str, int], Decimal] = {}
        if credited:
            hours = dict(full)
            note = status_label
        elif status == AttendanceStatus.MAKEUP:
            note = "补学待确认"
        elif status:
            note = f"改为{status_label}"
        else:
            note = "改为未登记"
        result[pk] = Desired(member_id, hours, label, note)
    return result


def desired_for_resource(ids: Sequence[int]) -> dict[int, Desired]:
    """A member's progress on a resource credits the resource's hours, as 网络学习 in the year of
    completion, once it is completed. Two queries: the progress rows as values, their resources."""
    rows = list(
        ResourceProgress.objects.filter(_ids_q("pk", ids))
        .order_by()
        .values_list("pk", "member_id", "completed_at", "created_at", "resource_id")
    )
    if not rows:
        return {}
    resources = {
        r.pk: r
        for r in OnlineResource.objects.filter(pk__in=sorted({row[4] for row in rows})).only(
            "id", "title", "kind", "credit_hours"
        )
    }
    kind_labels = {value: str(label) for value, label in ResourceKind.choices}
    result = {}
    for pk, member_id, when, created_at, resource_id in rows:
        resource = resources.get(resource_id)
        if resource is None:  # deleted meanwhile, and its progress with it
            continue
        hours: dict[tuple[str, int], Decimal] = {}
        if when is not None and resource.credit_hours > 0:
            hours = {(HourKind.ONLINE.value, timezone.localtime(when).year): resource.credit_hours}
        day = timezone.localtime(when or created_at or timezone.now())
        kind = kind_labels.get(resource.kind, resource.kind)
        label = f"{day:%Y-%m-%d} 网上学习：{resource.title[:150]}（{kind}）"
        result[pk] = Desired(member_id, hours, label, "已学完" if when else "未学完")
    return result


# --- the ledger -------------------------------------------------------------------------------------


@dataclass
class _Net:
    hours: Decimal
    version: int


def _ledger_nets(source_type: str, ids: Sequence[int]) -> dict[int, dict[tuple[int, str, int], _Net]]:
    """For each source, the ledger's net hours and last version by (member, kind, year)."""
    nets: dict[int, dict[tuple[int, str, int], _Net]] = defaultdict(dict)
    rows = (
        LearningHourEntry.objects.filter(_ids_q("source_id", ids), source_type=source_type)
        .values("source_id", "member_id", "kind", "year")
        .annotate(net=Sum("hours"), last=Max("version"))
        .order_by()
    )
    for row in rows:
        key = (row["member_id"], row["kind"], row["year"])
        nets[row["source_id"]][key] = _Net(Decimal(row["net"]), row["last"])
    return nets


def _first_labels(source_type: str, ids: list[int]) -> dict[int, str]:
    """The label of the first line of each source, for corrections of sources that are gone."""
    rows = (
        LearningHourEntry.objects.filter(source_type=source_type, source_id__in=ids, version=1)
        .order_by("id")
        .values_list("source_id", "description")
    )
    labels: dict[int, str] = {}
    for source_id, description in rows:
        labels.setdefault(source_id, description.rsplit("（", 1)[0])
    return labels


@dataclass(slots=True)
class _Line:
    """A ledger line to append, as plain values (a rebuild makes millions; a model instance each
    would cost more than writing them)."""

    member_id: int
    year: int
    kind: str
    hours: Decimal
    source_type: str
    source_id: int
    version: int
    description: str
    actor_id: int | None

    def entry(self) -> LearningHourEntry:
        return LearningHourEntry(
            member_id=self.member_id,
            year=self.year,
            kind=self.kind,
            hours=self.hours,
            source_type=self.source_type,
            source_id=self.source_id,
            version=self.version,
            description=self.description,
            actor_id=self.actor_id,
        )


def _correction_rows(
    *,
    source_type: str,
    ids: Sequence[int],
    desired: dict[int, Desired],
    nets: dict[int, dict[tuple[int, str, int], _Net]],
    actor: Any,
    word: str = "更正",
) -> list[_Line]:
    """The rows that bring the ledger's net for each source to what the source credits now."""
    gone = [sid for sid in ids if sid not in desired and nets.get(sid)]
    gone_labels = _first_labels(source_type, gone) if gone else {}
    user = _actor_user(actor)
    actor_id = user.pk if user is not None else None
    rows = []
    for sid in ids:
        want_by_key: dict[tuple[int, str, int], Decimal] = {}
        d = desired.get(sid)
        if d is not None:
            for (kind, year), hours in d.hours.items():
                want_by_key[(d.member_id, kind, year)] = hours
        have_by_key = nets.get(sid, {})
        for key in sorted(set(want_by_key) | set(have_by_key)):
            want = want_by_key.get(key, ZERO)
            net = have_by_key.get(key, _Net(ZERO, 0))
            if want == net.hours:
                continue
            member_id, kind, year = key
            label = d.label if d is not None else gone_labels.get(sid, f"来源#{sid}")
            if net.version == 0:
                description = f"{label}（{d.note if d else ''}）"
            elif want == 0:
                reason = d.note if d is not None else "记录已删除"
                description = f"{label}（{word}：{reason}，冲销{_hours_text(net.hours)}学时）"
            else:
                note = d.note if d is not None else ""
                description = (
                    f"{label}（{word}：{note}，学时由{_hours_text(net.hours)}改为{_hours_text(want)}）"
                )
            rows.append(
                _Line(
                    member_id=member_id,
                    year=year,
                    kind=kind,
                    hours=want - net.hours,
                    source_type=source_type,
                    source_id=sid,
                    version=net.version + 1,
                    description=description[:255],
                    actor_id=actor_id,
                )
            )
    return rows


DesiredFn = Callable[[Sequence[int]], dict[int, Desired]]

ENTRY_COLUMNS = (
    "member",
    "year",
    "kind",
    "hours",
    "source_type",
    "source_id",
    "version",
    "description",
    "actor",
    "created_at",
)
# From this many rows on, ledger lines are written as plain rows (a rebuild appends millions).
PLAIN_INSERT_MIN = 200


def _insert_entries(rows: list[_Line]) -> None:
    """Append ledger lines: ``bulk_create`` for the few lines of a service call, plain rows
    (COPY / executemany) for the many of a rebuild. Same rows either way; the unique key
    (source, member, kind, year, version) guards both."""
    if len(rows) < PLAIN_INSERT_MIN:
        LearningHourEntry.objects.bulk_create([row.entry() for row in rows])
        return
    created = adapt(timezone.now())
    insert_plain(
        LearningHourEntry,
        ENTRY_COLUMNS,
        (
            (
                r.member_id,
                r.year,
                r.kind,
                adapt(r.hours),
                r.source_type,
                r.source_id,
                r.version,
                r.description,
                r.actor_id,
                created,
            )
            for r in rows
        ),
    )


def _source_members(source_type: str, ids: Sequence[int]) -> set[int]:
    """The members the sources belong to and those their ledger lines name, in one query."""
    from partyedu.study.models import Attendance

    model: Any = {SourceType.ATTENDANCE: Attendance, SourceType.RESOURCE: ResourceProgress}[
        SourceType(source_type)
    ]
    of_sources = model.objects.filter(_ids_q("pk", ids)).order_by().values_list("member_id", flat=True)
    in_ledger = (
        LearningHourEntry.objects.filter(_ids_q("source_id", ids), source_type=source_type)
        .order_by()
        .values_list("member_id", flat=True)
    )
    return set(of_sources.union(in_ledger))


def _sync_once(
    *,
    source_type: str,
    ids: Sequence[int],
    desired_fn: DesiredFn,
    actor: Any,
    word: str,
    member_ids: Iterable[int] | None = None,
) -> list[_Line]:
    wanted = set(member_ids or ()) or _source_members(source_type, ids)
    if not wanted:
        return []
    # Lock the members first (in id order, as every writer of their summaries does), and only then
    # read what the sources credit and what the ledger holds: a writer of the same sources or
    # members that got there first has committed by the time we hold the locks, and both reads see
    # its work. (What a source credited, read before the locks, could be older than the ledger
    # read after them: a check-in committed meanwhile would then be reversed.)
    states: dict[int, MemberRequirement] = {}
    locked = _lock_members(wanted, states)
    desired = desired_fn(ids)
    nets = _ledger_nets(source_type, ids)
    named = {d.member_id for d in desired.values()} | {key[0] for net in nets.values() for key in net}
    extra = named - {m["id"] for m in locked}
    if extra:
        # A member the caller did not name: lock it too, then read both again under all the locks.
        locked = sorted([*locked, *_lock_members(extra, states)], key=lambda m: m["id"])
        desired = desired_fn(ids)
        nets = _ledger_nets(source_type, ids)
    rows = _correction_rows(
        source_type=source_type, ids=ids, desired=desired, nets=nets, actor=actor, word=word
    )
    if rows:
        _insert_entries(rows)
        _apply_hours(rows)
        touched = {row.member_id for row in rows}
        _members_refresh([m for m in locked if m["id"] in touched], states=states)
    return rows


def _sync_sources(
    *,
    source_type: str,
    ids: Iterable[int],
    desired_fn: DesiredFn,
    actor: Any,
    word: str = "更正",
    chunk_size: int = CHUNK,
    on_rows: Callable[[list[_Line]], None] | None = None,
    member_ids: Iterable[int] | None = None,
) -> int:
    """Sync the sources in chunks, each in a savepoint; ``on_rows`` sees each chunk's appended
    rows. Returns how many rows were appended. A ``range`` of ids that fits one chunk is queried
    as a range. ``member_ids``: the members of the sources, when the caller knows them (one
    source, its member at hand): spares looking them up before locking them."""
    members = None if member_ids is None else sorted(set(member_ids))
    appended = 0
    chunks: Iterable[Sequence[int]]
    if isinstance(ids, range) and ids.step == 1 and len(ids) <= chunk_size:
        chunks = [ids]
    else:
        chunks = _chunks(sorted({int(i) for i in ids}), chunk_size)
    for chunk in chunks:
        rows: list[_Line] = []
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    rows = _sync_once(
                        source_type=source_type,
                        ids=chunk,
                        desired_fn=desired_fn,
                        actor=actor,
                        word=word,
                        member_ids=members,
                    )
                break
            except IntegrityError:
                # A concurrent writer appended the same version first: compute again from the
                # ledger as it now is (once; a second clash is a real error).
                if attempt == 2:
                    raise
        appended += len(rows)
        if on_rows is not None and rows:
            on_rows(rows)
    return appended


# No savepoint of its own: the caller's transaction is the unit (a failure here fails the change
# of the source), and each chunk has its savepoint for the retry below.
@transaction.atomic(savepoint=False)
def learning_hours_sync_attendance(
    *, attendance_ids: list[int], actor: Any = None, member_ids: Iterable[int] | None = None
) -> int:
    """Bring the ledger in line with the given attendance rows (after any change to attendance or
    to an activity, deletions included: a row that no longer exists credits nothing). Appends
    correcting rows only where the ledger differs; returns how many. Call inside the transaction
    that changed the source. ``member_ids``: the rows' members, when the caller has them at hand
    (a check-in); any other member the rows or their ledger lines name is locked as well."""
    return _sync_sources(
        source_type=SourceType.ATTENDANCE,
        ids=attendance_ids,
        desired_fn=desired_for_attendance,
        actor=actor,
        member_ids=member_ids,
    )


@transaction.atomic(savepoint=False)
def learning_hours_sync_resource(*, progress_ids: list[int], actor: Any = None) -> int:
    """Bring the ledger in line with the given resource progress rows (completion credits the
    resource's hours as 网络学习 once)."""
    return _sync_sources(
        source_type=SourceType.RESOURCE, ids=progress_ids, desired_fn=desired_for_resource, actor=actor
    )


# Distinct increments up to which ``_apply_org_deltas`` writes one UPDATE … SET x = x + Δ each
# (an activity's 50 attendees are one); beyond, one UPDATE … FROM a VALUES list per 400 rows.
GROUPED_UPDATES_MAX = 4
DELTA_ROWS = 400


def _apply_hours(rows: Sequence[_Line] | Sequence[LearningHourEntry]) -> None:
    """Add the rows to ``MemberYearHours`` by increments, creating the rows that are missing: one
    ``INSERT … ON CONFLICT (member, year) DO UPDATE SET x = x + excluded.x`` per 400 member-years
    (a check-in's one line is one statement; a rebuild's thousands of members, each with its own
    sums, a few)."""
    deltas: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        deltas[(row.member_id, row.year)][KIND_FIELDS[HourKind(row.kind)]] += row.hours
        deltas[(row.member_id, row.year)]["total"] += row.hours
    if not deltas:
        return
    qn = connection.ops.quote_name
    table = qn(MemberYearHours._meta.db_table)
    columns = ", ".join(qn(c) for c in ("member_id", "year", *YEAR_FIELDS, "completed"))
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in YEAR_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * (len(YEAR_FIELDS) + 3)) + ")"
    items = sorted(deltas.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), DELTA_ROWS):
            part = items[start : start + DELTA_ROWS]
            params: list[Any] = []
            for (member_id, year), delta in part:
                params += [member_id, year, *(adapt(delta.get(f, ZERO)) for f in YEAR_FIELDS), False]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({qn('member_id')}, {qn('year')}) DO UPDATE SET {sets}",
                params,
            )


def _add_from_values(
    model: Any,
    keys: tuple[str, ...],
    fields: tuple[str, ...],
    items: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
) -> None:
    """``UPDATE t SET f = t.f + d.f, … FROM (VALUES …) d WHERE t.key = d.key`` for rows that exist,
    400 rows a statement (SQLite ≥ 3.33 and PostgreSQL both have UPDATE … FROM): the increments
    of thousands of rows, each its own, in a few statements."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [*keys, *fields]
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + d.{qn(f)}" for f in fields)
    match = " AND ".join(f"{table}.{qn(k)} = d.{qn(k)}" for k in keys)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(items), DELTA_ROWS):
            part = items[start : start + DELTA_ROWS]
            params: list[Any] = []
            for key, delta in part:
                params += [*key, *(adapt(delta.get(f, 0)) for f in fields)]
            cursor.execute(
                f"WITH d ({', '.join(qn(c) for c in columns)}) AS (VALUES {', '.join([row_sql] * len(part))}) "
                f"UPDATE {table} SET {sets} FROM d WHERE {match}",
                params,
            )


# --- summaries kept with the ledger ---------------------------------------------------------------

MEMBER_STATE_FIELDS = ("id", "organization_id", "org_path", "status", "categories", "is_exempt", "is_active")


def _lock_members(
    member_ids: Iterable[int], states: dict[int, MemberRequirement] | None = None
) -> list[dict[str, Any]]:
    """Lock the members' rows in id order and read what their requirement depends on, then lock
    their requirement states (in the same order). Every writer of a member's summaries holds these
    locks, so their read–compute–write cannot interleave; the requirement recount after a rule
    change (``recount.py``), which must not hold members for its duration, takes only the
    states' locks, batch by batch, before it touches a member's summaries. The states locked are
    added to ``states`` when it is given (for ``_members_refresh``, which then need not read them
    again)."""
    ids = sorted(set(member_ids))
    if not ids:
        return []
    members = list(
        Member.objects.select_for_update().filter(pk__in=ids).order_by("pk").values(*MEMBER_STATE_FIELDS)
    )
    if states is not None:
        states.update(
            (state.member_id, state)
            for state in MemberRequirement.objects.select_for_update()
            .filter(member_id__in=ids)
            .order_by("member_id")
        )
    elif connection.features.has_select_for_update:
        list(
            MemberRequirement.objects.select_for_update()
            .filter(member_id__in=ids)
            .order_by("member_id")
            .values_list("member_id", flat=True)
        )
    return members


def _categories(values: Iterable[str] | None) -> tuple[str, ...]:
    """A member's categories as the summaries count them: each once, in a stable order."""
    return tuple(sorted(set(values or ())))


def _listed(values: Iterable[str] | None) -> tuple[str, ...]:
    """A member's categories as listed: what the state stores and compares, order included (the
    recount compares the two lists in SQL)."""
    return tuple(values or ())


def _state_tuple(state: MemberRequirement | None) -> tuple[Any, ...] | None:
    if state is None:
        return None
    return (
        state.organization_id,
        state.group,
        Decimal(state.required_hours),
        state.needs_concentrated,
        _listed(state.categories),
    )


def _save_states(
    create: list[MemberRequirement], update: list[MemberRequirement], delete: list[int], moved: set[int]
) -> None:
    """Write requirement states: one UPDATE per distinct (group, hours, condition) for members who
    stay in their organisation (a rule change touches thousands with a handful of statements)."""
    if delete:
        MemberRequirement.objects.filter(member_id__in=delete).delete()
    if create:
        MemberRequirement.objects.bulk_create(create, batch_size=1000)
    same_org: dict[tuple[str, Decimal, bool, tuple[str, ...]], list[int]] = defaultdict(list)
    for state in update:
        if state.member_id in moved:
            MemberRequirement.objects.filter(member_id=state.member_id).update(
                organization_id=state.organization_id,
                group=state.group,
                required_hours=state.required_hours,
                needs_concentrated=state.needs_concentrated,
                categories=list(_listed(state.categories)),
            )
        else:
            key = (
                state.group,
                Decimal(state.required_hours),
                state.needs_concentrated,
                _listed(state.categories),
            )
            same_org[key].append(state.member_id)
    for (group, hours, needs, categories), member_ids in same_org.items():
        for chunk in _chunks(member_ids, 1000):
            MemberRequirement.objects.filter(member_id__in=chunk).update(
                group=group, required_hours=hours, needs_concentrated=needs, categories=list(categories)
            )


def _save_flags(flags: dict[bool, list[int]]) -> None:
    for value, row_ids in flags.items():
        for chunk in _chunks(row_ids, 1000):
            MemberYearHours.objects.filter(pk__in=chunk).update(completed=value)


# Changes to the organisation counts, each given at the organisation where it happens (they are
# added to it and to every ancestor): by requirement group at a path; completions by group at
# (path, year); by category at (path, category) — ``members`` and ``required``; and completions by
# category at (path, year, category) — ``completed``.
OrgDeltas = tuple[
    dict[str, Counter[str]],
    dict[tuple[str, int], Counter[str]],
    dict[tuple[str, str], Counter[str]],
    dict[tuple[str, int, str], Counter[str]],
]


def _new_deltas() -> OrgDeltas:
    return defaultdict(Counter), defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)


def _merge_deltas(into: OrgDeltas, more: OrgDeltas) -> None:
    for target, source in zip(into, more, strict=True):
        merged: dict[Any, Counter[str]] = target  # type: ignore[assignment]
        changes: dict[Any, Counter[str]] = source  # type: ignore[assignment]
        for key, delta in changes.items():
            merged.setdefault(key, Counter()).update(delta)


def _members_refresh(
    members: list[dict[str, Any]],
    org_deltas: OrgDeltas | None = None,
    states: dict[int, MemberRequirement] | None = None,
) -> None:
    """Recompute, for locked members, the requirement they are counted under and whether each
    of their years is complete, and apply the differences to the organisation summaries — or add
    them to ``org_deltas``, for a caller that applies the changes of many chunks at once.
    ``states``: the members' requirement states as ``_lock_members`` read them, if it did."""
    if not members:
        return
    ids = [m["id"] for m in members]
    rules = rules_for_paths({m["org_path"] for m in members if m["is_active"]})
    if states is None:
        states = {s.member_id: s for s in MemberRequirement.objects.filter(member_id__in=ids)}
    else:
        states = {pk: states[pk] for pk in ids if pk in states}
    years: dict[int, list[Any]] = defaultdict(list)
    for row in MemberYearHours.objects.filter(member_id__in=ids).values(
        "id", "member_id", "year", "total", "concentrated", "completed"
    ):
        years[row["member_id"]].append(row)
    org_paths = {m["organization_id"]: m["org_path"] for m in members}
    old_orgs = {s.organization_id for s in states.values()} - set(org_paths)
    if old_orgs:
        org_paths.update(Organization.objects.filter(pk__in=old_orgs).values_list("pk", "path"))

    deltas = _new_deltas()
    counts, completions, category_counts, category_completions = deltas
    create: list[MemberRequirement] = []
    update: list[MemberRequirement] = []
    delete: list[int] = []
    moved: set[int] = set()
    flags: dict[bool, list[int]] = {True: [], False: []}
    for m in members:
        old = states.get(m["id"])
        req = None
        new_tuple = None
        categories = _categories(m["categories"])
        old_categories = _categories(old.categories) if old is not None else ()
        if m["is_active"]:
            req = requirement_of(
                status=m["status"],
                categories=m["categories"],
                is_exempt=m["is_exempt"],
                rule=rules[m["org_path"]],
            )
            new_tuple = (
                m["organization_id"],
                req.group,
                req.required_hours,
                req.needs_concentrated,
                _listed(m["categories"]),
            )
        old_path = org_paths.get(old.organization_id) if old is not None else None
        if _state_tuple(old) != new_tuple:
            if old is not None and old_path is not None:
                counts[old_path]["members"] -= 1
                counts[old_path][GROUP_FIELD[RequirementGroup(old.group)]] -= 1
                for category in old_categories:
                    category_counts[(old_path, category)]["members"] -= 1
                    category_counts[(old_path, category)]["required"] -= old.group in COMPLETION_FIELDS
            if req is not None:
                counts[m["org_path"]]["members"] += 1
                counts[m["org_path"]][GROUP_FIELD[RequirementGroup(req.group)]] += 1
                for category in categories:
                    category_counts[(m["org_path"], category)]["members"] += 1
                    category_counts[(m["org_path"], category)]["required"] += req.group in COMPLETION_FIELDS
            if req is None:
                delete.append(m["id"])
            else:
                state = MemberRequirement(
                    member_id=m["id"],
                    organization_id=m["organization_id"],
                    group=req.group,
                    required_hours=req.required_hours,
                    needs_concentrated=req.needs_concentrated,
                    categories=list(_listed(m["categories"])),
                )
                (update if old is not None else create).append(state)
                if old is not None and old.organization_id != m["organization_id"]:
                    moved.add(m["id"])
        for row in years[m["id"]]:
            done = req is not None and requirement_met(
                req, Decimal(row["total"]), Decimal(row["concentrated"])
            )
            if (
                row["completed"]
                and old is not None
                and old_path is not None
                and old.group in COMPLETION_FIELDS
            ):
                completions[(old_path, row["year"])][old.group] -= 1
                for category in old_categories:
                    category_completions[(old_path, row["year"], category)]["completed"] -= 1
            if done and req is not None:
                completions[(m["org_path"], row["year"])][req.group] += 1
                for category in categories:
                    category_completions[(m["org_path"], row["year"], category)]["completed"] += 1
            if done != row["completed"]:
                flags[done].append(row["id"])
    _save_states(create, update, delete, moved)
    _save_flags(flags)
    if org_deltas is None:
        _apply_org_deltas(*deltas)
        return
    _merge_deltas(org_deltas, deltas)


def _cumulate(
    direct: dict[Any, Counter[str]], path_of: Callable[[Any], str]
) -> dict[tuple[str, Any], Counter[str]]:
    totals: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    for key, delta in direct.items():
        path = path_of(key)
        rest = key[1] if isinstance(key, tuple) else None
        for prefix in ancestor_paths(path):
            totals[(prefix, rest)].update(delta)
    return totals


def _apply_org_deltas(
    counts: dict[str, Counter[str]],
    completions: dict[tuple[str, int], Counter[str]],
    category_counts: dict[tuple[str, str], Counter[str]] | None = None,
    category_completions: dict[tuple[str, int, str], Counter[str]] | None = None,
) -> None:
    """Add changes given at an organisation's path to it and to every ancestor (cumulative, like
    ``organizations.services.member_counts_add``), by increments: the counts by requirement group,
    then those by member category (always in this order, as the recount does, so that writers
    lock the rows in one order)."""
    _apply_group_deltas(counts, completions)
    _apply_category_deltas(category_counts or {}, category_completions or {})


def _upsert_increments(
    model: Any,
    keys: tuple[str, ...],
    fields: tuple[str, ...],
    rows: list[tuple[tuple[Any, ...], list[int]]],
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET f = f + excluded.f`` for each (key, values)
    row (created when missing), 400 rows a statement, in the order given (callers sort by
    organisation)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(c) for c in (*keys, *fields))
    conflict = ", ".join(qn(k) for k in keys)
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in fields)
    row_sql = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), DELTA_ROWS):
            part = rows[start : start + DELTA_ROWS]
            params: list[Any] = []
            for key, values in part:
                params += [*key, *values]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}",
                params,
            )


CATEGORY_COUNT_FIELDS = ("members", "required")


def _up_the_tree(
    direct: dict[Any, Counter[str]], fields: tuple[str, ...]
) -> dict[tuple[Any, ...], list[int]]:
    """Changes keyed (path, *rest) added to every prefix of the path: {(prefix, *rest): values},
    the rows whose values are all 0 left out. Plain lists: an import's thousands of members add
    up tens of thousands of times here."""
    totals: dict[tuple[Any, ...], list[int]] = {}
    for (path, *rest), delta in direct.items():
        values = [delta[name] for name in fields]
        if not any(values):
            continue
        for prefix in ancestor_paths(path):
            key = (prefix, *rest)
            row = totals.get(key)
            if row is None:
                totals[key] = list(values)
            else:
                for i, value in enumerate(values):
                    row[i] += value
    return {key: values for key, values in totals.items() if any(values)}


def _apply_category_deltas(
    counts: dict[tuple[str, str], Counter[str]], completions: dict[tuple[str, int, str], Counter[str]]
) -> None:
    """The changes by member category, added to the organisation and every ancestor."""
    count_rows = _up_the_tree(counts, CATEGORY_COUNT_FIELDS)
    year_rows = _up_the_tree(completions, ("completed",))
    if not count_rows and not year_rows:
        return
    prefixes = {key[0] for key in count_rows} | {key[0] for key in year_rows}
    org_ids = dict(Organization.objects.filter(path__in=sorted(prefixes)).values_list("path", "pk"))
    by_org = [
        ((org_ids[key[0]], *key[1:]), values) for key, values in count_rows.items() if key[0] in org_ids
    ]
    by_org.sort(key=lambda row: row[0])
    _upsert_increments(OrgCategoryCounts, ("organization_id", "category"), CATEGORY_COUNT_FIELDS, by_org)
    by_org = [((org_ids[key[0]], *key[1:]), values) for key, values in year_rows.items() if key[0] in org_ids]
    by_org.sort(key=lambda row: row[0])
    _upsert_increments(
        OrgYearCategoryCompletion, ("organization_id", "year", "category"), ("completed",), by_org
    )


def _apply_group_deltas(
    counts: dict[str, Counter[str]], completions: dict[tuple[str, int], Counter[str]]
) -> None:
    """By requirement group: one UPDATE per distinct change when there are few, else one UPDATE
    from a list of per-organisation increments."""
    count_totals = _cumulate(counts, lambda key: key)
    year_totals = _cumulate(completions, lambda key: key[0])
    count_totals = {k: v for k, v in count_totals.items() if any(v.values())}
    year_totals = {k: v for k, v in year_totals.items() if any(v.values())}
    if not count_totals and not year_totals:
        return
    prefixes = {p for p, _ in count_totals} | {p for p, _ in year_totals}
    org_ids = dict(Organization.objects.filter(path__in=sorted(prefixes)).values_list("path", "pk"))

    if count_totals:
        wanted = {org_ids[p] for p, _ in count_totals if p in org_ids}
        have = set(
            OrgRequirementCounts.objects.filter(organization_id__in=sorted(wanted)).values_list(
                "organization_id", flat=True
            )
        )
        OrgRequirementCounts.objects.bulk_create(
            [OrgRequirementCounts(organization_id=pk) for pk in sorted(wanted - have)],
            ignore_conflicts=True,
        )
        by_vector: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
        for (path, _none), delta in sorted(count_totals.items()):
            if path in org_ids:
                by_vector[tuple(sorted((f, d) for f, d in delta.items() if d))].append(org_ids[path])
        if len(by_vector) > GROUPED_UPDATES_MAX:
            _add_from_values(
                OrgRequirementCounts,
                ("organization_id",),
                COUNT_FIELDS,
                [((pk,), dict(vector)) for vector, pks in by_vector.items() for pk in pks],
            )
        else:
            for vector, pks in by_vector.items():
                OrgRequirementCounts.objects.filter(organization_id__in=pks).update(
                    **{name: F(name) + delta for name, delta in vector}
                )
    if year_totals:
        wanted_years = {(org_ids[p], y) for p, y in year_totals if p in org_ids}
        have_years = set(
            OrgYearCompletion.objects.filter(
                organization_id__in=sorted({pk for pk, _ in wanted_years}),
                year__in=sorted({y for _, y in wanted_years}),
            ).values_list("organization_id", "year")
        )
        OrgYearCompletion.objects.bulk_create(
            [OrgYearCompletion(organization_id=pk, year=y) for pk, y in sorted(wanted_years - have_years)],
            ignore_conflicts=True,
        )
        by_year_vector: dict[tuple[int, tuple[tuple[str, int], ...]], list[int]] = defaultdict(list)
        for (path, year), delta in sorted(year_totals.items()):
            if path in org_ids:
                by_year_vector[(year, tuple(sorted((f, d) for f, d in delta.items() if d)))].append(
                    org_ids[path]
                )
        if len(by_year_vector) > GROUPED_UPDATES_MAX:
            _add_from_values(
                OrgYearCompletion,
                ("organization_id", "year"),
                COMPLETION_FIELDS,
                [((pk, year), dict(vector)) for (year, vector), pks in by_year_vector.items() for pk in pks],
            )
        else:
            for (year, vector), pks in by_year_vector.items():
                OrgYearCompletion.objects.filter(year=year, organization_id__in=pks).update(
                    **{name: F(name) + delta for name, delta in vector}
                )


@transaction.atomic
def learning_members_changed(*, member_ids: Iterable[int]) -> None:
    """Bring the requirement summaries in line after members changed in a way their requirement
    depends on (created, status, categories, exemption, taken off the roll, transferred). Member
    services call this inside their transaction; until they do, the summary detects the members it
    does not count (see ``selectors.learning_summary``) and the rebuild repairs the rest.
    The organisation counts get the changes of all members at once (an import of thousands
    touches the same ancestors from every chunk)."""
    deltas = _new_deltas()
    for chunk in _chunks(sorted(set(member_ids)), 1000):
        _members_refresh(_lock_members(chunk), deltas)
    _apply_org_deltas(*deltas)


@transaction.atomic
def learning_org_moved(*, old_parent_path: str, new_parent_path: str, organization: Organization) -> None:
    """Move an organisation's cumulative requirement counts from its old ancestors to its new ones
    (call after ``organization_move``; like ``member_counts_add`` there)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    completions: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    row = OrgRequirementCounts.objects.filter(organization=organization).values(*COUNT_FIELDS).first()
    if row:
        counts[old_parent_path].update({k: -v for k, v in row.items()})
        counts[new_parent_path].update(row)
    for year_row in OrgYearCompletion.objects.filter(organization=organization).values(
        "year", *COMPLETION_FIELDS
    ):
        year = year_row.pop("year")
        completions[(old_parent_path, year)].update({k: -v for k, v in year_row.items()})
        completions[(new_parent_path, year)].update(year_row)
    category_counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for category, members, required in OrgCategoryCounts.objects.filter(
        organization=organization
    ).values_list("category", *CATEGORY_COUNT_FIELDS):
        category_counts[(old_parent_path, category)].update({"members": -members, "required": -required})
        category_counts[(new_parent_path, category)].update({"members": members, "required": required})
    category_completions: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    for year, category, completed in OrgYearCategoryCompletion.objects.filter(
        organization=organization
    ).values_list("year", "category", "completed"):
        category_completions[(old_parent_path, year, category)]["completed"] -= completed
        category_completions[(new_parent_path, year, category)]["completed"] += completed
    _apply_org_deltas(counts, completions, category_counts, category_completions)


# --- hour requirements ----------------------------------------------------------------------------

REQUIREMENT_FIELDS = (
    "general_hours",
    "cadre_hours",
    "cadre_needs_concentrated",
    "candidate_hours",
    "online_daily_cap_minutes",
)


@dataclass(frozen=True)
class RuleChange:
    """A subtree's rule set or removed. ``changed``: the rule differs from what was stored (saving
    the same values again changes nothing). ``job``: the recount of the subtree's members
    (``learning.requirement_recount``, queued to start once the change commits), when the change
    can alter any member's requirement — not when only the daily online cap changed, or when the
    rule's hours equal those it replaces; saving unchanged values returns the starter's recount
    still under way, if any."""

    requirement: HourRequirement | None
    changed: bool
    job: Job | None


def _requirement_values(rule: Any) -> tuple[Any, ...]:
    """What members' requirements depend on (not the daily online cap)."""
    return (
        Decimal(rule.general_hours),
        Decimal(rule.cadre_hours),
        bool(rule.cadre_needs_concentrated),
        Decimal(rule.candidate_hours),
    )


def _same_values(requirement: HourRequirement, data: dict[str, Any]) -> bool:
    """Whether ``data`` (form or API values) equals what the rule holds."""
    for name, value in data.items():
        model_field: Any = HourRequirement._meta.get_field(name)
        try:
            if model_field.to_python(value) != getattr(requirement, name):
                return False
        except ValidationError:
            return False
    return True


@transaction.atomic
def hour_requirement_set(*, actor: Any, organization: Organization, data: dict[str, Any]) -> RuleChange:
    """Set the hour requirement of an organisation's subtree (overriding any rule above it) and
    queue the recount of its members under the new rule; it runs after commit, outside this
    transaction (``recount.requirements_recount``). Saving the values already stored is a no-op."""
    _require_learning_scope(actor, "change", organization.path)
    _require_policy(actor, organization.path)
    unknown = [name for name in data if name not in REQUIREMENT_FIELDS]
    if unknown:
        raise ValidationError({name: ["该字段不能在此修改"] for name in unknown})
    requirement = HourRequirement.objects.select_for_update().filter(organization=organization).first()
    if requirement is not None and _same_values(requirement, data):
        # Saved again as it is (a double submit): nothing to write, audit or recount.
        return RuleChange(
            requirement, False, requirement_recount_unfinished(actor=actor, organization=organization)
        )
    before = snapshot(requirement, REQUIREMENT_FIELDS) if requirement else {}
    in_force = _requirement_values(rule_for_path(organization.path))
    requirement = requirement or HourRequirement(organization=organization)
    for name, value in data.items():
        setattr(requirement, name, value)
    errors = {}
    for name in ("general_hours", "cadre_hours", "candidate_hours"):
        value = getattr(requirement, name)
        try:
            if Decimal(value) < 0 or Decimal(value) > 500:
                errors[name] = ["学时应在0到500之间"]
        except (InvalidOperation, TypeError):
            errors[name] = ["请输入数字"]
    if errors:
        raise ValidationError(errors)
    requirement.full_clean()
    for name in ("general_hours", "cadre_hours", "candidate_hours"):
        # As stored (one decimal): the audit's diff then names only the fields that changed.
        setattr(requirement, name, Decimal(getattr(requirement, name)).quantize(Decimal("0.1")))
    changes = diff(before, snapshot(requirement, REQUIREMENT_FIELDS))
    requirement.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=requirement,
        changes=changes,
    )
    job = None
    if _requirement_values(requirement) != in_force:
        job = requirement_recount_enqueue(actor=actor, organization=organization)
    return RuleChange(requirement, True, job)


@transaction.atomic
def hour_requirement_delete(*, actor: Any, requirement: HourRequirement) -> RuleChange:
    """Remove a subtree's own rule: the rule above it (or the defaults) applies again; the recount
    of its members is queued as for ``hour_requirement_set``."""
    requirement = HourRequirement.objects.select_related("organization").get(pk=requirement.pk)
    organization = requirement.organization
    _require_learning_scope(actor, "delete", organization.path)
    _require_policy(actor, organization.path)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=requirement,
        changes={"before": snapshot(requirement, REQUIREMENT_FIELDS)},
    )
    requirement.delete()
    job = None
    if _requirement_values(rule_for_path(organization.path)) != _requirement_values(requirement):
        job = requirement_recount_enqueue(actor=actor, organization=organization)
    return RuleChange(None, True, job)


# --- manual records -------------------------------------------------------------------------------


def _check_manual(year: int, kind: str, hours: Any, description: str) -> Decimal:
    errors: dict[str, list[str]] = {}
    try:
        amount = Decimal(str(hours))
    except (InvalidOperation, TypeError):
        raise ValidationError({"hours": ["请输入学时数"]}) from None
    if not amount.is_finite() or amount <= 0:
        errors["hours"] = ["学时应大于0"]
    elif amount > MAX_MANUAL_HOURS:
        errors["hours"] = [f"单次登记不超过{MAX_MANUAL_HOURS}学时"]
    elif amount != amount.quantize(Decimal("0.1")):
        errors["hours"] = ["学时最多一位小数"]
    if kind not in HourKind.values:
        errors["kind"] = ["请选择学时类别"]
    this_year = timezone.localdate().year
    if not isinstance(year, int) or not 2000 <= year <= this_year:
        errors["year"] = [f"年度应在2000到{this_year}之间"]
    if not description.strip():
        errors["description"] = ["请填写学习内容"]
    elif len(description.strip()) > 200:
        errors["description"] = ["学习内容不超过200字"]
    if errors:
        raise ValidationError(errors)
    return amount


@transaction.atomic
def learning_hours_record_manual(
    *, actor: Any, member: Member, year: int, kind: str, hours: Any, description: str
) -> LearningHourEntry:
    """Record hours that no activity or resource in the system produced (自学, a course at another
    party school …). The source of the line is the audit row that records who entered it."""
    member = Member.objects.select_related("organization").get(pk=member.pk)
    _require_learning_scope(actor, "add", member.org_path, "您无权为该党员登记学时")
    amount = _check_manual(year, kind, hours, description)
    if not member.is_active:
        raise ValidationError({"member": ["该党员已离册"]})
    locked = _lock_members([member.pk])
    audit = audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=LearningHourEntry._meta.label_lower,
        object_repr=f"{member.name} {year} {HourKind(kind).label} {_hours_text(amount)}学时"[:255],
        changes={"member": member.pk, "year": year, "kind": kind, "hours": str(amount)},
        message=description.strip(),
    )
    entry = LearningHourEntry(
        member=member,
        year=year,
        kind=kind,
        hours=amount,
        source_type=SourceType.MANUAL,
        source_id=audit.pk,
        version=1,
        description=f"{description.strip()}（手工登记）"[:255],
        actor=_actor_user(actor),
    )
    entry.full_clean()
    entry.save()
    _apply_hours([entry])
    _members_refresh(locked)
    return entry


@transaction.atomic
def learning_hours_manual_reverse(*, actor: Any, entry: LearningHourEntry, reason: str) -> LearningHourEntry:
    """Cancel a manual record that was entered by mistake, by a correcting line (the original
    line stays)."""
    entry = LearningHourEntry.objects.select_related("member").get(pk=entry.pk)
    if entry.source_type != SourceType.MANUAL:
        raise ValidationError({"entry": ["只能撤销手工登记的学时；活动、网上学习学时随来源自动更正"]})
    _require_learning_scope(actor, "change", entry.member.org_path, "您无权更正该党员的学时")
    if not reason.strip():
        raise ValidationError({"reason": ["请填写撤销原因"]})
    locked = _lock_members([entry.member_id])
    key = {
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "member_id": entry.member_id,
        "kind": entry.kind,
        "year": entry.year,
    }
    agg = LearningHourEntry.objects.filter(**key).aggregate(net=Sum("hours"), last=Max("version"))
    net = Decimal(agg["net"] or 0)
    if net <= 0:
        raise ValidationError({"entry": ["该登记已撤销"]})
    correction = LearningHourEntry(
        **key,
        hours=-net,
        version=agg["last"] + 1,
        description=f"{entry.description.rsplit('（', 1)[0]}（撤销：{reason.strip()}）"[:255],
        actor=_actor_user(actor),
    )
    correction.save()
    _apply_hours([correction])
    _members_refresh(locked)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=entry,
        changes={"hours": [str(net), "0"]},
        message=reason.strip(),
    )
    return correction


# --- online resources -----------------------------------------------------------------------------

MB = 1024 * 1024
# Extensions, the check of the file's first bytes, and a size limit, per kind.
ALLOWED_FILES: dict[str, dict[str, Callable[[bytes], bool]]] = {
    ResourceKind.VIDEO: {
        ".mp4": lambda head: head[4:8] == b"ftyp",
        ".webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    },
    ResourceKind.AUDIO: {
        ".mp3": lambda head: (
            head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
        ),
        ".m4a": lambda head: head[4:8] == b"ftyp",
    },
    ResourceKind.COURSEWARE: {".pdf": lambda head: head[:5] == b"%PDF-"},
}
MAX_FILE_BYTES: dict[str, int] = {
    ResourceKind.VIDEO: 2048 * MB,
    ResourceKind.AUDIO: 200 * MB,
    ResourceKind.COURSEWARE: 100 * MB,
}
FORMAT_NAMES: dict[str, str] = {
    ResourceKind.VIDEO: "MP4、WebM",
    ResourceKind.AUDIO: "MP3、M4A",
    ResourceKind.COURSEWARE: "PDF",
}
RESOURCE_FIELDS = ("title", "column", "issue_no", "body", "duration_seconds", "credit_hours")
AUDITED_RESOURCE_FIELDS = ("organization", "kind", *RESOURCE_FIELDS, "is_published")


def validate_resource_file(kind: str, file: Any) -> None:
    """A file of the kind's formats: by name and by its first bytes (a renamed file is refused)."""
    if kind == ResourceKind.ARTICLE:
        if file:
            raise ValidationError({"file": ["文章不需要上传文件，请填写正文"]})
        return
    if not file:
        raise ValidationError({"file": ["请上传文件"]})
    name = (getattr(file, "name", "") or "").lower()
    checks = ALLOWED_FILES[kind]
    extension = next((ext for ext in checks if name.endswith(ext)), None)
    message = f"{ResourceKind(kind).label}只支持{FORMAT_NAMES[kind]}格式"
    if extension is None:
        raise ValidationError({"file": [message]})
    size = getattr(file, "size", None)
    if size is not None and size > MAX_FILE_BYTES[kind]:
        raise ValidationError({"file": [f"文件不能超过{MAX_FILE_BYTES[kind] // MB}MB"]})
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(16)
    if hasattr(file, "seek"):
        file.seek(0)
    if not head or not checks[extension](head):
        raise ValidationError({"file": [f"文件内容不是有效的{extension[1:].upper()}文件。{message}"]})


def _file_duration(kind: str, file: Any, typed: int | None) -> int | None:
    """The duration to store: for audio and video the file's own length whenever it can be read
    (whatever was typed); otherwise the typed one, which media then must have."""
    if kind not in MEDIA_KINDS or not file:
        return typed
    length = media_duration(file)
    if length is not None:
        return duration_seconds_of(length)
    if not typed:
        raise ValidationError({"duration_seconds": ["无法从文件中读取播放时长，请填写时长"]})
    return typed


def _check_resource(resource: OnlineResource) -> None:
    errors: dict[str, list[str]] = {}
    if not (resource.title or "").strip():
        errors["title"] = ["请填写标题"]
    if resource.kind == ResourceKind.ARTICLE and not (resource.body or "").strip():
        errors["body"] = ["请填写文章正文"]
    if not resource.duration_seconds or resource.duration_seconds < 1:
        errors["duration_seconds"] = ["请填写时长（秒）"]
    elif resource.duration_seconds > 24 * 3600:
        errors["duration_seconds"] = ["时长不能超过24小时"]
    if resource.credit_hours is None or Decimal(resource.credit_hours) <= 0:
        errors["credit_hours"] = ["完成计入学时应大于0"]
    elif Decimal(resource.credit_hours) > 8:
        errors["credit_hours"] = ["单个资源计入学时不超过8"]
    if resource.column_id and resource.column is not None:
        column_path = resource.column.organization.path
        if not resource.organization.path.startswith(column_path):
            errors["column"] = ["栏目须属于发布组织或其上级组织"]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def column_create(*, actor: Any, organization: Organization, name: str, description: str = "") -> Column:
    _require_learning_scope(actor, "add", organization.path)
    column = Column(organization=organization, name=name.strip(), description=description.strip())
    column.full_clean()
    column.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=column)
    return column


@transaction.atomic
def resource_create(
    *,
    actor: Any,
    organization: Organization,
    title: str,
    kind: str,
    duration_seconds: int | None = None,
    file: Any = None,
    body: str = "",
    column: Column | None = None,
    issue_no: int | None = None,
    credit_hours: Any = Decimal("1"),
) -> OnlineResource:
    """A draft resource for the organisation's subtree (publish it with ``resource_publish``).
    Audio and video last as long as their file says when it can be read (``duration_seconds`` is
    then ignored); otherwise, and for courseware and articles (the reading time), as typed."""
    _require_learning_scope(actor, "add", organization.path)
    if kind not in ResourceKind.values:
        raise ValidationError({"kind": ["请选择资源类型"]})
    validate_resource_file(kind, file)
    duration_seconds = _file_duration(kind, file, duration_seconds)
    resource = OnlineResource(
        organization=organization,
        column=column,
        issue_no=issue_no,
        title=(title or "").strip(),
        kind=kind,
        body=body or "",
        duration_seconds=duration_seconds or 0,  # 0: refused below as missing
        credit_hours=credit_hours,
    )
    _check_resource(resource)
    if file:
        resource.file = file
    resource.full_clean()
    resource.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=resource,
        changes={"after": snapshot(resource, AUDITED_RESOURCE_FIELDS)},
    )
    return resource


@transaction.atomic
def resource_update(*, actor: Any, resource: OnlineResource, data: dict[str, Any]) -> OnlineResource:
    """Change a resource's description. A new number of hours re-credits members who completed it
    (by correcting lines). The duration of audio or video whose file can be read stays the
    file's."""
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    _require_learning_scope(actor, "change", resource.organization.path)
    unknown = [name for name in data if name not in RESOURCE_FIELDS]
    if unknown:
        raise ValidationError({name: ["该字段不能在此修改"] for name in unknown})
    if "duration_seconds" in data and resource.kind in MEDIA_KINDS and resource.file:
        data = {**data, "duration_seconds": _stored_file_duration(resource, data["duration_seconds"])}
    before = snapshot(resource, AUDITED_RESOURCE_FIELDS)
    for name, value in data.items():
        setattr(resource, name, value)
    _check_resource(resource)
    resource.full_clean()
    resource.save()
    changes = diff(before, snapshot(resource, AUDITED_RESOURCE_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=resource, changes=changes)
    if "credit_hours" in changes:
        completed = list(resource.progress.filter(completed_at__isnull=False).values_list("pk", flat=True))
        learning_hours_sync_resource(progress_ids=completed, actor=actor)
    return resource


def _stored_file_duration(resource: OnlineResource, typed: int | None) -> int | None:
    length = stored_duration(resource.file)
    if length is not None:
        return duration_seconds_of(length)
    if not typed:
        raise ValidationError({"duration_seconds": ["无法从文件中读取播放时长，请填写时长"]})
    return typed


@transaction.atomic
def resource_delete(*, actor: Any, resource: OnlineResource) -> None:
    """Delete a resource that nobody has studied yet, with its file (after commit). A resource
    with progress rows is kept, since those rows are the sources of ledger lines and of what
    members see of their study: withdraw it with ``resource_unpublish`` instead."""
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    _require_learning_scope(actor, "delete", resource.organization.path, "您无权删除该组织的学习资源")
    # Ledger lines of a resource name its progress rows (source_id), so no progress, no lines.
    usage = resource.progress.aggregate(learners=Count("pk"), completed=Count("completed_at"))
    if usage["learners"]:
        raise ValidationError(
            {
                "resource": [
                    f"已有{usage['learners']}名党员学习过该资源（{usage['completed']}人已学完并计入学时），"
                    "学习记录和学时须保留，不能删除。如不再使用，请下架：党员将看不到该资源，已计入的学时不变。"
                ]
            }
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=resource,
        changes={"before": snapshot(resource, AUDITED_RESOURCE_FIELDS)},
    )
    file = resource.file
    resource.delete()
    if file:
        # The stored file goes once the deletion has committed (a rollback keeps it).
        transaction.on_commit(partial(file.storage.delete, file.name))


def _set_published(actor: Any, resource: OnlineResource, published: bool) -> OnlineResource:
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    _require_learning_scope(actor, "change", resource.organization.path)
    if resource.is_published == published:
        return resource
    resource.is_published = published
    if published and resource.published_at is None:
        resource.published_at = timezone.now()
    resource.save(update_fields=["is_published", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=resource,
        changes={"is_published": [not published, published]},
        message="发布学习资源" if published else "撤回学习资源",
    )
    return resource


@transaction.atomic
def resource_publish(*, actor: Any, resource: OnlineResource) -> OnlineResource:
    """Publish to the organisation's whole subtree."""
    return _set_published(actor, resource, True)


@transaction.atomic
def resource_unpublish(*, actor: Any, resource: OnlineResource) -> OnlineResource:
    """Withdraw; hours already credited for completions stay."""
    return _set_published(actor, resource, False)


Range = list[int]


def merge_ranges(ranges: Iterable[Iterable[int]]) -> list[Range]:
    merged: list[Range] = []
    for start, end in sorted((int(a), int(b)) for a, b in ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def uncovered(start: int, end: int, covered: list[Range]) -> list[Range]:
    """The parts of [start, end) not in the (merged) covered ranges, in order."""
    parts = []
    cursor = start
    for a, b in covered:
        if b <= cursor:
            continue
        if a >= end:
            break
        if a > cursor:
            parts.append([cursor, min(a, end)])
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        parts.append([cursor, end])
    return parts


def take_seconds(parts: list[Range], budget: int) -> list[Range]:
    """The first ``budget`` seconds of the parts."""
    taken = []
    for a, b in parts:
        if budget <= 0:
            break
        upto = min(b, a + budget)
        taken.append([a, upto])
        budget -= upto - a
    return taken


@dataclass
class HeartbeatResult:
    progress: ResourceProgress
    credited_seconds: int
    daily_seconds: int
    daily_cap_seconds: int
    just_completed: bool = False


def _position(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({name: ["请提交播放位置（秒）"]}) from None
    if not math.isfinite(number):
        raise ValidationError({name: ["播放位置无效"]})
    return number


@transaction.atomic
def resource_heartbeat(
    *, user: Any, resource: OnlineResource, start: Any, end: Any, at: datetime | None = None
) -> HeartbeatResult:
    """Record that the caller (their own member record) played or read [start, end] seconds of a
    resource. Counted: only seconds not counted before, within the resource's length, no more than
    the wall time since the previous heartbeat (plus a small tolerance — a jump or a page left
    open earns nothing), and within the day's cap of the member's organisation. At 95 % the
    resource is completed and credits its 网络学习 hours once."""
    member = member_of_user(user=user)
    if member is None:
        raise PermissionDenied("只有党员本人可以记录学习进度")
    if not resources_for_member(member).filter(pk=resource.pk).exists():
        raise Http404("学习资源不存在")
    start_f, end_f = _position(start, "start"), _position(end, "end")
    if end_f < start_f:
        raise ValidationError({"end": ["结束位置不能早于开始位置"]})
    at = at or timezone.now()
    duration = int(resource.duration_seconds)
    lo = max(0, min(round(start_f), duration))
    hi = max(0, min(round(end_f), duration))

    try:
        with transaction.atomic():
            ResourceProgress.objects.get_or_create(member=member, resource=resource)
    except IntegrityError:
        pass  # created by a concurrent heartbeat
    progress = ResourceProgress.objects.select_for_update().get(member=member, resource=resource)
    covered = merge_ranges(progress.ranges or [])
    if progress.last_heartbeat_at is not None:
        wall = max(0.0, (at - progress.last_heartbeat_at).total_seconds())
    else:
        wall = 0.0
    budget = int(wall) + HEARTBEAT_TOLERANCE_SECONDS
    new_parts = uncovered(lo, hi, covered)
    budget = min(budget, sum(b - a for a, b in new_parts))

    cap = rule_for_path(member.org_path).online_daily_cap_minutes * 60
    day = timezone.localdate(at)
    DailyOnlineStudy.objects.bulk_create([DailyOnlineStudy(member=member, day=day)], ignore_conflicts=True)
    daily = DailyOnlineStudy.objects.select_for_update().get(member=member, day=day)
    if cap:
        budget = min(budget, max(0, cap - daily.seconds))
    credited = take_seconds(new_parts, budget) if budget > 0 else []
    credited_seconds = sum(b - a for a, b in credited)
    if credited_seconds:
        DailyOnlineStudy.objects.filter(pk=daily.pk).update(seconds=F("seconds") + credited_seconds)
        covered = merge_ranges([*covered, *credited])
    progress.ranges = covered
    progress.played_seconds = sum(b - a for a, b in covered)
    progress.last_heartbeat_at = at
    just_completed = False
    if progress.completed_at is None and progress.played_seconds >= COMPLETION_SHARE * duration:
        progress.completed_at = at
        just_completed = True
    progress.save(
        update_fields=["ranges", "played_seconds", "last_heartbeat_at", "completed_at", "updated_at"]
    )
    if just_completed:
        learning_hours_sync_resource(progress_ids=[progress.pk], actor=user)
    return HeartbeatResult(
        progress=progress,
        credited_seconds=credited_seconds,
        daily_seconds=daily.seconds + credited_seconds,
        daily_cap_seconds=cap,
        just_completed=just_completed,
    )


# --- the rebuild ------------------------------------------------------------------------------------

SAMPLE_LINES = 20


@dataclass
class RebuildReport:
    """Differences between the stored derived data and a recomputation from the sources. After
    correct operation every count is 0."""

    applied: bool
    ledger: int = 0  # (source, member, kind, year) whose ledger net differs from the source
    ledger_rows_appended: int = 0
    year_hours: int = 0  # MemberYearHours rows that differ from the ledger
    requirements: int = 0  # MemberRequirement rows and completion flags that differ
    # The same differences by what they concern: members counted under another requirement, and
    # member-years whose completion flag changed.
    requirement_states: int = 0
    completion_flags: int = 0
    # OrgRequirementCounts / OrgYearCompletion (and their by-category rows) that differ
    summaries: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.ledger + self.year_hours + self.requirements + self.summaries

    def note(self, line: str) -> None:
        if len(self.samples) < SAMPLE_LINES:
            self.samples.append(line)


def _id_ranges(max_id: int, size: int = CHUNK) -> Iterable[tuple[int, int]]:
    for lo in range(0, max_id + 1, size):
        yield lo, lo + size


def _rebuild_ledger(report: RebuildReport, source_type: str, source_max: int, desired_fn: DesiredFn) -> None:
    """Compare what every source credits with the ledger. Checking reads without locks; applying
    works in one pass per chunk under the members' locks, as the services do (``_sync_sources``),
    so what it finds different is what it appends, with the summaries kept in step."""
    ledger_max = (
        LearningHourEntry.objects.filter(source_type=source_type).aggregate(m=Max("source_id"))["m"] or 0
    )
    label = SourceType(source_type).label

    def found(rows: list[_Line]) -> None:
        report.ledger += len(rows)
        for row in rows:
            if len(report.samples) >= SAMPLE_LINES:
                break
            report.note(
                f"{label}#{row.source_id} 党员#{row.member_id} {row.year} {HourKind(row.kind).label}："
                f"台账差 {_hours_text(row.hours)} 学时"
            )

    for lo, hi in _id_ranges(max(source_max, ledger_max), REBUILD_CHUNK):
        ids = range(lo, hi)
        if report.applied:
            report.ledger_rows_appended += _sync_sources(
                source_type=source_type,
                ids=ids,
                desired_fn=desired_fn,
                actor=None,
                word="核对更正",
                chunk_size=REBUILD_CHUNK,
                on_rows=found,
            )
            continue
        desired = desired_fn(ids)
        nets = _ledger_nets(source_type, ids)
        if not desired and not nets:
            continue
        found(_correction_rows(source_type=source_type, ids=ids, desired=desired, nets=nets, actor=None))


def _rebuild_year_hours(report: RebuildReport) -> None:
    max_member = Member.objects.aggregate(m=Max("pk"))["m"] or 0
    for lo, hi in _id_ranges(max_member, 2000):
        expected: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
            lambda: dict.fromkeys(YEAR_FIELDS, ZERO)
        )
        sums = (
            LearningHourEntry.objects.filter(member_id__gte=lo, member_id__lt=hi)
            .values("member_id", "year", "kind")
            .annotate(s=Sum("hours"))
            .order_by()
        )
        for row in sums:
            values = expected[(row["member_id"], row["year"])]
            values[KIND_FIELDS[HourKind(row["kind"])]] += Decimal(row["s"])
            values["total"] += Decimal(row["s"])
        stored = {
            (r.member_id, r.year): r
            for r in MemberYearHours.objects.filter(member_id__gte=lo, member_id__lt=hi)
        }
        fix, create = [], []
        for key in sorted(set(expected) | set(stored)):
            want = expected.get(key, dict.fromkeys(YEAR_FIELDS, ZERO))
            row = stored.get(key)
            have = (
                {name: Decimal(getattr(row, name)) for name in YEAR_FIELDS}
                if row
                else dict.fromkeys(YEAR_FIELDS, ZERO)
            )
            if want == have:
                continue
            report.year_hours += 1
            report.note(
                f"党员#{key[0]} {key[1]} 年度学时汇总：{_hours_text(have['total'])}，台账合计 {_hours_text(want['total'])}"
            )
            if row is None:
                create.append(MemberYearHours(member_id=key[0], year=key[1], **want))
            else:
                for name, value in want.items():
                    setattr(row, name, value)
                fix.append(row)
        if report.applied:
            MemberYearHours.objects.bulk_create(create)
            MemberYearHours.objects.bulk_update(fix, list(YEAR_FIELDS))


def _member_batches(path: str | None) -> Iterable[tuple[Q, Q]]:
    """Members (of a subtree, or all) in batches of 2000: conditions on members and on their
    requirement states (for all members, by id range, so that states of members that no longer
    exist are found too)."""
    if path is None:
        max_member = Member.objects.aggregate(m=Max("pk"))["m"] or 0
        for lo, hi in _id_ranges(max_member, 2000):
            yield Q(pk__gte=lo, pk__lt=hi), Q(member_id__gte=lo, member_id__lt=hi)
        return
    ids = list(
        Member.objects.filter(subtree_q("org_path", [path])).order_by("pk").values_list("pk", flat=True)
    )
    for chunk in _chunks(ids, 2000):
        yield Q(pk__in=chunk), Q(member_id__in=chunk)


def _rebuild_requirements(report: RebuildReport, path: str | None = None) -> None:
    """Recompute each member's requirement state and completion flags (of a subtree, or all), then
    the organisation counts from them; compare with what is stored; overwrite when applying. For a
    subtree the members are locked as they are read, and the ancestors get the difference."""
    direct_counts: dict[str, Counter[str]] = defaultdict(Counter)
    direct_years: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    direct_categories: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    direct_category_years: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    for member_q, state_q in _member_batches(path):
        member_qs = Member.objects.filter(member_q).order_by("pk")
        if path is not None:
            member_qs = member_qs.select_for_update()
        members = list(member_qs.values(*MEMBER_STATE_FIELDS))
        ids = [m["id"] for m in members]
        states = {s.member_id: s for s in MemberRequirement.objects.filter(state_q)}
        rules = rules_for_paths({m["org_path"] for m in members if m["is_active"]})
        year_rows: dict[int, list[Any]] = defaultdict(list)
        for row in MemberYearHours.objects.filter(member_id__in=ids).values(
            "id", "member_id", "year", "total", "concentrated", "completed"
        ):
            year_rows[row["member_id"]].append(row)
        create: list[MemberRequirement] = []
        update: list[MemberRequirement] = []
        delete: list[int] = []
        moved: set[int] = set()
        flags: dict[bool, list[int]] = {True: [], False: []}
        for m in members:
            old = states.get(m["id"])
            req = None
            want = None
            categories = _categories(m["categories"])
            if m["is_active"]:
                req = requirement_of(
                    status=m["status"],
                    categories=m["categories"],
                    is_exempt=m["is_exempt"],
                    rule=rules[m["org_path"]],
                )
                want = (
                    m["organization_id"],
                    req.group,
                    req.required_hours,
                    req.needs_concentrated,
                    _listed(m["categories"]),
                )
                direct_counts[m["org_path"]]["members"] += 1
                direct_counts[m["org_path"]][GROUP_FIELD[RequirementGroup(req.group)]] += 1
                for category in categories:
                    direct_categories[(m["org_path"], category)]["members"] += 1
                    direct_categories[(m["org_path"], category)]["required"] += req.group in COMPLETION_FIELDS
            if _state_tuple(old) != want:
                report.requirements += 1
                report.requirement_states += 1
                report.note(f"党员#{m['id']} 学时要求：{_state_tuple(old)} → {want}")
                if req is None:
                    delete.append(m["id"])
                else:
                    state = MemberRequirement(
                        member_id=m["id"],
                        organization_id=m["organization_id"],
                        group=req.group,
                        required_hours=req.required_hours,
                        needs_concentrated=req.needs_concentrated,
                        categories=list(_listed(m["categories"])),
                    )
                    (update if old is not None else create).append(state)
                    if old is not None and old.organization_id != m["organization_id"]:
                        moved.add(m["id"])
            for row in year_rows[m["id"]]:
                done = req is not None and requirement_met(
                    req, Decimal(row["total"]), Decimal(row["concentrated"])
                )
                if done and req is not None:
                    direct_years[(m["org_path"], row["year"])][req.group] += 1
                    for category in categories:
                        direct_category_years[(m["org_path"], row["year"], category)]["completed"] += 1
                if done != row["completed"]:
                    report.requirements += 1
                    report.completion_flags += 1
                    report.note(f"党员#{m['id']} {row['year']} 达标标记：{row['completed']} → {done}")
                    flags[done].append(row["id"])
        present = set(ids)
        orphans = [mid for mid in states if mid not in present]
        if report.applied:
            _save_states(create, update, delete + orphans, moved)
            _save_flags(flags)

    _rebuild_org_counts(report, direct_counts, direct_years, path)
    _rebuild_category_counts(report, direct_categories, direct_category_years, path)


def _rebuild_category_counts(
    report: RebuildReport,
    direct: dict[tuple[str, str], Counter[str]],
    direct_years: dict[tuple[str, int, str], Counter[str]],
    path: str | None = None,
) -> None:
    """Compare the counts by member category (of a subtree, or all) with the recomputed member
    states; overwrite when applying (and, for a subtree, add the change to the ancestors)."""
    prefix = path or ""
    orgs = (
        Organization.objects.all() if path is None else Organization.objects.filter(subtree_q("path", [path]))
    )
    org_ids = dict(orgs.values_list("path", "pk"))
    path_of = {pk: p for p, pk in org_ids.items()}
    wanted: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for (member_path, category), delta in direct.items():
        for p in ancestor_paths(member_path):
            if p.startswith(prefix) and p in org_ids:
                wanted[(org_ids[p], category)].update(delta)
    wanted_years: dict[tuple[int, int, str], Counter[str]] = defaultdict(Counter)
    for (member_path, year, category), delta in direct_years.items():
        for p in ancestor_paths(member_path):
            if p.startswith(prefix) and p in org_ids:
                wanted_years[(org_ids[p], year, category)].update(delta)

    count_qs = OrgCategoryCounts.objects.all()
    year_qs = OrgYearCategoryCompletion.objects.all()
    if path is not None:
        count_qs = count_qs.filter(organization_id__in=list(path_of))
        year_qs = year_qs.filter(organization_id__in=list(path_of))
    stored = {(row.organization_id, row.category): row for row in count_qs}
    stored_years = {(row.organization_id, row.year, row.category): row for row in year_qs}
    root_pk = org_ids.get(path) if path is not None else None
    root_delta: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    root_year_delta: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    parent = path[:-SEGMENT_WIDTH] if path is not None else ""

    create: list[OrgCategoryCounts] = []
    fix: list[OrgCategoryCounts] = []
    for key in sorted(set(wanted) | set(stored)):
        want = {name: wanted[key][name] for name in CATEGORY_COUNT_FIELDS} if key in wanted else {}
        want = {name: want.get(name, 0) for name in CATEGORY_COUNT_FIELDS}
        row = stored.get(key)
        have = (
            {name: getattr(row, name) for name in CATEGORY_COUNT_FIELDS}
            if row
            else dict.fromkeys(CATEGORY_COUNT_FIELDS, 0)
        )
        if want == have:
            continue
        report.summaries += 1
        report.note(f"组织{path_of.get(key[0], key[0])} 类别{key[1]} 人数：{have} → {want}")
        if key[0] == root_pk:
            root_delta[(parent, key[1])].update({n: want[n] - have[n] for n in CATEGORY_COUNT_FIELDS})
        if row is None:
            create.append(OrgCategoryCounts(organization_id=key[0], category=key[1], **want))
        else:
            for name, value in want.items():
                setattr(row, name, value)
            fix.append(row)
    create_years: list[OrgYearCategoryCompletion] = []
    fix_years: list[OrgYearCategoryCompletion] = []
    for year_key in sorted(set(wanted_years) | set(stored_years)):
        completed = wanted_years[year_key]["completed"] if year_key in wanted_years else 0
        year_row = stored_years.get(year_key)
        had = year_row.completed if year_row else 0
        if completed == had:
            continue
        report.summaries += 1
        report.note(
            f"组织{path_of.get(year_key[0], year_key[0])} {year_key[1]} 类别{year_key[2]} 达标：{had} → {completed}"
        )
        if year_key[0] == root_pk:
            root_year_delta[(parent, year_key[1], year_key[2])]["completed"] += completed - had
        if year_row is None:
            create_years.append(
                OrgYearCategoryCompletion(
                    organization_id=year_key[0], year=year_key[1], category=year_key[2], completed=completed
                )
            )
        else:
            year_row.completed = completed
            fix_years.append(year_row)
    if report.applied and path is not None and len(path) > SEGMENT_WIDTH:
        # The subtree's change, measured at its root, goes to every ancestor.
        _apply_category_deltas(root_delta, root_year_delta)
    if report.applied:
        OrgCategoryCounts.objects.bulk_create(create, batch_size=1000)
        OrgCategoryCounts.objects.bulk_update(fix, list(CATEGORY_COUNT_FIELDS), batch_size=1000)
        OrgYearCategoryCompletion.objects.bulk_create(create_years, batch_size=1000)
        OrgYearCategoryCompletion.objects.bulk_update(fix_years, ["completed"], batch_size=1000)


def _rebuild_org_counts(
    report: RebuildReport,
    direct_counts: dict[str, Counter[str]],
    direct_years: dict[tuple[str, int], Counter[str]],
    path: str | None = None,
) -> None:
    """Compare the organisation counts (of a subtree, or all) with the recomputed member states;
    overwrite when applying (and, for a subtree, add the change to the ancestors)."""
    prefix = path or ""
    counts = {k: v for k, v in _cumulate(direct_counts, lambda key: key).items() if k[0].startswith(prefix)}
    years = {k: v for k, v in _cumulate(direct_years, lambda key: key[0]).items() if k[0].startswith(prefix)}
    orgs = (
        Organization.objects.all() if path is None else Organization.objects.filter(subtree_q("path", [path]))
    )
    org_ids = dict(orgs.values_list("path", "pk"))
    path_of = {pk: p for p, pk in org_ids.items()}

    count_qs = OrgRequirementCounts.objects.all()
    year_qs = OrgYearCompletion.objects.all()
    if path is not None:
        count_qs = count_qs.filter(organization_id__in=list(path_of))
        year_qs = year_qs.filter(organization_id__in=list(path_of))
    stored_counts = {row.organization_id: row for row in count_qs}
    stored_years = {(row.organization_id, row.year): row for row in year_qs}
    # What the subtree's root held before any fix, for the ancestors' share of the change.
    root_pk = org_ids.get(path) if path is not None else None
    old_root = (
        {name: getattr(stored_counts[root_pk], name) for name in COUNT_FIELDS}
        if root_pk in stored_counts
        else {}
    )
    old_root_years = {
        year: {name: getattr(row, name) for name in COMPLETION_FIELDS}
        for (pk, year), row in stored_years.items()
        if pk == root_pk
    }
    fix_counts: list[OrgRequirementCounts] = []
    new_counts: list[OrgRequirementCounts] = []
    wanted = {org_ids[path]: counter for (path, _none), counter in counts.items() if path in org_ids}
    for pk in sorted(set(wanted) | set(stored_counts)):
        want = {name: wanted.get(pk, Counter())[name] for name in COUNT_FIELDS}
        count_row = stored_counts.get(pk)
        have = (
            {name: getattr(count_row, name) for name in COUNT_FIELDS}
            if count_row
            else dict.fromkeys(COUNT_FIELDS, 0)
        )
        if want == have:
            continue
        report.summaries += 1
        report.note(f"组织{path_of.get(pk, pk)} 学时要求人数：{have} → {want}")
        if count_row is None:
            new_counts.append(OrgRequirementCounts(organization_id=pk, **want))
        else:
            for name, value in want.items():
                setattr(count_row, name, value)
            fix_counts.append(count_row)

    fix_years: list[OrgYearCompletion] = []
    new_years: list[OrgYearCompletion] = []
    wanted_years = {
        (org_ids[path], year): counter for (path, year), counter in years.items() if path in org_ids
    }
    for key in sorted(set(wanted_years) | set(stored_years)):
        want = {name: wanted_years.get(key, Counter())[name] for name in COMPLETION_FIELDS}
        year_row = stored_years.get(key)
        have = (
            {name: getattr(year_row, name) for name in COMPLETION_FIELDS}
            if year_row
            else dict.fromkeys(COMPLETION_FIELDS, 0)
        )
        if want == have:
            continue
        report.summaries += 1
        report.note(f"组织{path_of.get(key[0], key[0])} {key[1]} 达标人数：{have} → {want}")
        if year_row is None:
            new_years.append(OrgYearCompletion(organization_id=key[0], year=key[1], **want))
        else:
            for name, value in want.items():
                setattr(year_row, name, value)
            fix_years.append(year_row)
    if report.applied and path is not None and root_pk is not None and len(path) > SEGMENT_WIDTH:
        # The subtree's change, measured at its root, goes to every ancestor.
        parent = path[:-SEGMENT_WIDTH]
        new_root = wanted.get(root_pk, Counter())
        delta = Counter({name: new_root[name] - old_root.get(name, 0) for name in COUNT_FIELDS})
        year_deltas: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for year in {y for (pk, y) in wanted_years if pk == root_pk} | set(old_root_years):
            new_year = wanted_years.get((root_pk, year), Counter())
            old_year = old_root_years.get(year, {})
            for name in COMPLETION_FIELDS:
                year_deltas[(parent, year)][name] += new_year[name] - old_year.get(name, 0)
        _apply_org_deltas({parent: delta}, year_deltas)
    if report.applied:
        OrgRequirementCounts.objects.bulk_create(new_counts, batch_size=1000)
        OrgRequirementCounts.objects.bulk_update(fix_counts, list(COUNT_FIELDS), batch_size=1000)
        OrgYearCompletion.objects.bulk_create(new_years, batch_size=1000)
        OrgYearCompletion.objects.bulk_update(fix_years, list(COMPLETION_FIELDS), batch_size=1000)


def learning_hours_rebuild(
    *, apply: bool, progress: Callable[[int, int, str], None] | None = None
) -> RebuildReport:
    """Recompute everything derived from the sources and compare it with what is stored:
    the ledger's net for every attendance row and every resource progress (manual lines stand as
    recorded), ``MemberYearHours`` from the ledger, each member's requirement state and completion
    flags, and the organisation counts. With ``apply`` the ledger gets correcting lines (never an
    update), and the summaries are overwritten with the recomputed values, in one transaction.
    ``progress(done, total, message)`` is told each step as it starts (for the 系统维护 page)."""
    from partyedu.study.models import Attendance

    def step(done: int, message: str) -> None:
        if progress is not None:
            progress(done, 4, message)

    report = RebuildReport(applied=apply)
    with transaction.atomic():
        attendance_max = Attendance.objects.aggregate(m=Max("pk"))["m"] or 0
        progress_max = ResourceProgress.objects.aggregate(m=Max("pk"))["m"] or 0
        step(0, "正在核对出勤记录的学时台账")
        _rebuild_ledger(report, SourceType.ATTENDANCE, attendance_max, desired_for_attendance)
        step(1, "正在核对网上学习的学时台账")
        _rebuild_ledger(report, SourceType.RESOURCE, progress_max, desired_for_resource)
        step(2, "正在核对年度学时汇总")
        _rebuild_year_hours(report)
        step(3, "正在核对学时要求、达标标记和组织人数")
        _rebuild_requirements(report)
        if apply and report.differences:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type=LearningHourEntry._meta.label_lower,
                object_repr="学时核对重算",
                changes={
                    "ledger": report.ledger,
                    "ledger_rows_appended": report.ledger_rows_appended,
                    "year_hours": report.year_hours,
                    "requirements": report.requirements,
                    "summaries": report.summaries,
                },
                message=f"学时核对重算：更正{report.differences}处",
            )
    return report


# --- export ---------------------------------------------------------------------------------------

SHORT_COLUMNS = [
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 30),
    ExportColumn("要求类别", 22),
    ExportColumn("应修学时", 10),
    ExportColumn("已修学时", 10),
    ExportColumn("还差学时", 10),
    ExportColumn("说明", 24),
]


def learning_short_export(
    *, actor: Any, organization: Organization, year: int, progress: Callable[[int], None] | None = None
) -> bytes:
    """The members of the subtree still short of their requirement, as xlsx, with no personal
    data beyond the name; one audit row. ``progress`` is told the number of rows written, every
    EXPORT_PROGRESS_EVERY rows and at the end (a background export shows it)."""
    if actor is not None:
        _require_learning_scope(actor, "export", organization.path, "您无权导出该组织的学时情况")
    book = XlsxExport()
    sheet = book.sheet(f"{year}年学时未达标", SHORT_COLUMNS)
    member: Any  # annotated by the selector
    for member in short_list_for(organization=organization, year=year).iterator(chunk_size=2000):
        counted = member.lh_conc if member.lh_group == RequirementGroup.CANDIDATE else member.lh_total
        note = ""
        if member.lh_group == RequirementGroup.CANDIDATE:
            note = "只计集中培训学时"
        elif member.lh_missing <= 0:
            note = "尚未参加集中培训"
        sheet.append(
            [
                member.name,
                member.organization.name,
                str(RequirementGroup(member.lh_group).label),
                float(member.lh_required),
                float(counted),
                float(member.lh_missing),
                note,
            ]
        )
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=LearningHourEntry._meta.label_lower,
        object_repr=f"{organization.name} {year}年学时未达标名单"[:255],
        changes={"rows": sheet.rows, "organization": organization.pk, "year": year},
        message=f"导出学时未达标党员{sheet.rows}名",
    )
    return book.to_bytes()
