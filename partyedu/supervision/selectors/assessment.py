"""Reads of the annual assessment (年度考评).

Who sees what (DESIGN §3.5, no public ranking):

- the assessing level — users whose supervision scope covers the scheme's organisation — sees the
  scheme, its indicators and every assessed organisation's results (``assessment_scheme_get``);
- once the scheme is published, a user covering an assessed organisation (but not the assessing
  one) sees that organisation's own rows and nothing of its siblings
  (``assessment_visible_get`` / ``assessment_result_table``).

The derived indicators are rates read from the records of each assessed organisation's subtree
(``assessment_metric_values``); each explains itself as "numerator/denominator".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for
from partyedu.lectures.selectors import lecture_duty_summary
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..figures import OrgFigures, subtree_figures
from ..models.assessment import (
    AssessmentIndicator,
    AssessmentManualScore,
    AssessmentMetric,
    AssessmentResult,
    AssessmentScheme,
    IndicatorKind,
    SchemeStatus,
)
from ..models.guidance import RectificationItem, RectificationStatus
from ..models.reports import MonthlyReport, ReportEventKind
from ..reports_derive import LATE_AFTER_DAYS, month_last_day

APP = "supervision"


# --- schemes ----------------------------------------------------------------------------------------


def assessment_scheme_list(
    *, user: Viewer, filters: dict[str, Any] | None = None
) -> QuerySet[AssessmentScheme]:
    """The schemes of organisations in the user's supervision scope (the assessing level's view),
    newest year first; ``filters``: ``year``, ``status``, ``organization`` (its subtree)."""
    filters = filters or {}
    qs = AssessmentScheme.objects.restrict(user, "view").select_related("organization")
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    org = filters.get("organization")
    if org is not None:
        qs = qs.filter(org.subtree_q("organization__path"))
    return qs.order_by("-year", "organization__path", "-id")


def assessment_scheme_get(*, user: Viewer, pk: Any, action: str = "view") -> AssessmentScheme:
    """A scheme of an organisation in the user's scope for ``action``; anything else is 404."""
    try:
        return AssessmentScheme.objects.restrict(user, action).select_related("organization").get(pk=pk)
    except (AssessmentScheme.DoesNotExist, ValueError, TypeError):
        raise Http404("考评方案不存在") from None


def _own_results_q(user: Viewer) -> Q:
    """Results of assessed organisations in the user's supervision view scope."""
    return scope_for(user, "view", APP).q("organization__path")


def assessment_published_for_user(*, user: Viewer) -> QuerySet[AssessmentScheme]:
    """Published schemes in which an organisation of the user's scope was assessed and that the
    user does not assess themself: where a child sees its own result."""
    scope = scope_for(user, "view", APP)
    if not scope.paths:
        return AssessmentScheme.objects.none()
    own = AssessmentResult.objects.filter(scope.q("organization__path"), scheme=OuterRef("pk"))
    return (
        AssessmentScheme.objects.filter(status=SchemeStatus.PUBLISHED)
        .filter(Exists(own))
        .exclude(scope.q("organization__path"))
        .select_related("organization")
        .order_by("-year", "-id")
    )


def assessment_visible_get(*, user: Viewer, pk: Any) -> tuple[AssessmentScheme, bool]:
    """A scheme the user may look at, and whether they look at it as the assessing level (all
    results) or as an assessed organisation (its own results, published schemes only)."""
    try:
        return assessment_scheme_get(user=user, pk=pk), True
    except Http404:
        pass
    scheme = assessment_published_for_user(user=user).filter(pk=pk).first() if str(pk).isdigit() else None
    if scheme is None:
        raise Http404("考评方案不存在")
    return scheme, False


def assessment_targets(*, user: Viewer, scheme: AssessmentScheme) -> QuerySet[Organization]:
    """The assessed organisations of a scheme the user assesses (nothing otherwise)."""
    if not scope_for(user, "view", APP).covers(scheme.organization.path):
        return Organization.objects.none()
    return scheme.assessed_organizations()


# --- the result table ---------------------------------------------------------------------------------


@dataclass
class ResultRow:
    organization: Organization
    cells: list[AssessmentResult | None]
    total: Decimal = Decimal("0")


@dataclass
class ResultTable:
    scheme: AssessmentScheme
    indicators: list[AssessmentIndicator]
    rows: list[ResultRow] = field(default_factory=list)
    full: bool = True  # the assessing level's table (all rows); else the user's own rows


def assessment_result_table(*, user: Viewer, scheme: AssessmentScheme) -> ResultTable:
    """The stored results as one row per assessed organisation (tree order) and one cell per
    indicator, with totals. The assessing level gets every row; anybody else gets the rows of
    the assessed organisations in their scope, and only once the scheme is published. Three
    queries whatever the size."""
    scope = scope_for(user, "view", APP)
    full = scope.covers(scheme.organization.path)
    indicators = list(scheme.indicators.order_by("sort_order", "id"))
    table = ResultTable(scheme=scheme, indicators=indicators, full=full)
    if not full and scheme.status != SchemeStatus.PUBLISHED:
        return table
    results = AssessmentResult.objects.filter(scheme=scheme).select_related("organization")
    if not full:
        results = results.filter(scope.q("organization__path"))
    position = {ind.pk: i for i, ind in enumerate(indicators)}
    rows: dict[int, ResultRow] = {}
    for result in results.order_by("organization__path", "indicator_id"):
        row = rows.get(result.organization_id)
        if row is None:
            row = rows[result.organization_id] = ResultRow(result.organization, [None] * len(indicators))
        if result.indicator_id in position:
            result.indicator = indicators[position[result.indicator_id]]  # no query per cell
            row.cells[position[result.indicator_id]] = result
            row.total += result.points
    table.rows = list(rows.values())
    return table


def assessment_manual_scores(*, user: Viewer, scheme: AssessmentScheme) -> QuerySet[AssessmentManualScore]:
    """The manual scores of a scheme the user assesses, with their authors."""
    return (
        AssessmentManualScore.objects.restrict(user, "view")
        .filter(indicator__scheme=scheme)
        .select_related("indicator", "organization", "scored_by")
        .order_by("organization__path", "indicator__sort_order", "indicator_id")
    )


# --- derived indicators -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    """A rate with its parts, or no data (the records needed are missing or empty)."""

    numerator: Decimal | None = None
    denominator: Decimal | None = None
    unit: str = ""  # what is counted: "人", "个组织", "份", "项"
    has_data: bool = True
    note: str = ""  # why there is no rate
    # Nothing was required (no item due, nobody on the duty list …): scored as met, not as failed.
    not_applicable: bool = False

    @property
    def rate(self) -> Decimal | None:
        if not self.has_data or not self.denominator:
            return None
        return (Decimal(self.numerator or 0) / Decimal(self.denominator)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )


NO_DATA = MetricValue(has_data=False, note="无记录")


def _d(value: Any) -> Decimal:
    return Decimal(value or 0)


def _counted(numerator: Any, denominator: Any, unit: str, empty: str) -> MetricValue:
    if not denominator:
        return MetricValue(
            _d(numerator), _d(denominator), unit, has_data=False, note=empty, not_applicable=True
        )
    return MetricValue(_d(numerator), _d(denominator), unit)


def _report_deadline(year: int, month: int) -> datetime:
    """The first moment after the deadline of the report for (year, month): a report is late
    when the month ended more than ``reports_derive.LATE_AFTER_DAYS`` days ago without being
    submitted (the reports area's rule), so the whole of that last day still counts."""
    last_day = month_last_day(year, month) + timedelta(days=LATE_AFTER_DAYS)
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def _due_months(year: int, as_of: date) -> list[int]:
    """The months of ``year`` whose report deadline has passed by ``as_of``."""
    moment = timezone.make_aware(datetime.combine(as_of, time.max))
    return [m for m in range(1, 13) if _report_deadline(year, m) <= moment]


def _hours(figures: OrgFigures) -> MetricValue:
    return _counted(figures.hours_completed, figures.hours_required, "人", "无学时要求的党员")


def _cadence(figures: OrgFigures) -> MetricValue:
    return _counted(figures.cadence_compliant, figures.cadence_branches, "个支部", "无须开展组织生活的支部")


def _lecture_duty(org: Organization, year: int) -> MetricValue:
    duty = lecture_duty_summary(user=None, organization=org, year=year)
    return _counted(duty.lectured, duty.total - duty.exempt, "人", "无应讲党课的书记和领导干部")


def _report_timeliness(org: Organization, year: int, as_of: date) -> MetricValue:
    """Branch reports of the due months submitted by their deadline (the first submission, so a
    report returned and fixed later still counts as on time) over the reports due."""
    months = _due_months(year, as_of)
    branches = Organization.objects.filter(org.subtree_q(), level=OrgLevel.BRANCH, is_active=True).count()
    expected = branches * len(months)
    if not expected:
        return _counted(0, 0, "份", "本年度尚无到期月报" if branches else "无需报送月报的党支部")
    on_time = Q(pk__in=[])
    for month in months:
        deadline = _report_deadline(year, month)
        on_time |= Q(month=month) & (Q(first_submitted__lt=deadline) | Q(submitted_at__lt=deadline))
    count = (
        MonthlyReport.objects.filter(
            org.subtree_q("organization__path"),
            organization__level=OrgLevel.BRANCH,
            organization__is_active=True,
            year=year,
            month__in=months,
        )
        .annotate(first_submitted=Min("events__created_at", filter=Q(events__kind=ReportEventKind.SUBMITTED)))
        .filter(on_time)
        .count()
    )
    return _counted(count, expected, "份", "")


def _rectification(org: Organization, year: int, as_of: date) -> MetricValue:
    """Rectification items of the subtree due in the year by ``as_of``: closed over due."""
    items = RectificationItem.objects.filter(
        org.subtree_q("organization__path"),
        due_on__gte=date(year, 1, 1),
        due_on__lte=min(as_of, date(year, 12, 31)),
    )
    row = items.aggregate(total=Count("id"), closed=Count("id", filter=Q(status=RectificationStatus.CLOSED)))
    return _counted(row["closed"], row["total"], "项", "无到期整改事项")


def assessment_figures(
    *, user: Viewer | None, organizations: Sequence[Organization], year: int, as_of: date | None = None
) -> dict[int, OrgFigures]:
    """The shared figures (``supervision.figures``) of the organisations in ``user``'s supervision
    scope (None: the system) for the year, judged as of ``as_of`` (within the year): what the hours
    and cadence indicators read."""
    orgs = list(organizations)
    if user is not None:
        scope = scope_for(user, "view", APP)
        orgs = [o for o in orgs if scope.covers(o.path)]
    if as_of is not None and as_of.year > year:
        as_of = date(year, 12, 31)
    return subtree_figures(organizations=orgs, year=year, today=as_of)


def assessment_metric_values(
    *,
    user: Viewer | None,
    metric: str,
    organizations: Iterable[Organization],
    year: int,
    as_of: date | None = None,
    figures: dict[int, OrgFigures] | None = None,
) -> dict[int, MetricValue]:
    """The metric for each organisation's whole subtree (those outside ``user``'s supervision
    scope are left out; None is the system). The records are read whole, whoever asks, so that a
    result does not depend on who pressed "计分". The rates:

    - 学时完成率: members who met the year's hour requirement / members with a requirement (the
      shared figures, as on the dashboard and the learning summary);
    - 组织生活规范率: branches of the subtree that missed no ended period of any cadence
      requirement / branches (the shared figures, as the cadence report judges them);
    - 月报按时报送率: branch monthly reports first submitted by the due day of the next month /
      branches × months whose deadline has passed;
    - 整改事项销号率: rectification items due in the year (by ``as_of``) that are closed / due;
    - 书记讲党课完成率: secretaries and leading cadres (not exempt) who lectured in the year / those
      on the duty list who are not exempt.

    ``figures``: the shared figures already computed for these organisations (scoring computes
    them once for every indicator)."""
    as_of = as_of or timezone.localdate()
    if as_of.year > year:
        as_of = date(year, 12, 31) + timedelta(days=40)  # every deadline of the year has passed
    orgs = list(organizations)
    if user is not None:
        scope = scope_for(user, "view", APP)
        orgs = [o for o in orgs if scope.covers(o.path)]
    if metric in (AssessmentMetric.HOURS_COMPLETION, AssessmentMetric.CADENCE_COMPLIANCE) and figures is None:
        figures = assessment_figures(user=None, organizations=orgs, year=year, as_of=as_of)
    values: dict[int, MetricValue] = {}
    for org in orgs:
        if metric == AssessmentMetric.HOURS_COMPLETION:
            values[org.pk] = _hours(figures[org.pk]) if figures and org.pk in figures else NO_DATA
        elif metric == AssessmentMetric.CADENCE_COMPLIANCE:
            values[org.pk] = _cadence(figures[org.pk]) if figures and org.pk in figures else NO_DATA
        elif metric == AssessmentMetric.REPORT_TIMELINESS:
            values[org.pk] = _report_timeliness(org, year, as_of)
        elif metric == AssessmentMetric.RECTIFICATION_CLOSURE:
            values[org.pk] = _rectification(org, year, as_of)
        elif metric == AssessmentMetric.LECTURE_DUTY:
            values[org.pk] = _lecture_duty(org, year)
        else:
            values[org.pk] = NO_DATA
    return values


__all__ = [
    "IndicatorKind",
    "MetricValue",
    "ResultRow",
    "ResultTable",
    "assessment_figures",
    "assessment_manual_scores",
    "assessment_metric_values",
    "assessment_published_for_user",
    "assessment_result_table",
    "assessment_scheme_get",
    "assessment_scheme_list",
    "assessment_targets",
    "assessment_visible_get",
]
