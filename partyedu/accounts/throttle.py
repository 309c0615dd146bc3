"""Sign-in throttling, in front of every check of a password or a one-time code.

Threat model. Anyone can type any account name, so three counters work together:

- **Per account** (django-axes, ``AXES_FAILURE_LIMIT`` failures lock the account for
  ``AXES_COOLOFF_TIME``). The counter is the *account*, whichever identifier was typed: a registered
  mobile number counts for the account it belongs to (``account_key``), so five failures by user
  name cannot be followed by a sixth guess through the mobile number. An identifier that names no
  account is counted as typed, so the answers do not reveal whether an account exists.
- **Progressive delay per account** (this module, in the cache). Because anyone can lock any account
  by name, guessing is slowed before the lockout: after ``LOGIN_DELAY_FREE_FAILURES`` failures the
  next attempt must wait 2, 4, 8 … seconds (``LOGIN_DELAY_BASE_SECONDS`` doubling, at most
  ``LOGIN_DELAY_MAX_SECONDS``). An attempt inside the delay is refused before anything is checked
  and is not counted, so a user who retries too fast is told to wait rather than locked sooner.
- **Per source address** (this module, in the cache). One address spreading guesses over many
  accounts is refused for ``AXES_COOLOFF_TIME`` after ``LOGIN_IP_FAILURE_LIMIT`` failures. The limit
  is well above the per-account one because a whole office often shares one address. A successful
  sign-in does not reset it: one known account must not launder guesses at others.

Failures are counted from Django's ``user_login_failed`` signal (wrong passwords, refused locked
accounts, wrong one-time codes), successes from ``user_logged_in``; the checks (``check``) are made
by the entry points: the sign-in form, the one-time-code step and the API token exchange. The
cache is the default cache: Redis in production, so every process sees the same counters.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from partyedu.core.audit import audit_record, client_ip
from partyedu.core.choices import AuditAction

_PREFIX = "signin"


def now() -> float:
    """The clock of the delays (tests move it)."""
    return time.time()


@dataclass(frozen=True)
class Refusal:
    """An attempt refused before it was checked, and for how long."""

    seconds: int
    message: str


# --- Whose attempt it is -----------------------------------------------------------------------------


def _lookup(identifier: str) -> str:
    from .models import User, mobile_index

    if User.objects.filter(username=identifier).exists():
        return identifier
    if identifier.isdigit() and len(identifier) == 11:
        username = (
            User.objects.filter(mobile_hash=mobile_index(identifier))
            .values_list("username", flat=True)
            .first()
        )
        if username is not None:
            return str(username)
    return identifier


def account_key(identifier: str, request: Any = None) -> str:
    """The account an attempt counts for: the user name when the identifier is a user name or a
    registered mobile number (looked up as ``UsernameOrMobileBackend`` does), else the identifier
    as typed. Remembered on the request, since axes asks several times per attempt."""
    identifier = (identifier or "").strip()
    if not identifier:
        return identifier
    memo: dict[str, str] | None = (
        getattr(request, "_signin_account_keys", None) if request is not None else None
    )
    if memo is not None and identifier in memo:
        return memo[identifier]
    key = _lookup(identifier)
    if request is not None:
        if memo is None:
            memo = {}
            try:
                request._signin_account_keys = memo
            except AttributeError:
                return key
        memo[identifier] = key
    return key


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: axes counts failures per account, not per typed identifier."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        typed = data.get("username") if hasattr(data, "get") else None
    if typed is None:
        return None
    return account_key(str(typed), request)


def axes_client_ip(request: Any) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the same address the audit log records (TRUSTED_PROXY_COUNT)."""
    return client_ip(request) or ""


# --- Cache keys ----------------------------------------------------------------------------------------


def _digest(value: str) -> str:
    # Hashed: user names may hold characters a cache key may not, and keys should not carry them.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _account_keys(key: str) -> tuple[str, str]:
    d = _digest(key)
    return f"{_PREFIX}:acct:{d}:failures", f"{_PREFIX}:acct:{d}:until"


def _address_keys(ip: str) -> tuple[str, str]:
    d = _digest(ip)
    return f"{_PREFIX}:addr:{d}:failures", f"{_PREFIX}:addr:{d}:until"


def _window_seconds() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    return int(cooloff.total_seconds()) if cooloff else 30 * 60


def _increment(key: str, timeout: int) -> int:
    """Atomic on Redis; the window starts at the first failure and is not extended by later ones."""
    cache.add(key, 0, timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def delay_after(failures: int) -> int:
    """Seconds to wait after the given number of consecutive failures of one account."""
    free = settings.LOGIN_DELAY_FREE_FAILURES
    if failures <= free:
        return 0
    base, cap = settings.LOGIN_DELAY_BASE_SECONDS, settings.LOGIN_DELAY_MAX_SECONDS
    exponent = min(failures - free - 1, 30)
    return int(min(base * 2**exponent, cap))


# --- The checks and the counting -----------------------------------------------------------------------


def check(request: Any, identifier: str) -> Refusal | None:
    """Whether an attempt for this identifier from this request's address must be refused before
    anything is checked, and why."""
    current = now()
    ip = client_ip(request)
    if ip:
        until = cache.get(_address_keys(ip)[1])
        if until and until > current:
            minutes = max(1, math.ceil((until - current) / 60))
            return Refusal(
                math.ceil(until - current),
                f"该网络地址登录失败次数过多，已暂停登录，请{minutes}分钟后再试",
            )
    key = account_key(identifier, request)
    if key:
        until = cache.get(_account_keys(key)[1])
        if until and until > current:
            seconds = math.ceil(until - current)
            return Refusal(seconds, f"登录失败次数较多，请等待{seconds}秒后再试")
    return None


def failure_record(request: Any, identifier: str) -> None:
    """Count one failed attempt for the account and for the source address."""
    window = _window_seconds()
    current = now()
    key = account_key(identifier, request)
    if key:
        failures_key, until_key = _account_keys(key)
        failures = _increment(failures_key, window)
        wait = delay_after(failures)
        if failures >= settings.AXES_FAILURE_LIMIT:
            # Locked by axes now: its lockout page, not a delay, answers the next attempt.
            cache.delete(until_key)
        elif wait:
            cache.set(until_key, current + wait, wait + 1)
    ip = client_ip(request)
    if ip:
        failures_key, until_key = _address_keys(ip)
        if _increment(failures_key, window) >= settings.LOGIN_IP_FAILURE_LIMIT:
            cache.set(until_key, current + window, window)
            cache.delete(failures_key)
            audit_record(
                actor=None,
                action=AuditAction.LOCKOUT,
                success=False,
                object_type="accounts.user",
                ip_address=ip,
                message=f"同一网络地址登录失败达{settings.LOGIN_IP_FAILURE_LIMIT}次，暂停该地址登录",
            )


def success_record(username: str) -> None:
    """A complete sign-in ends the account's delay (not the address count)."""
    cache.delete_many(list(_account_keys(username)))
