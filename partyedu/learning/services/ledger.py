"""The hour ledger (学时台账): what each source credits now, and the correcting rows that bring the
ledger's net for a source in line with it (``_sync_sources``), with the summaries kept in the same
transaction (``summaries``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.bulk import adapt, insert_plain
from partyedu.core.hooks import hooks

from ..choices import CreditMode, HourKind, ResourceKind, SourceType
from ..conversion import activity_hours, default_credit_mode, hour_kind
from ..credit_selectors import credit_mode_subquery
from ..models import LearningHourEntry, MemberRequirement, OnlineResource, ResourceProgress
from ..selectors import ZERO
from ._common import CHUNK, _actor_user, _chunks, _hours_text, _ids_q
from .summaries import _apply_hours, _lock_members, _members_refresh, _sync_classes

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
# What an activity's label, kind and hours depend on (with the credit rule in force for its type
# at its organisation, read in the same query: ``credit_mode_subquery``).
ACTIVITY_HOUR_FIELDS = ("id", "activity_type", "topic", "start", "end", "credited_hours", "study_minutes")


def _credit_note(activity: Any, mode: str, type_label: str) -> str:
    """What an attended row's line adds to its state (出席 …) when the type's rule limits the
    hours: the member sees why a meeting credited little or nothing."""
    if activity.credited_hours is not None or mode == CreditMode.FULL:
        return ""
    if mode == CreditMode.NONE:
        return f"，{type_label}不计学时"
    if activity.study_minutes:
        return f"，计学习部分{activity.study_minutes}分钟"
    return "，未填学习时长不计学时"


def desired_for_attendance(ids: Sequence[int]) -> dict[int, Desired]:
    """Attendance credits the activity's hours when the member was present or late, or made the
    session up (补学) and the secretary confirmed it; otherwise nothing. The activity's hours are
    its 认定学时 when set, else what the credit rule in force for its type at its organisation
    allows (DOMAIN_RULES 学时 "Activities that credit hours": by time, the study part, or none).

    Two queries: the attendance rows as plain values, then their activities, each with its rule
    resolved in that query; an activity's label, kind and hours are worked out once for all its
    rows (the rebuild reads millions of rows). A few rows (a check-in, a marking) are read with
    their activities in one query."""
    from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus
    from partyedu.study.models import Activity, Attendance

    fields = ("pk", "member_id", "status", "makeup_confirmed_at", "activity_id")
    activities: dict[int, Any] = {}
    if isinstance(ids, range) or len(ids) > JOINED_READ_MAX:
        rows = list(Attendance.objects.filter(_ids_q("pk", ids)).order_by().values_list(*fields))
        if rows:
            activities = {
                a.pk: a
                for a in Activity.objects.filter(pk__in=sorted({r[4] for r in rows}))
                .only(*ACTIVITY_HOUR_FIELDS)
                .annotate(
                    credit_mode=credit_mode_subquery(type_ref="activity_type", path_ref="organization__path")
                )
            }
    else:
        joined = [f"activity__{name}" for name in ACTIVITY_HOUR_FIELDS]
        names = (*ACTIVITY_HOUR_FIELDS, "credit_mode")
        in_force = credit_mode_subquery(
            type_ref="activity__activity_type", path_ref="activity__organization__path"
        )
        rows = []
        for values in (
            Attendance.objects.filter(pk__in=list(ids))
            .order_by()
            .annotate(credit_mode=in_force)
            .values_list(*fields, *joined, "credit_mode")
        ):
            rows.append(values[: len(fields)])
            activities.setdefault(
                values[4], SimpleNamespace(**dict(zip(names, values[len(fields) :], strict=True)))
            )
    if not rows:
        return {}
    # The labels as ``get_FOO_display()`` gives them, looked up once per call, not per row.
    type_labels = {value: str(label) for value, label in ActivityType.choices}
    status_labels = {value: str(label) for value, label in AttendanceStatus.choices}
    attended = {str(s) for s in ATTENDED_STATUSES}
    per_activity: dict[int, tuple[str, dict[tuple[str, int], Decimal], str]] = {}
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
            mode = activity.credit_mode or default_credit_mode(activity.activity_type)
            full = {(kind, year): h for year, h in activity_hours(activity, mode=mode).items() if h > 0}
            cached = per_activity[activity_id] = (label, full, _credit_note(activity, mode, type_label))
        label, full, credit_note = cached
        status_label = status_labels.get(status, "")
        credited = status in attended or (status == AttendanceStatus.MAKEUP and confirmed_at is not None)
        hours: dict[tuple[str, int], Decimal] = {}
        if credited:
            hours = dict(full)
            note = status_label + credit_note
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
    actor: Actor,
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


def _source_members(source_type: str, ids: Sequence[int], desired_fn: DesiredFn | None = None) -> set[int]:
    """The members the sources belong to and those their ledger lines name, in one query (for a
    source kept by a higher app, whose rows learning cannot read: the members its ``desired_fn``
    names, and the ledger's)."""
    from partyedu.study.models import Attendance

    in_ledger = (
        LearningHourEntry.objects.filter(_ids_q("source_id", ids), source_type=source_type)
        .order_by()
        .values_list("member_id", flat=True)
    )
    models: dict[str, Any] = {SourceType.ATTENDANCE: Attendance, SourceType.RESOURCE: ResourceProgress}
    model = models.get(source_type)
    if model is None:
        assert desired_fn is not None
        return {d.member_id for d in desired_fn(ids).values()} | set(in_ledger)
    of_sources = model.objects.filter(_ids_q("pk", ids)).order_by().values_list("member_id", flat=True)
    return set(of_sources.union(in_ledger))


def _sync_once(
    *,
    source_type: str,
    ids: Sequence[int],
    desired_fn: DesiredFn,
    actor: Actor,
    word: str,
    member_ids: Iterable[int] | None = None,
) -> list[_Line]:
    wanted = set(member_ids or ()) or _source_members(source_type, ids, desired_fn)
    if not wanted:
        return []
    # Lock the members first (in id order, as every writer of their summaries does), and only then
    # read what the sources credit and what the ledger holds: a writer of the same sources or
    # members that got there first has committed by the time we hold the locks, and both reads see
    # its work. (What a source credited, read before the locks, could be older than the ledger
    # read after them: a check-in committed meanwhile would then be reversed.)
    states: dict[int, MemberRequirement] = {}
    # Attendance also decides which training classes a member completed (rule 3 of the hours).
    classes = source_type == SourceType.ATTENDANCE
    locked = _lock_members(wanted, states, classes=classes)
    desired = desired_fn(ids)
    nets = _ledger_nets(source_type, ids)
    named = {d.member_id for d in desired.values()} | {key[0] for net in nets.values() for key in net}
    extra = named - {m["id"] for m in locked}
    if extra:
        # A member the caller did not name: lock it too, then read both again under all the locks.
        locked = sorted([*locked, *_lock_members(extra, states, classes=classes)], key=lambda m: m["id"])
        desired = desired_fn(ids)
        nets = _ledger_nets(source_type, ids)
    rows = _correction_rows(
        source_type=source_type, ids=ids, desired=desired, nets=nets, actor=actor, word=word
    )
    touched: set[int] = set()
    if rows:
        _insert_entries(rows)
        _apply_hours(rows)
        touched = {row.member_id for row in rows}
    if classes:
        # A class completed (or no longer) refreshes the member even when no line is appended: a
        # session that credits no hours, a 补学 that only completes the ratio.
        touched |= _sync_classes(locked)
    if touched:
        _members_refresh([m for m in locked if m["id"] in touched], states=states)
    return rows


def _sync_sources(
    *,
    source_type: str,
    ids: Iterable[int],
    desired_fn: DesiredFn,
    actor: Actor,
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
    *, attendance_ids: list[int], actor: Actor = None, member_ids: Iterable[int] | None = None
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
def learning_hours_sync_resource(*, progress_ids: list[int], actor: Actor = None) -> int:
    """Bring the ledger in line with the given resource progress rows (completion credits the
    resource's hours as 网络学习 once)."""
    return _sync_sources(
        source_type=SourceType.RESOURCE, ids=progress_ids, desired_fn=desired_for_resource, actor=actor
    )


# --- sources kept by higher apps ---------------------------------------------------------------------

MaxIdFn = Callable[[], int]


def hour_sources() -> dict[str, tuple[MaxIdFn, DesiredFn]]:
    """Every ledger source type with the largest id it may have and what its sources credit: the
    two of this app and those higher apps register through the ``learning.hour_sources`` hook
    (exams: passed exams that credit hours)."""
    from partyedu.study.models import Attendance

    def attendance_max() -> int:
        return Attendance.objects.aggregate(m=Max("pk"))["m"] or 0

    def progress_max() -> int:
        return ResourceProgress.objects.aggregate(m=Max("pk"))["m"] or 0

    sources: dict[str, tuple[MaxIdFn, DesiredFn]] = {
        SourceType.ATTENDANCE.value: (attendance_max, desired_for_attendance),
        SourceType.RESOURCE.value: (progress_max, desired_for_resource),
    }
    for registered in hooks.call("learning.hour_sources"):
        sources.update(registered)
    return sources


@transaction.atomic(savepoint=False)
def learning_hours_sync_source(
    *, source_type: str, ids: Iterable[int], actor: Actor = None, member_ids: Iterable[int] | None = None
) -> int:
    """Bring the ledger in line with the given sources of any type (``learning_hours_sync_resource``
    for every source kind, those of higher apps included): appends correcting rows only where the
    ledger's net differs from what each source credits now, and keeps the summaries in step.
    Call inside the transaction that changed the sources. Returns how many rows were appended."""
    sources = hour_sources()
    if source_type not in sources or source_type == SourceType.MANUAL:
        raise ValueError(f"no hour source {source_type!r}")
    return _sync_sources(
        source_type=source_type,
        ids=ids,
        desired_fn=sources[source_type][1],
        actor=actor,
        member_ids=member_ids,
    )


@transaction.atomic(savepoint=False)
def learning_classes_sync(
    *, member_ids: Iterable[int] | None = None, class_ids: Iterable[int] | None = None, actor: Actor = None
) -> set[int]:
    """Bring the training classes completed (``MemberYearHours.classes_completed``) and what
    depends on them (completion flags, organisation counts) in line for the given members, and for
    every member who attended a session of ``class_ids``: after a change that does not touch
    attendance but decides completion (a required 结业考试's result, an exam made or unmade a
    completion condition). Returns the members whose count changed."""
    from partyedu.study.models import Attendance

    wanted = set(member_ids or ())
    if class_ids is not None:
        classes = sorted(set(class_ids))
        if classes:
            wanted |= set(
                Attendance.objects.filter(activity__training_class_id__in=classes)
                .order_by()
                .values_list("member_id", flat=True)
                .distinct()
            )
    if not wanted:
        return set()
    states: dict[int, MemberRequirement] = {}
    locked = _lock_members(wanted, states, classes=True)
    touched = _sync_classes(locked)
    if touched:
        _members_refresh([m for m in locked if m["id"] in touched], states=states)
    return touched
