"""The kept figures of subtrees (``SubtreeFigure``): the writes and reads every app shares, so
that a figure an app keeps for the dashboards needs no table, no roll-up and no organisation-move
handler of its own.

An app that keeps a figure decides what each of its sources adds to an organisation's *own*
figure, remembers what it last added (a copy beside its source), and hands the differences to
``subtree_figures_add`` inside the transaction of the change; the increments reach the
organisation and every ancestor. ``organization_move`` carries the moved subtree's figures from
its old ancestors to its new ones (``subtree_figures_org_moved``). The app's rebuild gives its
recount of the organisations' own figures to ``subtree_figures_check``, which compares the stored
rows of those names with it and, asked to, repairs them.

SYSTEM-LEVEL: no function here decides what a user may see; the caller's selector does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from .models import Organization, SubtreeFigure, all_lineage_ids, ancestor_paths, lineage_ids

# (organisation id, year, month — 0 for the year as a whole —, figure name)
FigureKey = tuple[int, int, int, str]

UPSERT_ROWS = 250  # rows per INSERT … ON CONFLICT (5 parameters each)


def _increment(deltas: Mapping[FigureKey, Decimal]) -> None:
    """Add to the stored rows of the keys, creating those that are missing, in key order (two
    transactions lock the rows they share in the same order); the addition happens in the
    database, so concurrent writers never lose each other's change."""
    rows = sorted((key, value) for key, value in deltas.items() if value)
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(SubtreeFigure._meta.db_table)
    keys = ", ".join(qn(c) for c in ("organization_id", "year", "month", "name"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            params: list[Any] = [
                item
                for (org_id, year, month, name), value in chunk
                for item in (org_id, year, month, name, value)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({keys}, {qn('value')}) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} "
                f"ON CONFLICT ({keys}) DO UPDATE SET {qn('value')} = {table}.{qn('value')} + excluded.{qn('value')}",
                params,
            )


def rolled_up(
    deltas: Mapping[FigureKey, Decimal], lineage: Mapping[int, list[int]]
) -> dict[FigureKey, Decimal]:
    """Organisations' own differences added to each of them and every ancestor (``lineage``: an
    organisation's id → the ids of itself and its ancestors; unknown organisations are left out)."""
    out: dict[FigureKey, Decimal] = defaultdict(Decimal)
    for (org_id, year, month, name), value in deltas.items():
        if value:
            for pk in lineage.get(org_id, ()):
                out[(pk, year, month, name)] += value
    return {key: value for key, value in out.items() if value}


def subtree_figures_add(deltas: Mapping[FigureKey, Decimal]) -> None:
    """Add differences of organisations' own figures to the cumulative rows of each of them and
    of every organisation above it. Call inside the transaction of the change (two queries for
    the organisations' lineage, then one statement per 250 rows)."""
    deltas = {key: value for key, value in deltas.items() if value}
    if deltas:
        _increment(rolled_up(deltas, lineage_ids(key[0] for key in deltas)))


def move_signs(*, old_parent_path: str, new_parent_path: str) -> dict[int, int]:
    """What a subtree moved from under ``old_parent_path`` to under ``new_parent_path`` does to
    the cumulative figures above it: organisation id → -1 for the old ancestors it leaves, +1 for
    the new ones it joins (those both share: absent). One query (none when nothing changes)."""
    old = set(ancestor_paths(old_parent_path)) if old_parent_path else set()
    new = set(ancestor_paths(new_parent_path)) if new_parent_path else set()
    signs = dict.fromkeys(old - new, -1) | dict.fromkeys(new - old, 1)
    if not signs:
        return {}
    return {
        pk: signs[path]
        for path, pk in Organization.objects.filter(path__in=sorted(signs)).values_list("path", "pk")
    }


@transaction.atomic
def subtree_figures_org_moved(
    *, organization: Organization, old_parent_path: str, new_parent_path: str
) -> None:
    """``organization`` (with its subtree) now hangs under the organisation at
    ``new_parent_path``: its cumulative rows leave the old ancestors and join the new ones (the
    ancestors both share keep theirs). Inside the move's transaction, after it."""
    signs = move_signs(old_parent_path=old_parent_path, new_parent_path=new_parent_path)
    deltas: dict[FigureKey, Decimal] = defaultdict(Decimal)
    for year, month, name, value in (
        SubtreeFigure.objects.filter(organization=organization)
        .exclude(value=0)
        .values_list("year", "month", "name", "value")
        if signs
        else ()
    ):
        for org_id, sign in signs.items():
            deltas[(org_id, year, month, name)] += sign * value
    _increment(deltas)


def subtree_figures_of(
    organization_ids: Iterable[int], *, year: int, names: Iterable[str], months: Iterable[int] = (0,)
) -> dict[int, dict[tuple[int, str], Decimal]]:
    """Organisation → (month, name) → value, for the given organisations, year, months and
    names (missing rows: absent, i.e. 0). One query."""
    out: dict[int, dict[tuple[int, str], Decimal]] = defaultdict(dict)
    for org_id, month, name, value in (
        SubtreeFigure.objects.filter(
            organization_id__in=sorted(set(organization_ids)),
            year=year,
            month__in=sorted(set(months)),
            name__in=sorted(set(names)),
        )
        .order_by()
        .values_list("organization_id", "month", "name", "value")
    ):
        out[org_id][(month, name)] = value
    return out


def subtree_figures_check(
    *, names: Iterable[str], own: Mapping[FigureKey, Decimal], apply: bool = False
) -> int:
    """Compare the stored rows of ``names`` with the roll-up of ``own`` (a recount of every
    organisation's own figures of those names) and return how many rows differ; with ``apply``,
    make them equal. Three queries and a pass over the rows."""
    names = sorted(set(names))
    want = rolled_up(own, all_lineage_ids())
    have = {
        (row.organization_id, row.year, row.month, row.name): row
        for row in SubtreeFigure.objects.filter(name__in=names).iterator(chunk_size=20_000)
    }
    create = [
        SubtreeFigure(organization_id=org_id, year=year, month=month, name=name, value=value)
        for (org_id, year, month, name), value in want.items()
        if (org_id, year, month, name) not in have
    ]
    update = []
    for key, row in have.items():
        value = want.get(key, Decimal("0"))
        if row.value != value:
            row.value = value
            update.append(row)
    if apply:
        with transaction.atomic():
            SubtreeFigure.objects.bulk_create(create, batch_size=2000)
            SubtreeFigure.objects.bulk_update(update, ["value"], batch_size=2000)
    return len(create) + len(update)
