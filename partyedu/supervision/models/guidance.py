"""Supervision models: guidance teams (巡回指导组/调研组), the organisations they cover, inspection
visits (调研/督导/巡回指导) with their rectification items (整改事项), and 党课巡听 scores.

A guidance team's members are 督导员: while a team is active, each member holds the inspector role
at every organisation the team covers (``GuidanceRoleGrant`` remembers the assignments a team
created, so that only those are removed when no active team needs them any more)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

__all__ = [
    "GuidanceCoverage",
    "GuidanceRoleGrant",
    "GuidanceTeam",
    "GuidanceTeamMember",
    "Inspection",
    "InspectionKind",
    "LectureInspection",
    "RectificationEvent",
    "RectificationEventKind",
    "RectificationItem",
    "RectificationStatus",
]


class InspectionKind(models.TextChoices):
    RESEARCH = "research", _("调研")
    SUPERVISION = "supervision", _("督导")
    GUIDANCE = "guidance", _("巡回指导")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    CLOSED = "closed", _("已销号")


class RectificationEventKind(models.TextChoices):
    CREATED = "created", _("提出")
    CLOSED = "closed", _("整改销号")
    REOPENED = "reopened", _("退回重新整改")


class GuidanceTeam(TimeStampedModel, ScopedModel):
    """A roving guidance or research team (巡回指导组/调研组) set up by an organisation department for a
    year: its members (督导员) guide and inspect the organisations it covers, so that every branch
    has someone who guides it. ``organization`` is the department's organisation that owns it."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("组建单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("指导组名称"), max_length=100)
    year = models.PositiveSmallIntegerField(_("年度"))
    is_active = models.BooleanField(_("在岗"), default=True, help_text=_("撤销后组员不再获得督导员权限"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("组长"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.TextField(_("职责说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("巡回指导组")
        verbose_name_plural = _("巡回指导组")
        ordering = ["-year", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "name"], name="guidance_team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class GuidanceTeamMember(TimeStampedModel, ScopedModel):
    """A 督导员 in a guidance team."""

    scope_path = "team__organization__path"

    team = models.ForeignKey(
        GuidanceTeam, verbose_name=_("指导组"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督导员"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("指导组成员")
        verbose_name_plural = _("指导组成员")
        ordering = ["team_id", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="guidance_member_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.user}"


class GuidanceCoverage(TimeStampedModel, ScopedModel):
    """An organisation a team covers (with its whole subtree), and the team member who is the named
    contact for it (the leader when none is named)."""

    team = models.ForeignKey(
        GuidanceTeam, verbose_name=_("指导组"), on_delete=models.CASCADE, related_name="coverage"
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("联系组织"), on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("指导组联系组织")
        verbose_name_plural = _("指导组联系组织")
        ordering = ["team_id", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["team", "organization"], name="guidance_coverage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.organization}"


class GuidanceRoleGrant(models.Model):
    """A 督导员 role assignment that a guidance team created (a role the user already held is never
    recorded here, so it is never removed by a team)."""

    assignment = models.OneToOneField(
        "accounts.RoleAssignment",
        verbose_name=_("角色分配"),
        on_delete=models.CASCADE,
        related_name="guidance_grant",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("指导组授予的督导员角色")
        verbose_name_plural = _("指导组授予的督导员角色")

    def __str__(self) -> str:
        return str(self.assignment_id)


class Inspection(TimeStampedModel, ScopedModel):
    """An inspection visit (调研/督导/巡回指导) to an organisation: when, by whom, and what was
    found. Rectification items (整改事项) follow from the findings."""

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("被检查组织"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        GuidanceTeam,
        verbose_name=_("指导组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=InspectionKind.choices)
    visited_on = models.DateField(_("日期"))
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("督导人员"), blank=True, related_name="+"
    )
    findings = models.TextField(_("发现的问题和情况"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("调研督导")
        verbose_name_plural = _("调研督导")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["visited_on", "id"], name="inspection_date_idx")]

    def __str__(self) -> str:
        return f"{self.organization} · {self.visited_on:%Y-%m-%d} {self.get_kind_display()}"


class RectificationItem(TimeStampedModel, ScopedModel):
    """A rectification item (整改事项) from an inspection: what the organisation must put right by
    when. The organisation closes it with evidence (销号); the issuer may reopen it with a reason."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("调研督导"), on_delete=models.CASCADE, related_name="items"
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("整改组织"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("整改事项"))
    due_on = models.DateField(_("整改期限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    evidence_note = models.TextField(_("整改情况说明"), blank=True)
    evidence_file = models.FileField(
        _("佐证材料"), upload_to="supervision/rectification/%Y/%m/", blank=True, max_length=300
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销号人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["status", "due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="rectification_status_due_idx")]

    def __str__(self) -> str:
        return self.description[:40]


class RectificationEvent(models.Model):
    """One step in a rectification item's history: raised, closed with evidence, reopened."""

    item = models.ForeignKey(
        RectificationItem, verbose_name=_("整改事项"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=RectificationEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["item_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id} · {self.get_kind_display()}"


class LectureInspection(TimeStampedModel, ScopedModel):
    """党课巡听: an inspector attends a 党课 and scores it on a short rubric (1–5 each), once per
    inspector and lecture. Kept apart from the attendees' ratings (``lectures.LectureRating``)."""

    scope_path = "lecture__organization__path"

    lecture = models.ForeignKey(
        "lectures.Lecture", verbose_name=_("党课"), on_delete=models.CASCADE, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("巡听人"), on_delete=models.CASCADE, related_name="+"
    )
    content_score = models.PositiveSmallIntegerField(_("内容准确"))
    relevance_score = models.PositiveSmallIntegerField(_("联系实际"))
    delivery_score = models.PositiveSmallIntegerField(_("讲授效果"))
    order_score = models.PositiveSmallIntegerField(_("时间与秩序"))
    comment = models.TextField(_("巡听意见"), blank=True)

    SCORE_FIELDS = ("content_score", "relevance_score", "delivery_score", "order_score")
    MAX_TOTAL = 20

    class Meta:
        verbose_name = _("党课巡听")
        verbose_name_plural = _("党课巡听")
        ordering = ["lecture_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lecture", "inspector"], name="lecture_inspection_once"),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__gte": 1, f"{f}__lte": 5}),
                    name=f"lecture_inspection_{f}_range",
                )
                for f in ("content_score", "relevance_score", "delivery_score", "order_score")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lecture} · {self.inspector}"

    @property
    def total(self) -> int:
        return sum(int(getattr(self, f)) for f in self.SCORE_FIELDS)
