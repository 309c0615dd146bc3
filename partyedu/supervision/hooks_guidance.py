"""Hooks registered by the guidance area: to-do items (open rectification for the organisation,
党课 to 巡听 for an inspector), the 党课巡听 panel on the lecture page, and the nightly notice of
rectification items that have come due."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.scope import can
from partyedu.core.todo import TodoItem
from partyedu.core.types import BaseViewer

SECTION = "督导整改"


def guidance_todos(*, user: BaseViewer) -> list[TodoItem]:
    """Open rectification items the user's organisation must close (overdue first, urgent), and
    the 党课 an inspector may attend in the coming two weeks."""
    from .selectors import guidance as selectors

    today = timezone.localdate()
    items: list[TodoItem] = []
    for item in selectors.rectification_todo_items(user=user, today=today):
        overdue = item.due_on < today
        items.append(
            TodoItem(
                key=f"supervision.rectification:{item.pk}",
                section=SECTION,
                title=("整改逾期：" if overdue else "整改事项：") + item.description[:30],
                url=reverse("supervision:rectification_detail", args=[item.pk]),
                detail=f"{item.organization.display_name}，期限 {item.due_on:%Y-%m-%d}",
                due=item.due_on,
                priority=0 if overdue else (1 if (item.due_on - today).days <= 7 else 2),
                icon="clipboard-check",
            )
        )
    now = timezone.now()
    for lecture in selectors.upcoming_lectures_to_inspect(user=user):
        held = lecture.start <= now
        items.append(
            TodoItem(
                key=f"supervision.listen:{lecture.pk}",
                section=SECTION,
                title=("待巡听评分：" if held else "可巡听党课：") + lecture.title[:30],
                url=reverse("lectures:lecture_detail", args=[lecture.pk]),
                detail=f"{lecture.organization.display_name}，{timezone.localtime(lecture.start):%m-%d %H:%M}",
                due=timezone.localtime(lecture.start).date(),
                priority=2 if held else 3,
                icon="mic",
            )
        )
    return items


def lecture_panels(*, user: BaseViewer, lecture: Any) -> list[tuple[str, str]]:
    """The 党课巡听 panel, for those who see supervision data of the lecture's organisation or may
    score it; nothing for anyone else (members see only the attendees' ratings)."""
    from .selectors import guidance as selectors

    organization = lecture.organization
    sees = can(user, "view", organization, app_label="supervision")
    may_score = selectors.can_inspect(user, organization) and lecture.start <= timezone.now()
    if not (sees or may_score):
        return []
    rows = selectors.lecture_inspections(user=user, lecture=lecture) if sees else []
    mine = selectors.lecture_inspection_mine(user=user, lecture=lecture)
    html = render_to_string(
        "supervision/listen_panel.html",
        {"rows": rows, "mine": mine, "can_score": may_score, "lecture": lecture},
    )
    return [("党课巡听", html)]


def rectification_due_step() -> int:
    from .services.guidance import rectification_due_notify

    return rectification_due_notify()


def register() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    from partyedu.core.housekeeping import housekeeping_step

    hooks.register("core.todo", guidance_todos)
    hooks.register("lectures.detail_panels", lecture_panels)
    housekeeping_step("rectification_due_notices")(rectification_due_step)
