"""The one place where the figures of organisations are computed: the dashboards, the 大屏, the
monthly report's higher-level aggregation, the quarterly feedback note and the annual assessment all
read them from here, so that one figure means the same everywhere.

These are SYSTEM-LEVEL functions: the caller has already decided that the user may see the
organisations passed (a selector that starts from the user's scope). Every figure is cumulative
over the SUBTREE of each organisation passed, and each family of figures is ONE grouped query for
all the organisations of the same depth (``GROUP BY`` the path prefix of that depth) — and for an
organisation with its children (a dashboard) ONE query over its subtree, its own figures being the
sums of its children's groups — so the number of queries does not grow with the number of
children. Most families are read from KEPT figures: rows cumulative per organisation (its own
records and everything below it), kept in step with the records by the services that write
them, so a dashboard reads the organisations' own rows — one query per family, whatever the size
of their subtrees (``bench/RESULTS.md``, issue 12); the others are grouped over the subtrees:

- ``members``: active members on the roll (``Organization.member_count``, kept by the member
  services; no query);
- hours (学时): members with an annual requirement (``hours_required``), those who met it
  (``hours_completed``), ``members_short`` and ``hours_completion_rate`` — read from the learning
  summary rows (``OrgRequirementCounts``, ``OrgYearCompletion``: cumulative per organisation, the
  same rows and groups as the learning summary page, ``learning.selectors._summary_from_rows``);
  an organisation whose rows are incomplete is computed live (``learning_summary_live``);
- cadence: ``theme_day_months``: months of the period begun so far in which the subtree held
  (or has scheduled) a 主题党日 (``study.ActivityFigures``, below); ``cadence_branches`` /
  ``cadence_compliant``: branches of the subtree and those that missed no ended period of any cadence requirement (``study.selectors``'
  cadence SQL, the rules and defaults of the cadence report, ``DEFAULT_CADENCE``/``CadenceRule``);
- ``activities`` and ``activities_by_type``: activities held (started, not in the future) in the
  period; ``attendance_person_times``: their attendance rows marked 出席 or 迟到
  (``ATTENDED_STATUSES``) — from ``study.ActivityFigures`` (per organisation cumulative over its
  subtree, per month and type: the organisations' own rows), less the activities of the period
  not started yet, read from the activities;
- ``lectures`` (党课 records held in the period), of them ``lectures_by_secretaries`` (a speaker of
  the 党组织书记 category) and ``cross_lectures`` (a cross speaker, 交叉讲党课) — from the lecture
  statistics' monthly figures (``lectures.LectureFigure``, cumulative per organisation), less the
  lectures of the period not started yet;
- ``online_hours``: learning hours of kind 网络学习 credited to the members of the subtree (a year:
  the kept figure ``learning.online``, cumulative per organisation; a month: the ledger's online
  lines written in that month);
- ``competition_entries`` (entries not withdrawn, recommended by an organisation of the subtree, of
  competitions of the year) and ``awards`` (awards of those competitions naming an organisation of
  the subtree, certificate not revoked) — per year, also in a month view.
- service (服务群众, issue 16): ``service_units_total`` / ``service_units_registered`` (units that
  should register with a community and those holding a 共驻共建 agreement in force in the period),
  ``service_members_expected`` / ``service_members_registered`` (in-service members and those
  registered, 报到), ``services`` and ``service_hours`` (confirmed service records plus volunteer
  attendances), ``pledges_planned`` / ``pledges_done`` (我为群众办实事 due in the period, and done),
  ``requests_solved`` / ``households_benefited`` (联户 requests resolved in the period) — the
  service app's own definitions and queries (``service.selectors_summary.summary_sources``), one
  grouped query each (four per depth), the confirmed records and the pledges from their kept
  figures (``service.records``, ``service.pledges`` …: ``service.services.figures``).

``figure_rows_url`` gives, for each figure, the page listing the rows it counts.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from partyedu.competitions.models import Award, Entry
from partyedu.core.scope import subtree_q
from partyedu.learning.choices import HourKind
from partyedu.learning.models import LearningHourEntry, OrgRequirementCounts, OrgYearCompletion
from partyedu.learning.selectors import COMPLETION_GROUPS, learning_summary_live
from partyedu.learning.services.online import ONLINE
from partyedu.lectures import summaries as lecture_summaries
from partyedu.lectures.choices import LecturerCategory
from partyedu.lectures.models import Lecture
from partyedu.lectures.summaries import figures_of as lecture_figures_of
from partyedu.organizations.figures import subtree_figures_of
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.service.selectors_summary import (
    FLOW_SOURCES,
    STOCK_SOURCES,
    summary_from_rows,
    summary_sources,
)
from partyedu.service.services import figures as service_figures
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType
from partyedu.study.models import Activity, ActivityFigures, Attendance
from partyedu.study.selectors import cadence_branch_sql

MONTHS = range(1, 13)
# Up to this many organisations of one depth are selected by their own path ranges (index range
# scans); more are selected through their common ancestor and the prefix.
RANGES_MAX = 64
# PostgreSQL's work_mem for the figures' queries (SET LOCAL, their transaction only).
FIGURES_WORK_MEM = "32MB"


@dataclass(frozen=True)
class Period:
    """A year, or one month of it: the half-open interval [start, end) in local time, and the
    instant up to which activities count as held (now, inside the current period)."""

    year: int
    month: int | None = None

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> date:
        if self.month:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=_tz())

    @property
    def end(self) -> datetime:
        if self.month == 12 or not self.month:
            return datetime(self.year + 1, 1, 1, tzinfo=_tz())
        return datetime(self.year, self.month + 1, 1, tzinfo=_tz())

    def held_until(self, now: datetime | None = None) -> datetime:
        return min(self.end, now or timezone.now())

    def months(self) -> list[int]:
        """The months of the period (1–12)."""
        return [self.month] if self.month else list(range(1, 13))

    def elapsed_months(self, today: date | None = None) -> list[int]:
        """The months of the period that have begun."""
        today = today or timezone.localdate()
        return [m for m in self.months() if date(self.year, m, 1) <= today]

    def as_of(self, today: date | None = None) -> date:
        """The day the cadence is judged on: the period's last day, or today inside it."""
        return min(self.last_day, today or timezone.localdate())

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月" if self.month else f"{self.year}年"


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass
class OrgFigures:
    """The figures of one organisation's subtree over one period (see the module docstring)."""

    organization_id: int
    members: int = 0
    hours_required: int = 0
    hours_completed: int = 0
    theme_day_months: int = 0
    months_elapsed: int = 0
    cadence_branches: int = 0
    cadence_compliant: int = 0
    activities: int = 0
    activities_by_type: dict[str, int] = field(default_factory=dict)
    attendance_person_times: int = 0
    lectures: int = 0
    lectures_by_secretaries: int = 0
    cross_lectures: int = 0
    online_hours: Decimal = Decimal("0")
    competition_entries: int = 0
    awards: int = 0
    # service (服务群众): see the module docstring.
    service_units_total: int = 0
    service_units_registered: int = 0
    service_members_expected: int = 0
    service_members_registered: int = 0
    services: int = 0
    service_hours: Decimal = Decimal("0")
    pledges_planned: int = 0
    pledges_done: int = 0
    requests_solved: int = 0
    households_benefited: int = 0
    # attendance_person_times month by month (index 0 = January): the trend chart of a year view
    # reads it instead of counting the year's attendance a second time. Not an indicator.
    attendance_by_month: list[int] = field(default_factory=lambda: [0] * 12, repr=False)
    # activities held month by month, likewise.
    activities_by_month: list[int] = field(default_factory=lambda: [0] * 12, repr=False)
    # 主题党日 held (or scheduled) in each month of the year, for theme_day_months and the trend.
    theme_days_by_month: list[int] = field(default_factory=lambda: [0] * 12, repr=False)
    # lectures held month by month (the period's months), for the trend.
    lectures_by_month: list[int] = field(default_factory=lambda: [0] * 12, repr=False)

    @property
    def members_short(self) -> int:
        return max(0, self.hours_required - self.hours_completed)

    @property
    def hours_completion_rate(self) -> float:
        """Members who met their requirement over members with one, 0–1 (0 when none has one)."""
        return round(self.hours_completed / self.hours_required, 4) if self.hours_required else 0.0

    @property
    def cadence_compliance_rate(self) -> float:
        """Branches that missed no ended period over the branches, 0–1 (0 when there are none)."""
        return round(self.cadence_compliant / self.cadence_branches, 4) if self.cadence_branches else 0.0

    def indicators(self) -> dict[str, Any]:
        """The figures as plain JSON values (the API's ``indicators``)."""
        data = asdict(self)
        del data["organization_id"]
        del data["attendance_by_month"]
        del data["activities_by_month"]
        del data["theme_days_by_month"]
        del data["lectures_by_month"]
        data["online_hours"] = float(self.online_hours)
        data["service_hours"] = float(self.service_hours)
        data["activities_by_type"] = {k: v for k, v in sorted(self.activities_by_type.items()) if v}
        data["members_short"] = self.members_short
        data["hours_completion_rate"] = self.hours_completion_rate
        data["cadence_compliance_rate"] = self.cadence_compliance_rate
        return data


# --- grouping by path prefix ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Depth:
    """The organisations of one path length: their paths and ids, and what selects them."""

    width: int
    ids: dict[str, int]

    @property
    def common(self) -> str:
        """The longest whole-segment path prefix shared by all (their common ancestor's path)."""
        paths = list(self.ids)
        prefix = paths[0]
        for path in paths[1:]:
            while not path.startswith(prefix):
                prefix = prefix[:-SEGMENT_WIDTH]
        return prefix


def _depths(organizations: Iterable[Organization]) -> list[_Depth]:
    by_width: dict[int, dict[str, int]] = defaultdict(dict)
    for org in organizations:
        by_width[len(org.path)][org.path] = org.pk
    return [_Depth(width, ids) for width, ids in sorted(by_width.items())]


def _grouped(qs: QuerySet[Any], path_field: str, depth: _Depth) -> QuerySet[Any]:
    """``qs`` restricted to the subtrees of the organisations of ``depth`` and annotated with
    ``_prefix`` (the organisation each row counts for); the caller adds ``values``/``annotate``."""
    paths = list(depth.ids)
    qs = qs.annotate(_prefix=Substr(path_field, 1, depth.width))
    if len(paths) <= RANGES_MAX:
        return qs.filter(subtree_q(path_field, paths))
    common = depth.common
    if common:
        qs = qs.filter(subtree_q(path_field, [common]))
    return qs.filter(_prefix__in=paths)


def _top_and_children(depths: list[_Depth]) -> tuple[str, int, _Depth] | None:
    """(path, id, children's depth) when the organisations are one organisation and organisations
    below it, all of one depth (a dashboard: an organisation and its children); else None."""
    if len(depths) != 2 or len(depths[0].ids) != 1:
        return None
    ((top_path, top_id),) = depths[0].ids.items()
    below = depths[1]
    if not all(path.startswith(top_path) for path in below.ids):
        return None
    return top_path, top_id, below


def _rows(
    qs: QuerySet[Any], path_field: str, organizations: Sequence[Organization], *group: str, **aggregates: Any
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(organisation id, row) for every group row of ``qs`` over the organisations' subtrees:
    one query per depth of the organisations passed, or — for an organisation and organisations
    below it (a dashboard) — ONE query over the organisation's subtree grouped by the lower
    organisations' path prefix, the organisation's own rows being the sums of all groups (every
    aggregate passed must add up across prefixes: a count, a sum, a count of distinct rows that
    each belong to one organisation). A city's attendance is then read once, not twice."""
    depths = _depths(organizations)
    top = _top_and_children(depths)
    if top is not None:
        top_path, top_id, below = top
        rows = (
            qs.filter(subtree_q(path_field, [top_path]))
            .annotate(_prefix=Substr(path_field, 1, below.width))
            .values("_prefix", *group)
            .annotate(**aggregates)
            .order_by()
        )
        totals: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            org_id = below.ids.get(row["_prefix"])
            if org_id is not None:
                yield org_id, row
            total = totals.setdefault(
                tuple(row[g] for g in group), {"_prefix": top_path, **{g: row[g] for g in group}}
            )
            for name in aggregates:
                if row[name] is not None:
                    total[name] = row[name] + total[name] if total.get(name) is not None else row[name]
        for total in totals.values():
            for name in aggregates:
                total.setdefault(name, None)
            yield top_id, total
        return
    for depth in depths:
        rows = _grouped(qs, path_field, depth).values("_prefix", *group).annotate(**aggregates).order_by()
        for row in rows:
            org_id = depth.ids.get(row["_prefix"])
            if org_id is not None:
                yield org_id, row


# --- the figures -----------------------------------------------------------------------------------


def subtree_figures(
    *, organizations: Sequence[Organization], year: int, month: int | None = None, today: date | None = None
) -> dict[int, OrgFigures]:
    """The figures of each organisation's subtree over the year or the month (organisation id →
    ``OrgFigures``). About ten grouped queries per depth of the organisations passed, whatever
    their number and the size of their subtrees."""
    orgs = list(organizations)
    out = {org.pk: OrgFigures(organization_id=org.pk, members=org.member_count) for org in orgs}
    if not orgs:
        return out
    period = Period(year, month)
    today = today or timezone.localdate()
    if connection.vendor != "postgresql":
        _add_all(out, orgs, period, today)
        return out
    with transaction.atomic(), connection.cursor() as cursor:
        # A city's groups fit in memory (hash aggregates, no sort spilled to disk), and JIT
        # compilation costs more than it saves on queries of tens of milliseconds.
        cursor.execute(f"SET LOCAL work_mem = '{FIGURES_WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")
        _add_all(out, orgs, period, today)
    return out


def _add_all(out: dict[int, OrgFigures], orgs: list[Organization], period: Period, today: date) -> None:
    _add_hours(out, orgs, period.year)
    _add_activities(out, orgs, period)
    _add_theme_days(out, orgs, period, today)
    _add_cadence(out, orgs, period, today)
    _add_lectures(out, orgs, period)
    _add_online(out, orgs, period)
    _add_competitions(out, orgs, period.year)
    _add_service(out, orgs, period)


def _add_hours(out: dict[int, OrgFigures], orgs: list[Organization], year: int) -> None:
    counts = {
        row["organization_id"]: row
        for row in OrgRequirementCounts.objects.filter(organization_id__in=list(out)).values(
            "organization_id", "members", *COMPLETION_GROUPS
        )
    }
    done = {
        row["organization_id"]: row
        for row in OrgYearCompletion.objects.filter(organization_id__in=list(out), year=year).values(
            "organization_id", *COMPLETION_GROUPS
        )
    }
    for org in orgs:
        row = counts.get(org.pk)
        figures = out[org.pk]
        if row is None and not org.member_count:
            continue  # no member: nothing required (the rows are made with the first member)
        if row is None or row["members"] != org.member_count:
            # Rows not (yet) complete for this organisation: what the learning summary then does.
            summary = learning_summary_live(user=None, organization=org, year=year)
            figures.hours_required, figures.hours_completed = summary.required_members, summary.completed
            continue
        finished = done.get(org.pk, {})
        figures.hours_required = sum(row[g] for g in COMPLETION_GROUPS)
        figures.hours_completed = sum(finished.get(g, 0) for g in COMPLETION_GROUPS)


def _add_theme_days(
    out: dict[int, OrgFigures], orgs: list[Organization], period: Period, today: date
) -> None:
    """Months of the period begun by ``today`` in which the subtree held a 主题党日 (scheduled ones
    included, as the cadence report counts them): from the 主题党日 rows that ``_add_activities``
    read, before it takes out the activities not started yet."""
    months = period.elapsed_months(today)
    for figures in out.values():
        figures.months_elapsed = len(months)
        figures.theme_day_months = sum(1 for m in months if figures.theme_days_by_month[m - 1] > 0)


def _add_cadence(out: dict[int, OrgFigures], orgs: list[Organization], period: Period, today: date) -> None:
    """Branches of each subtree and those with no missed period, judged as the cadence report
    judges them (``study.selectors``: the same rules, defaults and SQL), as of the period's end."""
    as_of = period.as_of(today)
    if as_of < period.first_day:
        return
    qn = connection.ops.quote_name
    depths = _depths(orgs)
    top = _top_and_children(depths)
    # An organisation and its children: one run over its subtree, grouped by the children's
    # prefix, the organisation's own figures being the sums (as ``_rows``).
    runs: list[tuple[_Depth, tuple[str, int, _Depth] | None]] = (
        [(depth, None) for depth in depths] if top is None else [(top[2], top)]
    )
    for depth, merged in runs:
        common = merged[0] if merged else depth.common
        roots = [common] if common else list(depth.ids)
        anchor = Organization(path=common or roots[0])
        # The caller decided scope (the system's figures): study's own rules, defaults and SQL.
        sql, params = cadence_branch_sql(user=None, anchor=anchor, roots=roots, year=period.year, as_of=as_of)
        paths = [] if merged else list(depth.ids)
        where = f"WHERE SUBSTR(o.{qn('path')}, 1, %s) IN ({', '.join(['%s'] * len(paths))}) " if paths else ""
        sql = (
            f"SELECT SUBSTR(o.{qn('path')}, 1, %s) AS prefix, COUNT(*), "
            f"SUM(CASE WHEN t.missing = 0 THEN 1 ELSE 0 END) FROM ({sql}) t "
            f"JOIN {qn(Organization._meta.db_table)} o ON o.{qn('id')} = t.id {where}GROUP BY 1"
        )
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL jit = off")  # as cadence_summary: JIT costs more than it saves
            args: list[Any] = [depth.width, *params]
            if paths:
                args += [depth.width, *paths]
            cursor.execute(sql, args)
            for prefix, total, compliant in cursor.fetchall():
                org_id = depth.ids.get(prefix)
                if org_id is not None:
                    out[org_id].cadence_branches = total
                    out[org_id].cadence_compliant = compliant or 0
                if merged:
                    out[merged[1]].cadence_branches += total
                    out[merged[1]].cadence_compliant += compliant or 0


def _held(period: Period, field_name: str = "start") -> Q:
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.held_until()})


def _add_activities(out: dict[int, OrgFigures], orgs: list[Organization], period: Period) -> None:
    """Activities held and their attendance person-times, by type and month, from the rows the
    study services keep (``ActivityFigures``: per organisation cumulative over its subtree, per
    year and type, scheduled activities included) — one query for the organisations' own rows,
    whatever the size of their subtrees — less the activities of the period that have not
    started yet (few: those scheduled after now, read from the activities themselves)."""
    months = period.months()
    columns = [f"m{m}" for m in MONTHS] + [f"a{m}" for m in months]
    rows = ActivityFigures.objects.filter(organization_id__in=sorted(out), year=period.year).values(
        "organization_id", "activity_type", *columns
    )
    for row in rows.order_by():
        figures = out[row["organization_id"]]
        if row["activity_type"] == ActivityType.THEME_DAY:
            figures.theme_days_by_month = [row[f"m{m}"] for m in MONTHS]
        for m in months:
            figures.activities_by_month[m - 1] += row[f"m{m}"]
        held = sum(row[f"m{m}"] for m in months)
        if held:
            figures.activities_by_type[row["activity_type"]] = (
                figures.activities_by_type.get(row["activity_type"], 0) + held
            )
            figures.activities += held
        for m in months:
            attended = row[f"a{m}"]
            figures.attendance_person_times += attended
            figures.attendance_by_month[m - 1] += attended
    now = timezone.now()
    if period.end <= now:
        return
    upcoming = Activity.objects.filter(start__gte=max(now, period.start), start__lt=period.end).annotate(
        _m=ExtractMonth("start", tzinfo=_tz())
    )
    for org_id, row in _rows(upcoming, "organization__path", orgs, "activity_type", "_m", n=Count("id")):
        figures = out[org_id]
        figures.activities_by_month[row["_m"] - 1] -= row["n"]
        left = figures.activities_by_type.get(row["activity_type"], 0) - row["n"]
        if left:
            figures.activities_by_type[row["activity_type"]] = left
        else:
            figures.activities_by_type.pop(row["activity_type"], None)
        figures.activities -= row["n"]
    early = Attendance.objects.filter(
        activity__start__gte=max(now, period.start),
        activity__start__lt=period.end,
        status__in=ATTENDED_STATUSES,
    ).annotate(_m=ExtractMonth("activity__start", tzinfo=_tz()))
    for org_id, row in _rows(early, "activity__organization__path", orgs, "_m", n=Count("id")):
        figures = out[org_id]
        figures.attendance_person_times -= row["n"]
        figures.attendance_by_month[row["_m"] - 1] -= row["n"]


def _add_lectures(out: dict[int, OrgFigures], orgs: list[Organization], period: Period) -> None:
    """Lectures held in the period (started, not in the future), of them those with a speaker of
    the 党组织书记 category and those with a cross speaker (交叉讲党课): from the lecture statistics'
    monthly figures (``LectureFigure``, cumulative per organisation: one query for the
    organisations' own rows), less the lectures of the period not started yet (few: read from the
    lectures themselves)."""
    secretaries = lecture_summaries.CATEGORY + LecturerCategory.SECRETARY
    for org_id, names in lecture_figures_of(out, [period.year]).items():
        figures = out[org_id]
        for m in period.months():
            prefix = f"{lecture_summaries.MONTH}{m}:"
            held = names.get(prefix + lecture_summaries.LECTURES, 0)
            figures.lectures_by_month[m - 1] += held
            figures.lectures += held
            figures.lectures_by_secretaries += names.get(prefix + secretaries, 0)
            figures.cross_lectures += names.get(prefix + lecture_summaries.CROSS, 0)
    now = timezone.now()
    if period.end <= now:
        return
    upcoming = Lecture.objects.filter(start__gte=max(now, period.start), start__lt=period.end).annotate(
        _m=ExtractMonth("start", tzinfo=_tz())
    )
    aggregates = {
        "n": Count("id", distinct=True),
        "secretaries": Count(
            "id", distinct=True, filter=Q(speakers__lecturer__category=LecturerCategory.SECRETARY)
        ),
        "cross": Count("id", distinct=True, filter=Q(speakers__is_cross=True)),
    }
    for org_id, row in _rows(upcoming, "organization__path", orgs, "_m", **aggregates):
        figures = out[org_id]
        figures.lectures_by_month[row["_m"] - 1] -= row["n"]
        figures.lectures -= row["n"]
        figures.lectures_by_secretaries -= row["secretaries"]
        figures.cross_lectures -= row["cross"]


def _add_online(out: dict[int, OrgFigures], orgs: list[Organization], period: Period) -> None:
    """Online hours credited to the members of each subtree: a year from the kept figure
    ``learning.online`` (cumulative per organisation, one row each), a month from the ledger's
    online lines written in it (a partial index keeps those few)."""
    if not period.month:
        kept = subtree_figures_of(out, year=period.year, names=[ONLINE])
        for org_id, values in kept.items():
            out[org_id].online_hours = Decimal(values.get((0, ONLINE), 0)).quantize(Decimal("0.1"))
        return
    qs = LearningHourEntry.objects.filter(
        kind=HourKind.ONLINE, created_at__gte=period.start, created_at__lt=period.end, year=period.year
    )
    for org_id, row in _rows(qs, "member__org_path", orgs, hours=Sum("hours")):
        out[org_id].online_hours = row["hours"] or Decimal("0")


def _add_competitions(out: dict[int, OrgFigures], orgs: list[Organization], year: int) -> None:
    entries = Entry.objects.filter(competition__year=year, withdrawn=False)
    for org_id, row in _rows(entries, "organization__path", orgs, n=Count("id")):
        out[org_id].competition_entries = row["n"]
    awards = Award.objects.filter(competition__year=year, certificate__revoked_at__isnull=True)
    for org_id, row in _rows(awards, "organization__path", orgs, n=Count("id")):
        out[org_id].awards = row["n"]


SERVICE_SOURCES = (*STOCK_SOURCES, *FLOW_SOURCES)
# The summary sources read from the service app's kept figures: source → {aggregate: figure name}.
KEPT_SERVICE = {
    "records": {"records": service_figures.RECORDS, "record_hours": service_figures.RECORD_HOURS},
    "pledges": {
        "pledges_planned": service_figures.PLEDGES,
        "pledges_done": service_figures.PLEDGES_DONE,
        "pledges_confirmed": service_figures.PLEDGES_CONFIRMED,
    },
}
# The service summary's keys → the figures' names (the rest are the same).
SERVICE_FIELDS = {
    "units_total": "service_units_total",
    "units_registered": "service_units_registered",
    "members_expected": "service_members_expected",
    "members_registered": "service_members_registered",
    "services": "services",
    "service_hours": "service_hours",
    "pledges_planned": "pledges_planned",
    "pledges_done": "pledges_done",
    "requests_solved": "requests_solved",
    "households_benefited": "households_benefited",
}


def _add_service(out: dict[int, OrgFigures], orgs: list[Organization], period: Period) -> None:
    """The service family: the service app's summary sources (its definitions and queries),
    grouped like every family — one query per source and depth — except the confirmed service
    records and the pledges, read from their kept figures (``KEPT_SERVICE``: cumulative per
    organisation and month, one query for the organisations' own rows)."""
    merged: dict[int, dict[str, Any]] = defaultdict(dict)
    sources = tuple(s for s in SERVICE_SOURCES if s not in KEPT_SERVICE)
    for source in summary_sources(first_day=period.first_day, last_day=period.last_day, names=sources):
        for org_id, row in _rows(source.queryset, source.path_field, orgs, **source.aggregates):
            merged[org_id].update({name: row[name] for name in source.aggregates})
    names = {name: key for kept in KEPT_SERVICE.values() for key, name in kept.items()}
    kept_rows = subtree_figures_of(out, year=period.year, names=list(names), months=period.months())
    for org_id, values in kept_rows.items():
        for (_month, name), value in values.items():
            merged[org_id][names[name]] = merged[org_id].get(names[name], 0) + value
    for org_id, row in merged.items():
        figures = summary_from_rows(row)
        for key, name in SERVICE_FIELDS.items():
            setattr(out[org_id], name, figures[key])


# The service figures of a monthly report: what was done in the month (no stocks).
REPORT_SERVICE_KEYS = (
    "services",
    "service_hours",
    "pledges_planned",
    "pledges_done",
    "requests_solved",
    "households_benefited",
)


def own_service_figures(*, paths: Sequence[str], year: int, month: int) -> dict[str, Any]:
    """The service family over the records of exactly the organisations at ``paths`` (not their
    subtrees) in one month: the monthly report's own records (an organisation and its party
    groups). The service app's flow sources, four queries."""
    period = Period(year, month)
    merged: dict[str, Any] = {}
    for source in summary_sources(first_day=period.first_day, last_day=period.last_day, names=FLOW_SOURCES):
        merged.update(
            source.queryset.filter(**{f"{source.path_field}__in": list(paths)}).aggregate(**source.aggregates)
        )
    figures = summary_from_rows(merged)
    return {key: figures[key] for key in REPORT_SERVICE_KEYS}


# --- the trend by month ----------------------------------------------------------------------------


@dataclass
class MonthlySeries:
    """Per month of a year (index 0 = January) for one subtree: activities held, attendance
    person-times, lectures, and whether a 主题党日 was held (branches holding one)."""

    activities: list[int]
    attendance_person_times: list[int]
    lectures: list[int]
    theme_days: list[int]


def monthly_series(
    *, organization: Organization, year: int, figures: OrgFigures | None = None
) -> MonthlySeries:
    """The trend chart's figures of ``organization``'s subtree, month by month: activities held,
    attendance, 主题党日 and lectures, from the kept figures (less what has not started yet).
    ``figures``, the organisation's ``OrgFigures`` of the year, is used when passed (a year view
    has read them already: no query then)."""
    if figures is None:
        figures = OrgFigures(organization_id=organization.pk)
        period = Period(year)
        _add_activities({organization.pk: figures}, [organization], period)
        _add_lectures({organization.pk: figures}, [organization], period)
    return MonthlySeries(
        activities=list(figures.activities_by_month),
        attendance_person_times=list(figures.attendance_by_month),
        lectures=list(figures.lectures_by_month),
        theme_days=list(figures.theme_days_by_month),
    )


# --- traceability ----------------------------------------------------------------------------------

# Figures whose rows are activities of the period (the dashboard's own rows page).
ACTIVITY_FIGURES = ("activities", "attendance_person_times", "theme_day_months")


def figure_rows_url(
    figure: str, *, organization: Organization, year: int, month: int | None = None, activity_type: str = ""
) -> str:
    """The page listing the rows behind ``figure`` of ``organization``'s subtree: the dashboard's
    activity rows (activities, by type, attendance, 主题党日), the learning summary (hours: its
    list of members short), the lecture list, the lecture statistics (competitions), the cadence
    report (branches' compliance); '' for a figure with no rows (members: the roll)."""
    params: dict[str, Any] = {"organization": organization.pk, "year": year}
    if figure in ACTIVITY_FIGURES or figure == "activities_by_type":
        if month:
            params["month"] = month
        if figure == "attendance_person_times":
            params["figure"] = "attendance"
        if figure == "theme_day_months":
            params["activity_type"] = ActivityType.THEME_DAY
        elif activity_type:
            params["activity_type"] = activity_type
        return f"{reverse('supervision:dashboard_rows')}?{urlencode(params)}"
    targets = {
        "hours_required": "learning:summary",
        "hours_completed": "learning:summary",
        "members_short": "learning:summary",
        "hours_completion_rate": "learning:summary",
        "online_hours": "learning:summary",
        "lectures": "lectures:lecture_list",
        "lectures_by_secretaries": "lectures:lecture_list",
        "cross_lectures": "lectures:lecture_list",
        "competition_entries": "lectures:stats",
        "awards": "lectures:stats",
        "cadence_compliance_rate": "study:cadence",
        "cadence_branches": "study:cadence",
        "cadence_compliant": "study:cadence",
        "members": "members:list",
        **dict.fromkeys(SERVICE_FIELDS.values(), "service:summary"),
    }
    name = targets.get(figure)
    if name is None:
        return ""
    if figure == "cross_lectures":
        params["cross"] = "on"
    if name == "members:list":
        params = {"organization": organization.pk}
    return f"{reverse(name)}?{urlencode(params)}"
