from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .audit import RequestMeta, client_ip, reset_request_meta, set_request_meta


class RequestContextMiddleware:
    """Makes the client address available to services for the audit log without passing the
    request through every layer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_meta(
            RequestMeta(client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:200])
        )
        try:
            return self.get_response(request)
        finally:
            reset_request_meta(token)


class SecurityHeadersMiddleware:
    """Headers every dynamic response carries. Pages and API answers are about people (names,
    ID numbers, attendance) and differ per user, so no browser or proxy may keep a copy:
    ``Cache-Control: no-store`` unless a view chose its own caching. Static files (served by
    whitenoise, further in) keep their long-lived caching. Plus the Permissions-Policy; the
    Content-Security-Policy comes from django-csp."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if not request.path.startswith(settings.STATIC_URL) and "Cache-Control" not in response.headers:
            add_never_cache_headers(response)
        return response
