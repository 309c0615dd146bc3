"""Base models and the append-only audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import control_chars
from .choices import AuditAction


class CleanTextMixin:
    """``full_clean`` refuses control characters in every text field (tabs and line breaks too in
    single-line ones), so every write path that validates — forms, the API through the services,
    imports — refuses them with the field named, whatever model it writes."""

    def clean_fields(self, exclude: Any = None) -> None:
        errors: dict[str, list[str]] = {}
        try:
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
        for field in self._meta.concrete_fields:  # type: ignore[attr-defined]
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


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审计日志不可修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志不可删除")


class AuditLog(models.Model):
    """One audited event: who did what to which object, from where, when, with what result and
    a before/after summary of the fields that changed. Rows are written once and never changed
    (the application refuses updates and deletes; on PostgreSQL a trigger refuses them too)."""

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

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("审计日志不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志不可删除")
