"""The figures of a period — the first half-year (January to June) or the year — per member:
base, earned, deducted and total, by item, with the veto in force (一票否决: the total reads 0).
What a publication freezes when it is published, and what its page compares with now. Pure
reads, a fixed number of queries whatever the number of members."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from ..choices import PublicationPeriod
from ..models import PointsEntry, PointsItem, PointsVeto
from .derive import ZERO, is_exempt, members_state, points_text, schemes_for

# Ids per ``IN`` list (a general branch may publish to a few hundred members; a list page asks
# for a page of them).
CHUNK = 2000


@dataclass
class PeriodFigure:
    """One member's figures for a period, as a publication shows them."""

    member_id: int
    base: Decimal = ZERO
    earned: Decimal = ZERO
    deducted: Decimal = ZERO
    exempt: bool = False
    veto_reason: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def vetoed(self) -> bool:
        return self.veto_reason is not None

    @property
    def total(self) -> Decimal:
        """Base + earned − deducted; 0 under a veto (DOMAIN_RULES)."""
        return ZERO if self.vetoed else self.base + self.earned - self.deducted


def period_end(year: int, period: str) -> date:
    """The last day a period's lines may be dated: 30 June for the first half-year, else 31 December."""
    return date(year, 6, 30) if period == PublicationPeriod.H1 else date(year, 12, 31)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def vetoes_in_force(member_ids: Iterable[int], year: int) -> dict[int, PointsVeto]:
    """The veto in force (not lifted) of each of the members for the year. One query per chunk."""
    ids = sorted(set(member_ids))
    found: dict[int, PointsVeto] = {}
    for chunk in _chunks(ids):
        for veto in PointsVeto.objects.filter(member_id__in=chunk, year=year, lifted_at__isnull=True):
            found[veto.member_id] = veto
    return found


def veto_text(reason: str | None) -> str:
    return f"一票否决：{reason}" if reason is not None else ""


def period_figures(member_ids: Iterable[int], year: int, period: str) -> dict[int, PeriodFigure]:
    """The figures of each member for the year's period (lines dated up to the period's end),
    under the scheme in force for the member now. Five queries for up to ``CHUNK`` members:
    members, schemes, items, the ledger's sums by item, vetoes (and the items of lines outside
    the scheme, when there are such lines)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    states = members_state(ids)
    schemes = schemes_for(states, {year})
    end = period_end(year, period)
    sums: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for chunk in _chunks(ids):
        rows = (
            PointsEntry.objects.filter(member_id__in=chunk, year=year, source_date__lte=end)
            .values("member_id", "item_id")
            .annotate(s=Sum("points"))
            .order_by()
            .values_list("member_id", "item_id", "s")
        )
        for member_id, item_id, total in rows:
            sums[member_id][item_id] = Decimal(total or 0)
    known: dict[int, PointsItem] = {
        item.pk: item
        for scheme in schemes.values()
        for item in scheme.item_list  # type: ignore[attr-defined]
    }
    missing = {item_id for per in sums.values() for item_id in per} - set(known)
    if missing:
        known.update({item.pk: item for item in PointsItem.objects.filter(pk__in=sorted(missing))})
    vetoes = vetoes_in_force(ids, year)
    figures: dict[int, PeriodFigure] = {}
    for member_id in ids:
        state = states.get(member_id)
        if state is None:
            continue
        scheme = schemes.get((member_id, year))
        per_item = sums.get(member_id, {})
        order = [i.pk for i in scheme.item_list] if scheme is not None else []  # type: ignore[attr-defined]
        order += sorted(i for i in per_item if i not in order)
        items = []
        for item_id in order:
            item = known[item_id]
            items.append(
                {
                    "code": item.code,
                    "name": item.name,
                    "kind": item.kind,
                    "points": points_text(per_item.get(item_id, ZERO)),
                }
            )
        veto = vetoes.get(member_id)
        figures[member_id] = PeriodFigure(
            member_id=member_id,
            base=scheme.base if scheme is not None else ZERO,
            earned=sum((p for p in per_item.values() if p > 0), ZERO),
            deducted=-sum((p for p in per_item.values() if p < 0), ZERO),
            exempt=is_exempt(state),
            veto_reason=veto.reason if veto is not None else None,
            items=items,
        )
    return figures
