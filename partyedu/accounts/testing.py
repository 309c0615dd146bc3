"""Test helpers for sign-in. ``client.force_login`` goes through ``ForceLoginBackend`` in the test
settings, and ``OTP_VERIFIED_SESSION_BACKENDS`` there treats such sessions as having passed the
second factor, so tests about anything else need no code. Tests of the second factor sign in with
a password (``password_login``) or with ``login_unverified``; browser tests type a code computed
from the device (``otp_device_make`` + ``otp.fresh_totp_code``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import otp

if TYPE_CHECKING:
    from .models import User

# A fixed test secret (hex, 20 bytes), so a failing test can be replayed with an authenticator.
TEST_OTP_KEY = "3132333435363738393031323334353637383930"
REAL_BACKEND = "partyedu.accounts.backends.UsernameOrMobileBackend"


class ForceLoginBackend(ModelBackend):
    """Loads users for sessions opened by ``client.force_login``; never authenticates anyone."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        return None


def login_unverified(client: Any, user: User) -> None:
    """Sign the client in as a password sign-in would, without the second factor."""
    client.force_login(user, backend=REAL_BACKEND)


def otp_device_make(user: User, *, key: str = TEST_OTP_KEY) -> TOTPDevice:
    """A confirmed authenticator for the user (the one already there, if any)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=otp.TOTP_DEVICE_NAME, key=key, confirmed=True)
    return device
