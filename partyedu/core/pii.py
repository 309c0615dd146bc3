"""Personal data at rest: Fernet encryption, a keyed blind index for equality lookup, and masking.

``FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys separated by commas. The first key encrypts;
all keys decrypt, so a new key can be put in front and old rows re-encrypted at leisure. The blind
index is an HMAC keyed from the *last* key of the list, so it stays stable while keys rotate."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _keys() -> list[str]:
    keys = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
    return keys


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


@lru_cache(maxsize=4)
def _index_key(last_key: str) -> bytes:
    raw = base64.urlsafe_b64decode(last_key.encode())
    return hmac.new(raw, b"partyedu-blind-index-v1", hashlib.sha256).digest()


def encrypt(value: str) -> str:
    return _fernet(tuple(_keys())).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(_keys())).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key must not pass silently
        raise ImproperlyConfigured("Encrypted field cannot be decrypted with FIELD_ENCRYPTION_KEY.") from exc


def blind_index(value: str, purpose: str) -> str:
    """A stable keyed digest of a normalised value; equal values give equal digests."""
    key = _index_key(_keys()[-1])
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def mask_mobile(value: str) -> str:
    """138****5678: first three and last four digits."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """110***********123X: first three and last four characters."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张**: only the surname, for public contexts."""
    if not value:
        return ""
    return value[0] + "*" * max(len(value) - 1, 1)
