"""What the records credit: for each (member, year), the scheme that applies (the nearest up the
tree), and for each of its items the sources of that member and year, ordered by date then id,
with the cap applied per (member, item, period). Pure reads, no locks: the ledger's sync reads
them under the members' locks, the rebuild's check without."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, Subquery, Sum
from django.db.models.functions import Length, TruncDate
from django.utils import timezone

from partyedu.exams.choices import ExamKind
from partyedu.exams.credit import Result, counted_of
from partyedu.exams.models import Attempt
from partyedu.learning.models import ResourceProgress
from partyedu.lectures.models import LectureSpeaker
from partyedu.members.models import Member
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.service.choices import RecordStatus, ServiceKind
from partyedu.service.models import ServiceRecord
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus
from partyedu.study.models import Attendance

from ..choices import (
    AUDIENCE_STATUSES,
    DEFAULT_DEDUCT_STATUSES,
    DEFAULT_EARN_STATUSES,
    Audience,
    CapPeriod,
    EntrySource,
    ItemKind,
    ItemSource,
    ObjectionStatus,
)
from ..models import ManualPoints, PointsEntry, PointsItem, PointsObjection, PointsScheme

ZERO = Decimal("0")
# Member fields the derivation reads (the sync reads them while locking the rows).
MEMBER_FIELDS = ("id", "org_path", "is_exempt", "categories", "status", "is_active")
# A member of these categories is never deducted (条例 第二十三条: 年老体弱), like an exempt one.
EXEMPT_CATEGORIES = frozenset({"frail"})

Key = tuple[str, int, int, int, int]  # (source type, source id, member, item, year)


class Unit(NamedTuple):
    """One source worth points for an item: what the member recognises (label), its date. (A
    named tuple: a rebuild makes millions.)"""

    source_type: str
    source_id: int
    member_id: int
    on: date
    points: Decimal  # before the cap
    label: str
    item_id: int | None = None  # a manual record names its item


class Want(NamedTuple):
    points: Decimal
    on: date
    description: str


def is_exempt(member: dict[str, Any]) -> bool:
    return bool(member["is_exempt"]) or bool(EXEMPT_CATEGORIES & set(member["categories"] or ()))


def audience_of(member: dict[str, Any]) -> str:
    """The scheme audience of a member: candidates' schemes score 入党积极分子 and 发展对象; every
    other status (including a member suspended or removed during the year) the members' scheme."""
    if member.get("status") in AUDIENCE_STATUSES[Audience.CANDIDATES]:
        return Audience.CANDIDATES
    return Audience.MEMBERS


_MONTH, _QUARTER = str(CapPeriod.MONTH.value), str(CapPeriod.QUARTER.value)


def period_of(on: date, period: str) -> tuple[int, int]:
    if period == _MONTH:
        return on.year, on.month
    if period == _QUARTER:
        return on.year, (on.month - 1) // 3 + 1
    return on.year, 0


PERIOD_WORDS: dict[str, str] = {"month": "本月", "quarter": "本季度", "year": "本年度"}


def points_text(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _day(value: datetime, tz: tzinfo | None = None) -> date:
    """The local date of ``value``; ``tz``: the current time zone when the caller converts many
    (looking it up costs more than the conversion)."""
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(tz or timezone.get_current_timezone()).date()


def _year_bounds(years: Iterable[int]) -> tuple[datetime, datetime]:
    ys = sorted(set(years))
    tz = timezone.get_current_timezone()
    return datetime(ys[0], 1, 1, tzinfo=tz), datetime(ys[-1] + 1, 1, 1, tzinfo=tz)


def schemes_for(members: dict[int, dict[str, Any]], years: set[int]) -> dict[tuple[int, int], PointsScheme]:
    """The scheme in force for each (member, year): the one for the member's audience (members
    or candidates) of the nearest organisation up the member's path (a lower level's scheme
    replaces the upper's). Two queries (schemes, items)."""
    paths = {p for m in members.values() for p in ancestor_paths(m["org_path"] or "")}
    if not paths or not years:
        return {}
    schemes = list(
        PointsScheme.objects.filter(organization__path__in=sorted(paths), year__in=sorted(years))
        .select_related("organization")
        .order_by()
    )
    if not schemes:
        return {}
    items: dict[int, list[PointsItem]] = defaultdict(list)
    for item in PointsItem.objects.filter(scheme__in=schemes).order_by("position", "id"):
        items[item.scheme_id].append(item)
    by_path_year = {}
    for scheme in schemes:
        scheme.item_list = items[scheme.pk]  # type: ignore[attr-defined]
        by_path_year[(scheme.organization.path, scheme.year, scheme.audience)] = scheme
    result = {}
    for member_id, member in members.items():
        audience = audience_of(member)
        for year in years:
            for path in reversed(ancestor_paths(member["org_path"] or "")):
                found = by_path_year.get((path, year, audience))
                if found is not None:
                    result[(member_id, year)] = found
                    break
    return result


def scheme_in_force_sql(member_alias: str, year: int) -> tuple[str, list[Any]]:
    """``scheme_of``'s rule as a scalar subquery for a hand-written statement over the member row
    ``member_alias``: the id of the nearest scheme up the member's path for the year and their
    audience (``audience_of``), or NULL. Portable SQL (a path is a prefix of the member's)."""
    qn = connection.ops.quote_name
    candidates = AUDIENCE_STATUSES[Audience.CANDIDATES]
    m = member_alias
    sql = (
        f"SELECT s.id FROM {qn(PointsScheme._meta.db_table)} s "
        f"JOIN {qn(Organization._meta.db_table)} o ON o.id = s.organization_id "
        f"WHERE s.year = %s AND substr({m}.org_path, 1, length(o.path)) = o.path AND s.audience = "
        f"CASE WHEN {m}.status IN ({', '.join(['%s'] * len(candidates))}) THEN %s ELSE %s END "
        "ORDER BY length(o.path) DESC LIMIT 1"
    )
    return sql, [year, *candidates, Audience.CANDIDATES.value, Audience.MEMBERS.value]


def scheme_of(member: dict[str, Any], year: int) -> PointsScheme | None:
    """The scheme in force for one member and year, as ``schemes_for`` finds it (the nearest up
    the member's path for their audience), with its items: one query — the nearest scheme's
    items with the scheme joined — and a second only for a scheme without items."""
    nearest = (
        PointsScheme.objects.filter(
            organization__path__in=ancestor_paths(member["org_path"] or ""),
            year=year,
            audience=audience_of(member),
        )
        .order_by(Length("organization__path").desc())
        .values("pk")[:1]
    )
    items = list(
        PointsItem.objects.filter(scheme_id=Subquery(nearest))
        .select_related("scheme__organization")
        .order_by("position", "id")
    )
    if items:
        scheme = items[0].scheme
        for item in items:
            item.scheme = scheme
    else:
        found = PointsScheme.objects.filter(pk=Subquery(nearest)).select_related("organization").first()
        if found is None:
            return None
        scheme = found
    scheme.item_list = items  # type: ignore[attr-defined]
    return scheme


def _attendance_units(
    member_ids: list[int], years: set[int], with_labels: bool = True
) -> list[tuple[Unit, str, str, bool]]:
    """Attendance rows of the members at activities in the years: (unit, activity type, status,
    补学 confirmed), with the line's description unless ``with_labels`` is off (a check that only
    compares points: the most numerous source). One query."""
    tz = timezone.get_current_timezone()
    start, end = _year_bounds(years)
    labels = {value: str(label) for value, label in ActivityType.choices}
    status_labels = {value: str(label) for value, label in AttendanceStatus.choices}
    rows = (
        Attendance.objects.filter(
            member_id__any=member_ids, activity__start__gte=start, activity__start__lt=end
        )
        .annotate(
            on=TruncDate("activity__start", tzinfo=tz),  # the local date, by the database
            confirmed=ExpressionWrapper(Q(makeup_confirmed_at__isnull=False), output_field=BooleanField()),
        )
        .order_by()
        .values_list(
            "pk",
            "member_id",
            "status",
            "confirmed",
            "activity__activity_type",
            "on",
            # The topic only for the descriptions (the longest column read).
            "activity__topic" if with_labels else "status",
        )
    )
    units = []
    for pk, member_id, status, confirmed, activity_type, on, topic in rows:
        if not with_labels:
            units.append((Unit("", pk, member_id, on, ZERO, ""), activity_type, status, confirmed))
            continue
        label = f"{on:%Y-%m-%d} {labels.get(activity_type, activity_type)}：{topic[:100]}（{status_labels.get(status, '')}）"
        units.append((Unit("", pk, member_id, on, ZERO, label), activity_type, status, confirmed))
    return units


def _lecture_units(member_ids: list[int], years: set[int]) -> list[Unit]:
    tz = timezone.get_current_timezone()
    start, end = _year_bounds(years)
    rows = (
        LectureSpeaker.objects.filter(
            lecturer__member_id__any=member_ids, lecture__start__gte=start, lecture__start__lt=end
        )
        .order_by()
        .values_list("pk", "lecturer__member_id", "lecture__start", "lecture__title")
    )
    return [
        Unit(
            ItemSource.LECTURE,
            pk,
            member_id,
            _day(s, tz),
            ZERO,
            f"{_day(s, tz):%Y-%m-%d} 讲党课：{title[:100]}",
        )
        for pk, member_id, s, title in rows
    ]


def _exam_units(member_ids: list[int], years: set[int]) -> list[Unit]:
    """A passed exam (its counted attempt passed; never a practice set or a contest round), one
    source per member and exam keyed by the first attempt, dated by the counted attempt."""
    tz = timezone.get_current_timezone()
    rows = (
        Attempt.objects.filter(member_id__any=member_ids, exam__kind=ExamKind.EXAM)
        .order_by()
        .values_list(
            "pk",
            "exam_id",
            "member_id",
            "number",
            "score",
            "passed",
            "submitted_at",
            "exam__title",
            "exam__grading",
            "exam__attempts_allowed",
        )
    )
    groups: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row[1], row[2])].append(row)
    units = []
    for (_exam_id, member_id), attempts in groups.items():
        first = min(attempts, key=lambda r: r[3])
        results = [
            Result(r[0], r[3], r[4], r[5], r[6]) for r in attempts if r[6] is not None and r[4] is not None
        ]
        counted = counted_of(results, grading=first[8], attempts_allowed=first[9])
        if counted is None or not counted.passed:
            continue
        on = _day(counted.submitted_at, tz)
        if on.year in years:
            units.append(
                Unit(
                    ItemSource.EXAM_PASS,
                    first[0],
                    member_id,
                    on,
                    ZERO,
                    f"{on:%Y-%m-%d} 考试合格：{first[7][:100]}",
                )
            )
    return units


def _resource_units(member_ids: list[int], years: set[int]) -> list[Unit]:
    tz = timezone.get_current_timezone()
    start, end = _year_bounds(years)
    rows = (
        ResourceProgress.objects.filter(
            member_id__any=member_ids, completed_at__gte=start, completed_at__lt=end
        )
        .order_by()
        .values_list("pk", "member_id", "completed_at", "resource__title")
    )
    return [
        Unit(
            ItemSource.RESOURCE,
            pk,
            member_id,
            _day(c, tz),
            ZERO,
            f"{_day(c, tz):%Y-%m-%d} 网上学习：{title[:100]}",
        )
        for pk, member_id, c, title in rows
        if c is not None
    ]


def hours_text(value: Decimal) -> str:
    return points_text(value.quantize(Decimal("0.1"), ROUND_HALF_UP))


def _service_units(member_ids: list[int], years: set[int]) -> list[Unit]:
    """Hours of service, each unit holding its HOURS in ``points`` (the item's points are per
    hour, ``_units_of``): every service record the community side confirmed, dated by the day
    served, and every attendance (出席、迟到) at a volunteer activity (志愿服务), worth the
    activity's clock hours and dated by its start. Two queries."""
    tz = timezone.get_current_timezone()
    ys = sorted(years)
    rows = (
        ServiceRecord.objects.filter(
            member_id__any=member_ids,
            status=RecordStatus.CONFIRMED,
            date__gte=date(ys[0], 1, 1),
            date__lt=date(ys[-1] + 1, 1, 1),
        )
        .order_by()
        .values_list("pk", "member_id", "date", "hours", "kind", "description")
    )
    kinds = {value: str(label) for value, label in ServiceKind.choices}
    units = [
        Unit(
            EntrySource.SERVICE_HOURS,
            pk,
            member_id,
            on,
            Decimal(hours),
            f"{on:%Y-%m-%d} 服务{hours_text(Decimal(hours))}小时：{kinds.get(kind, kind)}"
            + (f"，{description[:100]}" if description else ""),
        )
        for pk, member_id, on, hours, kind, description in rows
        if on.year in years
    ]
    start, end = _year_bounds(years)
    attended = (
        Attendance.objects.filter(
            member_id__any=member_ids,
            status__in=ATTENDED_STATUSES,
            activity__activity_type=ActivityType.VOLUNTEER_SERVICE,
            activity__start__gte=start,
            activity__start__lt=end,
        )
        .order_by()
        .values_list("pk", "member_id", "activity__start", "activity__end", "activity__topic")
    )
    for pk, member_id, started, ended, topic in attended:
        on = _day(started, tz)
        hours = Decimal(int((ended - started).total_seconds())) / 3600
        units.append(
            Unit(
                EntrySource.VOLUNTEER,
                pk,
                member_id,
                on,
                hours,
                f"{on:%Y-%m-%d} 志愿服务活动{hours_text(hours)}小时：{topic[:100]}",
            )
        )
    return units


def _manual_units(member_ids: list[int], years: set[int]) -> list[Unit]:
    rows = (
        ManualPoints.objects.filter(member_id__any=member_ids, year__in=sorted(years))
        .order_by()
        .values_list("pk", "member_id", "item_id", "on_date", "points", "reason")
    )
    return [
        Unit(ItemSource.MANUAL, pk, member_id, on, points, f"{on:%Y-%m-%d} {reason[:150]}", item_id)
        for pk, member_id, item_id, on, points, reason in rows
    ]


def _objection_units(member_ids: list[int], years: set[int]) -> dict[tuple[int, int], list[Unit]]:
    """Upheld objections to publications of the years (the correction the secretary decided,
    signed as it counts in the total, dated by the objected line or the period's end), by
    (member, publication year). One query."""
    rows = (
        PointsObjection.objects.filter(
            member_id__any=member_ids, publication__year__in=sorted(years), status=ObjectionStatus.UPHELD
        )
        .order_by()
        .values_list("pk", "member_id", "item_id", "correction_date", "points", "answer", "publication__year")
    )
    found: dict[tuple[int, int], list[Unit]] = defaultdict(list)
    for pk, member_id, item_id, on, points, answer, year in rows:
        if on is None or points is None:  # an upheld objection has both (a check constraint)
            continue
        label = f"{on:%Y-%m-%d} 异议更正：{answer[:150]}"
        found[(member_id, year)].append(
            Unit(EntrySource.OBJECTION, pk, member_id, on, points, label, item_id)
        )
    return found


def desired_points(
    members: dict[int, dict[str, Any]],
    pairs: set[tuple[int, int]],
    schemes: dict[tuple[int, int], PointsScheme] | None = None,
    *,
    labels: bool = True,
) -> dict[Key, Want]:
    """What every source credits now for the given (member, year) pairs, caps applied. Reads
    only the source kinds the schemes in force use (at most one query each); ``schemes``: the
    pairs' schemes when the caller already read them (``schemes_for``); ``labels`` off: the
    points without the lines' descriptions (the rebuild's check)."""
    if not pairs:
        return {}
    years = {year for _m, year in pairs}
    if schemes is None:
        schemes = schemes_for({m: members[m] for m, _y in pairs if m in members}, years)
    if not schemes:
        return {}
    member_ids = sorted({m for m, _y in schemes})
    used_sources = {item.source for s in schemes.values() for item in s.item_list}  # type: ignore[attr-defined]
    attendance = (
        _attendance_units(member_ids, years, labels)
        if used_sources & {ItemSource.ATTENDANCE, ItemSource.MAKEUP}
        else []
    )
    by_source: dict[str, list[Unit]] = {
        ItemSource.LECTURE: _lecture_units(member_ids, years) if ItemSource.LECTURE in used_sources else [],
        ItemSource.EXAM_PASS: _exam_units(member_ids, years) if ItemSource.EXAM_PASS in used_sources else [],
        ItemSource.RESOURCE: _resource_units(member_ids, years)
        if ItemSource.RESOURCE in used_sources
        else [],
        ItemSource.SERVICE_HOURS: _service_units(member_ids, years)
        if ItemSource.SERVICE_HOURS in used_sources
        else [],
        ItemSource.MANUAL: _manual_units(member_ids, years) if ItemSource.MANUAL in used_sources else [],
    }
    # Every list in date order (then source id) once here: ``_units_of`` keeps the order and
    # ``_capped`` credits in it.
    per_member: dict[tuple[str, int, int], list[Unit]] = defaultdict(list)
    for source, units in by_source.items():
        for unit in sorted(units, key=_in_order):
            per_member[(source, unit.member_id, unit.on.year)].append(unit)
    attendance_by: dict[tuple[int, int], list[tuple[Unit, str, str, bool]]] = defaultdict(list)
    for row in sorted(attendance, key=lambda row: _in_order(row[0])):
        attendance_by[(row[0].member_id, row[0].on.year)].append(row)
    objections = _objection_units(member_ids, years)

    wanted: dict[Key, Want] = {}
    for (member_id, year), scheme in sorted(schemes.items()):
        if (member_id, year) not in pairs:
            continue
        exempt = is_exempt(members[member_id])
        for item in scheme.item_list:  # type: ignore[attr-defined]
            if item.kind == ItemKind.DEDUCT and exempt:
                continue
            units = _units_of(
                item, per_member[(item.source, member_id, year)], attendance_by[(member_id, year)]
            )
            wanted.update(_capped(item, member_id, year, units, labels))
            # An upheld objection's correction, as decided: outside the item's cap.
            for unit in objections.get((member_id, year), ()):
                if unit.item_id == item.pk and unit.points:
                    key = (unit.source_type, unit.source_id, member_id, item.pk, year)
                    wanted[key] = Want(unit.points, unit.on, unit.label[:255])
    return wanted


def _in_order(unit: Unit) -> tuple[date, int]:
    return unit.on, unit.source_id


def _units_of(
    item: PointsItem, units: list[Unit], attendance: list[tuple[Unit, str, str, bool]]
) -> list[Unit]:
    if item.source == ItemSource.ATTENDANCE:
        statuses = set(
            item.statuses
            or (DEFAULT_DEDUCT_STATUSES if item.kind == ItemKind.DEDUCT else DEFAULT_EARN_STATUSES)
        )
        types = set(item.activity_types or ())
        return [
            Unit(ItemSource.ATTENDANCE, u.source_id, u.member_id, u.on, item.points, u.label)
            for u, activity_type, status, _c in attendance
            if status in statuses and (not types or activity_type in types)
        ]
    if item.source == ItemSource.MAKEUP:
        types = set(item.activity_types or ())
        return [
            Unit(ItemSource.MAKEUP, u.source_id, u.member_id, u.on, item.points, u.label)
            for u, activity_type, status, confirmed in attendance
            if status == AttendanceStatus.MAKEUP and confirmed and (not types or activity_type in types)
        ]
    if item.source == ItemSource.MANUAL:
        return [u for u in units if u.item_id == item.pk]
    if item.source == ItemSource.SERVICE_HOURS:
        # The item's points are per hour of service (a unit's ``points`` holds its hours).
        return [
            Unit(
                u.source_type,
                u.source_id,
                u.member_id,
                u.on,
                (item.points * u.points).quantize(Decimal("0.1"), ROUND_HALF_UP),
                u.label,
            )
            for u in units
        ]
    return [Unit(u.source_type, u.source_id, u.member_id, u.on, item.points, u.label) for u in units]


def _capped(
    item: PointsItem, member_id: int, year: int, units: list[Unit], labels: bool = True
) -> dict[Key, Want]:
    """Credit the units, given in date order (then source id): each gets its points, or what is
    left under the cap of its period (0 once the cap is reached: no line)."""
    used: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    sign = -1 if item.kind == ItemKind.DEDUCT else 1
    cap, cap_period = item.cap, str(item.cap_period)
    result = {}
    for unit in units:
        amount = unit.points
        note = ""
        if cap is not None:
            period = period_of(unit.on, cap_period)
            room = max(cap - used[period], ZERO)
            if amount > room:
                amount = room
                if labels:
                    note = f"，已达{PERIOD_WORDS.get(cap_period, '')}上限{points_text(cap)}分"
            used[period] += amount
        if amount == 0:
            continue
        description = f"{unit.label}{note}"[:255] if labels else ""
        result[(unit.source_type, unit.source_id, member_id, item.pk, year)] = Want(
            sign * amount, unit.on, description
        )
    return result


def ledger_sums(member_ids: list[int], years: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    """The ledger's net per (member, year) with lines. One query."""
    return {
        (m, y): s or ZERO
        for m, y, s in PointsEntry.objects.filter(member_id__any=member_ids, year__in=sorted(set(years)))
        .values("member_id", "year")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("member_id", "year", "s")
    }


def members_state(member_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The members' fields the derivation reads, without locks (the rebuild's check)."""
    return {m["id"]: m for m in Member.objects.filter(pk__any=sorted(set(member_ids))).values(*MEMBER_FIELDS)}
