"""The health check a reverse proxy, a load balancer or a process supervisor asks:
``GET /healthz/`` answers 200 ``{"ok": true, ...}`` when this process reaches its database (and
Redis, when configured), else 503 naming the part that failed. It needs no sign-in, so it says
nothing else: no versions, no error text, no data."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database")
        return False


def _cache() -> bool:
    try:
        cache.set("partyedu:healthz", 1, 10)
        return cache.get("partyedu:healthz") == 1
    except Exception:
        logger.exception("health check: cache")
        return False


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if settings.REDIS_URL:
        checks["cache"] = _cache()
    ok = all(checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
