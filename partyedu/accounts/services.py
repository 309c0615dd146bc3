"""Writes to accounts, roles, grants, second factors and API tokens. 三员分立: the system
administrator manages accounts, the security administrator manages roles, personal-data grants and
second-factor resets; each change is audited."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import forget_grants, has_action, has_role, require, require_anywhere
from partyedu.organizations.models import Organization

from . import otp
from .choices import RoleCode
from .models import ApiToken, PiiGrant, Role, RoleAssignment, User
from .types import Actor

APP = "accounts"
NOT_ALLOWED = "您无权执行此操作"


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    display_name: str = "",
    mobile: str = "",
    is_active: bool = True,
) -> User:
    require_anywhere(actor, "manage_users", app_label=APP, message=NOT_ALLOWED)
    username = username.strip()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": ["该用户名已存在"]})
    user = User(
        username=username, display_name=display_name.strip(), mobile=mobile.strip(), is_active=is_active
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    if mobile:
        from .models import mobile_index

        if User.objects.filter(mobile_hash=mobile_index(mobile.strip())).exists():
            raise ValidationError({"mobile": ["该手机号已被其他账号使用"]})
    user.full_clean(exclude=["password", "mobile_hash"])
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes={"after": {"username": username}})
    return user


@transaction.atomic
def user_set_active(*, actor: Actor, user: User, is_active: bool) -> User:
    require_anywhere(actor, "manage_users", app_label=APP, message=NOT_ALLOWED)
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        changes: dict[str, Any] = {"is_active": [not is_active, is_active]}
        if not is_active:
            changes["api_tokens_revoked"] = _api_tokens_revoke_all(user=user)
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, changes=changes)
    return user


@transaction.atomic
def password_change(*, actor: Actor, user: User, new_password: str) -> User:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password", "password_changed_at"])
    # A token is a session: a new password ends them all (the web session is kept by the view).
    revoked = _api_tokens_revoke_all(user=user)
    audit_record(
        actor=actor,
        action=AuditAction.PASSWORD_CHANGE,
        obj=user,
        changes={"api_tokens_revoked": revoked} if revoked else None,
    )
    return user


@transaction.atomic
def role_assign(*, actor: Actor, user: User, role_code: str, organization: Organization) -> RoleAssignment:
    # Administrator roles (三员) are given by the security administrator; organisational roles by
    # the security administrator or an org_admin within their own subtree.
    admin_roles = {RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.AUDITOR}
    if role_code in admin_roles:
        require_anywhere(actor, "manage_roles", app_label=APP, message=NOT_ALLOWED)
    else:
        require(actor, "manage_roles", organization, app_label=APP)
    role = Role.objects.filter(code=role_code).first()
    if role is None:
        raise ValidationError({"role": ["未知角色"]})
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        organization=organization,
        defaults={"granted_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=assignment,
            changes={"user": user.username, "role": role.code, "organization": organization.code},
        )
    forget_grants(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: Actor, assignment: RoleAssignment) -> None:
    require(actor, "manage_roles", assignment.organization, app_label=APP)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=assignment,
        changes={"user": assignment.user.username, "role": assignment.role.code},
    )
    assignment.delete()
    forget_grants(assignment.user)


@transaction.atomic
def pii_grant_create(
    *, actor: Actor, user: User, organization: Organization, reason: str, valid_until: date | None = None
) -> PiiGrant:
    require_anywhere(actor, "grant_pii", app_label=APP, message=NOT_ALLOWED)
    if not reason.strip():
        raise ValidationError({"reason": ["请填写授权事由"]})
    grant = PiiGrant(
        user=user,
        organization=organization,
        reason=reason.strip(),
        valid_until=valid_until,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    grant.full_clean()
    grant.save()
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=grant,
        changes={"user": user.username, "organization": organization.code, "pii": True},
        message=grant.reason,
    )
    forget_grants(user)
    return grant


@transaction.atomic
def pii_grant_revoke(*, actor: Actor, grant: PiiGrant) -> PiiGrant:
    require_anywhere(actor, "grant_pii", app_label=APP, message=NOT_ALLOWED)
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.REVOKE, obj=grant, changes={"pii": [True, False]})
    forget_grants(grant.user)
    return grant


def default_roles_ensure() -> None:
    """Write the default roles (also done by migration 0002); needed after a database flush."""
    from .choices import ROLE_DEFAULTS

    for code, (scope, actions) in ROLE_DEFAULTS.items():
        Role.objects.update_or_create(
            code=str(code),
            defaults={"name": str(RoleCode(code).label), "scope": str(scope), "actions": actions},
        )


# --- Two-factor sign-in ------------------------------------------------------------------------------


def otp_device_begin(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator shown on the enrolment page: the same one on every visit
    until it is confirmed (so a reload does not change the QR code the user already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=otp.TOTP_DEVICE_NAME, confirmed=False)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=otp.RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(otp.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def otp_device_confirm(*, actor: Actor, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm an authenticator with a code it shows; it replaces any earlier device. Returns the
    ten new recovery codes, which are shown once and stored by django-otp."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"token": ["该验证器已失效，请刷新页面重新扫码"]})
    token = otp.normalize(token)
    # Checked before the write transaction: django-otp saves its throttle on failure, and a
    # rollback must not erase it.
    if not (otp.is_totp_code(token) and device.verify_token(token)):
        raise ValidationError({"token": ["验证码不正确，请核对手机时间后输入验证器当前显示的6位数字"]})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.name = otp.TOTP_DEVICE_NAME
        device.save(update_fields=["confirmed", "name"])
        codes = _recovery_codes_replace(user)
        audit_record(actor=actor, action=AuditAction.OTP_ENABLE, obj=user)
    return codes


@transaction.atomic
def otp_recovery_codes_regenerate(*, actor: Actor, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not otp.otp_enrolled(user):
        raise ValidationError({"__all__": ["尚未启用双因素认证"]})
    codes = _recovery_codes_replace(user)
    audit_record(actor=actor, action=AuditAction.OTP_RECOVERY_CODES, obj=user)
    return codes


def _otp_devices_delete(user: User) -> int:
    count = 0
    for model in (TOTPDevice, StaticDevice):
        count += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    return count


def otp_disable(*, actor: Actor, user: User, token: str) -> None:
    """A user who may do without a second factor turns it off, proving it with a current code."""
    if otp.otp_required(user):
        raise PermissionDenied("您的角色必须使用双因素认证，不能关闭")
    if otp.otp_check(user, token) is None:
        raise ValidationError({"token": ["动态验证码或恢复码不正确"]})
    with transaction.atomic():
        _otp_devices_delete(user)
        audit_record(actor=actor, action=AuditAction.OTP_DISABLE, obj=user)


@transaction.atomic
def otp_reset(*, actor: Actor, user: User) -> int:
    """The 安全管理员 removes a user's authenticator and recovery codes (a lost phone). A user whose
    role requires a second factor must enrol again before reaching anything else."""
    if actor is not None:
        if not (has_role(actor, RoleCode.SECADMIN) and has_action(actor, "manage_roles", "accounts")):
            raise PermissionDenied("只有安全管理员可以重置双因素认证")
        if actor.pk == user.pk:
            raise PermissionDenied("不能重置自己的双因素认证，请由其他安全管理员操作")
    removed = _otp_devices_delete(user)
    audit_record(actor=actor, action=AuditAction.OTP_RESET, obj=user, changes={"devices_removed": removed})
    return removed


# --- API tokens ------------------------------------------------------------------------------------------


def api_token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for the user; returns the row and the key, which is shown once and never
    stored. The caller has authenticated the user (the token exchange, a test, a tool)."""
    now = timezone.now()
    # The user's ended tokens are of no further use (the audit log keeps the sign-ins).
    ApiToken.objects.filter(ApiToken.ended_q(now), user=user).delete()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[: ApiToken.PREFIX_LENGTH],
        name=name.strip()[:150],
        last_used_at=now,
        expires_at=now + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
    )
    return token, key


def _api_tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens (a lost phone, a finished integration)."""
    if actor is not None and token.user_id != actor.pk:
        raise PermissionDenied("只能撤销自己的登录令牌")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.REVOKE, obj=token, changes={"api_token": token.prefix})
    return token


@transaction.atomic
def api_tokens_revoke_all(*, actor: Actor, user: User) -> int:
    """Revoke every token of the user (signed out everywhere in the API)."""
    if actor is not None and user.pk != actor.pk:
        raise PermissionDenied("只能撤销自己的登录令牌")
    count = _api_tokens_revoke_all(user=user)
    if count:
        audit_record(actor=actor, action=AuditAction.REVOKE, obj=user, changes={"api_tokens_revoked": count})
    return count
