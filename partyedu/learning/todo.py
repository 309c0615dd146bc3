"""The learning app's items on the workbench (``core.todo``).

- A 党员 short of the year's hours: what is still missing, by when, and the concrete ways to make
  it up — 补学 for the activities they missed (reported from 我的活动) and the published online
  resources that still count (``member_shortfall``). Priority rises from October; nothing is shown
  once the year's requirement is met, and nothing for a past year (DESIGN §3.5: no nagging).
- A secretary or an organisation department, from October on: the members of their subtree still
  short of the year's requirement, linking to the completion page with its short list (from the
  summary rows: two indexed queries per subtree root, at most ``MAX_ROOTS``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_role, scope_for
from partyedu.core.todo import TodoItem
from partyedu.members.selectors import member_of_user
from partyedu.organizations.models import Organization

from .selectors import learning_summary, member_learning_hours, member_shortfall

APP = "learning"
SECTION = "学时"
YEAR_END_FROM_MONTH = 10
MAX_ROOTS = 5
SHOWN = 3


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _member_items(user: Viewer, today: date) -> list[TodoItem]:
    member = member_of_user(user=user)
    if member is None:
        return []
    hours = member_learning_hours(user=user, member=member, year=today.year)
    shortfall = member_shortfall(user=user, hours=hours)
    if shortfall is None:
        return []
    late = today.month >= YEAR_END_FROM_MONTH
    priority = 1 if late else 2
    items = [
        TodoItem(
            key=f"learning.hours_missing:{member.pk}:{today.year}",
            section=SECTION,
            title=f"本年度学时还差 {_hours(shortfall.missing)} 学时",
            detail=f"已计入 {_hours(hours.counted)} / 要求 {_hours(hours.required)} 学时，{shortfall.deadline.month}月{shortfall.deadline.day}日前完成",
            url=reverse("learning:my_hours"),
            due=shortfall.deadline,
            priority=priority,
            icon="hourglass-split",
        )
    ]
    for missed in [m for m in shortfall.missed if m.makeup_open][:SHOWN]:
        items.append(
            TodoItem(
                key=f"learning.makeup_open:{missed.activity_id}",
                section=SECTION,
                title=f"补学：{missed.title}",
                detail=f"{missed.day.month}月{missed.day.day}日 · {missed.status_display}，可在“我的活动”中报告补学",
                url=reverse("study:my_activities"),
                due=shortfall.deadline,
                priority=priority,
                icon="journal-plus",
            )
        )
    for offer in shortfall.resources[:SHOWN]:
        items.append(
            TodoItem(
                key=f"learning.resource_offer:{offer.resource_id}",
                section=SECTION,
                title=f"网上学习：{offer.title}",
                detail=f"{offer.kind_display} · 学完计 {_hours(offer.credit_hours)} 学时",
                url=reverse("learning:resource_detail", args=[offer.resource_id]),
                due=shortfall.deadline,
                priority=priority + 1,
                icon="play-btn",
            )
        )
    return items


def _short_items(user: Viewer, today: date) -> list[TodoItem]:
    # Those who can act on it (arrange 补学, record hours): a read-only 督导员 is not asked to.
    paths = scope_for(user, "change", APP).paths
    if not paths or today.month < YEAR_END_FROM_MONTH:
        return []
    items = []
    deadline = date(today.year, 12, 31)
    roots = Organization.objects.filter(path__in=paths[:MAX_ROOTS], is_active=True).order_by("path")
    for root in roots:
        summary = learning_summary(user=user, organization=root, year=today.year)
        if summary.short <= 0:
            continue
        query = urlencode({"organization": root.pk, "year": today.year})
        items.append(
            TodoItem(
                key=f"learning.members_short:{root.pk}:{today.year}",
                section=SECTION,
                title=f"{summary.short} 名党员本年度学时未达标（{root.name}）",
                detail=f"年底前还有 {(deadline - today).days} 天，可安排补学或送学上门",
                url=f"{reverse('learning:summary')}?{query}",
                count=summary.short,
                due=deadline,
                priority=1,
                icon="people",
            )
        )
    return items


def learning_todos(*, user: Viewer, today: date | None = None) -> list[TodoItem]:
    """``core.todo`` for learning: see the module's docstring."""
    if not user.is_authenticated:
        return []
    today = today or timezone.localdate()
    items = _short_items(user, today)
    if has_role(user, RoleCode.MEMBER):
        items += _member_items(user, today)
    return items
