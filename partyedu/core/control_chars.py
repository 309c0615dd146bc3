"""Characters nobody types on purpose: C0/C1 control codes, and the bidirectional overrides that
make text display in another order than it is stored (a name that reads differently than it sorts
and searches). They break xlsx (XML 1.0 cannot hold most of them), terminals and audit reading, so
every text a person enters is refused if it holds one, and exports strip any that are stored."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

# C0 controls except tab, line feed and carriage return, DEL, C1 controls, bidi embeddings,
# overrides and isolates, and the non-characters U+FFFE/U+FFFF.
_INVISIBLE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff"
IN_TEXT = re.compile(f"[{_INVISIBLE}]")
# A single-line value (a name, a code, a title) may not hold tabs or line breaks either.
IN_LINE = re.compile(f"[\t\n\r{_INVISIBLE}]")
# What XML 1.0 (and so an xlsx cell) cannot hold at all.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

LINE_MESSAGE = "不能包含换行、制表符或不可见的控制字符，请删除后重新输入"
TEXT_MESSAGE = "不能包含不可见的控制字符，请删除后重新输入"


def describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_line(value: Any) -> None:
    """Validator for single-line text."""
    if isinstance(value, str) and (found := IN_LINE.search(value)):
        raise ValidationError(f"{LINE_MESSAGE}（{describe(found.group())}）", code="control_character")


def check_text(value: Any) -> None:
    """Validator for multi-line text."""
    if isinstance(value, str) and (found := IN_TEXT.search(value)):
        raise ValidationError(f"{TEXT_MESSAGE}（{describe(found.group())}）", code="control_character")


def strip_for_xlsx(value: str) -> str:
    return NOT_IN_XML.sub("", value)
