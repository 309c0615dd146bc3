"""Hooks registered by the reports area: the workbench to-dos (``core.todo``) — for a secretary,
last month's report to submit and a returned report to fix; for an org_admin, the reports
awaiting their review."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.todo import TodoItem
from partyedu.core.types import BaseViewer


def report_todos(*, user: BaseViewer, today: date | None = None) -> list[TodoItem]:
    from .models.reports import ReportStatus
    from .reports_derive import LATE_AFTER_DAYS, month_last_day
    from .selectors.reports import report_list, report_own_organizations, report_review_queue

    if not getattr(user, "is_authenticated", False):
        return []
    today = today or timezone.localdate()
    items: list[TodoItem] = []
    last = date(today.year, today.month, 1) - timedelta(days=1)
    own = report_own_organizations(user=user)  # type: ignore[arg-type]
    if own:
        reports = {
            r.organization_id: r
            for r in report_list(user=user, filters={"year": last.year}).filter(  # type: ignore[arg-type]
                organization__in=own, month=last.month
            )
        }
        due = month_last_day(last.year, last.month) + timedelta(days=LATE_AFTER_DAYS)
        for org in own[:20]:
            report = reports.get(org.pk)
            if report is not None and report.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
                continue
            url = (
                reverse("supervision:report_detail", args=[report.pk])
                if report is not None
                else reverse("supervision:report_list")
            )
            items.append(
                TodoItem(
                    key=f"supervision.report_due:{org.pk}:{last:%Y-%m}",
                    section="月报",
                    title=f"报送{org.name}{last.month}月党建活动月报",
                    url=url,
                    due=due,
                    priority=0 if due < today else 1,
                    icon="file-earmark-text",
                )
            )
        returned = report_list(user=user, filters={"status": ReportStatus.RETURNED})  # type: ignore[arg-type]
        for report in returned.filter(organization__in=own)[:20]:
            items.append(
                TodoItem(
                    key=f"supervision.report_returned:{report.pk}",
                    section="月报",
                    title=f"修改被退回的{report.year}年{report.month}月月报",
                    detail=report.return_reason[:100],
                    url=reverse("supervision:report_detail", args=[report.pk]),
                    priority=0,
                    icon="arrow-counterclockwise",
                )
            )
    queue = report_review_queue(user=user)  # type: ignore[arg-type]
    count = queue.count()
    if count:
        items.append(
            TodoItem(
                key="supervision.reports_to_review",
                section="月报",
                title="审核下级报送的党建活动月报",
                url=reverse("supervision:report_list"),
                count=count,
                priority=1,
                icon="clipboard-check",
            )
        )
    return items


def register() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    hooks.register("core.todo", report_todos)
