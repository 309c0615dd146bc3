"""The token exchange and the caller's own tokens: ``/api/v1/auth/token/`` and ``/api/v1/auth/tokens/``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partyedu.accounts import otp, selectors, services, throttle
from partyedu.accounts.models import User
from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import PASSWORD_EXPIRED_MESSAGE, IsAuthenticated, password_expired
from partyedu.core.api.serializers import ErrorSerializer

from .serializers import ApiTokenSerializer, TokenObtainSerializer, TokenSerializer

BAD_CREDENTIALS_MESSAGE = "用户名或密码错误"
OTP_MISSING_MESSAGE = "请输入动态验证码"
OTP_WRONG_MESSAGE = "动态验证码或恢复码不正确"
OTP_ENROL_FIRST_MESSAGE = "您的账号须启用双因素认证，请先登录网页版完成动态验证码绑定，再获取令牌"


class SignInThrottled(exceptions.APIException):
    """An attempt refused before it was checked (progressive delay or the address limit); DRF
    sends ``Retry-After`` from ``wait``."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "sign_in_throttled"

    def __init__(self, refusal: throttle.Refusal) -> None:
        super().__init__(refusal.message)
        self.wait = refusal.seconds


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
        wait = f"请{minutes}分钟后再试" if minutes else "请联系安全管理员解锁"
        super().__init__(f"登录失败次数过多，账号已锁定，{wait}")


class TokenObtainView(APIView):
    """Exchange a user name (or registered mobile number), password and, for an account with a
    second factor, a one-time code for a new API token (one per exchange: a user may sign in on
    several devices). Goes through ``django.contrib.auth.authenticate`` with the request, so the
    lockout, the progressive delay, the address limit and the sign-in audit apply exactly as on
    the web login page. Opens no web session."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["认证"],
        summary="获取访问令牌",
        description="提交用户名（或登记的手机号）和密码，返回新的令牌（每次获取都签发新令牌，可在多台设备使用）。"
        "已启用双因素认证的账号须同时提交 `otp`（验证器当前显示的6位数字，或一个恢复码）。"
        "之后的请求在请求头中携带 `Authorization: Token <token>`。令牌到期、长时间未使用、修改密码或账号停用后失效。"
        "连续失败后须等待逐渐延长的时间再试，多次失败后账号将被临时锁定。",
        request=TokenObtainSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="用户名或密码错误，或缺少/错误的动态验证码"),
            403: OpenApiResponse(ErrorSerializer, description="密码已过期，或须先在网页完成双因素认证绑定"),
            429: OpenApiResponse(ErrorSerializer, description="账号已锁定，或须等待后再试（见 Retry-After）"),
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refusal = throttle.check(request, data["username"])
        if refusal is not None:
            raise SignInThrottled(refusal)
        # django-axes marks the request it is given; passing DRF's request keeps its lockout flag
        # here, so we answer in JSON instead of the web lockout page its middleware would render.
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked()
            raise exceptions.ValidationError({"non_field_errors": [BAD_CREDENTIALS_MESSAGE]})
        self.second_factor(request, user, data.get("otp", ""))
        if password_expired(user):
            raise exceptions.PermissionDenied(PASSWORD_EXPIRED_MESSAGE)
        # A token exchange is a sign-in: audit it, reset the failure counts, stamp last_login.
        user_logged_in.send(sender=type(user), request=request, user=user)
        name = data.get("name") or request.META.get("HTTP_USER_AGENT", "")
        token, key = services.api_token_issue(user=user, name=name)
        return Response({"token": key, "expires_at": token.expires_at})

    @staticmethod
    def second_factor(request: Request, user: User, code: str) -> None:
        """A user with a device sends its code; a wrong one counts as a failed sign-in."""
        if not otp.otp_enrolled(user):
            if otp.otp_required(user):
                raise exceptions.PermissionDenied(OTP_ENROL_FIRST_MESSAGE)
            return
        if not code.strip():
            raise exceptions.ValidationError({"otp": [OTP_MISSING_MESSAGE]})
        wait = otp.wait_seconds(user, code)
        if wait:
            raise SignInThrottled(throttle.Refusal(wait, f"尝试过于频繁，请等待{wait}秒后再试"))
        if otp.otp_check(user, code) is None:
            otp.failure_signal(request, user)
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked()
            raise exceptions.ValidationError({"otp": [OTP_WRONG_MESSAGE]})


class TokenListView(APIView):
    """The caller's own API tokens that still work (never another user's, never a key)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["认证"],
        summary="我的登录令牌",
        description="列出当前用户仍有效的令牌（前缀、签发时间、最近使用时间、到期时间），不含令牌本身。",
        responses={200: ApiTokenSerializer(many=True)},
    )
    def get(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        tokens = selectors.api_token_list(user=request.user)
        return Response(ApiTokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenDetailView(APIView):
    """Revoke one of the caller's own tokens (the one in use signs this client out)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["认证"],
        summary="撤销登录令牌",
        description="撤销当前用户的一个令牌；撤销本次请求所用的令牌即退出登录。他人的令牌返回404。",
        responses={
            204: OpenApiResponse(description="已撤销"),
            404: OpenApiResponse(ErrorSerializer, description="令牌不存在"),
        },
    )
    def delete(self, request: AuthenticatedRequest, pk: int, *args: Any, **kwargs: Any) -> Response:
        token = selectors.api_token_get(user=request.user, pk=pk)
        services.api_token_revoke(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
