"""The 18-character resident identity number (GB 11643-1999): structure, date and check character."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from .choices import Gender

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11 (ISO 7064 MOD 11-2)


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    birth_date: date
    gender: str


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(value: str, *, today: date | None = None) -> IdNumberInfo:
    """Validate and decode an ID number; raise ValidationError with a Chinese message."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError("身份证号应为18位，当前为%(n)d位", params={"n": len(number)}, code="length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("身份证号前17位应为数字，最后一位为数字或X", code="format")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            "身份证号中的出生日期 %(d)s 不是有效日期", params={"d": number[6:14]}, code="date"
        ) from None
    if birth.year < 1800 or birth > (today or timezone.localdate()):
        raise ValidationError("身份证号中的出生日期 %(d)s 不合理", params={"d": number[6:14]}, code="date")
    if check_char(number[:17]) != number[17]:
        raise ValidationError("身份证号校验位错误，请核对", code="checksum")
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return IdNumberInfo(number, birth, gender)


def validate_id_number(value: str) -> None:
    """Form/model field validator."""
    parse_id_number(value)
