"""The monthly counts of activities per counted organisation (``ActivityMonthCount``, the cadence
report's summary): kept by increments in the transaction that writes the activity, and rebuilt
from the activities for the maintenance page.

Which organisation an activity counts for: a party group's 党小组会 for the group itself (each
group must hold its own, 支部条例), the group's other activities for its branch (they are the
branch's organisational life and count toward its requirements), every other organisation's
activities for that organisation (a 党委's 中心组学习 and 党课 for the 党委)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Case, Count, F, Q, When
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.figures import move_signs
from partyedu.organizations.models import Organization, all_lineage_ids, lineage_ids

from ..choices import ATTENDED_STATUSES, GROUP_OWN_TYPES
from ..models import (
    ATTENDED_FIELDS,
    MONTH_FIELDS,
    Activity,
    ActivityFigures,
    ActivityMonthCount,
    ActivityTally,
    Attendance,
)

CountKey = tuple[int, int, str, int]  # (counted organisation, year, activity type, month)


def counted_organization_id(org: Organization, activity_type: str) -> int:
    """The organisation an activity of ``activity_type`` held by ``org`` is counted for: a party
    group's branch (groups exist only under branches, and a group stays a group) unless the type
    is one the group holds for itself (党小组会), else ``org`` itself."""
    if org.level == OrgLevel.GROUP and org.parent_id is not None and activity_type not in GROUP_OWN_TYPES:
        return org.parent_id
    return org.pk


def counted_organization() -> Case:
    """``counted_organization_id`` as an expression over activities."""
    return Case(
        When(
            Q(organization__level=OrgLevel.GROUP, organization__parent__isnull=False)
            & ~Q(activity_type__in=sorted(GROUP_OWN_TYPES)),
            then=F("organization__parent_id"),
        ),
        default=F("organization_id"),
        output_field=models.IntegerField(),
    )


def _count_key(activity: Activity, org: Organization) -> CountKey:
    local = timezone.localtime(activity.start)
    return (
        counted_organization_id(org, activity.activity_type),
        local.year,
        activity.activity_type,
        local.month,
    )


def activity_counts_add(keys: Sequence[CountKey], signs: Sequence[int] | None = None) -> None:
    """Add ``signs[i]`` (default +1) to the month of ``keys[i]`` in ``ActivityMonthCount``, by
    increments (``INSERT … ON CONFLICT DO UPDATE SET m = m + excluded.m``), so concurrent writers
    never lose one another's change. Called inside the transaction that writes the activity."""
    deltas: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0] * 12)
    for (org_id, year, activity_type, month), sign in zip(keys, signs or [1] * len(keys), strict=True):
        deltas[(org_id, year, activity_type)][month - 1] += sign
    rows = [(key, months) for key, months in sorted(deltas.items()) if any(months)]
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(ActivityMonthCount._meta.db_table)
    keys_sql = ", ".join(qn(c) for c in ("organization_id", "year", "activity_type"))
    columns = f"{keys_sql}, {', '.join(qn(m) for m in MONTH_FIELDS)}"
    sets = ", ".join(f"{qn(m)} = {table}.{qn(m)} + excluded.{qn(m)}" for m in MONTH_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * 15) + ")"
    params: list[Any] = []
    for key, months in rows:
        params += [*key, *months]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(rows))} "
            f"ON CONFLICT ({keys_sql}) DO UPDATE SET {sets}",
            params,
        )


def _month_counts_of(
    activities: models.QuerySet[Activity], counted: Any
) -> dict[tuple[int, int, str], list[int]]:
    """``{(organisation, year, type): [12 monthly counts]}`` of the activities, each counted for
    the organisation the expression ``counted`` gives (months in local time, as the report)."""
    rows = (
        activities.annotate(counted=counted, year=ExtractYear("start"), month=ExtractMonth("start"))
        .values("counted", "year", "activity_type", "month")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("counted", "year", "activity_type", "month", "n")
    )
    counts: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0] * 12)
    for org_id, year, activity_type, month, n in rows.iterator(chunk_size=10_000):
        counts[(org_id, year, activity_type)][month - 1] += n
    return counts


def activity_counts_org_moved(*, organization: Organization, old_parent_id: int | None) -> None:
    """A party group moved to another branch: its activities counted for its branch now count
    for the new branch (call inside ``organization_move``'s transaction; its 党小组会 and every
    other organisation keep their key)."""
    if organization.level != OrgLevel.GROUP or old_parent_id == organization.parent_id:
        return
    counts = _month_counts_of(
        Activity.objects.filter(organization=organization).exclude(activity_type__in=sorted(GROUP_OWN_TYPES)),
        F("organization_id"),
    )
    keys: list[CountKey] = []
    signs: list[int] = []
    for (_org, year, activity_type), months in counts.items():
        for month, n in enumerate(months, start=1):
            if not n:
                continue
            if old_parent_id is not None:
                keys.append((old_parent_id, year, activity_type, month))
                signs.append(-n)
            keys.append((counted_organization_id(organization, activity_type), year, activity_type, month))
            signs.append(n)
    activity_counts_add(keys, signs)


def activity_counts_rebuild(*, apply: bool = False) -> int:
    """Compare ``ActivityMonthCount`` with a recount of every activity (each counted for the
    organisation ``counted_organization_id`` names) and return how many rows differ; with
    ``apply``, make them equal. One grouped query over the activities (a city's year: a few
    seconds)."""
    want = _month_counts_of(Activity.objects.all(), counted_organization())
    have = {
        (row.organization_id, row.year, row.activity_type): row for row in ActivityMonthCount.objects.all()
    }
    create: list[ActivityMonthCount] = []
    update: list[ActivityMonthCount] = []
    delete: list[int] = []
    for key, months in want.items():
        row = have.get(key)
        if row is None:
            org_id, year, activity_type = key
            create.append(
                ActivityMonthCount(
                    organization_id=org_id,
                    year=year,
                    activity_type=activity_type,
                    **dict(zip(MONTH_FIELDS, months, strict=True)),
                )
            )
        elif row.months != months:
            for name, n in zip(MONTH_FIELDS, months, strict=True):
                setattr(row, name, n)
            update.append(row)
    for key, row in have.items():
        if key not in want and any(row.months):
            delete.append(row.pk)
    if apply:
        with transaction.atomic():
            ActivityMonthCount.objects.filter(pk__in=delete).delete()
            ActivityMonthCount.objects.bulk_create(create, batch_size=2000)
            ActivityMonthCount.objects.bulk_update(update, list(MONTH_FIELDS), batch_size=2000)
    return len(create) + len(update) + len(delete)


# --- the figures of organisations: activities held and attendance person-times ---------------------

FigureKey = tuple[int, int, str]  # (holding organisation, year, activity type)
# What ActivityFigures counts of one activity: (organisation, year, month, type, attended).
TallyState = tuple[int, int, int, str, int]
FIGURE_COLUMNS = (*MONTH_FIELDS, *ATTENDED_FIELDS)


def _rolled_up(deltas: dict[FigureKey, list[int]], paths: dict[int, str]) -> dict[FigureKey, list[int]]:
    """The deltas of the organisations that held the activities, added to each of them and to
    every organisation above it (``ActivityFigures`` is cumulative over a subtree). ``paths``:
    the organisations' paths already read (the others are read here)."""
    deltas = {key: values for key, values in deltas.items() if any(values)}
    lineage = lineage_ids((key[0] for key in deltas), paths)
    out: dict[FigureKey, list[int]] = {}
    for (org_id, year, activity_type), values in deltas.items():
        for pk in lineage.get(org_id, ()):
            into = out.setdefault((pk, year, activity_type), [0] * len(FIGURE_COLUMNS))
            for index, value in enumerate(values):
                into[index] += value
    return out


def _figures_add(deltas: dict[FigureKey, list[int]], paths: dict[int, str]) -> None:
    """Add the 24 monthly deltas (12 activities, 12 attendance person-times) of each key — the
    organisation that held the activities — to its ``ActivityFigures`` row and every ancestor's."""
    _increment(_rolled_up(deltas, paths))


def _increment(deltas: dict[FigureKey, list[int]]) -> None:
    """Add the deltas to the ``ActivityFigures`` rows of their keys by increments (``ON CONFLICT
    DO UPDATE SET c = c + excluded.c``), in key order (two transactions lock the rows they share
    in the same order)."""
    rows = [(key, values) for key, values in sorted(deltas.items()) if any(values)]
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(ActivityFigures._meta.db_table)
    keys_sql = ", ".join(qn(c) for c in ("organization_id", "year", "activity_type"))
    columns = f"{keys_sql}, {', '.join(qn(c) for c in FIGURE_COLUMNS)}"
    sets = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in FIGURE_COLUMNS)
    row_sql = "(" + ", ".join(["%s"] * (3 + len(FIGURE_COLUMNS))) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        params: list[Any] = []
        for key, values in chunk:
            params += [*key, *values]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({keys_sql}) DO UPDATE SET {sets}",
                params,
            )


def _add_state(deltas: dict[FigureKey, list[int]], state: TallyState, sign: int) -> None:
    org_id, year, month, activity_type, attended = state
    values = deltas.setdefault((org_id, year, activity_type), [0] * len(FIGURE_COLUMNS))
    values[month - 1] += sign
    values[12 + month - 1] += sign * attended


def _states_of(activity_ids: Sequence[int], paths: dict[int, str]) -> dict[int, TallyState]:
    """The current state of each existing activity (deleted ones are absent), adding the path of
    each holding organisation to ``paths``: one query."""
    states: dict[int, TallyState] = {}
    rows = (
        Activity.objects.filter(pk__in=activity_ids)
        .annotate(n=Count("attendances", filter=Q(attendances__status__in=ATTENDED_STATUSES)))
        .order_by()
        .values_list("pk", "organization_id", "organization__path", "start", "activity_type", "n")
    )
    for pk, org_id, path, start, activity_type, attended in rows:
        local = timezone.localtime(start)
        states[pk] = (org_id, local.year, local.month, activity_type, attended)
        paths[org_id] = path
    return states


def activity_figures_sync(activity_ids: Iterable[int]) -> None:
    """Bring ``ActivityFigures`` in step with the activities named (created, changed, deleted, or
    whose attendance changed): lock their tallies, read their state afresh (after the lock, so a
    concurrent change committed meanwhile is seen), add the differences by increments and keep
    the new state in the tallies. Call inside the transaction of the change, as late as possible
    (the locks are held until it commits)."""
    ids = sorted(set(activity_ids))
    if not ids:
        return
    with transaction.atomic(savepoint=False):  # its own when called outside one (a script)
        _figures_sync(ids)


def _figures_sync(ids: list[int]) -> None:
    deltas: dict[FigureKey, list[int]] = {}
    paths: dict[int, str] = {}  # the holding organisations' paths, read with the activities
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        old = {
            t.activity_id: t
            for t in ActivityTally.objects.select_for_update()
            .filter(activity_id__in=chunk)
            .order_by("activity_id")
        }
        new = _states_of(chunk, paths)
        gone: list[int] = []
        create: list[ActivityTally] = []
        update: list[ActivityTally] = []
        for pk in chunk:
            tally, state = old.get(pk), new.get(pk)
            before = (
                (tally.organization_id, tally.year, tally.month, tally.activity_type, tally.attended)
                if tally
                else None
            )
            if before == state:
                continue
            if before is not None:
                _add_state(deltas, before, -1)
            if state is None:
                gone.append(pk)
                continue
            _add_state(deltas, state, 1)
            org_id, year, month, activity_type, attended = state
            row = ActivityTally(
                activity_id=pk,
                organization_id=org_id,
                year=year,
                month=month,
                activity_type=activity_type,
                attended=attended,
            )
            (update if tally else create).append(row)
        if gone:
            ActivityTally.objects.filter(activity_id__in=gone).delete()
        ActivityTally.objects.bulk_create(create, batch_size=2000)
        ActivityTally.objects.bulk_update(
            update, ["organization_id", "year", "month", "activity_type", "attended"], batch_size=2000
        )
    _figures_add(deltas, paths)


def activity_figures_org_moved(
    *, organization: Organization, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's figures (its top organisation's cumulative rows)
    leave the old ancestors and join the new ones. Inside the move's transaction, after it."""
    signs = move_signs(old_parent_path=old_parent_path, new_parent_path=new_parent_path)
    deltas: dict[FigureKey, list[int]] = {}
    for row in ActivityFigures.objects.filter(organization=organization).order_by() if signs else ():
        values = [getattr(row, c) for c in FIGURE_COLUMNS]
        for org_id, sign in signs.items():
            deltas[(org_id, row.year, row.activity_type)] = [sign * v for v in values]
    _increment(deltas)


def activity_figures_rebuild(*, apply: bool = False) -> int:
    """Compare the tallies and ``ActivityFigures`` (each organisation's rows summed over its
    subtree) with a recount of every activity and its attendance; return how many rows differ and, with ``apply``, make them equal (two grouped
    queries and a pass over the activities: a city's year takes seconds)."""
    attended: dict[int, int] = dict(
        Attendance.objects.filter(status__in=ATTENDED_STATUSES)
        .values("activity_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("activity_id", "n")
        .iterator(chunk_size=20_000)
    )
    rows = (
        Activity.objects.annotate(year=ExtractYear("start"), month=ExtractMonth("start"))
        .order_by()
        .values_list("pk", "organization_id", "year", "month", "activity_type")
    )
    want_tally: dict[int, TallyState] = {}
    own: dict[FigureKey, list[int]] = {}
    for pk, org_id, year, month, activity_type in rows.iterator(chunk_size=20_000):
        state = (org_id, year, month, activity_type, attended.get(pk, 0))
        want_tally[pk] = state
        _add_state(own, state, 1)
    lineage = all_lineage_ids()
    want: dict[FigureKey, list[int]] = {}
    for (org_id, year, activity_type), values in own.items():
        for pk in lineage[org_id]:
            into = want.setdefault((pk, year, activity_type), [0] * len(FIGURE_COLUMNS))
            for index, value in enumerate(values):
                into[index] += value
    have_tally = {
        t.activity_id: (t.organization_id, t.year, t.month, t.activity_type, t.attended)
        for t in ActivityTally.objects.all().iterator(chunk_size=20_000)
    }
    have = {
        (row.organization_id, row.year, row.activity_type): row
        for row in ActivityFigures.objects.all().iterator(chunk_size=20_000)
    }
    tally_diff = [
        pk for pk in want_tally.keys() | have_tally.keys() if want_tally.get(pk) != have_tally.get(pk)
    ]
    create: list[ActivityFigures] = []
    update: list[ActivityFigures] = []
    for key, values in want.items():
        row = have.get(key)
        if row is None:
            org_id, year, activity_type = key
            create.append(
                ActivityFigures(
                    organization_id=org_id,
                    year=year,
                    activity_type=activity_type,
                    **dict(zip(FIGURE_COLUMNS, values, strict=True)),
                )
            )
        elif [getattr(row, c) for c in FIGURE_COLUMNS] != values:
            for name, n in zip(FIGURE_COLUMNS, values, strict=True):
                setattr(row, name, n)
            update.append(row)
    delete = [
        row.pk
        for key, row in have.items()
        if key not in want and any(getattr(row, c) for c in FIGURE_COLUMNS)
    ]
    if apply:
        with transaction.atomic():
            ActivityTally.objects.filter(
                activity_id__in=[pk for pk in tally_diff if pk not in want_tally]
            ).delete()
            fix = [pk for pk in tally_diff if pk in want_tally]
            ActivityTally.objects.filter(activity_id__in=fix).delete()
            ActivityTally.objects.bulk_create(
                [
                    ActivityTally(
                        activity_id=pk,
                        organization_id=want_tally[pk][0],
                        year=want_tally[pk][1],
                        month=want_tally[pk][2],
                        activity_type=want_tally[pk][3],
                        attended=want_tally[pk][4],
                    )
                    for pk in fix
                ],
                batch_size=2000,
            )
            ActivityFigures.objects.filter(pk__in=delete).delete()
            ActivityFigures.objects.bulk_create(create, batch_size=2000)
            ActivityFigures.objects.bulk_update(update, list(FIGURE_COLUMNS), batch_size=2000)
    return len(tally_diff) + len(create) + len(update) + len(delete)
