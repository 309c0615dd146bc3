"""The online study hours of each subtree for a year (``learning.online``, a kept figure of
``organizations.SubtreeFigure``): the hours of kind 网络学习 that the ledger credits to the members
of the subtree, each member counted under the organisation they belong to now — what the
supervision dashboards show as ``online_hours``.

Each member-year (``MemberYearHours``) remembers what it last added (``online_counted`` under
``online_org``). ``online_refresh`` compares that copy with the row's ``online`` and the member's
organisation and adds the differences; it runs under the members' locks after every ledger write
that moves online hours and after every change of a member (a transfer moves their hours).
``online_rebuild`` (a step of ``learning_hours_rebuild``) proves copies and figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q

from partyedu.organizations.figures import FigureKey, subtree_figures_add, subtree_figures_check

from ..models import MemberYearHours

ONLINE = "learning.online"
YEAR = 0  # SubtreeFigure.month of a figure of the year as a whole
_HELD = ~Q(online=0) | ~Q(online_counted=0)


def online_refresh(member_ids: Iterable[int]) -> None:
    """Bring the kept online figures in step with these members' online hours and organisations.
    Call inside the transaction, holding the members' locks (as every writer of their ledger
    does). One query when nothing changed; then one statement for the copies and three for the
    figures."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    rows = (
        MemberYearHours.objects.filter(_HELD, member_id__any=ids)
        .order_by()
        .values_list("pk", "year", "online", "online_counted", "online_org", "member__organization_id")
    )
    deltas: dict[FigureKey, Decimal] = defaultdict(Decimal)
    changed: list[MemberYearHours] = []
    for pk, year, online, counted, counted_org, org_id in rows:
        if (counted, counted_org) == (online, org_id):
            continue
        if counted and counted_org is not None:
            deltas[(counted_org, year, YEAR, ONLINE)] -= counted
        if online:
            deltas[(org_id, year, YEAR, ONLINE)] += online
        changed.append(MemberYearHours(pk=pk, online_counted=online, online_org=org_id))
    if changed:
        MemberYearHours.objects.bulk_update(changed, ["online_counted", "online_org"], batch_size=2000)
        subtree_figures_add(deltas)


def online_rebuild(*, apply: bool) -> tuple[int, list[str]]:
    """(differences, sample lines): member-years whose copy differs from their online hours and
    organisation, and kept figures that differ from a recount of the member-years; with
    ``apply``, both are made equal. Reads ``MemberYearHours`` as stored (rebuild them first)."""
    own: dict[FigureKey, Decimal] = defaultdict(Decimal)
    fix: list[MemberYearHours] = []
    samples: list[str] = []
    rows = (
        MemberYearHours.objects.filter(_HELD)
        .order_by()
        .values_list(
            "pk", "member_id", "year", "online", "online_counted", "online_org", "member__organization_id"
        )
    )
    for pk, member_id, year, online, counted, counted_org, org_id in rows.iterator(chunk_size=20_000):
        if online:
            own[(org_id, year, YEAR, ONLINE)] += online
        if (counted, counted_org) != (online, org_id):
            fix.append(MemberYearHours(pk=pk, online_counted=online, online_org=org_id))
            if len(samples) < 10:
                samples.append(f"党员#{member_id} {year} 网络学习学时计入组织：{counted}，应为 {online}")
    if apply:
        MemberYearHours.objects.bulk_update(fix, ["online_counted", "online_org"], batch_size=2000)
    figures = subtree_figures_check(names=[ONLINE], own=own, apply=apply)
    if figures:
        samples.append(f"组织网络学习学时累计：{figures} 处与重算不符")
    return len(fix) + figures, samples
