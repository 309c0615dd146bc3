"""Writes to accounts, roles and grants. 三员分立: the system administrator manages accounts,
the security administrator manages roles and personal-data grants; each change is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import forget_grants, has_action, path_in, user_scope
from partyedu.organizations.models import Organization

from .choices import RoleCode
from .models import PiiGrant, Role, RoleAssignment, User


def _require(actor: Any, action: str, org: Organization | None = None) -> None:
    if actor is None:
        return
    if org is None:
        if not has_action(actor, action, "accounts"):
            raise PermissionDenied("您无权执行此操作")
        return
    if not path_in(org.path, user_scope(actor, action, "accounts").paths):
        raise PermissionDenied("您无权在该组织执行此操作")


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    display_name: str = "",
    mobile: str = "",
    is_active: bool = True,
) -> User:
    _require(actor, "manage_users")
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
def user_set_active(*, actor: Any, user: User, is_active: bool) -> User:
    _require(actor, "manage_users")
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=user,
            changes={"is_active": [not is_active, is_active]},
        )
    return user


@transaction.atomic
def password_change(*, actor: Any, user: User, new_password: str) -> User:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password", "password_changed_at"])
    audit_record(actor=actor, action=AuditAction.PASSWORD_CHANGE, obj=user)
    return user


@transaction.atomic
def role_assign(*, actor: Any, user: User, role_code: str, organization: Organization) -> RoleAssignment:
    # Administrator roles (三员) are given by the security administrator; organisational roles by
    # the security administrator or an org_admin within their own subtree.
    admin_roles = {RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.AUDITOR}
    _require(actor, "manage_roles", organization if role_code not in admin_roles else None)
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
def role_revoke(*, actor: Any, assignment: RoleAssignment) -> None:
    _require(actor, "manage_roles", assignment.organization)
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
    *, actor: Any, user: User, organization: Organization, reason: str, valid_until: date | None = None
) -> PiiGrant:
    _require(actor, "grant_pii")
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
def pii_grant_revoke(*, actor: Any, grant: PiiGrant) -> PiiGrant:
    _require(actor, "grant_pii")
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
