"""Two-factor sign-in (等保 8.1.4.1 d: administrators authenticate with two factors, one of them
cryptographic): a TOTP authenticator app (django-otp ``TOTPDevice``) plus ten one-time recovery
codes (``StaticDevice``). Writes (enrolment, reset, recovery codes) are in ``services``; this module
holds the policy, the code check and the sign-in's second step.

Threat model.
- A stolen password alone must not open an account that has a device: after the password the
  session is *not* signed in; it only remembers, for ``PENDING_SECONDS``, whose code it waits for
  (``pending_start``). ``django.contrib.auth.login`` runs only after the code, so the failure count
  of the account is reset only by a complete sign-in.
- A wrong code counts as a failed sign-in (``user_login_failed``): it feeds the account lockout, the
  progressive delay and the address limit exactly as a wrong password does; django-otp's own
  throttle (1, 2, 4 … s per device) and its refusal to accept a code twice come on top.
- Roles in ``OTP_REQUIRED_ROLES`` cannot work without a device: a signed-in session of such a user
  without one reaches only the enrolment page (``middleware.OtpRequiredMiddleware``). The first
  device is bound after the password alone — the only factor such a user has — so the 安全管理员
  resets a device only after checking who asks.
- Secrets and QR codes are made here and drawn as inline SVG (segno): nothing leaves the server.
"""

from __future__ import annotations

import time
from base64 import b32encode
from typing import TYPE_CHECKING

import segno
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from partyedu.core.scope import user_grants

from .signals import OTP_CREDENTIAL

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    from .types import User, Viewer

RECOVERY_CODE_COUNT = 10
PENDING_SESSION_KEY = "otp_pending"
# Set on a signed-in session whose user had no device and no duty to have one: later requests
# skip the device lookup (see middleware.OtpRequiredMiddleware).
EXEMPT_SESSION_KEY = "otp_exempt"
PENDING_SECONDS = 300
TOTP_DEVICE_NAME = "手机验证器"
RECOVERY_DEVICE_NAME = "恢复码"


# --- Policy ----------------------------------------------------------------------------------------------


def _root_path_width() -> int:
    from partyedu.organizations.models import SEGMENT_WIDTH

    return SEGMENT_WIDTH


def otp_required(user: Viewer) -> bool:
    """Whether one of the user's roles must sign in with a second factor: a rule ``code`` matches
    the role wherever it is held, ``code@root`` only at a root organisation (the city level)."""
    rules = [rule.partition("@") for rule in settings.OTP_REQUIRED_ROLES]
    width = _root_path_width()
    for grant in user_grants(user):
        for role, _at, where in rules:
            if grant.role == role and (where != "root" or len(grant.path) == width):
                return True
    return False


def otp_enrolled(user: Viewer) -> bool:
    """The user has a confirmed authenticator (recovery codes alone do not count)."""
    return bool(getattr(user, "pk", None)) and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- Codes ----------------------------------------------------------------------------------------------


def normalize(token: str) -> str:
    """Codes as typed: spaces and hyphens dropped (recovery codes are shown as ``abcd-efgh``)."""
    return "".join(ch for ch in (token or "") if ch not in " -\u3000").lower()


def is_totp_code(token: str) -> bool:
    return token.isdigit() and len(token) == 6


def _devices(user: User, token: str, *, for_update: bool = False) -> list[Device]:
    model: type[Device] = TOTPDevice if is_totp_code(token) else StaticDevice
    qs = model.objects.filter(user=user, confirmed=True)
    if for_update:
        qs = qs.select_for_update()
    return list(qs)


def wait_seconds(user: User, token: str) -> int:
    """Seconds before django-otp's throttle lets the device that would check this code try again."""
    longest = 0
    for device in _devices(user, normalize(token)):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            longest = max(longest, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
    return longest


def otp_check(user: User, token: str) -> Device | None:
    """The device that accepts this code (a 6-digit TOTP code or a recovery code, which is then
    used up), or None. Rows are locked so two requests cannot both spend one code."""
    token = normalize(token)
    if not token:
        return None
    with transaction.atomic():
        for device in _devices(user, token, for_update=True):
            if device.verify_token(token):
                return device
    return None


def failure_signal(request: HttpRequest | Request, user: User) -> None:
    """A wrong code is a failed sign-in for the account (lockout, delay, address limit, audit)."""
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username(), OTP_CREDENTIAL: "********"},
        request=request,
    )


def totp_code(device: TOTPDevice, *, for_time: float | None = None) -> str:
    """The code an authenticator app shows now for this device (demo and tests)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if for_time is None else for_time
    return f"{totp.token():0{device.digits}d}"


def fresh_totp_code(device: TOTPDevice) -> str:
    """A code the device will accept now: the next time step after the last one used (a code is
    never accepted twice), waiting for the clock when even the tolerance does not reach it."""
    device.refresh_from_db()
    now = time.time()
    step_now = int((now - device.t0) // device.step) + device.drift
    step = max(step_now, device.last_t + 1)
    if step > step_now + device.tolerance:
        time.sleep(device.t0 + (step - device.tolerance - device.drift) * device.step - now + 0.05)
    return totp_code(device, for_time=device.t0 + (step - device.drift) * device.step + 1)


# --- Enrolment display ---------------------------------------------------------------------------------


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it (Base32), in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` address as an inline SVG QR code, drawn here (no outside service). It has
    a viewBox and no fixed size, so it fits the width of its column on a phone."""
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            dark="#000",
            light="#fff",
            title="扫码添加动态验证码",
            svgclass="otp-qr w-100 h-auto",
            omitsize=True,
        )
    )


def recovery_code_display(token: str) -> str:
    return f"{token[:4]}-{token[4:]}" if len(token) == 8 else token


# --- The pending second step of a web sign-in --------------------------------------------------------


def pending_start(request: HttpRequest, user: User, next_url: str) -> None:
    """The password was right and the user has a device: remember, in the still anonymous
    session, whose code the next step waits for."""
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
    }


def pending(request: HttpRequest) -> tuple[User, str, str] | None:
    """(user, backend, next address) of the sign-in waiting for a code, or None."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not data:
        return None
    if time.time() - data.get("at", 0) > PENDING_SECONDS:
        pending_clear(request)
        return None
    from .models import User

    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None:
        pending_clear(request)
        return None
    return user, data["backend"], data.get("next") or ""


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)
