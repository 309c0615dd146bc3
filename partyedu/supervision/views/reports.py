"""Pages: the monthly report (党建活动月报) — the list by organisation and month (with reports
awaiting review and late ones for reviewers), one report (figures, detail rows, narrative,
submit/return/approve, history, "数据已变化"), and the quarterly and annual summary."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.scope import can, scope_for
from partyedu.core.views import action_required
from partyedu.organizations.models import Organization
from partyedu.study.choices import ActivityType, AttendanceStatus

from ..models.reports import ReportStatus
from ..reports_derive import FIGURE_LABELS, LATE_AFTER_DAYS, figures_difference, parse_period, report_figures
from ..selectors.reports import (
    can_review,
    report_events,
    report_get,
    report_late,
    report_months,
    report_own_organizations,
    report_review_queue,
    report_summary,
)
from ..services.reports import (
    report_approve,
    report_generate,
    report_narrative_update,
    report_regenerate,
    report_return,
    report_submit,
)

APP = "supervision"
TYPE_LABELS = dict(ActivityType.choices)
STATUS_LABELS = {k: v for k, v in AttendanceStatus.choices if k}
# Figures shown on a report, in order (the rest are in the detail rows).
SHOWN = (
    "activities_total",
    "attendance_person_times",
    "attendance_expected",
    "attendance_rate",
    "absentees",
    "makeup_confirmed",
    "makeup_pending",
    "hours_credited",
    "online_completions",
    "online_hours",
    "lectures",
    "required_topics_covered",
    "cadence_gaps",
    "services",
    "service_hours",
    "pledges_planned",
    "pledges_done",
    "requests_solved",
    "households_benefited",
    "children_approved",
    "children_missing",
)


def _year(request: HttpRequest) -> int:
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(exc.messages)


def _figure_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in SHOWN:
        if key not in figures:
            continue
        value = figures[key]
        if key == "attendance_rate":
            value = f"{float(value) * 100:.1f}%"
        rows.append({"key": key, "label": FIGURE_LABELS[key], "value": value})
    return rows


@require_GET
@action_required("view", APP, subtree=True)
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My organisations' reports by month with their status; for reviewers, the reports awaiting
    review in their subtree and the late ones."""
    user = request.user
    year = _year(request)
    own = report_own_organizations(user=user)
    sections = [
        {"organization": org, "months": report_months(user=user, organization=org, year=year)}
        for org in own[:20]
    ]
    queue = list(report_review_queue(user=user)[:100])
    late_count, late = report_late(user=user)
    return render(
        request,
        "supervision/report_list.html",
        {
            "tab": "report_list",
            "year": year,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 3, -1)),
            "sections": sections,
            "queue": queue,
            "late": late,
            "late_count": late_count,
            "late_days": LATE_AFTER_DAYS,
        },
    )


@require_POST
@action_required("add", APP, subtree=True)
def report_generate_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Generate (or open the existing) report of an organisation for a month."""
    org_id = str(request.POST.get("organization", ""))
    org = (
        Organization.objects.restrict(request.user, "add", app_label=APP)
        .filter(pk=int(org_id) if org_id.isdigit() else 0)
        .first()
    )
    if org is None:
        raise Http404("组织不存在")
    parsed = parse_period(request.POST.get("period", ""))
    if parsed is None:
        messages.error(request, "月份：格式应为 YYYY-MM")
        return redirect("supervision:report_list")
    try:
        report, created = report_generate(
            actor=request.user, organization=org, year=parsed[0], month=parsed[1]
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("supervision:report_list")
    if created:
        messages.success(request, "月报已由记录生成，请填写说明后报送")
    return redirect("supervision:report_detail", report.pk)


@require_http_methods(["GET", "POST"])
@action_required("view", APP, subtree=True)
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One report: figures, detail rows, the narrative form (POST saves it), the buttons the
    user may press, the history and, for a frozen report, the difference with fresh figures."""
    user = request.user
    report = report_get(user=user, pk=pk)
    may_change = can(user, "change", report.organization, app_label=APP)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("您无权修改该月报")
        try:
            report_narrative_update(
                actor=user,
                report=report,
                data={k: request.POST.get(k, "") for k in ("narrative", "problems", "next_plan")},
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, "说明已保存")
        return redirect("supervision:report_detail", report.pk)
    difference: list[dict[str, Any]] = []
    if not report.editable:
        fresh, _details = report_figures(report.organization, report.year, report.month)
        difference = figures_difference(report.figures, fresh)
    details = report.details or {}
    reviewer = report.status == ReportStatus.SUBMITTED and can_review(user, report)
    return render(
        request,
        "supervision/report_detail.html",
        {
            "tab": "report_list",
            "report": report,
            "figure_rows": _figure_rows(report.figures),
            "by_type": [
                (TYPE_LABELS.get(k, k), v)
                for k, v in (report.figures.get("activities_by_type") or {}).items()
            ],
            "details": details,
            "type_labels": TYPE_LABELS,
            "status_labels": STATUS_LABELS,
            "events": report_events(user=user, report=report),
            "difference": difference,
            "may_edit": may_change and report.editable,
            "may_submit": may_change and report.editable,
            "may_regenerate": may_change and not reviewer,
            "may_review": reviewer,
        },
    )


TRANSITIONS = ("submit", "return", "approve", "regenerate")


@require_POST
@action_required("view", APP, subtree=True)
def report_transition(request: AuthenticatedHttpRequest, pk: int, op: str) -> HttpResponse:
    """Submit, return (with a reason), approve or regenerate a report."""
    if op not in TRANSITIONS:
        raise Http404("操作不存在")
    user = request.user
    report = report_get(user=user, pk=pk)
    try:
        if op == "submit":
            report_submit(actor=user, report=report)
            messages.success(request, "月报已报送上级审核")
        elif op == "return":
            report_return(actor=user, report=report, reason=request.POST.get("reason", ""))
            messages.success(request, "月报已退回")
        elif op == "approve":
            report_approve(actor=user, report=report)
            messages.success(request, "月报已审核通过")
        else:
            report_regenerate(actor=user, report=report)
            messages.success(request, "月报已按最新记录重新生成")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("supervision:report_detail", report.pk)


@require_GET
@action_required("view", APP, subtree=True)
def report_summary_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Quarterly and annual summary of an organisation's approved monthly reports."""
    user = request.user
    year = _year(request)
    org_id = request.GET.get("organization", "")
    scope = scope_for(user, "view", APP)
    org = None
    if org_id.isdigit():
        org = Organization.objects.filter(pk=int(org_id)).first()
        if org is None or not scope.covers(org.path):
            raise Http404("组织不存在")
    if org is None:
        own = report_own_organizations(user=user)
        org = own[0] if own else Organization.objects.filter(path__in=scope.paths).order_by("path").first()
    if org is None:
        raise Http404("组织不存在")
    quarters, total = report_summary(user=user, organization=org, year=year)
    keys = [k for k in SHOWN if k != "attendance_rate"]
    return render(
        request,
        "supervision/report_summary.html",
        {
            "tab": "report_list",
            "organization": org,
            "year": year,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 3, -1)),
            "rows": [*quarters, total],
            "columns": [(k, FIGURE_LABELS[k]) for k in keys],
        },
    )


urlpatterns = [
    path("reports/", report_list, name="report_list"),
    path("reports/generate/", report_generate_view, name="report_generate"),
    path("reports/summary/", report_summary_view, name="report_summary"),
    path("reports/<int:pk>/", report_detail, name="report_detail"),
    path("reports/<int:pk>/<slug:op>/", report_transition, name="report_transition"),
]
