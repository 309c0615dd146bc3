"""Pages: the dashboard (统计分析) with drill-down, its xlsx export, the rows behind a figure, and
the 大屏. Thin: parse the period, call the selectors, render."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import XlsxExport
from partyedu.core.scope import can
from partyedu.core.views import action_required, xlsx_response
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.study.choices import ActivityType

from ..figures import figure_rows_url
from ..selectors.dashboard import (
    Dashboard,
    dashboard_activity_rows,
    dashboard_get,
    dashboard_organization,
    dashboard_roots,
)

APP = "supervision"
TYPE_LABELS = dict(ActivityType.choices)

# The indicator cards and the columns of the children table: (figure, label).
CARDS = (
    ("members", "在册党员"),
    ("hours_completion_rate", "学时达标率"),
    ("members_short", "学时未达标"),
    ("theme_day_months", "开展主题党日月数"),
    ("cadence_compliance_rate", "支部组织生活达标率"),
    ("activities", "学习活动"),
    ("attendance_person_times", "参加人次"),
    ("lectures", "党课"),
    ("lectures_by_secretaries", "书记讲党课"),
    ("cross_lectures", "交叉讲党课"),
    ("online_hours", "网络学习学时"),
    ("competition_entries", "评选报送作品"),
    ("awards", "获奖"),
)
RATES = {"hours_completion_rate", "cadence_compliance_rate"}
# The service figures (服务群众): their own row of cards and table, after the study figures.
SERVICE_CARDS = (
    ("service_units_registered", "已报到单位"),
    ("service_units_total", "应报到单位"),
    ("service_members_registered", "已报到在职党员"),
    ("service_members_expected", "应报到在职党员"),
    ("services", "服务次数"),
    ("service_hours", "服务时长"),
    ("pledges_planned", "承诺实事"),
    ("pledges_done", "已办结实事"),
    ("requests_solved", "解决群众诉求"),
    ("households_benefited", "受益户数"),
)


def parse_period(params: Any) -> tuple[int, int | None, list[str]]:
    """``year`` (default this year) and ``month`` (default none: the whole year) from the query,
    with a Chinese message naming the field for each value refused (the default is used)."""
    errors: list[str] = []
    year = timezone.localdate().year
    raw = str(params.get("year") or "").strip()
    if raw:
        if raw.isdigit() and YEAR_MIN <= int(raw) <= YEAR_MAX:
            year = int(raw)
        else:
            errors.append(f"年度：须为 {YEAR_MIN}–{YEAR_MAX} 之间的整数")
    month: int | None = None
    raw = str(params.get("month") or "").strip()
    if raw:
        if raw.isdigit() and 1 <= int(raw) <= 12:
            month = int(raw)
        else:
            errors.append("月份：须为 1–12 之间的整数")
    return year, month, errors


def _value(figures: Any, name: str) -> Any:
    return getattr(figures, name)


def _display(name: str, value: Any) -> str:
    if name in RATES:
        return f"{value * 100:.1f}%"
    if name == "theme_day_months":
        return str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cells(board: Dashboard, figures: Any, org: Any, cards: Any = CARDS) -> list[dict[str, Any]]:
    period = board.period
    out = []
    for name, label in cards:
        value = _value(figures, name)
        display = _display(name, value)
        if name == "theme_day_months":
            display = f"{value}/{figures.months_elapsed}"
        out.append(
            {
                "name": name,
                "label": label,
                "value": display,
                "url": figure_rows_url(name, organization=org, year=period.year, month=period.month),
            }
        )
    return out


def _chart_data(board: Dashboard) -> dict[str, Any]:
    series = board.series
    mix = sorted(board.figures.activities_by_type.items(), key=lambda kv: -kv[1])
    return {
        "months": [f"{m}月" for m in range(1, 13)],
        "trend": {
            "activities": series.activities if series else [],
            "attendance": series.attendance_person_times if series else [],
            "lectures": series.lectures if series else [],
        },
        "children": {
            "names": [row.organization.display_name for row in board.children],
            "activities": [row.figures.activities for row in board.children],
            "rate": [round(row.figures.hours_completion_rate * 100, 1) for row in board.children],
        },
        "mix": [{"name": str(TYPE_LABELS.get(code, code)), "value": n} for code, n in mix],
    }


def _board(request: HttpRequest) -> tuple[Dashboard, list[str]]:
    year, month, errors = parse_period(request.GET)
    org = dashboard_organization(user=request.user, pk=request.GET.get("organization"))
    board = dashboard_get(user=request.user, organization=org, year=year, month=month)
    return board, errors


@require_GET
@action_required("view", APP, subtree=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    board, errors = _board(request)
    org, period = board.organization, board.period
    type_rows = [
        {
            "code": code,
            "label": TYPE_LABELS.get(code, code),
            "count": n,
            "url": figure_rows_url(
                "activities_by_type",
                organization=org,
                year=period.year,
                month=period.month,
                activity_type=code,
            ),
        }
        for code, n in sorted(board.figures.activities_by_type.items(), key=lambda kv: -kv[1])
    ]
    context = {
        "tab": "dashboard",
        "board": board,
        "errors": errors,
        "cards": _cells(board, board.figures, org),
        "columns": CARDS,
        "children": [
            {"row": row, "cells": _cells(board, row.figures, row.organization)} for row in board.children
        ],
        "type_rows": type_rows,
        "service_cards": _cells(board, board.figures, org, SERVICE_CARDS),
        "service_columns": SERVICE_CARDS,
        "service_children": [
            {"row": row, "cells": _cells(board, row.figures, row.organization, SERVICE_CARDS)}
            for row in board.children
        ],
        "chart_data": _chart_data(board),
        "roots": dashboard_roots(user=request.user),
        "years": list(range(timezone.localdate().year, YEAR_MIN - 1, -1))[:10],
        "months": list(range(1, 13)),
        "can_export": can(request.user, "export", org, app_label=APP),
    }
    return render(request, "supervision/dashboard.html", context)


@require_GET
@action_required("export", APP, subtree=True)
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The view as an xlsx: the organisation and each child, one row each, every figure."""
    year, month, _errors = parse_period(request.GET)
    org = dashboard_organization(user=request.user, pk=request.GET.get("organization"))
    if not can(request.user, "export", org, app_label=APP):
        raise Http404("党组织不存在")
    board = dashboard_get(user=request.user, organization=org, year=year, month=month, with_series=False)
    book = XlsxExport()
    sheet = book.sheet(f"统计分析 {board.period.label}", ["组织", *(label for _n, label in CARDS)])
    rows = [
        (f"{org.name}（合计）", board.figures),
        *((r.organization.name, r.figures) for r in board.children),
    ]
    for name, figures in rows:
        values = []
        for figure, _label in CARDS:
            value = _value(figures, figure)
            values.append(
                round(value * 100, 1)
                if figure in RATES
                else float(value)
                if figure == "online_hours"
                else value
            )
        sheet.append([name, *values])
    service = book.sheet("服务群众", ["组织", *(label for _n, label in SERVICE_CARDS)])
    for name, figures in rows:
        service.append(
            [
                name,
                *(
                    float(_value(figures, f)) if f == "service_hours" else _value(figures, f)
                    for f, _label in SERVICE_CARDS
                ),
            ]
        )
    types = book.sheet("活动类型", ["组织", *(str(label) for _c, label in ActivityType.choices)])
    for name, figures in rows:
        types.append([name, *(figures.activities_by_type.get(code, 0) for code in ActivityType.values)])
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        obj=org,
        message=f"导出统计分析 {board.period.label}（{len(board.children)} 个下级组织）",
    )
    return xlsx_response(book.to_bytes(), f"统计分析_{org.name}_{board.period.label}")


@require_GET
@action_required("view", APP, subtree=True)
def dashboard_rows(request: HttpRequest) -> HttpResponse:
    """The activities behind an activity figure of the dashboard, with their person-times."""
    year, month, errors = parse_period(request.GET)
    org = dashboard_organization(user=request.user, pk=request.GET.get("organization"))
    activity_type = str(request.GET.get("activity_type") or "")
    qs = dashboard_activity_rows(
        user=request.user, organization=org, year=year, month=month, activity_type=activity_type
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "tab": "dashboard",
        "organization": org,
        "year": year,
        "month": month,
        "errors": errors,
        "activity_type": activity_type,
        "type_label": TYPE_LABELS.get(activity_type, ""),
        "figure": request.GET.get("figure", ""),
        "page": page,
        "query": {k: v for k, v in request.GET.items() if k != "page"},
    }
    return render(request, "supervision/dashboard_rows.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def screen(request: HttpRequest) -> HttpResponse:
    """The 大屏: figures and charts of one organisation, no personal data; the page refreshes its
    figures from the dashboard API every 60 seconds."""
    year, month, _errors = parse_period(request.GET)
    org = dashboard_organization(user=request.user, pk=request.GET.get("organization"))
    board = dashboard_get(user=request.user, organization=org, year=year, month=None)
    data = {
        "organization": org.pk,
        "name": org.name,
        "year": year,
        "indicators": board.figures.indicators(),
        "children": [
            {
                "organization": r.organization.pk,
                "name": r.organization.display_name,
                "indicators": r.figures.indicators(),
            }
            for r in board.children
        ],
        "series": _chart_data(board),
        "types": {code: str(label) for code, label in ActivityType.choices},
    }
    return render(request, "supervision/screen.html", {"board": board, "screen_data": data, "month": month})


@require_GET
@action_required("view", APP, subtree=True)
def home_figures(request: HttpRequest) -> HttpResponse:
    """The key figures of the user's top organisation this year with the trend chart: the panel an
    org_admin's home page loads after it has drawn (HTMX), so that the home page stays cheap."""
    roots = dashboard_roots(user=request.user)
    if not roots:
        return HttpResponse("")
    board = dashboard_get(user=request.user, organization=roots[0], year=timezone.localdate().year)
    keys = (
        "members",
        "hours_completion_rate",
        "cadence_compliance_rate",
        "activities",
        "attendance_person_times",
    )
    cards = [cell for cell in _cells(board, board.figures, board.organization) if cell["name"] in keys]
    return render(
        request,
        "supervision/_home_figures.html",
        {"board": board, "cards": cards, "chart_data": _chart_data(board)},
    )


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/home/", home_figures, name="home_figures"),
    path("dashboard/export/", dashboard_export, name="dashboard_export"),
    path("dashboard/rows/", dashboard_rows, name="dashboard_rows"),
    path("screen/", screen, name="screen"),
]
