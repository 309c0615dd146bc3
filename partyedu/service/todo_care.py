"""The care area's items on the workbench (``core.todo``):

- a secretary (党务工作者/支部书记 at a branch): the members not yet talked with this year
  (谈心谈话：N名党员今年尚未谈话), and this month's political birthdays (本月N名党员过政治生日);
- an org_admin: aid above the threshold waiting for their approval as the level above.

Each item exists only while there is something to do; none is a quota or a ranking."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_action, role_paths
from partyedu.core.todo import TodoItem

from . import selectors_care as selectors

SECTION = "谈心谈话与关怀"
SECRETARY_ROLE = "branch_admin"


def care_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for the care area: see the module's docstring."""
    if user is None or not user.is_authenticated or not has_action(user, "view", "service"):
        return []
    today = timezone.localdate()
    return [*_talk_items(user, today), *_birthday_items(user, today), *_approval_items(user)]


def _talk_items(user: Viewer, today: date) -> list[TodoItem]:
    items = []
    for branch in selectors.talk_secretary_branches(user=user)[:3]:
        coverage = selectors.talk_coverage(user=user, organization=branch, year=today.year)
        missing = len(coverage.not_talked)
        if not missing:
            continue
        items.append(
            TodoItem(
                key=f"service.talks:{branch.pk}:{today.year}",
                section=SECTION,
                title=f"谈心谈话：{missing}名党员今年尚未谈话",
                detail=f"{branch.name}：应谈{coverage.pairs_required}对，已谈{coverage.pairs_held}对",
                url=reverse("service:talk_coverage")
                + "?"
                + urlencode({"organization": branch.pk, "year": today.year}),
                count=missing,
                due=date(today.year, 12, 31),
                priority=2,
                icon="chat-heart",
            )
        )
    return items


def _birthday_items(user: Viewer, today: date) -> list[TodoItem]:
    paths = role_paths(user, SECRETARY_ROLE)
    count = selectors.birthday_count(user=user, paths=paths, year=today.year, month=today.month)
    if not count:
        return []
    return [
        TodoItem(
            key=f"service.birthdays:{today:%Y-%m}",
            section=SECTION,
            title=f"本月{count}名党员过政治生日",
            detail="可以为他们举办一次主题党日，重温入党誓词",
            url=reverse("service:birthday_list")
            + "?"
            + urlencode({"year": today.year, "month": today.month}),
            count=count,
            priority=3,
            icon="flag",
        )
    ]


def _approval_items(user: Viewer) -> list[TodoItem]:
    if not has_action(user, "care", "service"):
        return []
    pending = selectors.pending_approvals(user=user).count()
    if not pending:
        return []
    return [
        TodoItem(
            key="service.care_approvals",
            section=SECTION,
            title=f"{pending}笔帮扶金额超过审批线，待您审批",
            detail="审批后计入关怀帮扶发放总数",
            url=reverse("service:care_visit_list") + "?pending=1",
            count=pending,
            priority=1,
            icon="cash-coin",
        )
    ]
