"""The rebuild: recompute every ledger line from the records and compare it with the ledger
(and, when asked, append the correcting lines, under the members' locks as the services do)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from partyedu.members.models import Member

from ..models import PointsEntry, PointsScheme
from .derive import desired_points, members_state, points_text, schemes_for
from .distribution import (
    Counted,
    copies_differences,
    counted_refresh,
    figures_differences,
    kept_years,
    stored_rows,
)
from .ledger import (
    correction_rows,
    ledger_nets,
    lock_members,
    member_nets,
    points_sync_members,
    totals_differences,
)

SAMPLE_LINES = 20
MEMBER_CHUNK = 5000


@dataclass
class PointsRebuildReport:
    """Differences between the ledger and a recomputation from the records (0 after correct
    operation) and, when applied, the lines appended."""

    applied: bool
    differences: int = 0
    rows_appended: int = 0
    totals_differences: int = 0  # kept year totals that differ from the ledger (counted in differences)
    copies_differences: int = 0  # members' copies of what they count for that differ (in differences)
    figures_differences: int = 0  # organisations' kept distribution rows that differ (in differences)
    samples: list[str] = field(default_factory=list)


def _member_chunks() -> Iterator[list[int]]:
    """Every member's id, MEMBER_CHUNK consecutive ids at a time (empty ranges skipped)."""
    max_member = Member.objects.aggregate(m=Max("pk"))["m"] or 0
    for lo in range(0, max_member + 1, MEMBER_CHUNK):
        ids = list(Member.objects.filter(pk__gte=lo, pk__lt=lo + MEMBER_CHUNK).values_list("pk", flat=True))
        if ids:
            yield ids


def _mend_copies(copies: list[tuple[int, int, Counted | None, Counted]]) -> int:
    """Refresh the copies found to differ, under the members' locks like every writer of them."""
    if not copies:
        return 0
    with transaction.atomic():
        locked = lock_members(m for m, _y, _h, _n in copies)
        return counted_refresh(locked, {(m, y) for m, y, _h, _n in copies})


def points_rebuild(*, apply: bool = False) -> PointsRebuildReport:
    """Every (member, year) that a scheme year or the ledger names: what the records credit now
    against the ledger's net per (source, member, item, year); then the kept year totals
    (``PointsYearTotal``) against the ledger's net per (member, year), and their copies of what
    each member counts for in the distribution against the members, schemes and vetoes; last,
    the organisations' kept distribution (``PointsOrgYear``) against the sum of the copies. Each
    rewritten when applied."""
    report = PointsRebuildReport(applied=apply)
    kept = kept_years()
    years = set(PointsScheme.objects.values_list("year", flat=True).distinct())
    years |= set(PointsEntry.objects.values_list("year", flat=True).distinct())
    if not years:
        return report
    for ids in _member_chunks():
        pairs = {(m, y) for m in ids for y in years}
        state = members_state(ids)
        schemes = schemes_for(state, years)
        nets = ledger_nets(pairs, labels=False)  # the check only counts; a sync applies
        rows = correction_rows(desired_points(state, pairs, schemes, labels=False), nets, None)
        report.differences += len(rows)
        for row in rows[: max(0, SAMPLE_LINES - len(report.samples))]:
            report.samples.append(
                f"党员#{row.member_id} {row.year} 项目#{row.item_id} {row.source_type}#{row.source_id}：台账差 {points_text(row.points)} 分"
            )
        if apply and rows:
            report.rows_appended += points_sync_members(
                pairs={(r.member_id, r.year) for r in rows}, actor=None
            )
        # The ledger and the kept rows as read here, unless lines were just appended.
        fresh = not (apply and rows)
        sums = member_nets(nets) if fresh else None
        stored = stored_rows(pairs) if fresh else None
        totals = totals_differences(
            pairs,
            apply=False,
            sums=sums,
            stored={k: n for k, (n, _c) in stored.items()} if stored is not None else None,
        )
        if apply and totals:
            # Under the members' locks, like every writer of their ledgers and totals.
            with transaction.atomic():
                lock_members(m for m, _y, _h, _w in totals)
                totals_differences({(m, y) for m, y, _h, _w in totals}, apply=True)
        report.totals_differences += len(totals)
        report.differences += len(totals)
        for member_id, year, have, want in totals[: max(0, SAMPLE_LINES - len(report.samples))]:
            report.samples.append(
                f"党员#{member_id} {year} 年度合计：记为 {points_text(have)} 分，台账为 {points_text(want)} 分"
            )
        copies = copies_differences(
            state,
            pairs,
            kept,
            nets=sums,
            schemes=schemes,
            copies={k: c for k, (_n, c) in stored.items()} if stored is not None else None,
        )
        if apply:
            _mend_copies(copies)
        report.copies_differences += len(copies)
        report.differences += len(copies)
        for member_id, year, had, now in copies[: max(0, SAMPLE_LINES - len(report.samples))]:
            report.samples.append(f"党员#{member_id} {year} 组织统计：记为 {had}，应为 {now}")
    figures = figures_differences(years, apply=apply)
    report.figures_differences = len(figures)
    report.differences += len(figures)
    for org_id, year, have_f, want_f in figures[: max(0, SAMPLE_LINES - len(report.samples))]:
        report.samples.append(f"组织#{org_id} {year} 积分分布：记为 {have_f}，应为 {want_f}")
    return report


def distribution_fill() -> int:
    """Make every member's copy of what they count for and rewrite the organisations' kept
    distribution from them (the migration that introduced them; the rebuild does the same as
    part of its check). Returns the copies written."""
    kept = kept_years()
    if not kept:
        return 0
    years = kept | set(PointsEntry.objects.values_list("year", flat=True).distinct())
    written = 0
    for ids in _member_chunks():
        pairs = {(m, y) for m in ids for y in years}
        written += _mend_copies(copies_differences(members_state(ids), pairs, kept))
    figures_differences(years, apply=True)
    return written
