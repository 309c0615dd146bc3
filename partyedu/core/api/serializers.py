"""The error shape every API answer shares (``partyedu.core.api.exceptions`` produces it; the
OpenAPI hook in ``partyedu.core.api.schema`` refers to it)."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response: a summary and, for invalid input, messages by field."""

    detail = serializers.CharField(help_text="错误说明")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="按字段列出的错误信息；与字段无关的错误在 non_field_errors 下",
    )
