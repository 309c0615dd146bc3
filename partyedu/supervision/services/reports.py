"""Writes of the monthly report (党建活动月报): generate (idempotent), regenerate, edit the
narrative, submit (freezes the figures), return with a reason, approve. Each is one transaction
with its history row (``ReportEvent``) and audit row; notifications leave with the transaction.

Review rule (issue 12): only a user holding org_admin at a STRICT ancestor of the report's
organisation may return or approve, and never one who holds a role at the organisation itself or
who submitted the report (a secretary never approves their own report)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.notifications import notifications_settle, notify
from partyedu.core.scope import is_system, require
from partyedu.organizations.models import Organization

from ..models.reports import EDITABLE_STATUSES, MonthlyReport, ReportEvent, ReportEventKind, ReportStatus
from ..reports_derive import report_figures, report_reviewers
from ..selectors.reports import can_review

APP = "supervision"
NARRATIVE_FIELDS = ("narrative", "problems", "next_plan")
NARRATIVE_MAX = 2000


def _event(report: MonthlyReport, kind: str, actor: Actor, reason: str = "") -> None:
    ReportEvent.objects.create(
        report=report, kind=kind, actor=actor if not is_system(actor) else None, reason=reason
    )


def _url(report: MonthlyReport) -> str:
    return reverse("supervision:report_detail", args=[report.pk])


def _check_period(year: int, month: int, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if not 1 <= month <= 12 or year < 2000:
        raise ValidationError({"period": ["月份格式应为 YYYY-MM"]})
    if date(year, month, 1) > today:
        raise ValidationError({"period": ["不能生成尚未开始的月份的月报"]})


def _submitted_key_prefix(report: MonthlyReport) -> str:
    # Every "report submitted" notification of this report (one per submission) starts with it.
    return f"report_submitted:{report.pk}:"


def _settle_review_notices(report: MonthlyReport) -> None:
    """The report no longer awaits review (returned, approved or back to draft): the reviewers'
    still-unread "待审核" notices of it are marked read, so only real work waits in their centre."""
    notifications_settle(key_prefix=_submitted_key_prefix(report))


def _fill(report: MonthlyReport) -> None:
    report.figures, report.details = report_figures(report.organization, report.year, report.month)
    report.generated_at = timezone.now()


@transaction.atomic
def report_generate(
    *, actor: Actor, organization: Organization, year: int, month: int
) -> tuple[MonthlyReport, bool]:
    """The organisation's report for the month: the existing one (whatever its status), or a new
    draft generated from the records. Retries and concurrent calls never make a second row (the
    unique key; a lost race reads the winner's row). Returns (report, created)."""
    require(actor, "add", organization, app_label=APP, message="您无权为该组织生成月报")
    _check_period(year, month)
    existing = MonthlyReport.objects.filter(organization=organization, year=year, month=month).first()
    if existing is not None:
        return existing, False
    report = MonthlyReport(organization=organization, year=year, month=month)
    _fill(report)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        return MonthlyReport.objects.get(organization=organization, year=year, month=month), False
    _event(report, ReportEventKind.GENERATED, actor)
    audit_record(actor=actor, action="create", obj=report, changes={"status": [None, report.status]})
    return report, True


def _locked(report: MonthlyReport) -> MonthlyReport:
    return MonthlyReport.objects.select_for_update().select_related("organization").get(pk=report.pk)


@transaction.atomic
def report_regenerate(*, actor: Actor, report: MonthlyReport) -> MonthlyReport:
    """Recompute figures and detail rows from the records. A draft or returned report keeps its
    status; a submitted or approved one goes back to draft (its review is cleared) so that the
    secretary can resubmit the fresh figures."""
    report = _locked(report)
    require(actor, "change", report.organization, app_label=APP, message="您无权重新生成该月报")
    before = report.status
    _fill(report)
    if report.status not in EDITABLE_STATUSES:
        report.status = ReportStatus.DRAFT
        report.submitted_at = report.reviewed_at = None
        report.submitted_by = report.reviewed_by = None
    report.save()
    if before == ReportStatus.SUBMITTED:
        _settle_review_notices(report)
    _event(report, ReportEventKind.REGENERATED, actor)
    audit_record(
        actor=actor,
        action="update",
        obj=report,
        changes={"status": [before, report.status]},
        message="重新生成",
    )
    return report


@transaction.atomic
def report_narrative_update(*, actor: Actor, report: MonthlyReport, data: dict[str, Any]) -> MonthlyReport:
    """Set the narrative (工作简述, 存在问题, 下月计划) — the only typed text — while the report is a
    draft or returned. Figures can never be set: they come from the records."""
    report = _locked(report)
    require(actor, "change", report.organization, app_label=APP, message="您无权修改该月报")
    unknown = sorted(set(data) - set(NARRATIVE_FIELDS))
    if unknown:
        raise ValidationError({key: ["统计数据由记录生成，不能修改"] for key in unknown})
    if report.status not in EDITABLE_STATUSES:
        raise ValidationError({"narrative": ["月报已报送，不能修改；如需修改请先由上级退回"]})
    changes: dict[str, list[Any]] = {}
    errors: dict[str, list[str]] = {}
    for field in NARRATIVE_FIELDS:
        if field not in data:
            continue
        value = str(data[field] or "").strip()
        if len(value) > NARRATIVE_MAX:
            label = {"narrative": "工作简述", "problems": "存在问题", "next_plan": "下月计划"}[field]
            errors[field] = [f"{label}不能超过{NARRATIVE_MAX}字"]
            continue
        if getattr(report, field) != value:
            changes[field] = [getattr(report, field), value]
            setattr(report, field, value)
    if errors:
        raise ValidationError(errors)
    if changes:
        report.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="update", obj=report, changes=changes)
    return report


@transaction.atomic
def report_submit(*, actor: Actor, report: MonthlyReport, regenerate: bool = True) -> MonthlyReport:
    """Submit to the level above: the figures are generated once more from the records and frozen
    as submitted; the reviewers (org_admins of the nearest ancestor that has any) are notified.
    ``regenerate=False`` freezes the figures as last generated instead — only for a caller that
    generated them from the same records in the same run (the demo seed, which writes a year of
    reports and must not derive each month twice); every request path regenerates."""
    report = _locked(report)
    require(actor, "change", report.organization, app_label=APP, message="您无权报送该月报")
    if report.status not in EDITABLE_STATUSES:
        raise ValidationError({"status": [f"月报{report.get_status_display()}，不能再次报送"]})
    before = report.status
    if regenerate or report.generated_at is None:
        _fill(report)
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = None if is_system(actor) else actor
    report.reviewed_at = None
    report.reviewed_by = None
    report.save()
    _event(report, ReportEventKind.SUBMITTED, actor)
    audit_record(
        actor=actor, action="update", obj=report, changes={"status": [before, report.status]}, message="报送"
    )
    notify(
        users=report_reviewers(report.organization),
        kind="report_submitted",
        title=f"{report.organization.name} {report.year}年{report.month}月党建活动月报待审核",
        url=_url(report),
        key=f"{_submitted_key_prefix(report)}{report.submitted_at.isoformat()}",
    )
    return report


def _review(actor: Actor, report: MonthlyReport) -> MonthlyReport:
    report = _locked(report)
    if not is_system(actor):
        require(actor, "view", report.organization, app_label=APP, message="您无权审核该月报")
        if not can_review(actor, report):
            raise PermissionDenied("只有上级组织的管理员可以审核月报，不能审核本组织的月报")
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError({"status": [f"月报{report.get_status_display()}，只能审核已报送的月报"]})
    return report


@transaction.atomic
def report_return(*, actor: Actor, report: MonthlyReport, reason: str) -> MonthlyReport:
    """Return a submitted report to its organisation with a reason (required)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写退回原因"]})
    if len(reason) > NARRATIVE_MAX:
        raise ValidationError({"reason": [f"退回原因不能超过{NARRATIVE_MAX}字"]})
    report = _review(actor, report)
    report.status = ReportStatus.RETURNED
    report.return_reason = reason
    report.reviewed_at = timezone.now()
    report.reviewed_by = None if is_system(actor) else actor
    report.save()
    _event(report, ReportEventKind.RETURNED, actor, reason)
    _settle_review_notices(report)
    audit_record(
        actor=actor,
        action="update",
        obj=report,
        changes={"status": ["submitted", "returned"]},
        message=reason,
    )
    notify(
        users=[report.submitted_by],
        kind="report_returned",
        title=f"{report.year}年{report.month}月党建活动月报被退回",
        body=reason,
        url=_url(report),
        key=f"report_returned:{report.pk}:{report.reviewed_at.isoformat()}",
    )
    return report


@transaction.atomic
def report_approve(*, actor: Actor, report: MonthlyReport) -> MonthlyReport:
    """Approve a submitted report: its frozen figures now count in the parent's report."""
    report = _review(actor, report)
    report.status = ReportStatus.APPROVED
    report.reviewed_at = timezone.now()
    report.reviewed_by = None if is_system(actor) else actor
    report.save()
    _event(report, ReportEventKind.APPROVED, actor)
    _settle_review_notices(report)
    audit_record(
        actor=actor,
        action="update",
        obj=report,
        changes={"status": ["submitted", "approved"]},
        message="审核通过",
    )
    notify(
        users=[report.submitted_by],
        kind="report_approved",
        title=f"{report.year}年{report.month}月党建活动月报已审核通过",
        url=_url(report),
        key=f"report_approved:{report.pk}:{report.reviewed_at.isoformat()}",
    )
    return report
