"""The workbench: what a user should do next, gathered from every app through the ``core.todo``
hook and shown on the home page. Each item links to the page that resolves it; nothing here is a
quota or a streak (DESIGN §3.5): an item exists only while there is something to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .hooks import hooks
from .types import BaseViewer


@dataclass(frozen=True)
class TodoItem:
    """One thing to do. ``section`` groups items on the page (e.g. "活动", "月报", "学时");
    ``priority``: 0 urgent (overdue or returned), 1 due soon, 2 normal, 3 for information."""

    key: str  # stable identifier, e.g. "study.theme_day_missing:123:2026-12"
    section: str
    title: str
    url: str
    detail: str = ""
    count: int | None = None
    due: date | None = None
    priority: int = 2
    icon: str = "check2-square"


def todos_for(*, user: BaseViewer) -> list[TodoItem]:
    """Every app's items for the user, most urgent first, then by due date."""
    items: list[TodoItem] = []
    for found in hooks.call("core.todo", user=user):
        items.extend(found or ())
    return sorted(items, key=lambda i: (i.priority, i.due or date.max, i.section, i.key))


@dataclass(frozen=True)
class TodoSection:
    """The items of one section, in the order ``todos_for`` gave them."""

    name: str
    items: list[TodoItem]

    @property
    def urgent(self) -> bool:
        return any(i.priority == 0 for i in self.items)


def todo_sections(items: list[TodoItem]) -> list[TodoSection]:
    """The items grouped by section; the section holding the most urgent item comes first."""
    grouped: dict[str, list[TodoItem]] = {}
    for item in items:
        grouped.setdefault(item.section, []).append(item)
    return [TodoSection(name, found) for name, found in grouped.items()]
