"""Reads of the member's side of exams: the exams and practice sets given to me, my attempts, an
attempt's questions as I may see them, and my wrong-answer book (错题本).

The one rule every function here keeps: a key, an explanation or a reference answer leaves the
server only for a submitted attempt whose exam allows it (``targets.answers_visible``), or, in a
practice set, for a question the member has already answered and had checked. Everything starts
from the signed-in user's own member record (``selectors.taker_member``); another member's attempt
does not exist (404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.members.models import Member

from .. import keys
from ..choices import CHOICE_TYPES, MANUAL_TYPES, AttemptStatus, ExamKind, QuestionType, TargetKind
from ..drawing import ancestor_paths
from ..models import Answer, Attempt, AttemptQuestion, Exam, ExamTarget
from ..targets import EXAMINABLE_STATUSES, answers_visible
from . import taker_member

# A blank of a fill-in stem: a run of two or more underscores (half- or full-width).
BLANK = re.compile(r"[_＿]{2,}")
# Joins the blanks of a several-blank fill-in answer into the one text the key is checked against.
# Marking normalises text without punctuation or symbols, so "甲｜乙" matches an accepted "甲乙",
# "甲 乙" or "甲、乙" alike; the separator lets the page put each part back in its own blank.
BLANK_JOIN = "｜"
# Upcoming exams are listed this far ahead.
UPCOMING_DAYS = 30
# Past attempts shown on the member's page.
MY_ATTEMPTS_SHOWN = 50


def _blank_count(stem: str) -> int:
    """How many inputs a fill-in question gets: one per blank when the stem has several."""
    return max(1, len(BLANK.findall(stem)))


def _fill_parts(response: Any, blanks: int) -> list[str]:
    """A saved fill-in answer split back into its blanks (padded; extra parts stay in the last)."""
    text = "" if response is None else str(response)
    if blanks <= 1:
        return [text]
    parts = text.split(BLANK_JOIN)
    if len(parts) > blanks:
        parts = [*parts[: blanks - 1], BLANK_JOIN.join(parts[blanks - 1 :])]
    return parts + [""] * (blanks - len(parts))


def _shown_letters(original: str, order: list[int]) -> str:
    """A key in the version's own letters → the letters this attempt showed."""
    if not order:
        return original
    return "".join(sorted(keys.LETTERS[order.index(keys.LETTERS.index(ch))] for ch in original))


# --- the exams given to a member -----------------------------------------------------------------------


def _exams_for_member(member: Member) -> QuerySet[Exam]:
    """Every exam and practice set the member is among the targets of: the same rule as
    ``targets.exam_target_members`` turned around (subtree or class for a member who is not exempt,
    and every exam the member is named for), in one query instead of one per exam."""
    named = Q(pk__in=ExamTarget.objects.filter(member=member).values("exam_id"))
    if not member.is_active or member.status not in EXAMINABLE_STATUSES:
        return Exam.objects.none()
    if member.is_exempt:
        return Exam.objects.filter(named)
    subtree = Q(target_kind=TargetKind.SUBTREE, organization__path__in=ancestor_paths(member.org_path))
    in_class = Q(
        target_kind=TargetKind.TRAINING_CLASS,
        training_class__enrollments__member=member,
    )
    return Exam.objects.filter(subtree | in_class | named).distinct()


@dataclass
class MyExam:
    exam: Exam
    attempts: list[Attempt] = field(default_factory=list)
    now: datetime = field(default_factory=timezone.now)

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def open_attempt(self) -> Attempt | None:
        for attempt in self.attempts:
            if attempt.status == AttemptStatus.IN_PROGRESS:
                grace = timedelta(seconds=self.exam.grace_seconds)
                return attempt if self.now <= attempt.deadline + grace else None
        return None

    @property
    def is_open(self) -> bool:
        return self.exam.opens_at <= self.now < self.exam.closes_at

    @property
    def is_upcoming(self) -> bool:
        return self.now < self.exam.opens_at

    @property
    def exhausted(self) -> bool:
        allowed = self.exam.attempts_allowed
        return bool(allowed) and self.used >= allowed and self.open_attempt is None

    @property
    def can_start(self) -> bool:
        return self.open_attempt is not None or (self.is_open and not self.exhausted)

    @property
    def best(self) -> Attempt | None:
        graded = [a for a in self.attempts if a.submitted_at and a.score is not None]
        return max(graded, key=lambda a: a.score or Decimal(0)) if graded else None


@dataclass
class MyPage:
    member: Member
    exams: list[MyExam]
    practice: list[MyExam]
    upcoming: list[MyExam]
    attempts: list[Attempt]
    wrong_count: int


def my_exams(*, user: Viewer, now: datetime | None = None) -> MyPage | None:
    """The member's page (考试练习): open and upcoming exams with the attempts used, practice sets,
    and past attempts newest first. None when the user has no member record to take exams with.
    A fixed number of queries whatever the number of exams and attempts."""
    member = taker_member(user)
    if member is None:
        return None
    now = now or timezone.now()
    exams = list(
        _exams_for_member(member)
        .filter(closes_at__gt=now - timedelta(days=1), opens_at__lte=now + timedelta(days=UPCOMING_DAYS))
        .select_related("organization")
        .order_by("closes_at", "pk")
    )
    attempts = list(Attempt.objects.filter(member=member, exam__in=[e.pk for e in exams]).order_by("number"))
    by_exam: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_exam.setdefault(attempt.exam_id, []).append(attempt)
    rows = [MyExam(exam=e, attempts=by_exam.get(e.pk, []), now=now) for e in exams]
    current = [r for r in rows if r.is_open or r.open_attempt is not None]
    past = list(
        Attempt.objects.filter(
            member=member, submitted_at__isnull=False, exam__kind__in=[ExamKind.EXAM, ExamKind.CONTEST]
        )
        .select_related("exam")
        .order_by("-submitted_at", "-pk")[:MY_ATTEMPTS_SHOWN]
    )
    for attempt in past:
        attempt.answers_shown = answers_visible(attempt, now=now)  # type: ignore[attr-defined]
    return MyPage(
        member=member,
        exams=[r for r in current if r.exam.kind != ExamKind.PRACTICE],  # exams and contest rounds
        practice=[r for r in current if r.exam.kind == ExamKind.PRACTICE],
        upcoming=[r for r in rows if r.is_upcoming],
        attempts=past,
        wrong_count=len(_wrong_question_ids(member)),
    )


# --- one attempt, as its member sees it ----------------------------------------------------------------


def attempt_question_types(*, user: Viewer, attempt: Attempt) -> dict[int, str]:
    """Question id → type of the questions of one of the user's own attempts (``attempt`` comes
    from ``attempt_own_ref``)."""
    member = taker_member(user)
    if member is None or attempt.member_id != member.pk:
        raise Http404
    return dict(
        AttemptQuestion.objects.filter(attempt=attempt)
        .order_by("position")
        .values_list("version__question_id", "version__question__qtype")
    )


def own_attempt(*, user: Viewer, pk: Any) -> Attempt:
    """The user's own attempt with its questions, versions and answers (404 for anyone else's)."""
    member = taker_member(user)
    attempt = (
        None
        if member is None
        else Attempt.objects.filter(member=member, pk=pk)
        .select_related("exam__organization", "exam__paper", "member")
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=AttemptQuestion.objects.select_related("version__question", "answer").order_by(
                    "position"
                ),
            )
        )
        .first()
    )
    if attempt is None:
        raise Http404("答卷不存在")
    return attempt


@dataclass
class ShownQuestion:
    """One question of an attempt as the page shows it. ``key``, ``explanation`` and
    ``reference_answer`` stay empty unless ``revealed``."""

    id: int
    position: int
    qtype: str
    qtype_label: str
    stem: str
    options: list[tuple[str, str]]
    score: Decimal
    blanks: int
    response: Any
    parts: list[str]
    saved_at: datetime | None
    checked: bool = False
    correct: bool | None = None
    points: Decimal | None = None
    revealed: bool = False
    key: Any = None
    key_text: str = ""
    explanation: str = ""
    reference_answer: str = ""

    @property
    def answered(self) -> bool:
        if self.response is None:
            return False
        if isinstance(self.response, str):
            return bool(self.response.replace(BLANK_JOIN, "").strip())
        return True

    @property
    def chosen(self) -> str:
        return self.response if isinstance(self.response, str) and self.qtype in CHOICE_TYPES else ""

    @property
    def judged(self) -> str:
        if self.qtype != QuestionType.JUDGE or not isinstance(self.response, bool):
            return ""
        return "true" if self.response else "false"

    @property
    def response_text(self) -> str:
        """My answer in words, for the result page and the wrong-answer book."""
        if not self.answered:
            return ""
        if self.qtype == QuestionType.JUDGE:
            return "正确" if self.response else "错误"
        if self.qtype == QuestionType.FILL:
            return "；".join(p for p in self.parts if p.strip()) if self.blanks > 1 else str(self.response)
        return str(self.response)

    @property
    def pending(self) -> bool:
        """A written short answer waiting for a grader (待阅卷)."""
        return self.qtype in MANUAL_TYPES and self.answered and self.points is None

    def feedback(self) -> dict[str, Any]:
        """The marking of a checked practice question, as the practice endpoint returns it."""
        return {
            "question": self.id,
            "correct": self.correct,
            "key": self.key,
            "key_text": self.key_text,
            "explanation": self.explanation,
            "reference_answer": self.reference_answer,
        }


def _key_text(qtype: str, key: Any) -> str:
    if qtype == QuestionType.JUDGE:
        return "正确" if key else "错误"
    if qtype == QuestionType.FILL:
        return " 或 ".join(key or [])
    return "" if key is None else str(key)


def _shown_question(item: AttemptQuestion, *, reveal: bool) -> ShownQuestion:
    version = item.version
    qtype = version.question.qtype
    answer: Answer | None = getattr(item, "answer", None)
    if qtype == QuestionType.JUDGE:
        options = [("true", keys.JUDGE_OPTIONS[0]), ("false", keys.JUDGE_OPTIONS[1])]
    else:
        shown = keys.shown_options(list(version.options or []), item.option_order)
        options = [(keys.LETTERS[i], text) for i, text in enumerate(shown)]
    blanks = _blank_count(version.stem) if qtype == QuestionType.FILL else 1
    response = answer.response if answer else None
    row = ShownQuestion(
        id=version.question_id,
        position=item.position,
        qtype=qtype,
        qtype_label=str(QuestionType(qtype).label),
        stem=version.stem,
        options=options,
        score=item.score,
        blanks=blanks,
        response=response,
        parts=_fill_parts(response, blanks) if qtype == QuestionType.FILL else [],
        saved_at=answer.saved_at if answer else None,
        checked=answer is not None and answer.points is not None,
        correct=answer.is_correct if answer else None,
        points=answer.points if answer else None,
    )
    if reveal:
        row.revealed = True
        if qtype in MANUAL_TYPES:
            row.reference_answer = version.reference_answer
        elif qtype in CHOICE_TYPES and isinstance(version.answer, str):
            row.key = _shown_letters(version.answer, item.option_order)
            row.key_text = row.key
        else:
            row.key = version.answer
            row.key_text = _key_text(qtype, version.answer)
        row.explanation = version.explanation
    return row


def _take_questions(attempt: Attempt) -> list[ShownQuestion]:
    """The questions of an open attempt: never a key, except in a practice set for a question
    already checked (the member has seen its marking)."""
    practice = attempt.exam.kind == ExamKind.PRACTICE
    rows = []
    for item in attempt.questions.all():
        answer = getattr(item, "answer", None)
        checked = practice and answer is not None and answer.points is not None
        rows.append(_shown_question(item, reveal=checked))
    return rows


def _result_reveals(attempt: Attempt, now: datetime) -> bool:
    """Whether the result shows keys and explanations: as the exam allows, and always for a
    practice set (its point is the explanation)."""
    if attempt.submitted_at is None:
        return False
    return attempt.exam.kind == ExamKind.PRACTICE or answers_visible(attempt, now=now)


@dataclass
class TakePage:
    attempt: Attempt
    questions: list[ShownQuestion]
    practice: bool
    # Seconds to the attempt's deadline by the server's clock (0 when past): the page's countdown.
    remaining: int
    now: datetime

    @property
    def answered(self) -> int:
        return sum(1 for q in self.questions if q.answered)


def attempt_take_page(*, user: Viewer, pk: Any, now: datetime | None = None) -> TakePage:
    """The user's own attempt as the take page shows it (404 for anyone else's)."""
    attempt = own_attempt(user=user, pk=pk)
    now = now or timezone.now()
    return TakePage(
        attempt=attempt,
        questions=_take_questions(attempt) if attempt.status == AttemptStatus.IN_PROGRESS else [],
        practice=attempt.exam.kind == ExamKind.PRACTICE,
        remaining=max(0, int((attempt.deadline - now).total_seconds())),
        now=now,
    )


@dataclass
class ResultPage:
    attempt: Attempt
    questions: list[ShownQuestion]
    practice: bool
    reveal: bool

    @property
    def pending(self) -> int:
        return sum(1 for q in self.questions if q.pending)


def attempt_result_page(*, user: Viewer, pk: Any, now: datetime | None = None) -> ResultPage:
    """The user's own submitted attempt with every question; keys and explanations only as
    ``_result_reveals`` allows (404 for anyone else's)."""
    attempt = own_attempt(user=user, pk=pk)
    reveal = _result_reveals(attempt, now or timezone.now())
    return ResultPage(
        attempt=attempt,
        questions=[_shown_question(item, reveal=reveal) for item in attempt.questions.all()]
        if attempt.submitted_at is not None
        else [],
        practice=attempt.exam.kind == ExamKind.PRACTICE,
        reveal=reveal,
    )


def practice_feedback(*, user: Viewer, pk: Any, question: Any) -> ShownQuestion:
    """One question of the user's own practice round with its marking, once it has been checked;
    nothing of the key before that, and never for an exam (404)."""
    member = taker_member(user)
    item = (
        None
        if member is None or not isinstance(question, int)
        else AttemptQuestion.objects.filter(
            attempt_id=pk,
            attempt__member=member,
            attempt__exam__kind=ExamKind.PRACTICE,
            version__question_id=question,
        )
        .select_related("version__question", "answer")
        .first()
    )  # the one question, not the whole paper: this runs after every answer of a practice round
    answer = getattr(item, "answer", None) if item is not None else None
    if item is None or answer is None or answer.points is None:
        raise Http404("没有可显示的判题结果")
    return _shown_question(item, reveal=True)


# --- the wrong-answer book ----------------------------------------------------------------------------


def _practice_answers(member: Member) -> QuerySet[Answer]:
    """The member's marked answers in practice sets (objective questions actually answered)."""
    return Answer.objects.filter(
        attempt_question__attempt__member=member,
        attempt_question__attempt__exam__kind=ExamKind.PRACTICE,
        is_correct__isnull=False,
        response__isnull=False,
    ).exclude(attempt_question__version__question__qtype__in=list(MANUAL_TYPES))


def wrong_question_ids(*, user: Viewer, exam: Exam | None = None) -> dict[int, int]:
    """The user's wrong-answer book as ids: questions whose latest marked practice answer is wrong
    (got wrong and not answered correctly since) → that answer's id."""
    member = taker_member(user)
    return {} if member is None else _wrong_question_ids(member, exam=exam)


def _wrong_question_ids(member: Member, *, exam: Exam | None = None) -> dict[int, int]:
    answers = _practice_answers(member)
    if exam is not None:
        answers = answers.filter(attempt_question__attempt__exam=exam)
    latest: dict[int, tuple[bool, int]] = {}
    for question_id, correct, pk in answers.order_by("saved_at", "pk").values_list(
        "attempt_question__version__question_id", "is_correct", "pk"
    ):
        latest[question_id] = (bool(correct), pk)
    return {q: pk for q, (correct, pk) in latest.items() if not correct}


@dataclass
class WrongGroup:
    exam: Exam
    questions: list[ShownQuestion]
    can_retry: bool


def wrong_answers(*, user: Viewer, now: datetime | None = None) -> list[WrongGroup] | None:
    """The member's wrong-answer book, by practice set: each question with my last answer, the
    key and the explanation as that attempt showed them. None without a member record."""
    member = taker_member(user)
    if member is None:
        return None
    now = now or timezone.now()
    ids = _wrong_question_ids(member)
    answers = (
        Answer.objects.filter(pk__in=list(ids.values()))
        .select_related(
            "attempt_question__version__question", "attempt_question__attempt__exam__organization"
        )
        .order_by("attempt_question__attempt__exam_id", "attempt_question__version__question_id")
    )
    groups: dict[int, WrongGroup] = {}
    for answer in answers:
        item = answer.attempt_question
        exam = item.attempt.exam
        group = groups.get(exam.pk)
        if group is None:
            group = groups[exam.pk] = WrongGroup(
                exam=exam, questions=[], can_retry=exam.opens_at <= now < exam.closes_at
            )
        item.answer = answer
        row = _shown_question(item, reveal=True)
        row.position = 0  # its place in an old round means nothing here
        group.questions.append(row)
    return list(groups.values())
