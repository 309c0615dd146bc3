"""The error shape every API answer shares (``partyedu.core.api.exceptions`` produces it; the
OpenAPI hook in ``partyedu.core.api.schema`` refers to it)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response: a summary and, for invalid input, messages by field."""

    detail = serializers.CharField(help_text="错误说明")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="按字段列出的错误信息；与字段无关的错误在 non_field_errors 下",
    )


def plain_data(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    """What ``serializer_class(instance).data`` gives, built directly from the class's declared
    fields (their ``source``, their own ``to_representation``, nested serializers with
    ``many=True`` or without), without binding a serializer and its fields per row: for an
    answer of many rows read on every visit (a member's points). Declared read fields only — no
    ``SerializerMethodField``, no model serializer's generated fields; a test of each user
    compares the two."""
    out: dict[str, Any] = {}
    for name, field in serializer_class._declared_fields.items():
        if field.write_only:
            continue
        source = field.source or name
        if not isinstance(source, str):
            raise TypeError(f"{serializer_class.__name__}.{name}: only a dotted source is supported")
        value = instance
        for attr in source.split("."):
            value = getattr(value, attr) if value is not None else None
        if value is None:
            out[name] = None
        elif isinstance(field, serializers.ListSerializer):
            child = field.child
            if not isinstance(child, serializers.Serializer):
                raise TypeError(
                    f"{serializer_class.__name__}.{name}: only a list of serializers is supported"
                )
            out[name] = [plain_data(type(child), item) for item in value]
        elif isinstance(field, serializers.Serializer):
            out[name] = plain_data(type(field), value)
        else:
            out[name] = field.to_representation(value)
    return out
