"""Supervision models: dispatch and feedback (调度/反馈) and the quarterly feedback note (季度反馈).

A dispatch is a task an organisation department sends down its subtree ("每月一调度"): the
recipients are fixed when it is created (one row per organisation at the target level), each
answers once with feedback, and the issuer follows completion. The quarterly note ("每季度一反馈")
goes the other way round in time: a published note to the subtree with the quarter's figures frozen
as they were at publication."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.organizations.choices import OrgLevel
from partyedu.study.choices import ActivityType

__all__ = [
    "Dispatch",
    "DispatchAttachment",
    "DispatchFeedback",
    "DispatchRecipient",
    "DispatchStatus",
    "DispatchTarget",
    "QuarterlyNote",
]


class DispatchTarget(models.TextChoices):
    """The level of organisation a dispatch goes to. ``committee`` takes every 党委, 党工委 and
    党组 of the subtree (as cadence rules do)."""

    BRANCH = OrgLevel.BRANCH.value, _("党支部")
    GENERAL_BRANCH = OrgLevel.GENERAL_BRANCH.value, _("党总支")
    COMMITTEE = OrgLevel.COMMITTEE.value, _("党委（党组、党工委）")


# The organisation levels each target takes.
TARGET_LEVELS: dict[str, tuple[str, ...]] = {
    DispatchTarget.BRANCH: (OrgLevel.BRANCH,),
    DispatchTarget.GENERAL_BRANCH: (OrgLevel.GENERAL_BRANCH,),
    DispatchTarget.COMMITTEE: (OrgLevel.COMMITTEE, OrgLevel.WORKING_COMMITTEE, OrgLevel.LEADING_GROUP),
}


class DispatchStatus(models.TextChoices):
    """A recipient's state, computed from its feedback time, the due date and today."""

    DONE = "done", _("已反馈")
    LATE = "late", _("逾期反馈")
    NOT_STARTED = "not_started", _("未开始")
    OVERDUE = "overdue", _("逾期未反馈")


class Dispatch(TimeStampedModel, ScopedModel):
    """A task dispatched (调度) by an organisation to every organisation of one level in its
    subtree, with a due date. It may name an activity type (e.g. 主题党日) and/or a required topic
    of a study plan; the recipients' matching activities are then linked to their feedback."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("下发组织"),
        on_delete=models.PROTECT,
        related_name="dispatches_issued",
    )
    title = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(_("任务说明"), blank=True)
    due = models.DateField(_("反馈期限"))
    target_level = models.CharField(
        _("下发层级"),
        max_length=24,
        choices=DispatchTarget.choices,
        help_text=_("发给本组织下级中该层级的全部组织"),
    )
    activity_type = models.CharField(
        _("对应活动类型"),
        max_length=32,
        choices=ActivityType.choices,
        blank=True,
        help_text=_("填写后，接收组织在下发至期限之间开展的该类活动自动关联到反馈"),
    )
    required_topic = models.ForeignKey(
        "study.RequiredTopic",
        verbose_name=_("对应必修专题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("调度任务")
        verbose_name_plural = _("调度任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "due"], name="dispatch_org_due_idx")]
        # A retried request creates nothing new: one task per issuer, title and due date.
        constraints = [
            models.UniqueConstraint(fields=["organization", "title", "due"], name="dispatch_unique_task")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def links_records(self) -> bool:
        return bool(self.activity_type or self.required_topic_id)


class DispatchRecipient(TimeStampedModel, ScopedModel):
    """One organisation that received a dispatch (fixed at creation). ``feedback_at`` is when it
    first answered; ``reminded_at`` the last reminder sent to its secretaries."""

    dispatch = models.ForeignKey(
        Dispatch, verbose_name=_("调度任务"), on_delete=models.CASCADE, related_name="recipients"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("接收组织"),
        on_delete=models.PROTECT,
        related_name="dispatches_received",
    )
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("最近提醒时间"), null=True, blank=True)

    # What pages attach to an instance for display (``status_on`` of the day, the user's rights).
    current_status: DispatchStatus
    can_answer: bool

    class Meta:
        verbose_name = _("调度接收组织")
        verbose_name_plural = _("调度接收组织")
        ordering = ["dispatch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "organization"], name="dispatch_recipient_unique")
        ]
        indexes = [models.Index(fields=["organization", "feedback_at"], name="dispatch_rcpt_org_idx")]

    def __str__(self) -> str:
        return f"{self.dispatch_id} · {self.organization_id}"

    def status_on(self, today: date, due: date | None = None) -> DispatchStatus:
        """The state on ``today``: feedback on or before the due date is 已反馈, after it 逾期反馈;
        without feedback 未开始 until the due date passes, then 逾期未反馈."""
        due = due or self.dispatch.due
        if self.feedback_at is not None:
            answered = timezone.localdate(self.feedback_at)
            return DispatchStatus.DONE if answered <= due else DispatchStatus.LATE
        return DispatchStatus.NOT_STARTED if today <= due else DispatchStatus.OVERDUE

    @property
    def status(self) -> DispatchStatus:
        return self.status_on(timezone.localdate())


class DispatchFeedback(TimeStampedModel, ScopedModel):
    """A recipient's answer to a dispatch: a text, optional attachments, and the recipient's
    activities that match what the task names (linked automatically, refreshed on each save)."""

    scope_path = "recipient__organization__path"

    recipient = models.OneToOneField(
        DispatchRecipient, verbose_name=_("接收组织"), on_delete=models.CASCADE, related_name="feedback"
    )
    text = models.TextField(_("反馈内容"), max_length=5000)
    linked_activities = models.ManyToManyField(
        "study.Activity", verbose_name=_("关联活动"), blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反馈人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("调度反馈")
        verbose_name_plural = _("调度反馈")

    def __str__(self) -> str:
        return f"反馈 {self.recipient_id}"


class DispatchAttachment(TimeStampedModel):
    """A file attached to feedback (a photo, a document, a spreadsheet of the data requested)."""

    feedback = models.ForeignKey(
        DispatchFeedback, verbose_name=_("反馈"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to="dispatch/%Y/%m/", max_length=300)
    name = models.CharField(_("文件名"), max_length=200)

    class Meta:
        verbose_name = _("反馈附件")
        verbose_name_plural = _("反馈附件")
        ordering = ["feedback_id", "id"]

    def __str__(self) -> str:
        return self.name


class QuarterlyNote(TimeStampedModel, ScopedModel):
    """A quarterly feedback note (季度反馈) published by an organisation to its subtree, with the
    quarter's figures frozen at publication (``figures``: the shared figures engine's output)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("发布组织"),
        on_delete=models.PROTECT,
        related_name="quarterly_notes",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=[(q, f"第{q}季度") for q in range(1, 5)])
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("反馈内容"), max_length=20000)
    figures = models.JSONField(_("季度数据"), default=dict, blank=True, editable=False)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("季度反馈")
        verbose_name_plural = _("季度反馈")
        ordering = ["-year", "-quarter", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "quarter"], name="quarterly_note_unique")
        ]

    def __str__(self) -> str:
        return self.title
