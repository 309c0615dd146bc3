"""Scheduled work: every app registers what it needs — the nightly cleaning
(``@housekeeping_step``) and the steps that must run every minute (``@frequent_step``, e.g.
submitting exam attempts whose time is up) — and the scheduler (Celery beat in production,
``manage.py housekeeping [--frequent]`` from cron anywhere) runs them all. Core imports no app:
the apps register their steps from their ``AppConfig.ready``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.utils import timezone

logger = logging.getLogger(__name__)

_STEPS: dict[str, Callable[[], int]] = {}
_FREQUENT_STEPS: dict[str, Callable[[], int]] = {}


def housekeeping_step(name: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register ``function() -> number of things removed`` under ``name``."""

    def register(function: Callable[[], int]) -> Callable[[], int]:
        _STEPS[name] = function
        return function

    return register


def frequent_step(name: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register ``function() -> number of things done`` to run every minute. A step must be
    cheap when there is nothing to do and safe to run in two processes at once."""

    def register(function: Callable[[], int]) -> Callable[[], int]:
        _FREQUENT_STEPS[name] = function
        return function

    return register


def housekeeping() -> dict[str, Any]:
    """Run every nightly step; one failing step is logged and does not stop the others."""
    return _run(_STEPS)


def frequent() -> dict[str, Any]:
    """Run every per-minute step; one failing step is logged and does not stop the others."""
    return _run(_FREQUENT_STEPS)


def _run(steps: dict[str, Callable[[], int]]) -> dict[str, Any]:
    done: dict[str, Any] = {}
    for name, step in steps.items():
        try:
            done[name] = step()
        except Exception:
            logger.exception("housekeeping step %s failed", name)
            done[name] = "failed"
    return done


@housekeeping_step("expired_sessions")
def expired_sessions() -> int:
    if settings.SESSION_ENGINE.endswith(("db", "cached_db")):
        deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        return deleted
    return 0  # cache-only sessions expire by themselves


@housekeeping_step("abandoned_import_uploads")
def abandoned_import_uploads() -> int:
    """Files uploaded for a dry run that nobody confirmed (the page keeps them until the real run)."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_UPLOAD_KEEP_HOURS)
    try:
        _folders, files = default_storage.listdir("imports")
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    for name in files:
        path = f"imports/{name}"
        try:
            modified = default_storage.get_modified_time(path)
        except (FileNotFoundError, NotImplementedError):
            continue
        if modified < cutoff:
            default_storage.delete(path)
            removed += 1
    return removed


@housekeeping_step("old_jobs")
def old_jobs() -> int:
    from .jobs import jobs_housekeeping

    return jobs_housekeeping()["jobs"]
