"""Who may call the API. Per-object scope is not decided here: querysets start from
``restrict(user, action)``, so an object outside scope is simply not found (404). These classes
answer the coarser question: may the caller perform this action anywhere at all (else 403)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions, permissions

from partyedu.core.scope import has_action
from partyedu.core.types import BaseViewer

# HTTP method → scope action. DELETE is mapped for completeness; no endpoint deletes yet.
METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def scope_action(method: str | None) -> str:
    return METHOD_ACTIONS.get((method or "GET").upper(), "view")


def password_expired(user: BaseViewer) -> bool:
    """The web refuses stale passwords in middleware (which skips /api/); the API applies the same
    rule here, so a token cannot outlive the password policy."""
    max_age = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0)
    changed_at = getattr(user, "password_changed_at", None)
    return bool(max_age and changed_at is not None and changed_at < timezone.now() - timedelta(days=max_age))


PASSWORD_EXPIRED_MESSAGE = "密码已过期，请先登录网页修改密码"


class IsAuthenticated(permissions.IsAuthenticated):
    """Signed in (token or session) with a password that has not expired."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if password_expired(request.user):
            raise exceptions.PermissionDenied(PASSWORD_EXPIRED_MESSAGE)
        return True


class ScopedActionPermission(IsAuthenticated):
    """The caller's roles grant the request's action (view/add/change/delete) for the view's app
    somewhere; the view declares ``scope_app_label`` (defaults to its queryset model's app)."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        app_label = getattr(view, "scope_app_label", None) or view.scope_model._meta.app_label
        return has_action(request.user, scope_action(request.method), app_label)
