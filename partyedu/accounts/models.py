"""Users, roles held at organisations, grants to see personal data unmasked, and API tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

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

    objects: ClassVar[UserManager[Self]] = UserManager()

    # Set on the instance by ``django.contrib.auth.authenticate()``: the backend that accepted it.
    backend: str

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


class ApiToken(models.Model):
    """A credential for the REST API, issued by the token exchange (user name, password and, where
    required, a one-time code) and sent as ``Authorization: Token <key>``. It behaves like a web
    session: it ends at ``expires_at``, after ``API_TOKEN_IDLE_HOURS`` without use, when the user
    revokes it, when the password changes, or when the account is disabled. Only a SHA-256 hash of
    the key is stored (the key is 256 random bits, so a plain hash cannot be reversed by guessing);
    ``prefix`` lets the user tell their tokens apart. Each exchange issues a new token, so a user
    may have one per device."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("令牌前缀"), max_length=PREFIX_LENGTH, editable=False)
    name = models.CharField(
        _("名称"), max_length=150, blank=True, help_text=_("签发时的客户端（User-Agent）或自定名称")
    )
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录令牌")
        verbose_name_plural = _("登录令牌")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def ended_q(now: datetime) -> models.Q:
        """Tokens that no longer authenticate at ``now`` (revoked, expired or idle too long)."""
        idle = now - timedelta(hours=settings.API_TOKEN_IDLE_HOURS)
        return (
            models.Q(revoked_at__isnull=False)
            | models.Q(expires_at__lte=now)
            | models.Q(last_used_at__lte=idle)
        )

    def idle_deadline(self) -> datetime:
        return (self.last_used_at or self.created_at) + timedelta(hours=settings.API_TOKEN_IDLE_HOURS)

    def ended_reason(self, now: datetime) -> str:
        """Why the token no longer authenticates, in Chinese, or "" while it is valid."""
        if self.revoked_at is not None:
            return "令牌已撤销，请重新登录获取"
        if self.expires_at <= now:
            return "令牌已过期，请重新登录获取"
        if self.idle_deadline() <= now:
            return "令牌长时间未使用已失效，请重新登录获取"
        return ""
