from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone


def send_away(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect a blocked request to ``url``. An HTMX request gets no page to swap in: it is told
    to go there (``HX-Redirect``), or, when it came from that very page (the notification bell
    of the enrolment page asking for its count), answered 204 so that nothing is swapped and
    nothing is asked again."""
    if request.headers.get("HX-Request") != "true":
        return redirect(url)
    response = HttpResponse(status=204)
    if urlsplit(request.headers.get("HX-Current-URL", "")).path != urlsplit(url).path:
        response["HX-Redirect"] = url
    return response


class OtpRequiredMiddleware:
    """After ``django_otp``'s middleware: a signed-in session that has not passed the second
    factor reaches only the sign-in pages until it does. A user with a device is sent to the code
    step; a user whose role requires a device and who has none, to enrolment. Sessions of users
    with neither are marked once (``otp.EXEMPT_SESSION_KEY``), so their later requests cost no
    query. The API answers 403 in JSON instead of redirecting (token requests pass: a token is
    issued only after the second factor)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from . import otp

        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is None
            or user is None
            or not user.is_authenticated
            or session.get(otp.EXEMPT_SESSION_KEY) == user.pk
            or session.get(BACKEND_SESSION_KEY) in settings.OTP_VERIFIED_SESSION_BACKENDS
            or user.is_verified()
        ):
            return self.get_response(request)
        if otp.otp_enrolled(user):
            target = "accounts:otp_verify"
        elif otp.otp_required(user):
            target = "accounts:otp_enrol"
        else:
            # Decided for this sign-in: a role that starts to require a device, or a device bound
            # in another session, applies from the next sign-in.
            session[otp.EXEMPT_SESSION_KEY] = user.pk
            return self.get_response(request)
        allowed = {reverse(name) for name in ("accounts:otp_verify", "accounts:otp_enrol", "accounts:logout")}
        if request.path in allowed or request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "请先在网页完成双因素认证", "errors": {}}, status=403)
        url = reverse(target)
        if request.method == "GET" and request.headers.get("HX-Request") != "true":
            url += "?" + urlencode({"next": request.get_full_path()})
        return send_away(request, url)


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
            return send_away(request, f"{reverse('accounts:password_change')}?expired=1")
        return self.get_response(request)
