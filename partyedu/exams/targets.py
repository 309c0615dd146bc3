"""Who an exam is for, which attempt counts under its grading rule, and when keys may be shown.
Rules over one exam, applied by the selectors (scoped by the viewer) and the services."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.study.models import ClassEnrollment

from .choices import Grading, ShowAnswers, TargetKind
from .models import Attempt, Exam, ExamTarget

# Members who can be examined: not suspended or removed from the party.
EXAMINABLE_STATUSES = [
    s for s in MemberStatus.values if s not in (MemberStatus.SUSPENDED, MemberStatus.REMOVED)
]


def exam_target_members(exam: Exam) -> QuerySet[Member]:
    """The members an exam is for: its subtree's or class's members (without the exempt ones) and
    the members named for it; only the named ones when it targets a list."""
    named = Q(pk__in=ExamTarget.objects.filter(exam=exam).values("member_id"))
    members = Member.objects.filter(is_active=True, status__in=EXAMINABLE_STATUSES)
    if exam.target_kind == TargetKind.MEMBERS:
        return members.filter(named)
    if exam.target_kind == TargetKind.TRAINING_CLASS:
        body = Q(
            pk__in=ClassEnrollment.objects.filter(training_class_id=exam.training_class_id).values(
                "member_id"
            )
        )
    else:
        path = exam.organization.path
        body = Q(org_path__startswith=path)
    return members.filter((body & Q(is_exempt=False)) | named)


def member_is_target(exam: Exam, member: Member) -> bool:
    return exam_target_members(exam).filter(pk=member.pk).exists()


def counted_attempts(exam: Exam) -> QuerySet[Attempt]:
    """Each member's attempt that counts under the exam's grading rule (submitted ones only), in
    SQL: with one attempt allowed every submitted attempt counts; otherwise the member's best
    (the earlier one on a tie), last or first."""
    submitted = Attempt.objects.filter(exam=exam, submitted_at__isnull=False, score__isnull=False)
    if exam.attempts_allowed == 1:
        return submitted
    if exam.grading == Grading.HIGHEST:
        order = ["-score", "number"]
    elif exam.grading == Grading.LAST:
        order = ["-number"]
    else:
        order = ["number"]
    chosen = submitted.filter(member_id=OuterRef("member_id")).order_by(*order).values("pk")[:1]
    return submitted.filter(pk=Subquery(chosen))


def answers_visible(attempt: Attempt, *, now: Any = None) -> bool:
    """Whether keys and explanations may be shown with a submitted attempt."""
    if attempt.submitted_at is None:
        return False
    exam = attempt.exam
    if exam.show_answers == ShowAnswers.IMMEDIATELY:
        return True
    if exam.show_answers == ShowAnswers.AFTER_CLOSE:
        return (now or timezone.now()) >= exam.closes_at
    return False
