"""Reads of the points app. Every function takes the requesting ``user`` and starts from
``restrict(user, action)``; a member or scheme outside the user's points scope is 404."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404

from partyedu.core.scope import scope_for
from partyedu.core.types import BaseViewer
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from .models import ManualPoints, PointsEntry, PointsScheme
from .services.derive import ZERO, is_exempt, period_of, schemes_for

APP = "points"


def member_get(*, user: BaseViewer, pk: Any) -> Member:
    """A member within the user's points view scope (a 党员: themself), else 404."""
    member = (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(pk=pk)
        .select_related("organization")
        .first()
    )
    if member is None:
        raise Http404("党员不存在")
    return member


def member_of_user(*, user: BaseViewer) -> Member | None:
    """The user's own member record, if any (the 我的积分 page)."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=user.pk).select_related("organization").first()


@dataclass
class ItemFigure:
    code: str
    name: str
    kind: str
    points: Decimal
    cap: Decimal | None
    cap_period: str
    capped: bool


@dataclass
class MemberPoints:
    member: Member
    year: int
    scheme: PointsScheme | None
    base: Decimal
    earned: Decimal
    deducted: Decimal
    total: Decimal
    exempt: bool
    by_item: list[ItemFigure] = field(default_factory=list)
    entries: list[PointsEntry] = field(default_factory=list)
    manual: list[ManualPoints] = field(default_factory=list)


def _state(member: Member) -> dict[str, Any]:
    return {
        "id": member.pk,
        "org_path": member.org_path,
        "is_exempt": member.is_exempt,
        "categories": member.categories,
    }


def member_points(*, user: BaseViewer, member: Member, year: int) -> MemberPoints:
    """The member's year: base + earned − deducted, by item with its cap and whether a period
    reached it, and every ledger line with its source. Five queries."""
    member = member_get(user=user, pk=member.pk)
    scheme = schemes_for({member.pk: _state(member)}, {year}).get((member.pk, year))
    entries = list(
        PointsEntry.objects.restrict(user, "view")
        .filter(member=member, year=year)
        .select_related("item")
        .order_by("source_date", "id")
    )
    per_item: dict[int, Decimal] = defaultdict(Decimal)
    per_period: dict[tuple[int, tuple[int, int]], Decimal] = defaultdict(Decimal)
    items = {}
    for entry in entries:
        per_item[entry.item_id] += entry.points
        items[entry.item_id] = entry.item
        per_period[(entry.item_id, period_of(entry.source_date, entry.item.cap_period))] += abs(entry.points)
    if scheme is not None:
        for item in scheme.item_list:  # type: ignore[attr-defined]
            items.setdefault(item.pk, item)
    by_item = []
    for item_id, item in items.items():
        capped = item.cap is not None and any(
            used >= item.cap for (iid, _p), used in per_period.items() if iid == item_id
        )
        by_item.append(
            ItemFigure(
                item.code,
                item.name,
                item.kind,
                per_item.get(item_id, ZERO),
                item.cap,
                item.cap_period,
                capped,
            )
        )
    earned = sum((p for p in per_item.values() if p > 0), ZERO)
    deducted = -sum((p for p in per_item.values() if p < 0), ZERO)
    base = scheme.base if scheme is not None else ZERO
    manual = list(
        ManualPoints.objects.restrict(user, "view")
        .filter(member=member, year=year)
        .select_related("item", "actor")
    )
    return MemberPoints(
        member=member,
        year=year,
        scheme=scheme,
        base=base,
        earned=earned,
        deducted=deducted,
        total=base + earned - deducted,
        exempt=is_exempt(_state(member)),
        by_item=by_item,
        entries=entries,
        manual=manual,
    )


@dataclass
class MemberTotal:
    member: Member
    base: Decimal
    net: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.net


def branch_members(*, user: BaseViewer, organization: Organization) -> QuerySet[Member]:
    """The members on the roll of the organisation's subtree within the user's points scope,
    ordered by name (no ranking): the list the page shows a page of."""
    return (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(organization.subtree_q("org_path"), is_active=True)
        .only("id", "name", "org_path", "is_exempt", "categories", "organization_id")
        .order_by("name", "id")
    )


def member_totals(*, user: BaseViewer, members: Iterable[Member], year: int) -> list[MemberTotal]:
    """Base and total of each of ``members`` (one page of ``branch_members``, so already within
    the user's scope) for the year, in their order: two queries whatever the page."""
    members = list(members)
    if not members:
        return []
    ids = [m.pk for m in members]
    nets = dict(
        PointsEntry.objects.filter(member_id__in=ids, year=year)
        .values("member_id")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("member_id", "s")
    )
    schemes = schemes_for({m.pk: _state(m) for m in members}, {year})
    return [
        MemberTotal(
            m, schemes[(m.pk, year)].base if (m.pk, year) in schemes else ZERO, nets.get(m.pk) or ZERO
        )
        for m in members
    ]


@dataclass
class OrgFigure:
    organization: Organization
    members: int
    average: Decimal


def points_distribution(*, user: BaseViewer, organization: Organization, year: int) -> list[OrgFigure]:
    """The average total per child organisation of ``organization`` (its members on the roll
    within the user's scope), for an org_admin: figures, never a ranking of people."""
    scope = scope_for(user, "view", APP)
    children = list(Organization.objects.filter(parent=organization, is_active=True).order_by("path"))
    if not children:
        return []
    width = len(organization.path) + SEGMENT_WIDTH
    counts = dict(
        Member.objects.filter(scope.q("org_path"), organization.subtree_q("org_path"), is_active=True)
        .annotate(prefix=Substr("org_path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("prefix", "n")
    )
    sums = dict(
        PointsEntry.objects.filter(
            scope.q("member__org_path"),
            organization.subtree_q("member__org_path"),
            year=year,
            member__is_active=True,
        )
        .annotate(prefix=Substr("member__org_path", 1, width))
        .values("prefix")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("prefix", "s")
    )
    bases = schemes_for(
        {c.pk: {"id": c.pk, "org_path": c.path, "is_exempt": False, "categories": []} for c in children},
        {year},
    )
    figures = []
    for child in children:
        n = counts.get(child.path, 0)
        base = bases[(child.pk, year)].base if (child.pk, year) in bases else ZERO
        average = (base + (sums.get(child.path) or ZERO) / n).quantize(Decimal("0.1")) if n else ZERO
        figures.append(OrgFigure(child, n, average))
    return figures


def scheme_list(*, user: BaseViewer, action: str = "view") -> QuerySet[PointsScheme]:
    return (
        PointsScheme.objects.restrict(user, action)
        .select_related("organization")
        .order_by("-year", "organization__path")
    )


def scheme_get(*, user: BaseViewer, pk: Any, action: str = "view") -> PointsScheme:
    scheme = scheme_list(user=user, action=action).filter(pk=pk).first()
    if scheme is None:
        raise Http404("积分方案不存在")
    return scheme
