"""The community area's items on the workbench (``core.todo``): for the level above and the
benefiting community, the completed pledges waiting for their confirmation; for a centre's
managers, the bookings waiting for approval; for a member, their own pledges past the date they
set and still open. An item exists only while there is something to do (DESIGN §3.5). One query
for every user (the three counts are subqueries of it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for, subtree_q
from partyedu.core.todo import TodoItem

from .choices import BookingStatus, PledgeStatus
from .models import Booking, Pledge
from .selectors_community import pledge_confirmers_q

SECTION = "为群众办实事"
CENTRE_SECTION = "场地预约"


def _count(qs: QuerySet[Any]) -> Coalesce:
    """``qs``'s number of rows as a scalar subquery (0 when none)."""
    counted = qs.order_by().annotate(_one=Value(1)).values("_one").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def community_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for the community area: see the module's docstring."""
    if not isinstance(user, User) or not user.is_authenticated:
        return []
    paths = scope_for(user, "change", "service").paths
    counts: dict[str, Any] = {
        "overdue": _count(
            Pledge.objects.filter(
                member__user=OuterRef("pk"), status=PledgeStatus.OPEN, due__lt=timezone.localdate()
            )
        )
    }
    if paths:
        counts["waiting"] = _count(
            Pledge.objects.filter(pledge_confirmers_q(user=user), status=PledgeStatus.COMPLETED)
        )
        counts["pending"] = _count(
            Booking.objects.filter(
                subtree_q("room__centre__organization__path", paths), status=BookingStatus.PENDING
            )
        )
    row = User.objects.filter(pk=user.pk).annotate(**counts).values(*counts).first() or {}
    items: list[TodoItem] = []
    if row.get("waiting"):
        items.append(
            TodoItem(
                key="service.pledges_to_confirm",
                section=SECTION,
                title=f"为群众办实事：{row['waiting']} 件已办结待确认",
                detail="下级组织、党员或在本社区服务的单位办结的实事，请核实后确认",
                url=reverse("service:pledge_list") + "?waiting=on",
                count=row["waiting"],
                priority=2,
                icon="hand-thumbs-up",
            )
        )
    if row.get("pending"):
        items.append(
            TodoItem(
                key="service.bookings_pending",
                section=CENTRE_SECTION,
                title=f"场地预约：{row['pending']} 项待审核",
                detail="各单位预约本中心活动室，请审核",
                url=reverse("service:booking_list") + "?side=centre&status=pending",
                count=row["pending"],
                priority=1,
                icon="building",
            )
        )
    if row.get("overdue"):
        items.append(
            TodoItem(
                key="service.my_pledges_overdue",
                section=SECTION,
                title=f"我承诺的实事：{row['overdue']} 件已过计划完成时间",
                detail="办好了就写几句办结说明；还在办的，记一下进展",
                url=reverse("service:my_pledges"),
                count=row["overdue"],
                priority=2,
                icon="hand-thumbs-up",
            )
        )
    return items
