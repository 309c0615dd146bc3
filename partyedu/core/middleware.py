from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
