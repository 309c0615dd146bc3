"""The summaries kept with the ledger, in the transaction that changes it: ``MemberYearHours`` (by
increments, and the training classes completed, from attendance), each member's requirement state
and completion flags, and the cumulative organisation counts (by requirement group and by member
category), moved with an organisation."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from partyedu.core.bulk import adapt
from partyedu.members.models import Member
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.models import Attendance

from ..choices import HourKind, RequirementGroup
from ..models import (
    LearningHourEntry,
    MemberRequirement,
    MemberYearHours,
    OrgCategoryCounts,
    OrgRequirementCounts,
    OrgYearCategoryCompletion,
    OrgYearCompletion,
)
from ..selectors import (
    FIGURE_FIELDS,
    KIND_FIELDS,
    ZERO,
    Requirement,
    YearFigures,
    _class_counts,
    requirement_met,
    requirement_of,
    rules_for_paths,
)
from ._common import COMPLETION_FIELDS, COUNT_FIELDS, GROUP_FIELD, YEAR_FIELDS, _chunks
from .online import online_refresh

if TYPE_CHECKING:
    from .ledger import _Line

# Distinct increments up to which ``_apply_org_deltas`` writes one UPDATE … SET x = x + Δ each
# (an activity's 50 attendees are one); beyond, one UPDATE … FROM a VALUES list per 400 rows.
GROUPED_UPDATES_MAX = 4
DELTA_ROWS = 400


def _apply_hours(rows: Sequence[_Line] | Sequence[LearningHourEntry]) -> None:
    """Add the rows to ``MemberYearHours`` by increments, creating the rows that are missing: one
    ``INSERT … ON CONFLICT (member, year) DO UPDATE SET x = x + excluded.x`` per 400 member-years
    (a check-in's one line is one statement; a rebuild's thousands of members, each with its own
    sums, a few)."""
    deltas: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        deltas[(row.member_id, row.year)][KIND_FIELDS[HourKind(row.kind)]] += row.hours
        deltas[(row.member_id, row.year)]["total"] += row.hours
    if not deltas:
        return
    qn = connection.ops.quote_name
    table = qn(MemberYearHours._meta.db_table)
    columns = ", ".join(qn(c) for c in ("member_id", "year", *YEAR_FIELDS, "classes_completed", "completed"))
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in YEAR_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * (len(YEAR_FIELDS) + 4)) + ")"
    items = sorted(deltas.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), DELTA_ROWS):
            part = items[start : start + DELTA_ROWS]
            params: list[Any] = []
            for (member_id, year), delta in part:
                params += [member_id, year, *(adapt(delta.get(f, ZERO)) for f in YEAR_FIELDS), 0, False]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({qn('member_id')}, {qn('year')}) DO UPDATE SET {sets}",
                params,
            )
    # Online hours are also kept per subtree (``learning.online``): the members whose moved.
    online_refresh({row.member_id for row in rows if row.kind == HourKind.ONLINE})


def _set_classes(counts: dict[tuple[int, int], int]) -> None:
    """Set ``MemberYearHours.classes_completed`` of the given member-years, creating the rows that
    are missing (a class may end in a year in which its sessions credited no hours): one
    ``INSERT … ON CONFLICT (member, year) DO UPDATE`` per 400 member-years."""
    if not counts:
        return
    qn = connection.ops.quote_name
    table = qn(MemberYearHours._meta.db_table)
    columns = ", ".join(qn(c) for c in ("member_id", "year", *YEAR_FIELDS, "classes_completed", "completed"))
    row_sql = "(" + ", ".join(["%s"] * (len(YEAR_FIELDS) + 4)) + ")"
    items = sorted(counts.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), DELTA_ROWS):
            part = items[start : start + DELTA_ROWS]
            params: list[Any] = []
            for (member_id, year), n in part:
                params += [member_id, year, *(adapt(ZERO) for _f in YEAR_FIELDS), n, False]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({qn('member_id')}, {qn('year')}) DO UPDATE SET "
                f"{qn('classes_completed')} = excluded.{qn('classes_completed')}",
                params,
            )


def _sync_classes(members: list[dict[str, Any]]) -> set[int]:
    """Bring ``MemberYearHours.classes_completed`` of locked members in line with their attendance
    of training classes (规划: one concentrated training may be a completed class) and return the
    members whose count changed, for ``_members_refresh``. Only members who attended a class
    session or have a completed class on record (``_lock_members(classes=True)`` tells) are read:
    an attendance change elsewhere costs nothing more."""
    ids = sorted(m["id"] for m in members if m.get("in_class") or m.get("had_class"))
    if not ids:
        return set()
    want = _class_counts(Q(member_id__in=ids))
    have = {
        (member_id, year): n
        for member_id, year, n in MemberYearHours.objects.filter(member_id__in=ids, classes_completed__gt=0)
        .order_by()
        .values_list("member_id", "year", "classes_completed")
    }
    changes = {key: want.get(key, 0) for key in set(want) | set(have) if want.get(key, 0) != have.get(key, 0)}
    _set_classes(changes)
    return {member_id for member_id, _year in changes}


def _add_from_values(
    model: Any,
    keys: tuple[str, ...],
    fields: tuple[str, ...],
    items: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
) -> None:
    """``UPDATE t SET f = t.f + d.f, … FROM (VALUES …) d WHERE t.key = d.key`` for rows that exist,
    400 rows a statement (SQLite ≥ 3.33 and PostgreSQL both have UPDATE … FROM): the increments
    of thousands of rows, each its own, in a few statements."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [*keys, *fields]
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + d.{qn(f)}" for f in fields)
    match = " AND ".join(f"{table}.{qn(k)} = d.{qn(k)}" for k in keys)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(items), DELTA_ROWS):
            part = items[start : start + DELTA_ROWS]
            params: list[Any] = []
            for key, delta in part:
                params += [*key, *(adapt(delta.get(f, 0)) for f in fields)]
            cursor.execute(
                f"WITH d ({', '.join(qn(c) for c in columns)}) AS (VALUES {', '.join([row_sql] * len(part))}) "
                f"UPDATE {table} SET {sets} FROM d WHERE {match}",
                params,
            )


# --- summaries kept with the ledger ---------------------------------------------------------------

MEMBER_STATE_FIELDS = ("id", "organization_id", "org_path", "status", "categories", "is_exempt", "is_active")


def _lock_members(
    member_ids: Iterable[int], states: dict[int, MemberRequirement] | None = None, *, classes: bool = False
) -> list[dict[str, Any]]:
    """Lock the members' rows in id order and read what their requirement depends on, then lock
    their requirement states (in the same order). Every writer of a member's summaries holds these
    locks, so their read–compute–write cannot interleave; the requirement recount after a rule
    change (``recount.py``), which must not hold members for its duration, takes only the
    states' locks, batch by batch, before it touches a member's summaries. The states locked are
    added to ``states`` when it is given (for ``_members_refresh``, which then need not read them
    again). With ``classes`` each member also says, in the same query, whether they attended a
    training class session (``in_class``) or have a completed class on record (``had_class``):
    who ``_sync_classes`` must look at."""
    ids = sorted(set(member_ids))
    if not ids:
        return []
    locking = Member.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    if classes:
        members = list(
            locking.annotate(
                in_class=Exists(
                    Attendance.objects.filter(member=OuterRef("pk"), activity__training_class__isnull=False)
                ),
                had_class=Exists(
                    MemberYearHours.objects.filter(member=OuterRef("pk"), classes_completed__gt=0)
                ),
            ).values(*MEMBER_STATE_FIELDS, "in_class", "had_class")
        )
    else:
        members = list(locking.values(*MEMBER_STATE_FIELDS))
    if states is not None:
        states.update(
            (state.member_id, state)
            for state in MemberRequirement.objects.select_for_update()
            .filter(member_id__in=ids)
            .order_by("member_id")
        )
    elif connection.features.has_select_for_update:
        list(
            MemberRequirement.objects.select_for_update()
            .filter(member_id__in=ids)
            .order_by("member_id")
            .values_list("member_id", flat=True)
        )
    return members


def _categories(values: Iterable[str] | None) -> tuple[str, ...]:
    """A member's categories as the summaries count them: each once, in a stable order."""
    return tuple(sorted(set(values or ())))


def _listed(values: Iterable[str] | None) -> tuple[str, ...]:
    """A member's categories as listed: what the state stores and compares, order included (the
    recount compares the two lists in SQL)."""
    return tuple(values or ())


def _cap(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _state_tuple(state: MemberRequirement | None) -> tuple[Any, ...] | None:
    if state is None:
        return None
    return (
        state.organization_id,
        state.group,
        Decimal(state.required_hours),
        state.needs_concentrated,
        Decimal(state.concentrated_min_hours),
        state.counts_online,
        _cap(state.online_cap),
        state.counts_self,
        _cap(state.self_cap),
        _listed(state.categories),
    )


def _requirement_tuple(
    organization_id: int, req: Requirement, categories: Iterable[str] | None
) -> tuple[Any, ...]:
    """What ``_state_tuple`` of the state for ``req`` at the organisation would be."""
    return (
        organization_id,
        req.group,
        req.required_hours,
        req.needs_concentrated,
        req.concentrated_min_hours,
        req.counts_online,
        req.online_cap,
        req.counts_self,
        req.self_cap,
        _listed(categories),
    )


# The fields of a requirement state that come from the requirement itself.
STATE_REQUIREMENT_FIELDS = (
    "group",
    "required_hours",
    "needs_concentrated",
    "concentrated_min_hours",
    "counts_online",
    "online_cap",
    "counts_self",
    "self_cap",
)


def _state_for(member_id: int, organization_id: int, req: Requirement, categories: Any) -> MemberRequirement:
    return MemberRequirement(
        member_id=member_id,
        organization_id=organization_id,
        categories=list(_listed(categories)),
        **{name: getattr(req, name) for name in STATE_REQUIREMENT_FIELDS},
    )


def _save_states(
    create: list[MemberRequirement], update: list[MemberRequirement], delete: list[int], moved: set[int]
) -> None:
    """Write requirement states: one UPDATE per distinct (group, hours, condition) for members who
    stay in their organisation (a rule change touches thousands with a handful of statements)."""
    if delete:
        MemberRequirement.objects.filter(member_id__in=delete).delete()
    if create:
        MemberRequirement.objects.bulk_create(create, batch_size=1000)
    same_org: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for state in update:
        values = tuple(getattr(state, name) for name in STATE_REQUIREMENT_FIELDS)
        if state.member_id in moved:
            MemberRequirement.objects.filter(member_id=state.member_id).update(
                organization_id=state.organization_id,
                categories=list(_listed(state.categories)),
                **dict(zip(STATE_REQUIREMENT_FIELDS, values, strict=True)),
            )
        else:
            same_org[(*values, _listed(state.categories))].append(state.member_id)
    for key, member_ids in same_org.items():
        *requirement, categories = key
        for chunk in _chunks(member_ids, 1000):
            MemberRequirement.objects.filter(member_id__in=chunk).update(
                categories=list(categories), **dict(zip(STATE_REQUIREMENT_FIELDS, requirement, strict=True))
            )


def _save_flags(flags: dict[bool, list[int]]) -> None:
    for value, row_ids in flags.items():
        for chunk in _chunks(row_ids, 1000):
            MemberYearHours.objects.filter(pk__in=chunk).update(completed=value)


# Changes to the organisation counts, each given at the organisation where it happens (they are
# added to it and to every ancestor): by requirement group at a path; completions by group at
# (path, year); by category at (path, category) — ``members`` and ``required``; and completions by
# category at (path, year, category) — ``completed``.
OrgDeltas = tuple[
    dict[str, Counter[str]],
    dict[tuple[str, int], Counter[str]],
    dict[tuple[str, str], Counter[str]],
    dict[tuple[str, int, str], Counter[str]],
]


def _new_deltas() -> OrgDeltas:
    return defaultdict(Counter), defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)


def _merge_deltas(into: OrgDeltas, more: OrgDeltas) -> None:
    for target, source in zip(into, more, strict=True):
        # zip over the tuple joins its four key types into one; each pair has the same key type.
        merged: dict[Any, Counter[str]] = target  # type: ignore[assignment]
        changes: dict[Any, Counter[str]] = source  # type: ignore[assignment]
        for key, delta in changes.items():
            merged.setdefault(key, Counter()).update(delta)


def _members_refresh(  # noqa: PLR0912 - one pass over the locked members, old and new state side by side
    members: list[dict[str, Any]],
    org_deltas: OrgDeltas | None = None,
    states: dict[int, MemberRequirement] | None = None,
) -> None:
    """Recompute, for locked members, the requirement they are counted under and whether each
    of their years is complete, and apply the differences to the organisation summaries — or add
    them to ``org_deltas``, for a caller that applies the changes of many chunks at once.
    ``states``: the members' requirement states as ``_lock_members`` read them, if it did."""
    if not members:
        return
    ids = [m["id"] for m in members]
    rules = rules_for_paths({m["org_path"] for m in members if m["is_active"]})
    if states is None:
        states = {s.member_id: s for s in MemberRequirement.objects.filter(member_id__in=ids)}
    else:
        states = {pk: states[pk] for pk in ids if pk in states}
    years: dict[int, list[Any]] = defaultdict(list)
    for row in MemberYearHours.objects.filter(member_id__in=ids).values(
        "id", "member_id", "year", *FIGURE_FIELDS, "completed"
    ):
        years[row["member_id"]].append(row)
    org_paths = {m["organization_id"]: m["org_path"] for m in members}
    old_orgs = {s.organization_id for s in states.values()} - set(org_paths)
    if old_orgs:
        org_paths.update(Organization.objects.filter(pk__in=old_orgs).values_list("pk", "path"))

    deltas = _new_deltas()
    counts, completions, category_counts, category_completions = deltas
    create: list[MemberRequirement] = []
    update: list[MemberRequirement] = []
    delete: list[int] = []
    moved: set[int] = set()
    flags: dict[bool, list[int]] = {True: [], False: []}
    for m in members:
        old = states.get(m["id"])
        req = None
        new_tuple = None
        categories = _categories(m["categories"])
        old_categories = _categories(old.categories) if old is not None else ()
        if m["is_active"]:
            req = requirement_of(
                status=m["status"],
                categories=m["categories"],
                is_exempt=m["is_exempt"],
                rule=rules[m["org_path"]],
            )
            new_tuple = _requirement_tuple(m["organization_id"], req, m["categories"])
        old_path = org_paths.get(old.organization_id) if old is not None else None
        if _state_tuple(old) != new_tuple:
            if old is not None and old_path is not None:
                counts[old_path]["members"] -= 1
                counts[old_path][GROUP_FIELD[RequirementGroup(old.group)]] -= 1
                for category in old_categories:
                    category_counts[(old_path, category)]["members"] -= 1
                    category_counts[(old_path, category)]["required"] -= old.group in COMPLETION_FIELDS
            if req is not None:
                counts[m["org_path"]]["members"] += 1
                counts[m["org_path"]][GROUP_FIELD[RequirementGroup(req.group)]] += 1
                for category in categories:
                    category_counts[(m["org_path"], category)]["members"] += 1
                    category_counts[(m["org_path"], category)]["required"] += req.group in COMPLETION_FIELDS
            if req is None:
                delete.append(m["id"])
            else:
                state = _state_for(m["id"], m["organization_id"], req, m["categories"])
                (update if old is not None else create).append(state)
                if old is not None and old.organization_id != m["organization_id"]:
                    moved.add(m["id"])
        for row in years[m["id"]]:
            done = req is not None and requirement_met(req, YearFigures.of(row))
            if (
                row["completed"]
                and old is not None
                and old_path is not None
                and old.group in COMPLETION_FIELDS
            ):
                completions[(old_path, row["year"])][old.group] -= 1
                for category in old_categories:
                    category_completions[(old_path, row["year"], category)]["completed"] -= 1
            if done and req is not None:
                completions[(m["org_path"], row["year"])][req.group] += 1
                for category in categories:
                    category_completions[(m["org_path"], row["year"], category)]["completed"] += 1
            if done != row["completed"]:
                flags[done].append(row["id"])
    _save_states(create, update, delete, moved)
    _save_flags(flags)
    if org_deltas is None:
        _apply_org_deltas(*deltas)
        return
    _merge_deltas(org_deltas, deltas)


def _cumulate(
    direct: dict[Any, Counter[str]], path_of: Callable[[Any], str]
) -> dict[tuple[str, Any], Counter[str]]:
    totals: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    for key, delta in direct.items():
        path = path_of(key)
        rest = key[1] if isinstance(key, tuple) else None
        for prefix in ancestor_paths(path):
            totals[(prefix, rest)].update(delta)
    return totals


def _apply_org_deltas(
    counts: dict[str, Counter[str]],
    completions: dict[tuple[str, int], Counter[str]],
    category_counts: dict[tuple[str, str], Counter[str]] | None = None,
    category_completions: dict[tuple[str, int, str], Counter[str]] | None = None,
) -> None:
    """Add changes given at an organisation's path to it and to every ancestor (cumulative, like
    ``organizations.services.member_counts_add``), by increments: the counts by requirement group,
    then those by member category (always in this order, as the recount does, so that writers
    lock the rows in one order)."""
    _apply_group_deltas(counts, completions)
    _apply_category_deltas(category_counts or {}, category_completions or {})


def _upsert_increments(
    model: Any,
    keys: tuple[str, ...],
    fields: tuple[str, ...],
    rows: list[tuple[tuple[Any, ...], list[int]]],
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET f = f + excluded.f`` for each (key, values)
    row (created when missing), 400 rows a statement, in the order given (callers sort by
    organisation)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(c) for c in (*keys, *fields))
    conflict = ", ".join(qn(k) for k in keys)
    sets = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in fields)
    row_sql = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), DELTA_ROWS):
            part = rows[start : start + DELTA_ROWS]
            params: list[Any] = []
            for key, values in part:
                params += [*key, *values]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}",
                params,
            )


CATEGORY_COUNT_FIELDS = ("members", "required")


def _up_the_tree(
    direct: dict[Any, Counter[str]], fields: tuple[str, ...]
) -> dict[tuple[Any, ...], list[int]]:
    """Changes keyed (path, *rest) added to every prefix of the path: {(prefix, *rest): values},
    the rows whose values are all 0 left out. Plain lists: an import's thousands of members add
    up tens of thousands of times here."""
    totals: dict[tuple[Any, ...], list[int]] = {}
    for (path, *rest), delta in direct.items():
        values = [delta[name] for name in fields]
        if not any(values):
            continue
        for prefix in ancestor_paths(path):
            key = (prefix, *rest)
            row = totals.get(key)
            if row is None:
                totals[key] = list(values)
            else:
                for i, value in enumerate(values):
                    row[i] += value
    return {key: values for key, values in totals.items() if any(values)}


def _apply_category_deltas(
    counts: dict[tuple[str, str], Counter[str]], completions: dict[tuple[str, int, str], Counter[str]]
) -> None:
    """The changes by member category, added to the organisation and every ancestor."""
    count_rows = _up_the_tree(counts, CATEGORY_COUNT_FIELDS)
    year_rows = _up_the_tree(completions, ("completed",))
    if not count_rows and not year_rows:
        return
    prefixes = {key[0] for key in count_rows} | {key[0] for key in year_rows}
    org_ids = dict(Organization.objects.filter(path__in=sorted(prefixes)).values_list("path", "pk"))
    by_org = [
        ((org_ids[key[0]], *key[1:]), values) for key, values in count_rows.items() if key[0] in org_ids
    ]
    by_org.sort(key=lambda row: row[0])
    _upsert_increments(OrgCategoryCounts, ("organization_id", "category"), CATEGORY_COUNT_FIELDS, by_org)
    by_org = [((org_ids[key[0]], *key[1:]), values) for key, values in year_rows.items() if key[0] in org_ids]
    by_org.sort(key=lambda row: row[0])
    _upsert_increments(
        OrgYearCategoryCompletion, ("organization_id", "year", "category"), ("completed",), by_org
    )


def _apply_group_deltas(
    counts: dict[str, Counter[str]], completions: dict[tuple[str, int], Counter[str]]
) -> None:
    """By requirement group: one UPDATE per distinct change when there are few, else one UPDATE
    from a list of per-organisation increments."""
    count_totals = _cumulate(counts, lambda key: key)
    year_totals = _cumulate(completions, lambda key: key[0])
    count_totals = {k: v for k, v in count_totals.items() if any(v.values())}
    year_totals = {k: v for k, v in year_totals.items() if any(v.values())}
    if not count_totals and not year_totals:
        return
    prefixes = {p for p, _ in count_totals} | {p for p, _ in year_totals}
    org_ids = dict(Organization.objects.filter(path__in=sorted(prefixes)).values_list("path", "pk"))

    if count_totals:
        wanted = {org_ids[p] for p, _ in count_totals if p in org_ids}
        have = set(
            OrgRequirementCounts.objects.filter(organization_id__in=sorted(wanted)).values_list(
                "organization_id", flat=True
            )
        )
        OrgRequirementCounts.objects.bulk_create(
            [OrgRequirementCounts(organization_id=pk) for pk in sorted(wanted - have)],
            ignore_conflicts=True,
        )
        by_vector: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
        for (path, _none), delta in sorted(count_totals.items()):
            if path in org_ids:
                by_vector[tuple(sorted((f, d) for f, d in delta.items() if d))].append(org_ids[path])
        if len(by_vector) > GROUPED_UPDATES_MAX:
            _add_from_values(
                OrgRequirementCounts,
                ("organization_id",),
                COUNT_FIELDS,
                [((pk,), dict(vector)) for vector, pks in by_vector.items() for pk in pks],
            )
        else:
            for vector, pks in by_vector.items():
                OrgRequirementCounts.objects.filter(organization_id__in=pks).update(
                    **{name: F(name) + delta for name, delta in vector}
                )
    if year_totals:
        wanted_years = {(org_ids[p], y) for p, y in year_totals if p in org_ids}
        have_years = set(
            OrgYearCompletion.objects.filter(
                organization_id__in=sorted({pk for pk, _ in wanted_years}),
                year__in=sorted({y for _, y in wanted_years}),
            ).values_list("organization_id", "year")
        )
        OrgYearCompletion.objects.bulk_create(
            [OrgYearCompletion(organization_id=pk, year=y) for pk, y in sorted(wanted_years - have_years)],
            ignore_conflicts=True,
        )
        by_year_vector: dict[tuple[int, tuple[tuple[str, int], ...]], list[int]] = defaultdict(list)
        for (path, year), delta in sorted(year_totals.items()):
            if path in org_ids:
                by_year_vector[(year, tuple(sorted((f, d) for f, d in delta.items() if d)))].append(
                    org_ids[path]
                )
        if len(by_year_vector) > GROUPED_UPDATES_MAX:
            _add_from_values(
                OrgYearCompletion,
                ("organization_id", "year"),
                COMPLETION_FIELDS,
                [((pk, year), dict(vector)) for (year, vector), pks in by_year_vector.items() for pk in pks],
            )
        else:
            for (year, vector), pks in by_year_vector.items():
                OrgYearCompletion.objects.filter(year=year, organization_id__in=pks).update(
                    **{name: F(name) + delta for name, delta in vector}
                )


@transaction.atomic
def learning_members_changed(*, member_ids: Iterable[int]) -> None:
    """Bring the requirement summaries in line after members changed in a way their requirement
    depends on (created, status, categories, exemption, taken off the roll, transferred). Member
    services call this inside their transaction; until they do, the summary detects the members it
    does not count (see ``selectors.learning_summary``) and the rebuild repairs the rest.
    The organisation counts get the changes of all members at once (an import of thousands
    touches the same ancestors from every chunk)."""
    deltas = _new_deltas()
    ids = sorted(set(member_ids))
    for chunk in _chunks(ids, 1000):
        _members_refresh(_lock_members(chunk), deltas)
    _apply_org_deltas(*deltas)
    online_refresh(ids)  # a transfer takes the member's online hours along


@transaction.atomic
def learning_org_moved(*, old_parent_path: str, new_parent_path: str, organization: Organization) -> None:
    """Move an organisation's cumulative requirement counts from its old ancestors to its new ones
    (call after ``organization_move``; like ``member_counts_add`` there)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    completions: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    row = OrgRequirementCounts.objects.filter(organization=organization).values(*COUNT_FIELDS).first()
    if row:
        counts[old_parent_path].update({k: -v for k, v in row.items()})
        counts[new_parent_path].update(row)
    for year_row in OrgYearCompletion.objects.filter(organization=organization).values(
        "year", *COMPLETION_FIELDS
    ):
        year = year_row.pop("year")
        completions[(old_parent_path, year)].update({k: -v for k, v in year_row.items()})
        completions[(new_parent_path, year)].update(year_row)
    category_counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for category, members, required in OrgCategoryCounts.objects.filter(
        organization=organization
    ).values_list("category", *CATEGORY_COUNT_FIELDS):
        category_counts[(old_parent_path, category)].update({"members": -members, "required": -required})
        category_counts[(new_parent_path, category)].update({"members": members, "required": required})
    category_completions: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    for year, category, completed in OrgYearCategoryCompletion.objects.filter(
        organization=organization
    ).values_list("year", "category", "completed"):
        category_completions[(old_parent_path, year, category)]["completed"] -= completed
        category_completions[(new_parent_path, year, category)]["completed"] += completed
    _apply_org_deltas(counts, completions, category_counts, category_completions)
