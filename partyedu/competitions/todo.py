"""The competitions app's items on the workbench (``core.todo``): a 评委's reviews assigned and not
yet submitted in open rounds, one item per round linking to 我的评审 (``review_list``: the
reviewer's own assignments only). One query."""

from __future__ import annotations

from datetime import date

from django.db.models import Count
from django.urls import reverse

from partyedu.accounts.types import Viewer
from partyedu.core.todo import TodoItem

from .choices import RoundStatus
from .selectors import review_list

SECTION = "评审"
SHOWN = 5


def competitions_todos(*, user: Viewer, today: date | None = None) -> list[TodoItem]:
    """``core.todo`` for competitions: see the module's docstring."""
    if not user.is_authenticated:
        return []
    rounds = (
        review_list(user=user)
        .filter(
            submitted_at__isnull=True,
            round_entry__round__status=RoundStatus.OPEN,
            round_entry__entry__withdrawn=False,
        )
        .order_by()
        .values("round_entry__round_id", "round_entry__round__name", "round_entry__round__competition__title")
        .annotate(n=Count("id"))
        .order_by("round_entry__round_id")[:SHOWN]
    )
    return [
        TodoItem(
            key=f"competitions.reviews_open:{r['round_entry__round_id']}",
            section=SECTION,
            title=f"待评审 {r['n']} 件作品：{r['round_entry__round__competition__title']}",
            detail=f"{r['round_entry__round__name']}，请在“我的评审”中打分并提交",
            url=reverse("competitions:my_reviews"),
            count=r["n"],
            priority=1,
            icon="clipboard-check",
        )
        for r in rounds
    ]
