"""The points app's items on the workbench (``core.todo``): for whoever answers objections (may
change points at a publishing organisation), the open objections (异议) to publications in their
scope. An item exists only while an objection waits (DESIGN §3.5). One query, none for a user
without the right."""

from __future__ import annotations

from django.urls import reverse

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for
from partyedu.core.todo import TodoItem

from .choices import ObjectionStatus
from .models import PointsObjection

SECTION = "积分"


def points_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for points: see the module's docstring."""
    if user is None or not user.is_authenticated or not scope_for(user, "change", "points").paths:
        return []
    waiting = PointsObjection.objects.restrict(user, "change").filter(status=ObjectionStatus.OPEN).count()
    if not waiting:
        return []
    return [
        TodoItem(
            key="points.objections",
            section=SECTION,
            title="积分公示异议待答复",
            detail="党员对公示的积分提出了异议，请核实后答复",
            url=reverse("points:objection_list") + "?status=open",
            count=waiting,
            priority=1,
            icon="chat-left-text",
        )
    ]
