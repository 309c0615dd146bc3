"""What exam results are worth outside the exams app: the learning hours a passed exam credits
(when its organiser set it to) and whether a member passed the exams a training class requires for
completion (结业考试). Reads without a viewer: the learning ledger and the completion of classes
call them through hooks (``learning.hour_sources``, ``study.class_completion_exams``) for any
member.

The hours source is one per member and exam, keyed by the member's first attempt (``number`` 1,
never deleted, never renumbered): whatever attempt counts under the exam's grading rule — a retake,
a regrade that moves the best score — its credit stays one line in the ledger, corrected by
appended rows (the member's counted attempt that passed credits once; one that no longer passes is
reversed). The year is that of the counted attempt's submission.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import FilteredRelation, Max, Q
from django.utils import timezone

from partyedu.learning.choices import SourceType
from partyedu.learning.models import LearningHourEntry
from partyedu.learning.services.ledger import Desired, DesiredFn, MaxIdFn

from .choices import ExamKind, Grading, TargetKind
from .models import Attempt, Exam

HOURS_SOURCE = SourceType.EXAM.value


@dataclass(frozen=True, slots=True)
class Result:
    """One submitted attempt, as the counted-attempt rule needs it."""

    pk: int
    number: int
    score: Decimal
    passed: bool | None
    submitted_at: datetime


def counted_of(results: Iterable[Result], *, grading: str, attempts_allowed: int) -> Result | None:
    """The attempt that counts among one member's submitted attempts at one exam: the same rule
    as ``targets.counted_attempts`` (which says it in SQL): with one attempt allowed, that one;
    otherwise the best (the earlier on a tie), the last or the first."""
    rows = list(results)
    if not rows:
        return None
    if attempts_allowed == 1 or grading == Grading.FIRST:
        return min(rows, key=lambda r: r.number)
    if grading == Grading.LAST:
        return max(rows, key=lambda r: r.number)
    return min(rows, key=lambda r: (-r.score, r.number))


def _pk_q(field: str, ids: Sequence[int]) -> Q:
    if isinstance(ids, range) and ids.step == 1:
        return Q(**{f"{field}__gte": ids.start, f"{field}__lt": ids.stop})
    return Q(**{f"{field}__in": list(ids)})


def _score_text(score: Decimal) -> str:
    text = f"{score:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def attempts_max_id() -> int:
    return Attempt.objects.aggregate(m=Max("pk"))["m"] or 0


ANCHOR_FIELDS = (
    "pk",
    "exam_id",
    "member_id",
    "started_at",
    "exam__title",
    "exam__kind",
    "exam__counts_as_hours",
    "exam__credit_hours",
    "exam__credit_kind",
    "exam__grading",
    "exam__attempts_allowed",
)


def desired_for_exams(ids: Sequence[int]) -> dict[int, Desired]:
    """What each source (a member's first attempt at an exam) credits now: the exam's hours, of
    its kind, in the year of the counted attempt's submission, when the exam is an exam (never a
    practice set or a contest round) set to credit hours and the counted attempt passed; else
    nothing. Only first attempts of crediting exams, and those the ledger already names, are
    read (a rebuild over every attempt skips the rest). Two queries: the first attempts with
    their exams, then every submitted attempt of those members at those exams."""
    in_ledger = LearningHourEntry.objects.filter(_pk_q("source_id", ids), source_type=HOURS_SOURCE).values(
        "source_id"
    )
    anchors = list(
        Attempt.objects.filter(_pk_q("pk", ids), number=1)
        .filter(Q(exam__kind=ExamKind.EXAM, exam__counts_as_hours=True) | Q(pk__in=in_ledger))
        .order_by()
        .values_list(*ANCHOR_FIELDS)
    )
    if not anchors:
        return {}
    pairs = {(a[1], a[2]) for a in anchors}
    results: dict[tuple[int, int], list[Result]] = defaultdict(list)
    for exam_id, member_id, pk, number, score, passed, submitted_at in (
        Attempt.objects.filter(
            exam_id__in=sorted({p[0] for p in pairs}),
            member_id__in=sorted({p[1] for p in pairs}),
            submitted_at__isnull=False,
            score__isnull=False,
        )
        .order_by()
        .values_list("exam_id", "member_id", "pk", "number", "score", "passed", "submitted_at")
    ):
        if (exam_id, member_id) in pairs and score is not None and submitted_at is not None:
            results[(exam_id, member_id)].append(Result(pk, number, score, passed, submitted_at))
    desired: dict[int, Desired] = {}
    for (
        pk,
        exam_id,
        member_id,
        started_at,
        title,
        kind,
        counts,
        hours,
        hour_kind,
        grading,
        allowed,
    ) in anchors:
        counted = counted_of(results[(exam_id, member_id)], grading=grading, attempts_allowed=allowed)
        credits = kind == ExamKind.EXAM and counts and hours > 0
        day = timezone.localtime(counted.submitted_at if counted else started_at)
        label = f"{day:%Y-%m-%d} 考试：{title[:150]}"
        credit: dict[tuple[str, int], Decimal] = {}
        if counted is None:
            note = "未交卷"
        elif counted.passed is None:
            note = f"成绩{_score_text(counted.score)}分，待阅卷"
        elif not counted.passed:
            note = f"成绩{_score_text(counted.score)}分，未及格"
        else:
            note = f"成绩{_score_text(counted.score)}分，及格"
            if credits:
                credit = {(hour_kind, timezone.localtime(counted.submitted_at).year): hours}
        if not credits:
            note = "考试改为不计学时"
        desired[pk] = Desired(member_id, credit, label, note)
    return desired


def hour_sources() -> dict[str, tuple[MaxIdFn, DesiredFn]]:
    """The ``learning.hour_sources`` registration: exams as a source of the hour ledger."""
    return {HOURS_SOURCE: (attempts_max_id, desired_for_exams)}


def class_completion_exams(
    *, class_ids: Iterable[int], member_ids: Iterable[int]
) -> tuple[set[int], set[tuple[int, int]]]:
    """The classes among ``class_ids`` that have an exam required for completion, and the (class,
    member) pairs among ``member_ids`` whose counted attempt passed every such exam of the class.
    One query: the required exams, each joined to the given members' submitted attempts."""
    classes = sorted(set(class_ids))
    members = sorted(set(member_ids))
    if not classes or not members:
        return set(), set()
    rows = (
        Exam.objects.filter(
            training_class_id__in=classes,
            completion_required=True,
            kind=ExamKind.EXAM,
            target_kind=TargetKind.TRAINING_CLASS,
        )
        .annotate(
            taken=FilteredRelation(
                "attempts",
                condition=Q(
                    attempts__member_id__in=members,
                    attempts__submitted_at__isnull=False,
                    attempts__score__isnull=False,
                ),
            )
        )
        .order_by()
        .values_list(
            "pk",
            "training_class_id",
            "grading",
            "attempts_allowed",
            "taken__member_id",
            "taken__pk",
            "taken__number",
            "taken__score",
            "taken__passed",
            "taken__submitted_at",
        )
    )
    required: set[int] = set()
    exams_of: dict[int, set[int]] = defaultdict(set)
    rules: dict[int, tuple[str, int]] = {}
    results: dict[tuple[int, int], list[Result]] = defaultdict(list)
    for exam_id, class_id, grading, allowed, member_id, pk, number, score, passed, submitted_at in rows:
        required.add(class_id)
        exams_of[class_id].add(exam_id)
        rules[exam_id] = (grading, allowed)
        if member_id is not None:
            results[(exam_id, member_id)].append(Result(pk, number, score, passed, submitted_at))
    passed_exams: dict[tuple[int, int], set[int]] = defaultdict(set)  # (class, member) -> exams passed
    class_of = {exam_id: class_id for class_id, exam_ids in exams_of.items() for exam_id in exam_ids}
    for (exam_id, member_id), taken in results.items():
        grading, allowed = rules[exam_id]
        counted = counted_of(taken, grading=grading, attempts_allowed=allowed)
        if counted is not None and counted.passed:
            passed_exams[(class_of[exam_id], member_id)].add(exam_id)
    passed = {pair for pair, exam_ids in passed_exams.items() if exam_ids == exams_of[pair[0]]}
    return required, passed
