"""The lectures app's items on the workbench (``core.todo``): a 党员's 党课 to rate — lectures of
the last ``RATE_WINDOW_DAYS`` days they attended (出席, 迟到, or 补学 once confirmed), did not give
and have not rated yet (``rating_refusal`` in one query). Older lectures drop off: a rating is an
invitation, not a duty (DESIGN §3.5). Two queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.todo import TodoItem
from partyedu.study.models import Attendance

from .models import Lecture, LectureRating, LectureSpeaker
from .selectors import ATTENDED_Q, rating_member

SECTION = "党课"
RATE_WINDOW_DAYS = 30
SHOWN = 3


def lectures_todos(*, user: Viewer, today: date | None = None) -> list[TodoItem]:
    """``core.todo`` for lectures: see the module's docstring."""
    member = rating_member(user)
    if member is None:
        return []
    today = today or timezone.localdate()
    since = timezone.make_aware(
        datetime.combine(today - timedelta(days=RATE_WINDOW_DAYS), datetime.min.time())
    )
    attended = Attendance.objects.filter(activity_id=OuterRef("activity_id"), member=member).filter(
        ATTENDED_Q
    )
    rated = LectureRating.objects.filter(lecture=OuterRef("pk"), member=member)
    spoke = LectureSpeaker.objects.filter(lecture=OuterRef("pk"), lecturer__member=member)
    lectures = (
        Lecture.objects.filter(start__gte=since, start__lte=timezone.now())
        .filter(Exists(attended), ~Exists(rated), ~Exists(spoke))
        .order_by("-start", "-id")[:SHOWN]
    )
    return [
        TodoItem(
            key=f"lectures.rate:{lecture.pk}",
            section=SECTION,
            title=f"评价党课：{lecture.title}",
            detail=f"{timezone.localdate(lecture.start):%m月%d日}参加的党课，欢迎打分和留言（匿名）",
            url=reverse("lectures:lecture_detail", args=[lecture.pk]),
            priority=3,
            icon="star",
        )
        for lecture in lectures
    ]
