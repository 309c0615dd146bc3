"""Test settings: fast hashing, fixed keys, the database from DATABASE_URL (SQLite in memory by default)."""

import os

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
FIELD_ENCRYPTION_KEY = "u7V0vZc3mJ5b9aWk6nL8Qo2rS4tX1yZ0aB3cD5eF7gI="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]

# client.force_login signs in through a backend of its own, and sessions it opens count as
# verified by the second factor: a test that is not about sign-in needs no code. Tests of the
# second factor sign in with a password, or force_login with the real backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "partyedu.accounts.testing.ForceLoginBackend",
    "partyedu.accounts.backends.UsernameOrMobileBackend",
]
OTP_VERIFIED_SESSION_BACKENDS = ["partyedu.accounts.testing.ForceLoginBackend"]

# Jobs run in the committing thread, so a test sees their outcome at once.
JOBS_BACKEND = "inline"

# Notifications leave nothing: email to Django's locmem outbox, SMS to notifications.sms_outbox.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PARTYEDU_SMS_BACKEND = "partyedu.core.notifications.LocmemSmsBackend"
