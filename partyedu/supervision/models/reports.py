"""Supervision models: the monthly report (党建活动月报).

A monthly report is *derived* (DESIGN §3.1): its figures and detail rows are generated from the
records (activities, attendance, 补学, learning hours, lectures, required topics, cadence, online
study); the secretary types only a short narrative. Once submitted the figures are frozen; the
level above reviews (returns with a reason or approves); a higher organisation's report aggregates
its children's approved reports. ``ReportEvent`` is the report's history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

__all__ = ["MonthlyReport", "ReportEvent", "ReportEventKind", "ReportStatus"]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核")


# A report can be regenerated and its narrative edited only in these statuses.
EDITABLE_STATUSES = (ReportStatus.DRAFT, ReportStatus.RETURNED)


class ReportEventKind(models.TextChoices):
    GENERATED = "generated", _("生成")
    REGENERATED = "regenerated", _("重新生成")
    SUBMITTED = "submitted", _("报送")
    RETURNED = "returned", _("退回")
    APPROVED = "approved", _("审核通过")


class MonthlyReport(TimeStampedModel, ScopedModel):
    """The monthly report (党建活动月报) of one organisation for one calendar month. ``figures``
    and ``details`` are derived from the records by ``services.reports.report_generate`` (a
    higher organisation's report adds its children's approved reports' frozen figures); they are
    frozen at submission. The secretary writes only the narrative (工作简述, 存在问题, 下月计划).
    Reviewed (returned with a reason, or approved) by an org_admin of a strict ancestor."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("组织"),
        on_delete=models.CASCADE,
        related_name="monthly_reports",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT, db_index=True
    )
    figures = models.JSONField(_("统计数据"), default=dict, blank=True, help_text=_("由记录生成，报送后冻结"))
    details = models.JSONField(
        _("明细"), default=dict, blank=True, help_text=_("活动、缺勤与补学、必修专题、频次缺口、党课等明细")
    )
    narrative = models.TextField(_("工作简述"), blank=True, max_length=2000)
    problems = models.TextField(_("存在问题"), blank=True, max_length=2000)
    next_plan = models.TextField(_("下月计划"), blank=True, max_length=2000)
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_reason = models.TextField(_("退回原因"), blank=True)

    class Meta:
        verbose_name = _("党建活动月报")
        verbose_name_plural = _("党建活动月报")
        ordering = ["-year", "-month", "organization_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "month"], name="monthly_report_unique"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="monthly_report_month_valid"
            ),
        ]
        indexes = [models.Index(fields=["year", "month", "status"], name="monthly_report_period_idx")]

    def __str__(self) -> str:
        return f"{self.organization} {self.period}"

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class ReportEvent(TimeStampedModel, ScopedModel):
    """One step in a monthly report's history: generated, regenerated, submitted, returned (with
    the reason) or approved, by whom and when. Written by the report services, never edited."""

    scope_path = "report__organization__path"

    report = models.ForeignKey(
        MonthlyReport, verbose_name=_("月报"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=16, choices=ReportEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("原因"), blank=True)

    class Meta:
        verbose_name = _("月报记录")
        verbose_name_plural = _("月报记录")
        ordering = ["report_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.report} · {self.get_kind_display()}"
