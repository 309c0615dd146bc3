"""The points distribution kept per organisation (``PointsOrgYear``): how many party members on
the roll of an organisation's subtree, their total, the vetoed and the count per band of
``TOTAL_BANDS``, for each year of a members' scheme.

Each member's ``PointsYearTotal`` row keeps a copy of what they count for (their path, whether
they are counted, their total and veto). Whatever changes one of those — a ledger line, a veto,
a scheme's base, a member moved, promoted or taken off the roll — ends in ``counted_refresh``
for the (member, year)s concerned, under the members' locks: the copy is compared with what the
member counts for now, and the difference (the old copy out, the new one in) is added to the
member's organisation and every ancestor. A subtree moved in the tree carries its cumulative
rows from the old ancestors to the new ones (``distribution_org_moved``). ``points_rebuild``
checks the copies against the records and the rows against the copies."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Value
from django.db.models.functions import Concat, Substr

from partyedu.core.bulk import adapt
from partyedu.core.scope import subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import Organization, ancestor_paths

from ..choices import AUDIENCE_STATUSES, TOTAL_BANDS, Audience
from ..models import PointsOrgYear, PointsScheme, PointsVeto, PointsYearTotal
from .derive import ZERO, ledger_sums, schemes_for

BAND_FIELDS = tuple(f"band_{n}" for n in range(len(TOTAL_BANDS)))
FIGURE_FIELDS = ("members", "total_sum", "vetoed", *BAND_FIELDS)
COPY_FIELDS = ("org_path", "counted", "total", "vetoed")
# Organisation-year rows per upsert statement.
UPSERT_ROWS = 400

Figures = dict[str, Any]  # FIGURE_FIELDS → int (total_sum: Decimal)
Deltas = dict[tuple[str, int], Figures]  # (organisation path, year) → increments


def band_of(total: Decimal) -> int:
    """The index of the band of ``TOTAL_BANDS`` a total falls in."""
    for n, (lower, upper, _label) in enumerate(TOTAL_BANDS):
        if (lower is None or total >= lower) and (upper is None or total < upper):
            return n
    return len(TOTAL_BANDS) - 1


class Counted(NamedTuple):
    """What one member counts for in one year's distribution."""

    org_path: str
    counted: bool
    total: Decimal
    vetoed: bool


def kept_years() -> set[int]:
    """The years whose distribution is kept: those with a members' scheme. One query."""
    return set(
        PointsScheme.objects.filter(audience=Audience.MEMBERS)
        .order_by()
        .values_list("year", flat=True)
        .distinct()
    )


def counted_state(member: dict[str, Any], base: Decimal, net: Decimal, vetoed: bool) -> Counted:
    """A member counts when on the roll as a 党员 or 预备党员; their total is the base of the
    scheme in force plus the net of their ledger, 0 under a veto (一票否决)."""
    counted = bool(member["is_active"]) and member["status"] in AUDIENCE_STATUSES[Audience.MEMBERS]
    return Counted(member["org_path"] or "", counted, ZERO if vetoed else base + net, vetoed)


def _new_figures() -> Figures:
    return {name: ZERO if name == "total_sum" else 0 for name in FIGURE_FIELDS}


def _contribute(deltas: Deltas, state: Counted, year: int, sign: int) -> None:
    if not state.counted or not state.org_path:
        return
    figures = deltas.setdefault((state.org_path, year), _new_figures())
    figures["members"] += sign
    figures["total_sum"] += sign * state.total
    if state.vetoed:
        figures["vetoed"] += sign
    figures[BAND_FIELDS[band_of(state.total)]] += sign


def _copy(row: PointsYearTotal) -> Counted:
    return Counted(row.org_path, row.counted, row.total, row.vetoed)


def expected_states(
    members: dict[int, dict[str, Any]],
    pairs: set[tuple[int, int]],
    nets: dict[tuple[int, int], Decimal],
    schemes: dict[tuple[int, int], PointsScheme] | None = None,
) -> dict[tuple[int, int], Counted]:
    """What each (member, year) counts for now, from the members' fields, the schemes in force
    (read here unless given), the vetoes and the ledger's ``nets``. Three queries at most
    (schemes, their items, vetoes)."""
    if not pairs:
        return {}
    ids = sorted({m for m, _y in pairs})
    years = {y for _m, y in pairs}
    if schemes is None:
        schemes = schemes_for({m: members[m] for m in ids}, years)
    vetoed = set(
        PointsVeto.objects.filter(member_id__any=ids, year__in=sorted(years), lifted_at__isnull=True)
        .order_by()
        .values_list("member_id", "year")
        .distinct()
    )
    out = {}
    for key in pairs:
        scheme = schemes.get(key)
        base = scheme.base if scheme is not None else ZERO
        out[key] = counted_state(members[key[0]], base, nets.get(key, ZERO), key in vetoed)
    return out


def counted_refresh(
    members: dict[int, dict[str, Any]],
    pairs: Iterable[tuple[int, int]],
    schemes: dict[tuple[int, int], PointsScheme] | None = None,
) -> int:
    """Bring the copies of ``pairs`` in line with what the members count for now and add the
    differences to the organisations' rows. ``members``: the locked members' fields
    (``ledger.lock_members``). A copy is made for a member who counts in a year of a members'
    scheme (``kept_years``); a member's copies of other years (made with their ledger's first
    line) are kept up to date as well. ``schemes``: as ``expected_states``. Returns the number
    of copies changed. Five queries (three with ``schemes``), and the writes when something
    changed."""
    pairs = {(m, y) for m, y in pairs if m in members}
    if not pairs:
        return 0
    kept = kept_years()
    ids = sorted({m for m, _y in pairs})
    years = sorted({y for _m, y in pairs})
    rows = {
        (t.member_id, t.year): t
        for t in PointsYearTotal.objects.filter(member_id__any=ids, year__in=years)
        if (t.member_id, t.year) in pairs
    }
    nets = {key: row.net for key, row in rows.items()}
    wanted = expected_states(members, pairs, nets, schemes)
    deltas: Deltas = {}
    changed: list[PointsYearTotal] = []
    created: list[PointsYearTotal] = []
    for key in sorted(pairs):
        new = wanted[key]
        row = rows.get(key)
        if row is None:
            if not new.counted or key[1] not in kept:
                continue
            row = PointsYearTotal(member_id=key[0], year=key[1], net=ZERO)
            created.append(row)
        else:
            old = _copy(row)
            if old == new:
                continue
            _contribute(deltas, old, key[1], -1)
            changed.append(row)
        _contribute(deltas, new, key[1], +1)
        row.org_path, row.counted, row.total, row.vetoed = new.org_path, new.counted, new.total, new.vetoed
    PointsYearTotal.objects.bulk_create(created)
    PointsYearTotal.objects.bulk_update(changed, list(COPY_FIELDS))
    figures_add(deltas)
    return len(created) + len(changed)


def _up_the_tree(deltas: Deltas) -> Deltas:
    """Each organisation's increments added to its own row and every ancestor's."""
    out: Deltas = {}
    for (path, year), figures in deltas.items():
        for ancestor in ancestor_paths(path):
            into = out.setdefault((ancestor, year), _new_figures())
            for name, value in figures.items():
                into[name] += value
    return {key: f for key, f in out.items() if any(f.values())}


def figures_add(deltas: Deltas) -> None:
    """Add increments at organisations (by path) to their cumulative rows and their ancestors':
    ``INSERT … ON CONFLICT (organization, year) DO UPDATE SET x = x + excluded.x``, creating the
    rows that are missing."""
    cumulated = _up_the_tree(deltas)
    if not cumulated:
        return
    ids = dict(
        Organization.objects.filter(path__in=sorted({p for p, _y in cumulated})).values_list("path", "pk")
    )
    qn = connection.ops.quote_name
    table = qn(PointsOrgYear._meta.db_table)
    columns = ", ".join(qn(c) for c in ("organization_id", "year", *FIGURE_FIELDS))
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in FIGURE_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * (2 + len(FIGURE_FIELDS))) + ")"
    items = sorted((ids[p], y, f) for (p, y), f in cumulated.items() if p in ids)
    with connection.cursor() as cursor:
        for start in range(0, len(items), UPSERT_ROWS):
            part = items[start : start + UPSERT_ROWS]
            params: list[Any] = []
            for org_id, year, figures in part:
                params += [org_id, year, *(adapt(figures[f]) for f in FIGURE_FIELDS)]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({qn('organization_id')}, {qn('year')}) DO UPDATE SET {sets}",
                params,
            )


def distribution_org_moved(
    *, organization: Organization, old_path: str, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's copies take its new paths, and its cumulative
    rows leave the old ancestors and join the new ones (inside the move's transaction, after the
    paths were rewritten). A scheme that now applies instead of another is the members' change
    the ledger's sync follows (``ledger.points_org_moved``)."""
    PointsYearTotal.objects.filter(subtree_q("org_path", [old_path])).update(
        org_path=Concat(Value(organization.path), Substr("org_path", len(old_path) + 1))
    )
    deltas: Deltas = {}
    for row in PointsOrgYear.objects.filter(organization=organization):
        figures = {f: getattr(row, f) for f in FIGURE_FIELDS}
        if old_parent_path:
            deltas[(old_parent_path, row.year)] = {f: -v for f, v in figures.items()}
        if new_parent_path:
            deltas[(new_parent_path, row.year)] = figures
    figures_add(deltas)


# --- the check ----------------------------------------------------------------------------------


def copies_differences(
    members: dict[int, dict[str, Any]],
    pairs: set[tuple[int, int]],
    kept: set[int],
    *,
    nets: dict[tuple[int, int], Decimal] | None = None,
    schemes: dict[tuple[int, int], PointsScheme] | None = None,
    copies: dict[tuple[int, int], Counted] | None = None,
) -> list[tuple[int, int, Counted | None, Counted]]:
    """The (member, year)s whose copy differs from what they count for now (the nets read from
    the ledger unless given, per pair; the copies read here unless given, ``stored_rows``):
    (member, year, copy or None, now). A member without a copy is a difference only if they
    count in a year of ``kept``."""
    if not pairs:
        return []
    ids = sorted({m for m, _y in pairs})
    years = sorted({y for _m, y in pairs})
    if nets is None:
        nets = ledger_sums(ids, years)
    if copies is None:
        copies = {key: copy for key, (_net, copy) in stored_rows(pairs).items()}
    found = []
    for key, now in sorted(expected_states(members, pairs, nets, schemes).items()):
        have = copies.get(key)
        if have is None and (not now.counted or key[1] not in kept):
            continue
        if have != now:
            found.append((key[0], key[1], have, now))
    return found


def stored_rows(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[Decimal, Counted]]:
    """The kept net and copy of each of the pairs that has a ``PointsYearTotal`` row. One query."""
    ids = sorted({m for m, _y in pairs})
    years = sorted({y for _m, y in pairs})
    rows = PointsYearTotal.objects.filter(member_id__any=ids, year__in=years).values_list(
        "member_id", "year", "net", *COPY_FIELDS
    )
    return {(m, y): (net, Counted(*copy)) for m, y, net, *copy in rows if (m, y) in pairs}


def figures_from_copies(years: Iterable[int]) -> dict[tuple[int, int], Figures]:
    """What every organisation's rows should hold for the years, summed from the copies:
    (organisation id, year) → figures. One grouped query over the copies and one for the
    organisations' paths."""
    deltas: Deltas = {}
    rows = (
        PointsYearTotal.objects.filter(year__in=sorted(set(years)), counted=True)
        .values("org_path", "year", "total", "vetoed")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        state = Counted(row["org_path"], True, Decimal(str(row["total"])), row["vetoed"])
        figures = deltas.setdefault((state.org_path, row["year"]), _new_figures())
        single: Deltas = {}
        _contribute(single, state, row["year"], row["n"])
        for name, value in single[(state.org_path, row["year"])].items():
            figures[name] += value
    cumulated = _up_the_tree(deltas)
    ids = dict(
        Organization.objects.filter(path__in=sorted({p for p, _y in cumulated})).values_list("path", "pk")
    )
    return {(ids[p], y): f for (p, y), f in cumulated.items() if p in ids}


def figures_differences(years: Iterable[int], *, apply: bool) -> list[tuple[int, int, Figures, Figures]]:
    """The organisation-years whose kept row differs from the sum of the copies: (organisation
    id, year, kept, from the copies); with ``apply`` the years' rows are rewritten."""
    years = sorted(set(years))
    want = figures_from_copies(years)
    have = {
        (r.organization_id, r.year): {f: getattr(r, f) for f in FIGURE_FIELDS}
        for r in PointsOrgYear.objects.filter(year__in=years)
    }
    zero = _new_figures()
    found = []
    for key in sorted(set(want) | set(have)):
        kept, wanted = have.get(key, zero), want.get(key, zero)
        if any(kept[f] != wanted[f] for f in FIGURE_FIELDS):
            found.append((key[0], key[1], kept, wanted))
    if apply and found:
        with transaction.atomic():
            PointsOrgYear.objects.filter(year__in=years).delete()
            PointsOrgYear.objects.bulk_create(
                [PointsOrgYear(organization_id=o, year=y, **f) for (o, y), f in want.items()],
                batch_size=1000,
            )
    return found


def active_member_ids() -> list[int]:
    """Everyone who may count in a distribution (the first members' scheme of a year gives each
    a copy)."""
    return list(Member.objects.filter(is_active=True).values_list("pk", flat=True))
