"""Serializers of the token exchange and of the caller's own tokens."""

from __future__ import annotations

from rest_framework import serializers


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名或手机号", max_length=150)
    password = serializers.CharField(
        label="密码", max_length=128, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        label="动态验证码",
        max_length=20,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="已启用双因素认证的账号必填：验证器当前显示的6位数字，或一个恢复码",
    )
    name = serializers.CharField(
        label="令牌名称",
        max_length=150,
        required=False,
        allow_blank=True,
        help_text="便于在“我的登录令牌”中辨认，如“张三的手机”；缺省时记录客户端标识（User-Agent）",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="请求时放在请求头 Authorization: Token <token>")
    expires_at = serializers.DateTimeField(read_only=True, help_text="到期时间；闲置超时也会使令牌提前失效")


class ApiTokenSerializer(serializers.Serializer):
    """One of the caller's own tokens, without its key (only its first characters)."""

    id = serializers.IntegerField(read_only=True)
    prefix = serializers.CharField(read_only=True, help_text="令牌前8位，用于辨认")
    name = serializers.CharField(read_only=True, help_text="令牌名称或签发时的客户端标识")
    created_at = serializers.DateTimeField(read_only=True, help_text="签发时间")
    last_used_at = serializers.DateTimeField(read_only=True, help_text="最近使用时间（精确到分钟）")
    expires_at = serializers.DateTimeField(read_only=True, help_text="到期时间")
    current = serializers.SerializerMethodField(help_text="是否为本次请求所用的令牌")

    def get_current(self, obj: object) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return getattr(auth, "pk", None) == getattr(obj, "pk", None)
