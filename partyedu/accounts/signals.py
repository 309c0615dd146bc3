"""Sign-in events go to the audit log and to the sign-in throttle (``throttle``). Django's auth
signals are the only place they surface."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from partyedu.core.audit import audit_record, client_ip
from partyedu.core.choices import AuditAction

from . import throttle

if TYPE_CHECKING:
    from .models import User

# Key of the credentials sent with ``user_login_failed`` when the password was right and the
# one-time code was not (see ``otp.failure_signal``).
OTP_CREDENTIAL = "otp"


def _ip(request: Any) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user, ip_address=_ip(request))
    throttle.success_record(user.get_username())


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, obj=user, ip_address=_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    typed = str(credentials.get("username", ""))
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        success=False,
        username=typed[:150],
        object_type="accounts.user",
        ip_address=_ip(request),
        message="动态验证码或恢复码错误" if OTP_CREDENTIAL in credentials else "",
    )
    if request is not None:
        throttle.failure_record(request, typed)


@receiver(user_locked_out)
def audit_lockout(
    sender: Any,
    request: Any = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    audit_record(
        actor=None,
        action=AuditAction.LOCKOUT,
        success=False,
        username=str(username or "")[:150],
        object_type="accounts.user",
        ip_address=ip_address or _ip(request),
        message="连续登录失败，账号已锁定",
    )
