"""Nightly housekeeping: every app registers the cleaning it needs (``@housekeeping_step``), and
the scheduler (Celery beat in production, ``manage.py housekeeping`` anywhere) runs them all."""

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


def housekeeping_step(name: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register ``function() -> number of things removed`` under ``name``."""

    def register(function: Callable[[], int]) -> Callable[[], int]:
        _STEPS[name] = function
        return function

    return register


def housekeeping() -> dict[str, Any]:
    """Run every step; one failing step is logged and does not stop the others."""
    done: dict[str, Any] = {}
    for name, step in _STEPS.items():
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
