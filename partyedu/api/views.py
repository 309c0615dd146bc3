"""API plumbing: the v1 root, the token exchange and the ping."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .permissions import PASSWORD_EXPIRED_MESSAGE, IsAuthenticated, password_expired
from .serializers import ErrorSerializer, PingSerializer, TokenObtainSerializer, TokenSerializer

BAD_CREDENTIALS_MESSAGE = "用户名或密码错误"


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
        wait = f"请{minutes}分钟后再试" if minutes else "请联系安全管理员解锁"
        super().__init__(f"登录失败次数过多，账号已锁定，{wait}")


class ApiRootView(APIView):
    """The endpoints of API v1. Lists addresses only, so it needs no sign-in."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["系统"],
        summary="接口目录",
        description="列出 v1 各接口的地址，无需登录。",
        responses={200: OpenApiResponse(description="各接口地址")},
        auth=[],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        names = {
            "auth-token": "api:auth-token",
            "ping": "api:ping",
            "organizations": "api:organization-list",
            "members": "api:member-list",
            "activities": "api:activity-list",
            "checkin": "api:checkin",
            "resources": "api:resource-list",
            "lecturers": "api:lecturer-list",
            "lectures": "api:lecture-list",
            "competitions": "api:competition-list",
            "reviewers": "api:reviewers",
            "reviews": "api:review-list",
            "schema": "api:schema",
            "docs": "api:docs",
            "redoc": "api:redoc",
        }
        return Response({key: reverse(name, request=request) for key, name in names.items()})


class TokenObtainView(APIView):
    """Exchange a user name (or registered mobile number) and password for an API token. Goes
    through ``django.contrib.auth.authenticate`` with the request, so the lockout after repeated
    failures and the sign-in audit apply exactly as on the web login page."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["认证"],
        summary="获取访问令牌",
        description="提交用户名（或登记的手机号）和密码，返回令牌。之后的请求在请求头中携带 "
        "`Authorization: Token <token>`。连续多次失败后账号将被临时锁定。",
        request=TokenObtainSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="用户名或密码错误"),
            403: OpenApiResponse(ErrorSerializer, description="密码已过期"),
            429: OpenApiResponse(ErrorSerializer, description="账号已锁定"),
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # django-axes marks the request it is given; passing DRF's request keeps its lockout flag
        # here, so we answer in JSON instead of the web lockout page its middleware would render.
        user = authenticate(
            request=request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked()
            raise exceptions.ValidationError({"non_field_errors": [BAD_CREDENTIALS_MESSAGE]})
        if password_expired(user):
            raise exceptions.PermissionDenied(PASSWORD_EXPIRED_MESSAGE)
        # A token exchange is a sign-in: audit it, reset the failure count, stamp last_login.
        user_logged_in.send(sender=type(user), request=request, user=user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class PingView(APIView):
    """The smallest authenticated endpoint: the framework's own cost, for benchmarks and health
    checks of a client's credentials."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["系统"],
        summary="连通性检查",
        description="校验当前凭据并返回用户名，不访问业务数据。",
        responses={200: PingSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"ok": True, "user": request.user.get_username()})
