from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone


class PasswordExpiryMiddleware:
    """Send people whose password is older than PASSWORD_MAX_AGE_DAYS to the change page
    (等保: periodic change). API clients get the same rule through their token's user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        max_age = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0)
        if (
            max_age
            and user is not None
            and user.is_authenticated
            and user.password_changed_at is not None
            and user.password_changed_at < timezone.now() - timedelta(days=max_age)
            and not request.path.startswith(("/accounts/", "/static/", "/api/"))
        ):
            return redirect(f"{reverse('accounts:password_change')}?expired=1")
        return self.get_response(request)
