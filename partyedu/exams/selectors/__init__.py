"""Reads of exams. Every public function takes the viewer and starts from
``restrict(user, action)``: organisers see what lies in their subtrees, a member their own
attempts. Banks are shared down the tree, so a bank of an organisation above the viewer's subtree
is readable (never writable) too."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from partyedu.accounts.types import User, Viewer
from partyedu.core.scope import scope_for
from partyedu.members.models import Member

from ..choices import ExamKind
from ..drawing import Draw, banks_usable_at, draw
from ..models import Attempt, AttemptQuestion, Exam, Paper, Question, QuestionBank
from ..targets import member_is_target

APP = "exams"
# An item whose discrimination is below this (or negative) is probably wrong (a bad key or an
# ambiguous stem): the results flag it.
DISCRIMINATION_FLAG = 0.1
# An item that nobody answered right among at least this many has no discrimination (its marks do
# not vary), and is most often a wrong key that everyone knew the true answer to: flagged too.
NOBODY_RIGHT_FLAG_MIN = 10


# --- banks and questions ---------------------------------------------------------------------------


def bank_list(*, user: Viewer, action: str = "view") -> QuerySet[QuestionBank]:
    """Banks the user may ``action``; for "view" also the banks shared from above."""
    own = QuestionBank.objects.restrict(user, action)
    if action != "view":
        return own.select_related("organization")
    shared = banks_usable_at(scope_for(user, "view", APP).paths)
    return (
        QuestionBank.objects.filter(Q(pk__in=own.values("pk")) | Q(pk__in=shared.values("pk")))
        .select_related("organization")
        .annotate(question_count=Count("questions"))
    )


def bank_get(*, user: Viewer, pk: Any, action: str = "view") -> QuestionBank:
    bank = bank_list(user=user, action=action).filter(pk=pk).first()
    if bank is None:
        raise Http404("题库不存在")
    return bank


def question_list(
    *, user: Viewer, action: str = "view", filters: dict[str, Any] | None = None
) -> QuerySet[Question]:
    """Questions of the banks the user may ``action``, filtered by bank, type, tag (by name),
    difficulty and text."""
    banks = bank_list(user=user, action=action)
    questions = Question.objects.filter(bank__in=banks.values("pk")).select_related("current_version", "bank")
    return _filter_questions(questions, filters or {}).prefetch_related("tags").order_by("bank_id", "id")


def _filter_questions(questions: QuerySet[Question], filters: dict[str, Any]) -> QuerySet[Question]:
    """The question filters of the bank page and the paper's question search: bank, type, tag,
    difficulty and text in the stem."""
    if filters.get("bank"):
        questions = questions.filter(bank_id=filters["bank"])
    if filters.get("qtype"):
        questions = questions.filter(qtype=filters["qtype"])
    if filters.get("tag"):
        questions = questions.filter(tags__name=filters["tag"])
    if filters.get("difficulty"):
        questions = questions.filter(difficulty=filters["difficulty"])
    if filters.get("q"):
        questions = questions.filter(current_version__stem__contains=filters["q"])
    return questions


def question_get(*, user: Viewer, pk: Any, action: str = "view") -> Question:
    question = question_list(user=user, action=action).filter(pk=pk).first()
    if question is None:
        raise Http404("试题不存在")
    return question


# --- papers --------------------------------------------------------------------------------------------


def paper_preview(*, user: Viewer, paper: Paper, seed: int) -> Draw:
    """A sample draw of ``paper`` with a warning for each rule that cannot be filled."""
    if not Paper.objects.restrict(user, "view").filter(pk=paper.pk).exists():
        raise Http404("试卷不存在")
    return draw(paper, seed)


# --- exams and targets ---------------------------------------------------------------------------------


def exam_list(*, user: Viewer, action: str = "view") -> QuerySet[Exam]:
    return Exam.objects.restrict(user, action).select_related("organization", "paper")


def exam_get(*, user: Viewer, pk: Any, action: str = "view") -> Exam:
    exam = exam_list(user=user, action=action).filter(pk=pk).first()
    if exam is None:
        raise Http404("考试不存在")
    return exam


def taker_member(user: Viewer) -> Member | None:
    """The member record of the signed-in user who takes exams, if any."""
    if not isinstance(user, User) or scope_for(user, "take", APP).empty:
        return None
    return Member.objects.filter(user=user, is_active=True).select_related("organization").first()


def exam_for_taker(*, user: Viewer, pk: Any) -> Exam:
    """The exam ``pk`` if the user's member record is among its targets, else 404 (an exam a
    member is not given does not exist for them)."""
    member = taker_member(user)
    exam = Exam.objects.select_related("organization", "paper").filter(pk=pk).first()
    if member is None or exam is None or not member_is_target(exam, member):
        raise Http404("考试不存在")
    return exam


# --- attempts ----------------------------------------------------------------------------------------


def attempt_list(*, user: Viewer, exam: Exam | None = None) -> QuerySet[Attempt]:
    """Attempts the user may see: their own, and those of members in their subtrees."""
    attempts = (
        Attempt.objects.restrict(user, "view")
        # Practice is the member's own: organisers learn only that it happened (exam_results).
        .filter(Q(member__user_id=getattr(user, "pk", None)) | ~Q(exam__kind=ExamKind.PRACTICE))
        .select_related("exam", "member")
    )
    if exam is not None:
        attempts = attempts.filter(exam=exam)
    return attempts


def _with_questions(attempts: QuerySet[Attempt]) -> QuerySet[Attempt]:
    return attempts.select_related("exam", "member").prefetch_related(
        Prefetch(
            "questions",
            queryset=AttemptQuestion.objects.select_related("version__question", "answer").order_by(
                "position"
            ),
        )
    )


def attempt_get(*, user: Viewer, pk: Any) -> Attempt:
    attempt = _with_questions(attempt_list(user=user)).filter(pk=pk).first()
    if attempt is None:
        raise Http404("答卷不存在")
    return attempt


def attempt_get_own(*, user: Viewer, pk: Any) -> Attempt:
    """An attempt of the user's own member record (only its member answers and submits it)."""
    member = taker_member(user)
    attempt = (
        None
        if member is None
        else _with_questions(Attempt.objects.filter(member=member)).filter(pk=pk).first()
    )
    if attempt is None:
        raise Http404("答卷不存在")
    return attempt


def attempt_own_ref(*, user: Viewer, pk: Any) -> Attempt:
    """The user's own attempt ``pk`` as a bare reference (one query, nothing prefetched), for the
    writes that lock and read it themselves: saving an answer, submitting."""
    attempt = (
        None
        if not isinstance(user, User)
        else Attempt.objects.filter(pk=pk, member__user=user, member__is_active=True)
        .only("pk", "member_id", "exam_id")
        .first()
    )
    if attempt is None:
        raise Http404("答卷不存在")
    return attempt


# --- results -------------------------------------------------------------------------------------------


def exam_results(*, user: Viewer, exam: Exam) -> dict[str, Any]:
    """Participation and scores over the members of the exam's targets that lie in the viewer's
    subtrees, by organisation, and per question its difficulty (proportion of the points scored)
    and discrimination (point-biserial correlation of its marks with the total, the plain form
    Moodle reports). Computed in SQL by ``results.exam_results`` (the API and the page agree)."""
    from .results import exam_results as computed

    return computed(user=user, exam=exam)
