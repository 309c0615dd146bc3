"""The exams app's items on the workbench (``core.todo``):

- a member: exams open now that they are given and have not finished — an attempt in progress
  first (继续答题), then those closing soonest; practice sets and contest rounds are invitations,
  never duties (DESIGN §3.5), so they are not listed;
- an organiser: short answers waiting for a grader in exams of their scope (待阅卷).
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_action
from partyedu.core.todo import TodoItem

from .choices import MANUAL_TYPES, AttemptStatus, ExamKind
from .models import Answer, Attempt, Exam
from .selectors import taker_member
from .selectors.take import _exams_for_member

SECTION = "考试"
SHOWN = 3
SOON = timedelta(days=3)


def exams_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for exams: see the module's docstring."""
    return [*_taker_items(user), *_grader_items(user)]


def _taker_items(user: Viewer) -> list[TodoItem]:
    member = taker_member(user)
    if member is None:
        return []
    now = timezone.now()
    exams = list(
        _exams_for_member(member)
        .filter(opens_at__lte=now, closes_at__gt=now, kind=ExamKind.EXAM)
        .select_related("organization")
        .order_by("closes_at", "pk")[:20]
    )
    mine: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(member=member, exam__in=[e.pk for e in exams]):
        mine.setdefault(attempt.exam_id, []).append(attempt)
    items: list[TodoItem] = []
    for exam in exams:
        attempts = mine.get(exam.pk, [])
        open_attempt = any(a.status == AttemptStatus.IN_PROGRESS for a in attempts)
        if attempts and not open_attempt:
            continue  # taken: another try is the member's choice, not a duty
        closes = timezone.localtime(exam.closes_at)
        items.append(
            TodoItem(
                key=f"exams.take:{exam.pk}",
                section=SECTION,
                title=f"{'继续答题' if open_attempt else '参加考试'}：{exam.title}",
                detail=f"{closes:%m月%d日 %H:%M}截止"
                + (f"，限时{exam.time_limit_minutes}分钟" if exam.time_limit_minutes else ""),
                url=reverse("exams:my"),
                due=closes.date(),
                priority=0 if open_attempt else (1 if exam.closes_at - now <= SOON else 2),
                icon="ui-checks",
            )
        )
        if len(items) == SHOWN:
            break
    return items


def _grader_items(user: Viewer) -> list[TodoItem]:
    if user is None or not user.is_authenticated or not has_action(user, "change", "exams"):
        return []
    # The same answers as the grading queue (selectors.results.grading_queue): exams of the
    # grader's scope only, not those of a level above that reach their members.
    pending = Attempt.objects.restrict(user, "change").filter(
        status=AttemptStatus.PENDING, exam__in=Exam.objects.restrict(user, "change").values("pk")
    )
    waiting = Answer.objects.filter(
        attempt_question__attempt__in=pending,
        attempt_question__version__question__qtype__in=list(MANUAL_TYPES),
        points__isnull=True,
    ).count()
    if not waiting:
        return []
    return [
        TodoItem(
            key="exams.grade",
            section=SECTION,
            title="简答题待阅卷",
            detail="答卷不显示姓名，按参考答案和评分要点给分",
            url=reverse("exams:grading_queue"),
            count=waiting,
            priority=1,
            icon="pencil-square",
        )
    ]
