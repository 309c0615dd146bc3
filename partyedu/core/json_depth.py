"""How deeply a JSON document nests, measured on the raw text before it is parsed.

Python's ``json`` recurses once per ``[`` or ``{``: a body of a few thousand brackets (a few
kilobytes, sent by anyone, signed in or not) raises ``RecursionError`` inside the parser and the
request ends in a 500. No document the platform accepts nests more than a handful of levels, so
every JSON body is measured first and refused when it nests deeper than ``MAX_JSON_DEPTH``.

The measure is cheap: a body with no more opening brackets than the limit (nearly every request)
is accepted after two ``count`` calls; otherwise string literals are cut out with one regular
expression and the brackets left are counted with an early exit."""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32

_STRING_TEXT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRING_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS_TEXT = re.compile(r"[\[\]{}]")
_BRACKETS_BYTES = re.compile(rb"[\[\]{}]")


def json_too_deep(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` (JSON text, or UTF-8 bytes) opens more than ``limit`` arrays or objects
    inside one another. Brackets inside strings do not count. Malformed input is not judged
    here, only measured: the parser that follows rejects it."""
    if isinstance(data, bytes):
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
        brackets = _BRACKETS_BYTES.findall(_STRING_BYTES.sub(b"", data))
        opening: tuple[str | bytes, ...] = (b"[", b"{")
    else:
        if data.count("[") + data.count("{") <= limit:
            return False
        brackets = _BRACKETS_TEXT.findall(_STRING_TEXT.sub("", data))
        opening = ("[", "{")
    depth = 0
    for bracket in brackets:
        if bracket in opening:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
