"""Factories of exams for tests, made through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from partyedu.exams.models import Exam, Question, QuestionBank
from partyedu.exams.services import bank_create, exam_create, question_create
from partyedu.testsupport.factories import make_member, make_user

QUESTIONS: list[dict[str, Any]] = [
    {
        "qtype": "single",
        "stem": "党的最高理想是什么？",
        "options": ["小康", "共产主义", "富强"],
        "answer": "B",
    },
    {
        "qtype": "multiple",
        "stem": "三会一课包括哪些？",
        "options": ["支部党员大会", "支委会", "党小组会", "联欢会"],
        "answer": "ABC",
    },
    {"qtype": "judge", "stem": "预备期为一年。", "answer": True},
    {"qtype": "fill", "stem": "党的根本宗旨是全心全意为____服务。", "answer": ["人民", "人民群众"]},
]


def make_bank(org: Any, title: str = "理论题库") -> QuestionBank:
    return bank_create(actor=None, organization=org, title=title)


def make_question(bank: QuestionBank, **data: Any) -> Question:
    data.setdefault("qtype", "single")
    data.setdefault("stem", f"题目{QuestionBank.objects.count()}-{bank.questions.count()}")
    if data["qtype"] in ("single", "multiple"):
        data.setdefault("options", ["甲", "乙", "丙", "丁"])
        data.setdefault("answer", "A")
    data.setdefault("answer", None)
    return question_create(actor=None, bank=bank, data=data)


def make_exam(
    org: Any, questions: list[Question] | None = None, scores: list[int] | None = None, **data: Any
) -> Exam:
    """An open exam of ``org`` over a fixed paper (the four sample questions by default, 25 points each)."""
    if questions is None:
        bank = make_bank(org, f"题库{org.pk}-{Exam.objects.count()}")
        questions = [make_question(bank, **q) for q in QUESTIONS]
    now = timezone.now()
    data.setdefault("title", "党章知识测试")
    data.setdefault("opens_at", now - timedelta(hours=1))
    data.setdefault("closes_at", now + timedelta(days=1))
    data.setdefault("time_limit_minutes", 30)
    data.setdefault("show_answers", "immediately")
    scores = scores or [25] * len(questions)
    data.setdefault(
        "questions", [{"question": q.pk, "score": s} for q, s in zip(questions, scores, strict=True)]
    )
    return exam_create(actor=None, organization=org, data=data)


def taker(org: Any, name: str = "答题人", **member: Any) -> Any:
    """A member account (党员 role) linked to a member record at ``org``."""
    user = make_user(role="member", org=org)
    record = make_member(org, name, **member)
    record.user = user
    record.save(update_fields=["user"])
    return user
