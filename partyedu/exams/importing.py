"""The published question template (题型, 题干, 选项A–F, 答案, 解析, 难度, 标签): the columns the
import reads and the export writes."""

from __future__ import annotations

import re

from partyedu.core.importing import CHOICE, INT, Column

from .choices import QuestionType

OPTION_FIELDS = tuple(f"option_{letter.lower()}" for letter in "ABCDEF")
# Accepted answers of a fill-in question are separated by a vertical bar (or a semicolon).
FILL_SEPARATORS = re.compile(r"[|｜;；]")
TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")

QUESTION_COLUMNS: list[Column] = [
    Column(
        "题型",
        "qtype",
        kind=CHOICE,
        required=True,
        choices=QuestionType,
        choice_aliases={
            "单选": "single",
            "多选": "multiple",
            "判断": "judge",
            "填空": "fill",
            "简答": "essay",
        },
        width=10,
        example="单选题",
    ),
    Column("题干", "stem", required=True, width=50, example="中国共产党的最高理想和最终目标是什么？"),
    *(
        Column(
            f"选项{letter}", field, width=20, max_length=500, help="选择题填写；判断题、填空题、简答题留空"
        )
        for letter, field in zip("ABCDEF", OPTION_FIELDS, strict=True)
    ),
    Column(
        "答案",
        "answer",
        required_header=True,
        width=16,
        help="单选如 B；多选如 AC；判断填“正确”或“错误”；填空可写多个可接受答案，用 | 分隔；简答题填参考答案",
        example="C",
    ),
    Column("解析", "explanation", width=40),
    Column("难度", "difficulty", kind=INT, width=8, help="1（最易）至5（最难），留空为3", example=3),
    Column("标签", "tags", width=20, help="多个标签用顿号分隔，如：党史、党章", example="党章"),
]

HEADERS: dict[str, str] = {c.field: c.header for c in QUESTION_COLUMNS} | {
    "options": "选项A",
    "reference_answer": "答案",
}
