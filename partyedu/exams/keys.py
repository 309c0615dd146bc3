"""Questions' keys and members' responses: how each type's key is written and checked, how a
response is read, and how it is marked. Pure functions (no database), shared by the services, the
import and the grading.

Keys by type: single "B"; multiple "AC" (letters in order, at least one); judge true/false; fill
a list of accepted answers; essay none. A response is given in the option order the member was
shown; ``option_order`` maps shown positions back to the version's own options.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from .choices import CHOICE_TYPES, QuestionType

LETTERS = "ABCDEF"
MAX_OPTIONS = len(LETTERS)
MIN_OPTIONS = 2
MAX_OPTION_LENGTH = 500
MAX_FILL_ANSWERS = 10
MAX_RESPONSE_LENGTH = 5000
NORMALIZED_STEM_LENGTH = 500
TRUE_TEXT = frozenset({"正确", "对", "是", "√", "✓", "t", "true", "y", "yes", "1"})
FALSE_TEXT = frozenset({"错误", "错", "否", "×", "✗", "f", "false", "n", "no", "0"})
JUDGE_OPTIONS = ("正确", "错误")


def normalize_text(text: str) -> str:
    """Text as compared for fill-in answers and duplicate stems: NFKC (full-width letters, digits
    and punctuation become half-width), lower case, and without whitespace or punctuation."""
    folded = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch)[0] not in "PS")


def normalize_stem(stem: str) -> str:
    return normalize_text(stem)[:NORMALIZED_STEM_LENGTH]


def letters_of(value: Any) -> list[str]:
    """Option letters from "AC", "A,C", ["A", "C"] (upper-cased, full-width folded)."""
    if isinstance(value, list | tuple):
        value = "".join(str(v) for v in value)
    if not isinstance(value, str):
        raise ValueError
    text = unicodedata.normalize("NFKC", value).upper()
    return [ch for ch in text if not ch.isspace() and ch not in ",，、;；"]


def judge_value(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in TRUE_TEXT:
        return True
    if text in FALSE_TEXT:
        return False
    raise ValueError


def clean_options(qtype: str, options: Any) -> list[str]:
    if qtype not in CHOICE_TYPES:
        return []
    if not isinstance(options, list | tuple):
        raise ValidationError({"options": ["选项应为列表"]})
    cleaned = [str(o).strip() for o in options]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if len(cleaned) < MIN_OPTIONS:
        raise ValidationError({"options": [f"选择题至少需要{MIN_OPTIONS}个选项"]})
    if len(cleaned) > MAX_OPTIONS:
        raise ValidationError({"options": [f"选项最多{MAX_OPTIONS}个（A–F）"]})
    if not all(cleaned):
        raise ValidationError({"options": ["选项不能为空（中间不能空缺）"]})
    if any(len(o) > MAX_OPTION_LENGTH for o in cleaned):
        raise ValidationError({"options": [f"每个选项不能超过{MAX_OPTION_LENGTH}个字符"]})
    if len({normalize_text(o) for o in cleaned}) != len(cleaned):
        raise ValidationError({"options": ["选项不能重复"]})
    return cleaned


def clean_key(qtype: str, options: list[str], answer: Any) -> Any:
    """The stored key of a question, or ``ValidationError({"answer": [...]})``."""
    if qtype == QuestionType.ESSAY:
        return None
    if answer is None or answer == "" or answer == []:
        raise ValidationError({"answer": ["请填写答案"]})
    if qtype in CHOICE_TYPES:
        try:
            letters = letters_of(answer)
        except ValueError:
            raise ValidationError({"answer": ["答案应为选项字母，如 B 或 AC"]}) from None
        if not letters:
            raise ValidationError({"answer": ["请填写答案"]})
        unknown = [ch for ch in letters if ch not in LETTERS]
        if unknown:
            raise ValidationError({"answer": [f"答案“{''.join(unknown)}”不是选项字母（A–F）"]})
        beyond = [ch for ch in letters if LETTERS.index(ch) >= len(options)]
        if beyond:
            raise ValidationError(
                {"answer": [f"答案“{''.join(beyond)}”超出选项范围（共{len(options)}个选项）"]}
            )
        unique = sorted(set(letters))
        if qtype == QuestionType.SINGLE and len(unique) != 1:
            raise ValidationError({"answer": ["单选题只能有一个答案"]})
        return "".join(unique)
    if qtype == QuestionType.JUDGE:
        try:
            return judge_value(answer)
        except ValueError:
            raise ValidationError({"answer": ["判断题答案应为“正确”或“错误”"]}) from None
    # Fill-in: one or more accepted answers.
    values = answer if isinstance(answer, list | tuple) else [answer]
    accepted = [str(v).strip() for v in values if str(v).strip()]
    if not accepted:
        raise ValidationError({"answer": ["请填写至少一个可接受的答案"]})
    if len(accepted) > MAX_FILL_ANSWERS:
        raise ValidationError({"answer": [f"可接受的答案最多{MAX_FILL_ANSWERS}个"]})
    if any(not normalize_text(a) for a in accepted):
        raise ValidationError({"answer": ["答案不能只有空格或标点"]})
    return list(dict.fromkeys(accepted))


def shown_options(options: list[str], order: list[int]) -> list[str]:
    return [options[i] for i in order] if order else list(options)


def clean_response(qtype: str, option_count: int, response: Any) -> Any:
    """A member's response as stored (letters in the shown order, a bool, or text); None clears.
    Raises ``ValidationError({"answer": [...]})``."""
    if response is None:
        return None
    if qtype in CHOICE_TYPES:
        try:
            letters = letters_of(response)
        except ValueError:
            raise ValidationError({"answer": ["请选择选项"]}) from None
        allowed = LETTERS[:option_count]
        if any(ch not in allowed for ch in letters):
            raise ValidationError({"answer": [f"选项应在 A–{allowed[-1]} 之间"]})
        unique = "".join(sorted(set(letters)))
        if qtype == QuestionType.SINGLE and len(unique) > 1:
            raise ValidationError({"answer": ["单选题只能选一个选项"]})
        return unique or None
    if qtype == QuestionType.JUDGE:
        try:
            return judge_value(response)
        except ValueError:
            raise ValidationError({"answer": ["判断题请作答“正确”或“错误”"]}) from None
    if not isinstance(response, str):
        raise ValidationError({"answer": ["请填写文字答案"]})
    if len(response) > MAX_RESPONSE_LENGTH:
        raise ValidationError({"answer": [f"答案不能超过{MAX_RESPONSE_LENGTH}个字符"]})
    return response


def original_letters(shown: str, order: list[int]) -> str:
    """Letters as shown → the version's own letters."""
    if not order:
        return shown
    return "".join(sorted(LETTERS[order[LETTERS.index(ch)]] for ch in shown))


def mark(
    qtype: str, key: Any, response: Any, order: list[int], score: Decimal
) -> tuple[bool, Decimal] | None:
    """(correct, points) of an objective response; None for types graded by people. Multiple
    choice is all or nothing; fill-in matches any accepted answer after normalisation."""
    if qtype == QuestionType.ESSAY:
        return None
    if response is None or response == "":
        correct = False
    elif qtype in CHOICE_TYPES:
        correct = original_letters(str(response), order) == key
    elif qtype == QuestionType.JUDGE:
        correct = response is key or response == key
    else:
        given = normalize_text(str(response))
        correct = bool(given) and given in {normalize_text(a) for a in key or []}
    return correct, (score if correct else Decimal(0))


def key_display(qtype: str, key: Any) -> str:
    """A key as the import template writes it."""
    if qtype == QuestionType.JUDGE:
        return "正确" if key else "错误"
    if qtype == QuestionType.FILL:
        return "|".join(key or [])
    return "" if key is None else str(key)
