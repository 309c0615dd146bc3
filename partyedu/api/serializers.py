"""Serializers of the top-level API views (the ping)."""

from __future__ import annotations

from rest_framework import serializers


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField(read_only=True)
    user = serializers.CharField(read_only=True, help_text="当前用户名")
