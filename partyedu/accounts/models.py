"""Users, roles held at organisations, and grants to see personal data unmasked."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core import pii
from partyedu.core.fields import EncryptedTextField
from partyedu.core.models import CleanTextMixin, TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import RoleCode, RoleScope


def mobile_index(mobile: str) -> str:
    return pii.blind_index(mobile.strip(), "mobile")


class User(CleanTextMixin, AbstractUser):
    """A person who can sign in: an administrator, a secretary, a member, a reviewer. Logs in by
    user name or by mobile number; the mobile number is stored encrypted with a blind index."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = EncryptedTextField(_("手机号"), blank=True, default="")
    mobile_hash = models.CharField(_("手机号索引"), max_length=64, blank=True, default="", db_index=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["mobile_hash"], condition=~models.Q(mobile_hash=""), name="user_mobile_hash_unique"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The index must follow the value it indexes, whoever writes the row.
        self.mobile_hash = mobile_index(self.mobile) if self.mobile else ""
        super().save(*args, **kwargs)

    @property
    def masked_mobile(self) -> str:
        return pii.mask_mobile(self.mobile)


class Role(models.Model):
    """A role from the design (系统管理员 … 督导员) with the actions it grants and how far its
    scope reaches: the organisation subtree where it is held, the holder themself, or only
    objects assigned to the holder (评委)."""

    code = models.CharField(_("代码"), max_length=32, unique=True, choices=RoleCode.choices)
    name = models.CharField(_("名称"), max_length=50)
    scope = models.CharField(_("范围"), max_length=16, choices=RoleScope.choices, default=RoleScope.SUBTREE)
    actions = models.JSONField(
        _("权限"), default=list, blank=True, help_text=_("形如 members.view、*.change")
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(TimeStampedModel, ScopedModel):
    """A user holds a role at an organisation; it covers the organisation's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(
        Role, verbose_name=_("角色"), on_delete=models.PROTECT, related_name="assignments"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    granted_by = models.ForeignKey(
        User, verbose_name=_("授予人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="role_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.organization}"


class PiiGrant(TimeStampedModel, ScopedModel):
    """Permission, given by the 安全管理员, to see 身份证号 and 手机号 unmasked for members of an
    organisation subtree. Every unmasked view and export under it is audited."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="pii_grants"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.PROTECT,
        related_name="pii_grants",
    )
    reason = models.CharField(_("授权事由"), max_length=200)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授予人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("敏感信息授权")
        verbose_name_plural = _("敏感信息授权")

    def __str__(self) -> str:
        return f"{self.user} · {self.organization}"
