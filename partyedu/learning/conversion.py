"""Conversion of an activity's time into learning hours (学时) and of its type into an hour kind.

DOMAIN_RULES (local practice, so the thresholds are named here): 1 clock hour = 1 学时, a half day
= 4, a full day = 8; hours count in the year they are earned and a course across two years is split.
All dates are local (``TIME_ZONE``, Asia/Shanghai).

Which activities credit hours (DOMAIN_RULES 学时 "Activities that credit hours", local): each type
credits by time (``CreditMode.FULL``), only the study part the recorder entered
(``STUDY_PART``, ``Activity.study_minutes``) or nothing (``NONE``). ``DEFAULT_CREDIT_MODES`` is
the table when no organisation up the tree set its own (``ActivityCreditRule``); an activity's
own 认定学时 (``credited_hours``) overrides either.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from partyedu.study.choices import ActivityType

from .choices import CreditMode, HourKind

HALF_DAY = Decimal("4")
FULL_DAY = Decimal("8")
# A session within [3.5 h, 4.5 h] is a half day; a day of 7 h or more is a full day.
HALF_DAY_MIN, HALF_DAY_MAX = Decimal("3.5"), Decimal("4.5")
FULL_DAY_MIN = Decimal("7")
# An evening session that runs past midnight (e.g. 19:00–01:00) is one session, not two days.
OVERNIGHT_MAX = timedelta(hours=12)

CONCENTRATED_TYPES = frozenset({"training_session", "reading_class", "site_visit"})
ONLINE_TYPES = frozenset({"online_class"})

HALF = Decimal("0.5")

# DOMAIN_RULES 学时 "Activities that credit hours" (local; an organisation department may set
# another table for its subtree). 其他 keeps crediting by time, as every type did before the table.
DEFAULT_CREDIT_MODES: dict[str, CreditMode] = {
    ActivityType.PARTY_LECTURE: CreditMode.FULL,
    ActivityType.THEME_DAY: CreditMode.FULL,
    ActivityType.CENTRAL_GROUP_STUDY: CreditMode.FULL,
    ActivityType.READING_CLASS: CreditMode.FULL,
    ActivityType.TRAINING_SESSION: CreditMode.FULL,
    ActivityType.SITE_VISIT: CreditMode.FULL,
    ActivityType.HOME_DELIVERY: CreditMode.FULL,
    ActivityType.ONLINE_CLASS: CreditMode.FULL,
    ActivityType.BRANCH_ASSEMBLY: CreditMode.STUDY_PART,
    ActivityType.GROUP_MEETING: CreditMode.STUDY_PART,
    ActivityType.BRANCH_COMMITTEE: CreditMode.NONE,
    ActivityType.ORG_LIFE_MEETING: CreditMode.NONE,
    ActivityType.DEMOCRATIC_EVALUATION: CreditMode.NONE,
    # Service is not study: it credits no hours unless a subtree's table says so (issue 16).
    ActivityType.VOLUNTEER_SERVICE: CreditMode.NONE,
    ActivityType.OTHER: CreditMode.FULL,
}


def default_credit_mode(activity_type: str) -> CreditMode:
    """How an activity type credits hours where no organisation up the tree set a rule."""
    return DEFAULT_CREDIT_MODES.get(activity_type, CreditMode.FULL)


def round_half_hours(hours: Decimal) -> Decimal:
    """To the nearest half hour (halves round up): 1.2 → 1.0, 1.25 → 1.5."""
    return (hours * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2


def session_hours(clock_hours: Decimal) -> Decimal:
    """学时 for one session of study within a day."""
    if clock_hours <= 0:
        return Decimal("0")
    if clock_hours >= FULL_DAY_MIN:
        return FULL_DAY
    if HALF_DAY_MIN <= clock_hours <= HALF_DAY_MAX:
        return HALF_DAY
    return round_half_hours(clock_hours)


def _hours_between(start: datetime, end: datetime) -> Decimal:
    return Decimal((end - start).total_seconds()) / Decimal(3600)


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _day_segments(start: datetime, end: datetime) -> list[tuple[date, datetime, datetime]]:
    """The interval cut at local midnights: (day, from, to) for each day it touches."""
    segments = []
    cursor = start
    while cursor < end:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time())
        if cursor.tzinfo is not None:
            next_midnight = next_midnight.replace(tzinfo=cursor.tzinfo)
            next_midnight = _local(next_midnight)
        upto = min(end, next_midnight)
        segments.append((cursor.date(), cursor, upto))
        cursor = upto
    return segments


def _split_by_weight(total: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Split ``total`` over years in proportion to ``weights``, in half hours, the remainder to the
    last year so the parts add up exactly."""
    years = sorted(y for y, w in weights.items() if w > 0)
    if not years:
        return {}
    whole = sum(weights[y] for y in years)
    parts: dict[int, Decimal] = {}
    given = Decimal("0")
    for year in years[:-1]:
        share = round_half_hours(total * weights[year] / whole)
        parts[year] = share
        given += share
    parts[years[-1]] = total - given
    return {y: h for y, h in parts.items() if h > 0}


def study_part_hours(minutes: int | None) -> Decimal:
    """学时 of a meeting's study part: its minutes converted like a session (none counts 0)."""
    return session_hours(Decimal(minutes or 0) / Decimal(60))


def activity_hours(activity: Any, *, mode: str | None = None) -> dict[int, Decimal]:
    """学时 credited for attending ``activity`` in full, by calendar year.

    ``credited_hours`` (认定学时) wins when set. Otherwise ``mode`` (the credit rule in force for
    the activity's type and organisation; None: the default for its type) decides: ``NONE``
    credits nothing; ``STUDY_PART`` credits ``study_minutes`` converted by ``session_hours``
    (split across 31 December by clock time like the session); ``FULL`` converts the time: a
    session within one day by ``session_hours`` (clock hours to the half hour, 3.5–4.5 h = 4,
    ≥ 7 h = 8); an activity over several days day by day (so a full day is 8); an evening session
    past midnight as one session. A span across 31 December is split into the years by days (by
    clock time for an overnight session)."""
    start, end = activity.start, activity.end
    if start is None or end is None or end <= start:
        return {}
    start, end = _local(start), _local(end)
    segments = _day_segments(start, end)
    clock_by_year: dict[int, Decimal] = {}
    for day, seg_from, seg_to in segments:
        clock_by_year[day.year] = clock_by_year.get(day.year, Decimal("0")) + _hours_between(seg_from, seg_to)

    credited = getattr(activity, "credited_hours", None)
    if credited is not None:
        credited = Decimal(credited)
        if credited <= 0:
            return {}
        days_by_year: dict[int, Decimal] = {}
        for day, _f, _t in segments:
            days_by_year[day.year] = days_by_year.get(day.year, Decimal("0")) + 1
        return _split_by_weight(credited, days_by_year)

    if mode is None:
        mode = default_credit_mode(getattr(activity, "activity_type", ""))
    if mode == CreditMode.NONE:
        return {}
    if mode == CreditMode.STUDY_PART:
        part = study_part_hours(getattr(activity, "study_minutes", None))
        return _split_by_weight(part, clock_by_year) if part > 0 else {}

    if len(segments) == 1 or (end - start) <= OVERNIGHT_MAX:
        total = session_hours(_hours_between(start, end))
        return _split_by_weight(total, clock_by_year) if total > 0 else {}

    by_year: dict[int, Decimal] = {}
    for day, seg_from, seg_to in segments:
        hours = session_hours(_hours_between(seg_from, seg_to))
        if hours > 0:
            by_year[day.year] = by_year.get(day.year, Decimal("0")) + hours
    return by_year


def hour_kind(activity: Any) -> HourKind:
    """集中培训 for classes, reading classes and site visits; 网络学习 for online class sessions;
    集体学习 for everything else (meetings, lectures, themed days, study brought home …)."""
    activity_type = getattr(activity, "activity_type", "")
    if activity_type in CONCENTRATED_TYPES:
        return HourKind.CONCENTRATED
    if activity_type in ONLINE_TYPES:
        return HourKind.ONLINE
    return HourKind.COLLECTIVE
