"""The top of API v1: its root (a directory of every app's endpoints) and the ping."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from partyedu.core.api.permissions import IsAuthenticated

from .serializers import PingSerializer


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
            "auth-tokens": "api:auth-token-list",
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
