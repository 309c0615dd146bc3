"""Reads of the monthly report (党建活动月报): the lists (by organisation and month, awaiting
review, late), one report and its history, the reviewer check, and the quarterly and annual
summaries. Every public selector takes the user and starts from their scope; the derivation of
the figures is ``supervision.reports_derive``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import POLICY_ROLE, can_act_above, scope_for, user_grants
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..models.reports import MonthlyReport, ReportEvent, ReportStatus
from ..reports_derive import (
    LATE_AFTER_DAYS,
    add_figures,
    latest_due_month,
    month_last_day,
    parse_period,
    with_rate,
)

APP = "supervision"


def report_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[MonthlyReport]:
    """Reports in the user's scope, newest month first. ``organization``: that organisation's
    subtree (an organisation outside scope yields nothing); ``period`` "YYYY-MM"; ``status``;
    ``year``."""
    filters = filters or {}
    qs = MonthlyReport.objects.restrict(user, action).select_related("organization")
    org_id = filters.get("organization")
    if org_id not in (None, ""):
        org = Organization.objects.filter(pk=int(str(org_id))).first() if str(org_id).isdigit() else None
        if org is None:
            return qs.none()
        qs = qs.filter(org.subtree_q("organization__path"))
    period = filters.get("period")
    if period:
        parsed = parse_period(period)
        if parsed is None:
            return qs.none()
        qs = qs.filter(year=parsed[0], month=parsed[1])
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs.order_by("-year", "-month", "organization__path")


def report_get(*, user: Viewer, pk: Any, action: str = "view") -> MonthlyReport:
    try:
        return MonthlyReport.objects.restrict(user, action).select_related("organization").get(pk=int(pk))
    except (MonthlyReport.DoesNotExist, TypeError, ValueError):
        raise Http404("月报不存在") from None


def report_events(*, user: Viewer, report: MonthlyReport) -> QuerySet[ReportEvent]:
    """The report's history, oldest first (empty when the report is outside the user's scope)."""
    return (
        ReportEvent.objects.restrict(user, "view")
        .filter(report=report)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def review_paths(user: Viewer) -> tuple[str, ...]:
    """The subtrees where the user reviews reports: where they hold the org_admin role (only
    the organisations strictly below each such path)."""
    return tuple(sorted({g.path for g in user_grants(user) if g.role == POLICY_ROLE}))


def can_review(user: Viewer, report: MonthlyReport) -> bool:
    """Whether the user may return or approve the report: org_admin at a STRICT ancestor of its
    organisation, and no role at the organisation itself (its own secretary never approves its
    own report) nor having submitted it."""
    path = report.organization.path
    grants = user_grants(user)
    if report.submitted_by_id is not None and report.submitted_by_id == getattr(user, "pk", None):
        return False
    if any(g.path.startswith(path) for g in grants if g.role != POLICY_ROLE or g.path == path):
        return False
    return can_act_above(user, report.organization)


def report_review_queue(*, user: Viewer) -> QuerySet[MonthlyReport]:
    """Submitted reports awaiting the user's review: in subtrees where they hold org_admin,
    strictly below the organisation where they hold it."""
    paths = review_paths(user)
    if not paths:
        return MonthlyReport.objects.none()
    below = Q()
    for p in paths:
        below |= Q(organization__path__gt=p, organization__path__lt=p + "~")
    return (
        report_list(user=user, filters={"status": ReportStatus.SUBMITTED})
        .filter(below)
        .order_by("year", "month", "organization__path")
    )


@dataclass
class LateReport:
    organization: Organization
    year: int
    month: int
    status: str  # "" when not generated

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def report_late(*, user: Viewer, today: date | None = None, limit: int = 100) -> tuple[int, list[LateReport]]:
    """Organisations strictly below the user's org_admin organisations (reporting levels only)
    whose report for the latest due month was not submitted more than ``LATE_AFTER_DAYS`` days
    after the month ended: (how many, the first ``limit``)."""
    paths = review_paths(user)
    if not paths:
        return 0, []
    year, month = latest_due_month(today or timezone.localdate())
    scope = scope_for(user, "view", APP)
    below = Q()
    for p in paths:
        below |= Q(path__gt=p, path__lt=p + "~")
    done = MonthlyReport.objects.filter(
        year=year, month=month, status__in=(ReportStatus.SUBMITTED, ReportStatus.APPROVED)
    ).values("organization_id")
    orgs = (
        Organization.objects.filter(below, scope.q("path"), is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .exclude(pk__in=done)
        .order_by("path")
    )
    count = orgs.count()
    listed = list(orgs[:limit])
    statuses = dict(
        MonthlyReport.objects.filter(
            organization__in=[o.pk for o in listed], year=year, month=month
        ).values_list("organization_id", "status")
    )
    return count, [LateReport(o, year, month, statuses.get(o.pk, "")) for o in listed]


def report_own_organizations(*, user: Viewer) -> list[Organization]:
    """The organisations whose reports the user writes: where they hold a role that may add
    supervision data, the organisation of the role itself (a secretary's branch)."""
    scope = scope_for(user, "add", APP)
    paths = [g.path for g in user_grants(user) if g.path in scope.paths or scope.covers(g.path)]
    return list(
        Organization.objects.filter(path__in=sorted(set(paths)), is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .order_by("path")
    )


def report_months(
    *, user: Viewer, organization: Organization, year: int, today: date | None = None
) -> list[dict[str, Any]]:
    """The months of ``year`` up to now for one organisation, each with its report (or None) and
    whether it is late. A month that has not ended yet (the current one) is listed only when its
    report already exists: the list offers 生成月报 only for ended months, as a month's report is
    written after the month (the API still accepts the current month, see ``_check_period``)."""
    today = today or timezone.localdate()
    reports = {r.month: r for r in report_list(user=user).filter(organization=organization, year=year)}
    rows = []
    for month in range(12, 0, -1):
        report = reports.get(month)
        if month_last_day(year, month) >= today and report is None:
            continue
        late = (
            report is None or report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)
        ) and month_last_day(year, month) + timedelta(days=LATE_AFTER_DAYS) < today
        rows.append({"month": month, "period": f"{year:04d}-{month:02d}", "report": report, "late": late})
    return rows


@dataclass
class SummaryRow:
    label: str
    months: list[int]
    figures: dict[str, Any]
    approved: int


def report_summary(
    *, user: Viewer, organization: Organization, year: int
) -> tuple[list[SummaryRow], SummaryRow]:
    """Quarterly rows and the annual total of the organisation's APPROVED monthly reports (their
    frozen figures, added up; the rate recomputed from the added person-times)."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("组织不存在")
    reports = {
        r.month: r.figures
        for r in MonthlyReport.objects.filter(
            organization=organization, year=year, status=ReportStatus.APPROVED
        )
    }
    quarters = []
    year_total: dict[str, Any] = {}
    for q in range(4):
        months = [q * 3 + 1, q * 3 + 2, q * 3 + 3]
        total: dict[str, Any] = {}
        for m in months:
            if m in reports:
                add_figures(total, reports[m])
                add_figures(year_total, reports[m])
        quarters.append(
            SummaryRow(f"第{q + 1}季度", months, with_rate(total), sum(m in reports for m in months))
        )
    return quarters, SummaryRow(f"{year}年", list(range(1, 13)), with_rate(year_total), len(reports))
