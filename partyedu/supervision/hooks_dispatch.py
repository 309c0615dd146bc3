"""Hooks registered by the dispatch area: the recipients' open tasks on the workbench home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.todo import TodoItem

SECTION = "调度任务"


def dispatch_todos(*, user: Any) -> list[TodoItem]:
    """One item per dispatch an organisation the user answers for has not yet answered: overdue
    ones urgent (priority 0), due within three days soon (1), the others normal (2)."""
    from .selectors.dispatch import dispatch_open_for

    today = timezone.localdate()
    items = []
    for recipient in dispatch_open_for(user=user):
        dispatch = recipient.dispatch
        days = (dispatch.due - today).days
        if days < 0:
            priority, detail = 0, f"{recipient.organization.name}：已逾期{-days}天，请尽快反馈"
        elif days <= 3:
            priority, detail = 1, f"{recipient.organization.name}：{dispatch.due:%m月%d日}前反馈"
        else:
            priority, detail = 2, f"{recipient.organization.name}：{dispatch.due:%m月%d日}前反馈"
        items.append(
            TodoItem(
                key=f"supervision.dispatch:{recipient.pk}",
                section=SECTION,
                title=f"调度任务：{dispatch.title}",
                url=reverse("supervision:dispatch_feedback", args=[dispatch.pk, recipient.organization_id]),
                detail=detail,
                due=dispatch.due,
                priority=priority,
                icon="send",
            )
        )
    return items


def register() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    hooks.register("core.todo", dispatch_todos)
