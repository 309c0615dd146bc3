"""Request body parsers of the API. JSON bodies are measured for depth before they are parsed
(see ``partyedu.core.json_depth``): a deeply nested body is a 400, not a RecursionError."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from partyedu.core.json_depth import MAX_JSON_DEPTH, json_too_deep

from .exceptions import RequestTooLarge

TOO_DEEP_MESSAGE = "请求数据嵌套层级过深"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a depth limit checked on the raw text first."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # djangorestframework-stubs 3.16 lacks DRF's parsers.get_encoding.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        # Django bounds request.body, but DRF reads the stream itself: bound it the same way.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_too_deep(text, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP_MESSAGE)
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
