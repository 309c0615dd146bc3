"""Serializers of the API plumbing itself: the error shape, the token exchange and the ping."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response: a summary and, for invalid input, messages by field."""

    detail = serializers.CharField(help_text="错误说明")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="按字段列出的错误信息；与字段无关的错误在 non_field_errors 下",
    )


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名或手机号", max_length=150)
    password = serializers.CharField(
        label="密码", max_length=128, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="请求时放在请求头 Authorization: Token <token>")


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField(read_only=True)
    user = serializers.CharField(read_only=True, help_text="当前用户名")
