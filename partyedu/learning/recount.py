"""The recount after an hour requirement changed: every member of the subtree counted under the
rule now in force, in SQL.

A rule change can alter the requirement of every member below it (at a city's root: 100,000
members, 8,000 organisations), so nothing here loops over members or organisations in Python. The
subtree's members are taken in batches of ``BATCH_MEMBERS`` consecutive ids, and each batch is one
short transaction of seven statements:

1. lock the batch's ``MemberRequirement`` rows (PostgreSQL; in member id order);
2. the change of the organisation counts: each member whose requirement changes is −1 at its old
   organisation and group and +1 at its new one; the sums per organisation are spread to every
   ancestor by ``GROUP BY`` on the path prefixes (``substr(path, 1, 4·n)``) and added with one
   ``INSERT … SELECT … ON CONFLICT DO UPDATE SET x = x + excluded.x`` (rows created as needed);
3. the same for the completions per organisation and year (``MemberYearHours.completed`` before,
   the requirement met under the new rule after);
4. and 5. the same two by member category (``OrgCategoryCounts``, ``OrgYearCategoryCompletion``),
   each member's JSON list of categories expanded to one row per category;
6. ``UPDATE … FROM`` the members' requirement states that differ;
7. ``UPDATE … FROM`` the completion flags that differ.

The new requirement is ``selectors.requirement_annotations`` — the rules of ``requirement_of`` as
``CASE`` expressions, the nearest rule of each member chosen by its path — compiled by the ORM
into each statement. Members whose state is missing or stale in a way a rule cannot explain (an
active member without a state, a state of a member off the roll: written by a loader that did not
call the learning hook) go through ``learning_members_changed`` first, as they would have anyway.

Locking: the recount reads members and never locks them, so members' own writes (transfers,
check-ins) never wait for it. It writes only derived rows and serialises with the ledger by the
``MemberRequirement`` row, which every writer of a member's summaries locks right after the
member (``services._lock_members``) and this recount locks first in each batch; both take them
in member id order, and then ``MemberYearHours`` and the organisation rows, so they cannot
deadlock on them. A check-in for a member of the batch waits for that batch (≈ 0.2 s), then
reads the state the batch wrote and applies its own change on top of it. The organisation rows are
changed by increments, never overwritten, so a concurrent writer's increment to the same row is
never lost. We chose this over recomputing the subtree's counts from a snapshot and overwriting
them, which would have to lock every summary row of the subtree for the whole recount to be
correct. A member whose state appears after step 1 (created meanwhile by a service) was counted
by its writer under the rule already committed: its old and new values are equal, and the flag
update compares the row's own current hours (re-read under its lock), so it adds nothing.

Running it again changes nothing (every statement writes only differences), so a job retried
after a crash, or a second job for the same subtree, is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Length

from partyedu.core.scope import PATH_END, subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from .choices import REQUIRED_GROUPS, RequirementGroup
from .models import (
    MemberRequirement,
    MemberYearHours,
    OrgCategoryCounts,
    OrgRequirementCounts,
    OrgYearCategoryCompletion,
    OrgYearCompletion,
)
from .selectors import EPSILON, Rule, requirement_annotations, rules_in_subtree

# Members per transaction: what a check-in of one of them may wait for (≈ 0.2 s on PostgreSQL).
BATCH_MEMBERS = 5000
# A batch that meets a deadlock (with a writer adding to the same organisation rows) is retried.
BATCH_ATTEMPTS = 3
# Rule changes committed while a recount runs are picked up by running it again, this often.
MAX_PASSES = 3

# The count of each requirement group in ``OrgRequirementCounts``.
GROUP_OF_FIELD = {
    "general": RequirementGroup.GENERAL.value,
    "cadre": RequirementGroup.CADRE.value,
    "candidate": RequirementGroup.CANDIDATE.value,
    "exempt": RequirementGroup.EXEMPT.value,
    "not_required": RequirementGroup.NONE.value,
}
REQUIRED = tuple(g.value for g in REQUIRED_GROUPS)
# What the recount compares of a member's requirement besides group, organisation and categories:
# (annotation of ``requirement_annotations``, ``MemberRequirement`` column, short name in SQL).
REQUIREMENT_COLUMNS = (
    ("rq_hours", "required_hours", "hours"),
    ("rq_needs", "needs_concentrated", "needs"),
    ("rq_conc_min", "concentrated_min_hours", "conc_min"),
    ("rq_counts_online", "counts_online", "counts_online"),
    ("rq_online_cap", "online_cap", "online_cap"),
    ("rq_counts_self", "counts_self", "counts_self"),
    ("rq_self_cap", "self_cap", "self_cap"),
)
# Those that may be null (no cap): compared with a stand-in no cap can equal.
NULLABLE = ("online_cap", "self_cap")
STATE_COLUMNS = (
    "member_id",
    "org_id",
    "new_path",
    "new_group",
    *(f"new_{short}" for _a, _c, short in REQUIREMENT_COLUMNS),
    "old_org",
    "old_path",
    "old_group",
    *(f"old_{short}" for _a, _c, short in REQUIREMENT_COLUMNS),
    "new_cats",
    "old_cats",
)


@dataclass
class RecountTally:
    """What a recount changed: members counted under another requirement (group, hours,
    condition or organisation) and member-years that moved between 达标 and 未达标."""

    members_changed: int = 0
    completions_changed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: Any) -> str:
    return qn(model._meta.db_table)


def _in_list(values: Sequence[str]) -> str:
    # Choice codes (fixed identifiers of ours, never user input) as SQL literals.
    return ", ".join(f"'{v}'" for v in values)


def _range_sql(alias: str, path: str, lo: int, hi: int | None) -> tuple[str, list[Any]]:
    """The batch's members: in the subtree, active, ids in [lo, hi)."""
    sql = f"{alias}.{qn('org_path')} >= %s AND {alias}.{qn('org_path')} < %s AND {alias}.{qn('is_active')}"
    sql += f" AND {alias}.{qn('id')} >= %s"
    params: list[Any] = [path, path + PATH_END, lo]
    if hi is not None:
        sql += f" AND {alias}.{qn('id')} < %s"
        params.append(hi)
    return sql, params


def _ids_sql(column: str, lo: int, hi: int | None) -> tuple[str, list[Any]]:
    """The batch's id range on another table's member column (so that its index is used)."""
    if hi is None:
        return f"{column} >= %s", [lo]
    return f"{column} >= %s AND {column} < %s", [lo, hi]


def _states_sql(rules: list[Rule], path: str, lo: int, hi: int | None) -> tuple[str, list[Any]]:
    """``s`` (a subquery): for each member of the batch that has a requirement state, the
    requirement under ``rules`` (new) beside the stored one (old), with the organisations' paths."""
    members = Member.objects.filter(subtree_q("org_path", [path]), is_active=True, pk__gte=lo)
    if hi is not None:
        members = members.filter(pk__lt=hi)
    state = "learning_requirement__"
    qs = (
        members.filter(**{f"{state}isnull": False})
        .order_by()
        .annotate(**requirement_annotations(rules))
        .annotate(
            member_id=F("pk"),
            org_id=F("organization_id"),
            new_path=F("org_path"),
            new_group=F("rq_group"),
            old_org=F(f"{state}organization_id"),
            old_path=F(f"{state}organization__path"),
            old_group=F(f"{state}group"),
            new_cats=F("categories"),
            old_cats=F(f"{state}categories"),
            **{f"new_{short}": F(annotation) for annotation, _c, short in REQUIREMENT_COLUMNS},
            **{f"old_{short}": F(f"{state}{column}") for _a, column, short in REQUIREMENT_COLUMNS},
        )
        .values_list(*STATE_COLUMNS)
    )
    sql, params = qs.query.sql_with_params()
    return f"({sql})", list(params)


def _differs(short: str) -> str:
    if short in NULLABLE:
        return f"COALESCE(s.new_{short}, -1) <> COALESCE(s.old_{short}, -1)"
    return f"s.new_{short} <> s.old_{short}"


CHANGED = (
    "(s.org_id <> s.old_org OR s.new_group <> s.old_group OR "
    + " OR ".join(_differs(short) for _a, _c, short in REQUIREMENT_COLUMNS)
    + " OR s.new_cats <> s.old_cats)"
)
# The columns of a year's figures in ``MemberYearHours`` (``selectors.YearFigures``).
FIGURES = {
    "concentrated": "concentrated",
    "collective": "collective",
    "online": "online",
    "self": "self_study",
    "classes": "classes_completed",
}


def _capped_sql(counts: str, hours: str, cap: str) -> str:
    return f"(CASE WHEN {counts} THEN (CASE WHEN {cap} IS NULL OR {hours} <= {cap} THEN {hours} ELSE {cap} END) ELSE 0 END)"


def _met_sql(req: Callable[[str], str], year: Callable[[str], str]) -> str:
    """The requirement met by a year — ``requirement_met`` in SQL (hours have one decimal: a
    threshold lowered by half a step is exact). ``req(short)``: the SQL of the requirement's
    ``group`` or of a short name of ``REQUIREMENT_COLUMNS``; ``year(name)``: of a figure of
    ``FIGURES``."""
    candidate = RequirementGroup.CANDIDATE.value
    group, concentrated = req("group"), year("concentrated")
    counted = (
        f"(CASE WHEN {group} = '{candidate}' THEN {concentrated} ELSE {concentrated} + {year('collective')}"
        f" + {_capped_sql(req('counts_online'), year('online'), req('online_cap'))}"
        f" + {_capped_sql(req('counts_self'), year('self'), req('self_cap'))} END)"
    )
    training = (
        f"({year('classes')} > 0 OR ({concentrated} > {EPSILON}"
        f" AND {concentrated} >= {req('conc_min')} - {EPSILON}))"
    )
    return (
        f"({group} IN ({_in_list(REQUIRED)}) AND {counted} >= {req('hours')} - {EPSILON}"
        f" AND (NOT {req('needs')} OR {training}))"
    )


def _year_sql(alias: str) -> Callable[[str], str]:
    return lambda name: f"{alias}.{qn(FIGURES[name])}"


def _prefixes_sql(depth: int, fields: Sequence[str], keys: Sequence[str] = ()) -> str:
    """``up``: the rows of ``direct`` (path, *keys, *fields) summed over every prefix of their
    path — each organisation's change added to it and to all its ancestors."""
    levels = ", ".join(f"({n})" for n in range(1, depth + 1))
    prefix = f"substr(direct.path, 1, lv.n * {SEGMENT_WIDTH})"
    key_cols = "".join(f", direct.{k}" for k in keys)
    sums = ", ".join(f"SUM(direct.{f}) AS {f}" for f in fields)
    return (
        f"lv (n) AS (VALUES {levels}), "
        f"up AS (SELECT {prefix} AS prefix{key_cols}, {sums} FROM direct"
        f" JOIN lv ON lv.n * {SEGMENT_WIDTH} <= length(direct.path) GROUP BY {prefix}{key_cols})"
    )


def _upsert_sql(model: Any, keys: Sequence[str], fields: Sequence[str]) -> str:
    """Add ``up``'s non-zero changes to the model's rows (created when missing), in organisation
    order (the order in which they are locked)."""
    target = table(model)
    org = table(Organization)
    columns = ", ".join(qn(c) for c in ("organization_id", *keys, *fields))
    select = ", ".join(["o.id", *(f"up.{k}" for k in keys), *(f"up.{f}" for f in fields)])
    nonzero = " OR ".join(f"up.{f} <> 0" for f in fields)
    conflict = ", ".join(qn(c) for c in ("organization_id", *keys))
    sets = ", ".join(f"{qn(f)} = {target}.{qn(f)} + excluded.{qn(f)}" for f in fields)
    order = ", ".join(["o.id", *(f"up.{k}" for k in keys)])
    return (
        f"INSERT INTO {target} ({columns}) SELECT {select} FROM up JOIN {org} o ON o.{qn('path')} = up.prefix"
        f" WHERE {nonzero} ORDER BY {order} ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    )


COUNT_FIELDS = ("members", *GROUP_OF_FIELD)
COMPLETION_FIELDS = ("general", "cadre")
CATEGORY_FIELDS = ("members", "required")
# The batch's old and new requirements, computed once per batch (a temporary table: this session's).
STATES_TABLE = "recount_batch_states"
CHANGES_TABLE = "recount_batch_hours"  # and the member-years whose completion may change


def _count_deltas_sql(states: str, depth: int) -> str:
    def side(path: str, group: str, sign: str) -> str:
        flags = ", ".join(
            f"CASE WHEN {group} = '{GROUP_OF_FIELD[name]}' THEN {sign}1 ELSE 0 END"
            for name in COUNT_FIELDS[1:]
        )
        return f"SELECT {path}, {sign}1, {flags} FROM ch"

    fields = ", ".join(COUNT_FIELDS)
    sums = ", ".join(f"SUM({f}) AS {f}" for f in COUNT_FIELDS)
    return (
        f"WITH s AS {states}, ch AS (SELECT * FROM s WHERE {CHANGED}), "
        f"d (path, {fields}) AS ({side('new_path', 'new_group', '')} UNION ALL "
        f"{side('old_path', 'old_group', '-')}), "
        f"direct AS (SELECT path, {sums} FROM d GROUP BY path), "
        f"{_prefixes_sql(depth, COUNT_FIELDS)} "
        f"{_upsert_sql(OrgRequirementCounts, (), COUNT_FIELDS)}"
    )


def _hour_changes_select(hour_ids: str) -> str:
    """The member-years (of the members in ``s``) whose contribution to the completions may
    change: the member's requirement changed, or whether it is met did."""
    hours = table(MemberYearHours)
    met = _met_sql(lambda short: f"s.new_{short}", _year_sql("h"))
    return (
        f"SELECT s.*, h.{qn('year')} AS year, h.{qn('completed')} AS was_met, {met} AS now_met"
        f" FROM s JOIN {hours} h ON h.{qn('member_id')} = s.member_id AND {hour_ids}"
        f" WHERE {CHANGED} OR h.{qn('completed')} <> {met}"
    )


def _hour_changes_sql(hour_ids: str, changes: str | None) -> str:
    """``hc``: ``_hour_changes_select``, or the table the batch computed it into."""
    return f"hc AS (SELECT * FROM {changes})" if changes else f"hc AS ({_hour_changes_select(hour_ids)})"


def _completion_deltas_sql(states: str, depth: int, hour_ids: str, changes: str | None = None) -> str:

    def side(path: str, group: str, sign: str, condition: str) -> str:
        flags = ", ".join(
            f"CASE WHEN {group} = '{GROUP_OF_FIELD[name]}' THEN {sign}1 ELSE 0 END"
            for name in COMPLETION_FIELDS
        )
        return f"SELECT {path}, year, {flags} FROM hc WHERE {condition}"

    fields = ", ".join(COMPLETION_FIELDS)
    sums = ", ".join(f"SUM({f}) AS {f}" for f in COMPLETION_FIELDS)
    return (
        f"WITH s AS {states}, {_hour_changes_sql(hour_ids, changes)}, "
        f"d (path, year, {fields}) AS ("
        f"{side('new_path', 'new_group', '', 'now_met')} UNION ALL "
        f"{side('old_path', 'old_group', '-', f'was_met AND old_group IN ({_in_list(REQUIRED)})')}), "
        f"direct AS (SELECT path, year, {sums} FROM d GROUP BY path, year), "
        f"{_prefixes_sql(depth, COMPLETION_FIELDS, ('year',))} "
        f"{_upsert_sql(OrgYearCompletion, ('year',), COMPLETION_FIELDS)}"
    )


def _each_category(column: str) -> tuple[str, str]:
    """A join that yields one row per element of a member's JSON list of categories, and the
    element's column."""
    if connection.vendor == "postgresql":
        return f"CROSS JOIN LATERAL jsonb_array_elements_text({column}) AS e(category)", "e.category"
    return f"JOIN json_each({column}) AS e", "e.value"


def _category_count_deltas_sql(states: str, depth: int) -> str:
    """The members and required members by category: each changed member −1 under its stored
    categories at its old organisation, +1 under its categories at its new one (a category the
    member lists twice counts once: UNION drops the duplicate rows)."""
    new_each, new_value = _each_category("ch.new_cats")
    old_each, old_value = _each_category("ch.old_cats")
    required = _in_list(REQUIRED)
    # Only members whose organisation, categories or whether they have a requirement changed: for
    # the others (a rule's hours changed) the −1 and +1 cancel out.
    relevant = (
        f"s.org_id <> s.old_org OR s.new_cats <> s.old_cats"
        f" OR (s.new_group IN ({required})) <> (s.old_group IN ({required}))"
    )
    return (
        f"WITH s AS {states}, ch AS (SELECT * FROM s WHERE {relevant}), "
        f"d (member_id, side, path, category, required) AS ("
        f"SELECT ch.member_id, 1, ch.new_path, {new_value},"
        f" CASE WHEN ch.new_group IN ({required}) THEN 1 ELSE 0 END FROM ch {new_each} UNION "
        f"SELECT ch.member_id, -1, ch.old_path, {old_value},"
        f" CASE WHEN ch.old_group IN ({required}) THEN -1 ELSE 0 END FROM ch {old_each}), "
        f"direct AS (SELECT path, category, SUM(side) AS members, SUM(required) AS required"
        f" FROM d GROUP BY path, category), "
        f"{_prefixes_sql(depth, CATEGORY_FIELDS, ('category',))} "
        f"{_upsert_sql(OrgCategoryCounts, ('category',), CATEGORY_FIELDS)}"
    )


def _category_completion_deltas_sql(
    states: str, depth: int, hour_ids: str, changes: str | None = None
) -> str:
    """The completions by category, from the same member-years as ``_completion_deltas_sql``."""
    new_each, new_value = _each_category("cc.new_cats")
    old_each, old_value = _each_category("cc.old_cats")
    counted_before = f"(hc.was_met AND hc.old_group IN ({_in_list(REQUIRED)}))"
    # Only member-years whose counting changes: met before and not now (or the reverse), or met
    # under another organisation or other categories; for the others the −1 and +1 cancel out.
    relevant = f"{counted_before} <> hc.now_met OR hc.org_id <> hc.old_org OR hc.new_cats <> hc.old_cats"
    return (
        f"WITH s AS {states}, {_hour_changes_sql(hour_ids, changes)}, "
        f"cc AS (SELECT hc.*, {counted_before} AS counted_before FROM hc WHERE {relevant}), "
        f"d (member_id, year, side, path, category) AS ("
        f"SELECT cc.member_id, cc.year, 1, cc.new_path, {new_value} FROM cc {new_each} WHERE cc.now_met UNION "
        f"SELECT cc.member_id, cc.year, -1, cc.old_path, {old_value} FROM cc {old_each}"
        f" WHERE cc.counted_before), "
        f"direct AS (SELECT path, year, category, SUM(side) AS completed FROM d GROUP BY path, year, category), "
        f"{_prefixes_sql(depth, ('completed',), ('year', 'category'))} "
        f"{_upsert_sql(OrgYearCategoryCompletion, ('year', 'category'), ('completed',))}"
    )


def _states_update_sql(states: str) -> str:
    target = table(MemberRequirement)
    sets = ", ".join(
        f"{qn(column)} = s.{value}"
        for column, value in (
            ("organization_id", "org_id"),
            ("group", "new_group"),
            *((column, f"new_{short}") for _a, column, short in REQUIREMENT_COLUMNS),
            ("categories", "new_cats"),
        )
    )
    # A plain UPDATE (not WITH … UPDATE): the sqlite3 module counts the rows of statements that
    # start with INSERT, UPDATE or DELETE only.
    return (
        f"UPDATE {target} SET {sets} FROM {states} s"
        f" WHERE {target}.{qn('member_id')} = s.member_id AND {CHANGED}"
    )


def _flags_update_sql(member_range: str, hour_ids: str) -> str:
    target = table(MemberYearHours)
    columns = {short: column for _a, column, short in REQUIREMENT_COLUMNS}
    met = _met_sql(lambda short: f"r.{qn(columns.get(short, short))}", _year_sql(target))
    # The hours are the row's own (re-read under its lock if a writer changed it meanwhile).
    return (
        f"UPDATE {target} SET {qn('completed')} = {met}"
        f" FROM {table(MemberRequirement)} r JOIN {table(Member)} m ON m.{qn('id')} = r.{qn('member_id')}"
        f" WHERE r.{qn('member_id')} = {target}.{qn('member_id')} AND {hour_ids} AND {member_range}"
        f" AND {target}.{qn('completed')} <> {met}"
    )


def _lock_sql(member_range: str) -> str:
    state = table(MemberRequirement)
    return (
        f"SELECT COUNT(*) FROM (SELECT r.{qn('member_id')} FROM {state} r"
        f" JOIN {table(Member)} m ON m.{qn('id')} = r.{qn('member_id')} WHERE {member_range}"
        f" ORDER BY r.{qn('member_id')} FOR UPDATE OF r) locked"
    )


def _recount_batch(rules: list[Rule], path: str, depth: int, lo: int, hi: int | None) -> RecountTally:
    """One batch (members of the subtree with ids in [lo, hi)), inside the caller's transaction.
    The batch's old and new requirements are computed once, into a temporary table that the
    statements then read (the rules' ``CASE`` expressions over 5,000 members are the costly
    part of each statement)."""
    states_query, query_params = _states_sql(rules, path, lo, hi)
    states, state_params = f"(SELECT * FROM {STATES_TABLE})", list[Any]()
    member_range, range_params = _range_sql("m", path, lo, hi)
    hour_ids, hour_id_params = _ids_sql(f"h.{qn('member_id')}", lo, hi)
    flag_ids, flag_id_params = _ids_sql(f"{table(MemberYearHours)}.{qn('member_id')}", lo, hi)
    tally = RecountTally()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner takes each member's list of categories for 100 rows (its default for a
            # set-returning function), so the category statements look costly enough to be
            # JIT-compiled — 0.8 s each, for a few thousand rows.
            cursor.execute("SET LOCAL jit = off")
        if connection.features.has_select_for_update:
            cursor.execute(_lock_sql(member_range), range_params)
        # After the lock: what the states hold now. A failed batch rolls the table back with it.
        cursor.execute(f"CREATE TEMPORARY TABLE {STATES_TABLE} AS {states_query[1:-1]}", query_params)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CHANGES_TABLE} AS WITH s AS {states} {_hour_changes_select(hour_ids)}",
            hour_id_params,
        )
        # The organisation changes first: they compare the stored states and flags with the new.
        cursor.execute(_count_deltas_sql(states, depth), state_params)
        cursor.execute(_completion_deltas_sql(states, depth, hour_ids, CHANGES_TABLE))
        cursor.execute(_category_count_deltas_sql(states, depth), state_params)
        cursor.execute(_category_completion_deltas_sql(states, depth, hour_ids, CHANGES_TABLE))
        cursor.execute(_states_update_sql(states), state_params)
        tally.members_changed = max(cursor.rowcount, 0)
        cursor.execute(_flags_update_sql(member_range, flag_ids), [*flag_id_params, *range_params])
        tally.completions_changed = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {STATES_TABLE}")
        cursor.execute(f"DROP TABLE {CHANGES_TABLE}")
    return tally


def _batch_starts(path: str, size: int) -> list[int]:
    """The first member id of each batch of ``size`` active members of the subtree (one query:
    every ``size``-th id by a window function)."""
    member_range, params = _range_sql("m", path, 0, None)
    sql = (
        f"SELECT id FROM (SELECT m.{qn('id')} AS id, ROW_NUMBER() OVER (ORDER BY m.{qn('id')}) AS rn"
        f" FROM {table(Member)} m WHERE {member_range}) numbered WHERE (rn - 1) %% %s = 0 ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size])
        return [row[0] for row in cursor.fetchall()]


def _requirement_values(rules: list[Rule]) -> list[tuple[Any, ...]]:
    """What members' requirements depend on, rule by rule (not the daily online cap)."""
    return [
        (
            r.path,
            r.general_hours,
            r.cadre_hours,
            r.cadre_needs_concentrated,
            r.candidate_hours,
            r.cadre_concentrated_min_hours,
            r.counts_online,
            r.online_cap,
            r.counts_self,
            r.self_cap,
        )
        for r in rules
    ]


def _repair_stragglers(path: str) -> int:
    """Members whose state no rule can explain (active without a state, off the roll with one):
    the member hook brings them in line (none after correct operation)."""
    from .services import learning_members_changed

    stale = list(
        Member.objects.filter(subtree_q("org_path", [path]))
        .filter(
            Q(is_active=True, learning_requirement__isnull=True)
            | Q(is_active=False, learning_requirement__isnull=False)
        )
        .values_list("pk", flat=True)
    )
    if stale:
        learning_members_changed(member_ids=stale)
    return len(stale)


def requirements_recount(
    *,
    path: str,
    tally: RecountTally | None = None,
    progress: Callable[..., None] | None = None,
    on_batch: Callable[[RecountTally], None] | None = None,
    batch_members: int | None = None,
) -> RecountTally:
    """Count every member of the subtree at ``path`` under the hour requirement now in force
    there, with the organisation counts (the subtree's and its ancestors') kept in step. Adds what
    it changed to ``tally`` (a retried job passes what its earlier attempt committed);
    ``on_batch(tally)`` runs inside each batch's transaction, so a record of the tally commits
    with the batch it counts. Must not run inside a transaction that holds member locks."""
    tally = tally or RecountTally()
    size = batch_members or BATCH_MEMBERS
    report = progress or (lambda **kwargs: None)
    depth = (
        Organization.objects.filter(subtree_q("path", [path])).aggregate(m=Max(Length("path")))["m"]
        or len(path)
    ) // SEGMENT_WIDTH
    for _pass in range(MAX_PASSES):
        rules = rules_in_subtree(path)
        with transaction.atomic():
            repaired = _repair_stragglers(path)
            if repaired:
                tally = RecountTally(tally.members_changed + repaired, tally.completions_changed)
                if on_batch is not None:
                    on_batch(tally)
        starts = _batch_starts(path, size)
        total = Member.objects.filter(subtree_q("org_path", [path]), is_active=True).count()
        report(done=0, total=total, message="正在按新的学时要求核算党员")
        for index, lo in enumerate(starts):
            hi = starts[index + 1] if index + 1 < len(starts) else None
            for attempt in range(1, BATCH_ATTEMPTS + 1):
                try:
                    with transaction.atomic():
                        changed = _recount_batch(rules, path, depth, lo, hi)
                        after = RecountTally(
                            tally.members_changed + changed.members_changed,
                            tally.completions_changed + changed.completions_changed,
                        )
                        if on_batch is not None:
                            on_batch(after)
                except OperationalError:
                    # A deadlock with a writer adding to the same organisation rows: nothing of
                    # the batch was written; take it again.
                    if attempt == BATCH_ATTEMPTS:
                        raise
                    continue
                tally = after
                break
            report(done=min(total, (index + 1) * size), total=total)
        # A rule changed while we counted (committed after we read the rules): count again.
        if _requirement_values(rules_in_subtree(path)) == _requirement_values(rules):
            break
    report(done=total, total=total)
    return tally
