"""The exams part of a member's record for a year: every exam and contest round the member took
that year, with the attempt that counts under the exam's grading rule. It is evidence for the
annual appraisal, never learning hours (an exam credits hours only when its organiser turned
``counts_as_hours`` on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from partyedu.accounts.types import Viewer
from partyedu.core.scope import can
from partyedu.members.models import Member

from ..choices import ExamKind, Grading
from ..models import Attempt, Exam

APP = "exams"


@dataclass(frozen=True)
class YearResult:
    """One exam of the member's year: the counted attempt's score, or none yet (pending grading)."""

    exam: Exam
    attempts: int
    score: Decimal | None
    max_score: Decimal
    passed: bool | None
    submitted_at: datetime


def record_visible(user: Viewer, member: Member) -> bool:
    """The member themself, and whoever views exams of the member's organisation."""
    if user is None or not user.is_authenticated:
        return False
    return member.user_id == user.pk or can(user, "view", member.organization, app_label=APP)


def member_year_results(*, user: Viewer, member: Member, year: int) -> list[YearResult]:
    """The member's submitted exams (not practice) of ``year``, by the date they were submitted;
    empty when the user may not see them."""
    if not record_visible(user, member):
        return []
    attempts = list(
        Attempt.objects.filter(member=member, submitted_at__year=year)
        .exclude(exam__kind=ExamKind.PRACTICE)
        .select_related("exam")
        .order_by("exam_id", "number")
    )
    by_exam: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_exam.setdefault(attempt.exam_id, []).append(attempt)
    results = []
    for rows in by_exam.values():
        exam = rows[0].exam
        counted = _counted(exam, rows)
        results.append(
            YearResult(
                exam=exam,
                attempts=len(rows),
                score=counted.score if counted else None,
                max_score=(counted or rows[-1]).max_score,
                passed=counted.passed if counted else None,
                submitted_at=(counted or rows[-1]).submitted_at,  # type: ignore[arg-type]
            )
        )
    return sorted(results, key=lambda r: r.submitted_at, reverse=True)


def _counted(exam: Exam, rows: list[Attempt]) -> Attempt | None:
    """The attempt that counts under the exam's grading rule (as ``targets.counted_attempts``, for
    one member's rows already read)."""
    scored = [a for a in rows if a.score is not None]
    if not scored:
        return None
    if exam.grading == Grading.HIGHEST:
        return max(scored, key=lambda a: (a.score, -a.number))
    if exam.grading == Grading.LAST:
        return max(scored, key=lambda a: a.number)
    return min(scored, key=lambda a: a.number)
