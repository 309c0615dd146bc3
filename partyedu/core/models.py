"""Base models and the append-only audit log."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import control_chars
from .choices import AuditAction, JobStatus, NotificationChannel
from .ledger import AppendOnlyModel


class CleanTextMixin:
    """``full_clean`` refuses control characters in every text field (tabs and line breaks too in
    single-line ones), so every write path that validates — forms, the API through the services,
    imports — refuses them with the field named, whatever model it writes."""

    def clean_fields(self, exclude: Any = None) -> None:
        errors: dict[str, Any] = {}
        try:
            # A mixin of models: mypy sees ``object`` as the next class in the MRO.
            super().clean_fields(exclude)  # type: ignore[misc]
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        skip = set(exclude or ()) | set(errors)
        errors.update(self.control_character_errors(exclude=skip))
        if errors:
            raise ValidationError(errors)

    def refuse_control_characters(self, *, exclude: Any = None) -> None:
        """The control-character part of ``full_clean`` alone, for services that validate the
        rest themselves."""
        if errors := self.control_character_errors(exclude=set(exclude or ())):
            raise ValidationError(errors)

    def control_character_errors(self, *, exclude: set[str]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for field in self._meta.concrete_fields:  # type: ignore[attr-defined]  # a mixin of models
            if field.name in exclude:
                continue
            if isinstance(field, models.TextField):
                check = control_chars.check_text
            elif isinstance(field, models.CharField) and not field.choices:
                check = control_chars.check_line
            else:
                continue
            try:
                check(getattr(self, field.attname))
            except ValidationError as exc:
                errors[field.name] = exc.messages
        return errors


class TimeStampedModel(CleanTextMixin, models.Model):
    """Abstract: every table records when a row was created and last changed."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditLog(AppendOnlyModel):
    """One audited event: who did what to which object, from where, when, with what result and
    a before/after summary of the fields that changed. Rows are written once and never changed
    (``core.ledger``: the application refuses updates and deletes; on PostgreSQL triggers refuse
    them and TRUNCATE too). No purge is ever allowed: months past retention are detached whole
    (``core.partitions``)."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    action = models.CharField(_("事件类型"), max_length=32, choices=AuditAction.choices, db_index=True)
    success = models.BooleanField(_("是否成功"), default=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    changes = models.JSONField(_("变更摘要"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)

    purgeable = False

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()}"


def job_file_path(job: Job, filename: str) -> str:
    return f"jobs/{job.pk}/{filename}"


class Job(models.Model):
    """One piece of background work a person started (a recount, a large import or export, a
    report): what it is, who started it, how far it has got and what came of it. The page that
    started it shows this row; the work itself runs in a worker process, or in-process after the
    request commits in the embedded default. A job is idempotent: running it again after a crash
    redoes the same work and writes nothing twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("任务类型"), max_length=64)
    label = models.CharField(_("任务"), max_length=200)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    key = models.CharField(
        _("去重键"), max_length=200, blank=True, default="", help_text=_("同一键的未完成任务只排一个")
    )
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    total = models.PositiveIntegerField(_("总量"), default=0)
    message = models.CharField(_("进度说明"), max_length=500, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    result_file = models.FileField(_("结果文件"), upload_to=job_file_path, blank=True, max_length=300)
    error = models.TextField(_("失败原因"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx")]
        constraints = [
            # At most one unfinished job per key: a double click or a retried request queues once.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=["queued", "running"]) & ~models.Q(key=""),
                name="job_one_unfinished_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class Notification(models.Model):
    """Something assigned to a user that they should know of (a task dispatched to their
    organisation, a report returned, a review assigned, a rectification due), shown in their
    in-app notification centre until they read it. ``key`` names the event that caused it, so a
    retried ``notify`` adds nothing; the outbound copy (email, SMS) by the user's preference is
    recorded in ``channel`` / ``sent_at`` / ``send_error`` and never decides whether this row
    exists."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=64, help_text=_("如 dispatch.assigned、report.returned"))
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, default="")
    url = models.CharField(_("链接"), max_length=500, blank=True, default="")
    key = models.CharField(
        _("去重键"), max_length=200, blank=True, default="", help_text=_("同一用户同一键只通知一次")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    channel = models.CharField(
        _("外发渠道"), max_length=16, choices=NotificationChannel.choices, default=NotificationChannel.NONE
    )
    sent_at = models.DateTimeField(_("外发时间"), null=True, blank=True)
    send_error = models.CharField(_("外发失败原因"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notification_user_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice of outbound channel for notifications: one row with an empty ``kind`` is
    their default for every kind, a row naming a kind overrides it for that kind. Without a row
    the site default applies (settings ``PARTYEDU_NOTIFY_DEFAULT_CHANNEL``, in-app only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(
        _("通知类型"), max_length=64, blank=True, default="", help_text=_("留空表示全部类型")
    )
    channel = models.CharField(
        _("外发渠道"), max_length=16, choices=NotificationChannel.choices, default=NotificationChannel.NONE
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_user_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind or '*'} {self.channel}"
