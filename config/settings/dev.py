"""Embedded default: SQLite, in-process cache, generated development keys under var/."""

import os
import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool


def _key_file(name: str, make: "callable[[], str]") -> str:  # type: ignore[valid-type]
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or _key_file("secret_key.txt", lambda: secrets.token_urlsafe(50))
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY") or _key_file(
    "field_encryption.key", lambda: Fernet.generate_key().decode()
)
