"""Personal data at rest: authenticated encryption (AES-256-GCM), a keyed blind index for
equality lookup, and masking.

``FIELD_ENCRYPTION_KEY`` holds one or more keys (32 random bytes, URL-safe base64, as made by
``Fernet.generate_key()``), separated by commas. The first key encrypts; each stored value names
its key by a short id, so values written under an older key still decrypt after a new key is put
in front (rotation). The blind index is an HMAC keyed from the *last* key of the list, so it stays
stable while keys rotate. A stored value reads ``<key id>.<base64(nonce | ciphertext | tag)>``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


def _keys() -> tuple[str, ...]:
    return _split_keys(settings.FIELD_ENCRYPTION_KEY or "")


@lru_cache(maxsize=4)
def _split_keys(setting: str) -> tuple[str, ...]:
    # Cached by the setting's text: a page of members decrypts a hundred values, and a changed
    # setting (rotation, tests) is a new text.
    keys = tuple(k.strip() for k in setting.split(",") if k.strip())
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
    return keys


def _raw(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be URL-safe base64.") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured("Each FIELD_ENCRYPTION_KEY key must be 32 bytes.")
    return raw


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> tuple[str, dict[str, AESGCM]]:
    ring: dict[str, AESGCM] = {}
    first = ""
    for key in keys:
        raw = _raw(key)
        key_id = hashlib.sha256(b"partyedu-key-id" + raw).hexdigest()[:8]
        ring.setdefault(key_id, AESGCM(raw))
        first = first or key_id
    return first, ring


@lru_cache(maxsize=4)
def _index_key(last_key: str) -> bytes:
    return hmac.new(_raw(last_key), b"partyedu-blind-index-v1", hashlib.sha256).digest()


def encrypt(value: str) -> str:
    key_id, ring = _keyring(_keys())
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring[key_id].encrypt(nonce, value.encode(), key_id.encode())
    return f"{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    _, ring = _keyring(_keys())
    key_id, _, body = token.partition(".")
    cipher = ring.get(key_id)
    if cipher is None:  # a wrong or missing key must not pass silently
        raise ImproperlyConfigured("Encrypted value was written with a key not in FIELD_ENCRYPTION_KEY.")
    data = base64.urlsafe_b64decode(body.encode())
    try:
        return cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode()).decode()
    except InvalidTag as exc:
        raise ImproperlyConfigured("Encrypted value failed authentication (tampered or wrong key).") from exc


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
