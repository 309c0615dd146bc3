"""The points ledger (积分台账): the correcting lines that bring the ledger's net for each
(source, member, item, year) to what the records credit now (``derive.desired_points``).

Caps make the sources of one member, item and period depend on each other (a source earlier in
the month can push a later one over the cap), so the unit of a sync is the (member, year), not
the source: every writer locks the members' rows in id order (as the hours ledger does), then
reads the sources and the ledger, then appends the differences. A retried sync finds nothing to
append; two concurrent ones are serialised by the locks, and the unique key (source, member,
item, year, version) turns any remaining race into an ``IntegrityError`` that is retried once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.exams.models import Attempt
from partyedu.members.models import Member
from partyedu.organizations.models import ancestor_paths
from partyedu.study.models import Attendance

from ..choices import Audience, EntrySource, ItemSource
from ..models import PointsEntry, PointsScheme, PointsYearTotal
from .derive import MEMBER_FIELDS, ZERO, Key, Want, desired_points, ledger_sums, points_text, schemes_for
from .distribution import active_member_ids, counted_refresh, distribution_org_moved, kept_years

# Members per batch when a scheme change re-derives its subtree (or a regrade its takers).
SCHEME_CHUNK = 500
# Beyond this many members a scheme change re-derives in a background job, not in the request.
SCHEME_INLINE_MAX = 2000
# Ids per ``IN`` list when looking up the years of many members' exam attempts.
LOOKUP_CHUNK = 5000


class Net(NamedTuple):
    points: Decimal
    version: int
    on: date
    description: str


def ledger_nets(pairs: set[tuple[int, int]], *, labels: bool = True) -> dict[Key, Net]:
    """The ledger's net points per key for the pairs and, with ``labels``, what a correction
    starts from: the last version, the latest source date and the description. A check that
    only counts differences goes without them (the largest aggregate of the rebuild); its nets
    then carry version 1."""
    if not pairs:
        return {}
    members = sorted({m for m, _y in pairs})
    years = sorted({y for _m, y in pairs})
    nets: dict[Key, Net] = {}
    aggregates: dict[str, Any] = {"net": Sum("points")}
    if labels:
        aggregates.update(last=Max("version"), on=Max("source_date"), label=Max("description"))
    rows = (
        PointsEntry.objects.filter(member_id__any=members, year__in=years)
        .values_list("source_type", "source_id", "member_id", "item_id", "year")
        .annotate(**aggregates)
        .order_by()
    )
    for row in rows:
        if (row[2], row[4]) in pairs:
            if labels:
                nets[row[:5]] = Net(Decimal(row[5]), row[6], row[7], row[8])
            else:
                nets[row[:5]] = Net(Decimal(row[5]), 1, date.min, "")
    return nets


def member_nets(nets: dict[Key, Net]) -> dict[tuple[int, int], Decimal]:
    """The ledger's net per (member, year), added up from ``ledger_nets``."""
    out: dict[tuple[int, int], Decimal] = {}
    for (_type, _id, member_id, _item, year), net in nets.items():
        out[(member_id, year)] = out.get((member_id, year), ZERO) + net.points
    return out


def correction_rows(wanted: dict[Key, Want], nets: dict[Key, Net], actor_id: int | None) -> list[PointsEntry]:
    """The lines that bring each key's net to what its source credits now (none where equal)."""
    rows = []
    for key in sorted(set(wanted) | set(nets)):
        want = wanted.get(key)
        net = nets.get(key)
        want_points = want.points if want else ZERO
        have = net.points if net else ZERO
        if want_points == have:
            continue
        source_type, source_id, member_id, item_id, year = key
        if net is None or net.version == 0:
            assert want is not None
            description, on, version = want.description, want.on, 1
        elif want is None:
            base = net.description.split("（更正", 1)[0]
            description = f"{base}（更正：来源已变更或不再计分，冲销{points_text(have)}分）"
            on, version = net.on, net.version + 1
        else:
            description = (
                f"{want.description}（更正：分值由{points_text(have)}改为{points_text(want_points)}）"
            )
            on, version = want.on, net.version + 1
        rows.append(
            PointsEntry(
                member_id=member_id,
                year=year,
                item_id=item_id,
                points=want_points - have,
                source_type=source_type,
                source_id=source_id,
                source_date=on,
                version=version,
                description=description[:255],
                actor_id=actor_id,
            )
        )
    return rows


def _actor_id(actor: Actor) -> int | None:
    return actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None


def lock_members(member_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Lock the members' rows in id order (every writer of their ledgers does, so their
    read–compute–append cannot interleave) and read what the derivation needs of them."""
    ids = sorted(set(member_ids))
    return {
        m["id"]: m
        for m in Member.objects.select_for_update().filter(pk__in=ids).order_by("pk").values(*MEMBER_FIELDS)
    }


def _sync_once(pairs: set[tuple[int, int]], actor: Actor) -> list[PointsEntry]:
    members = lock_members(m for m, _y in pairs)
    pairs = {p for p in pairs if p[0] in members}
    schemes = schemes_for(members, {y for _m, y in pairs}) if pairs else {}
    wanted = desired_points(members, pairs, schemes)
    nets = ledger_nets(pairs)
    rows = correction_rows(wanted, nets, _actor_id(actor))
    if rows:
        PointsEntry.objects.bulk_create(rows)
        totals_add(rows)
    counted_refresh(members, pairs, schemes)
    return rows


def totals_add(rows: Iterable[PointsEntry]) -> None:
    """Add appended lines to the kept year totals (``PointsYearTotal``). Called under the
    members' locks that every ledger writer takes, so no two writers update one total at once."""
    deltas: dict[tuple[int, int], Decimal] = {}
    for row in rows:
        key = (row.member_id, row.year)
        deltas[key] = deltas.get(key, ZERO) + row.points
    if not deltas:
        return
    existing = {
        (t.member_id, t.year): t
        for t in PointsYearTotal.objects.filter(
            member_id__in=sorted({m for m, _y in deltas}), year__in=sorted({y for _m, y in deltas})
        )
    }
    changed = []
    created = []
    for (member_id, year), delta in deltas.items():
        total = existing.get((member_id, year))
        if total is None:
            created.append(PointsYearTotal(member_id=member_id, year=year, net=delta))
        else:
            total.net += delta
            changed.append(total)
    PointsYearTotal.objects.bulk_create(created)
    PointsYearTotal.objects.bulk_update(changed, ["net"])


def totals_differences(
    pairs: set[tuple[int, int]],
    *,
    apply: bool,
    sums: dict[tuple[int, int], Decimal] | None = None,
    stored: dict[tuple[int, int], Decimal] | None = None,
) -> list[tuple[int, int, Decimal, Decimal]]:
    """The pairs whose kept total differs from the ledger's net: (member, year, kept, ledger);
    with ``apply`` the kept totals are rewritten from the ledger (a summary, not a ledger).
    ``sums``: the ledger's nets per pair, ``stored``: the kept nets, when the caller has read
    them (the rebuild's check: ``member_nets``, ``distribution.stored_rows``)."""
    if not pairs:
        return []
    members = sorted({m for m, _y in pairs})
    years = sorted({y for _m, y in pairs})
    if sums is None:
        sums = ledger_sums(members, years)
    kept: dict[tuple[int, int], PointsYearTotal] = {}
    if stored is None or apply:
        kept = {
            (t.member_id, t.year): t
            for t in PointsYearTotal.objects.filter(member_id__any=members, year__in=years)
        }
        stored = {key: t.net for key, t in kept.items()}
    found = []
    for key in sorted(set(sums) | set(stored)):
        if key not in pairs:
            continue
        have = stored.get(key, ZERO)
        want = sums.get(key) or ZERO
        if have != want:
            found.append((key[0], key[1], have, want))
    if apply and found:
        changed = []
        for member_id, year, _have, want in found:
            total = kept.get((member_id, year))
            if total is None:
                PointsYearTotal.objects.create(member_id=member_id, year=year, net=want)
            else:
                total.net = want
                changed.append(total)
        PointsYearTotal.objects.bulk_update(changed, ["net"])
    return found


# The cache key of "some scheme exists", set when a scheme is created (only a "yes" is kept).
SCHEMES_EXIST_KEY = "points:schemes_exist"


def schemes_exist() -> bool:
    """Whether any scheme was ever defined (without one the ledger is empty and there is nothing
    to sync). A "yes" is kept in the cache for good (``scheme_create`` sets it; a scheme deleted
    later only costs a sync that finds nothing); a "no" is never kept, so no process can miss the
    first scheme of another: until a scheme exists every sync asks the database (one EXISTS)."""
    if cache.get(SCHEMES_EXIST_KEY):
        return True
    exists = PointsScheme.objects.exists()
    if exists:
        cache.set(SCHEMES_EXIST_KEY, True, None)
    return exists


def schemes_exist_note() -> None:
    cache.set(SCHEMES_EXIST_KEY, True, None)


@transaction.atomic(savepoint=False)
def points_sync_members(*, pairs: Iterable[tuple[int, int]], actor: Actor = None) -> int:
    """Bring the ledger in line with the records for each (member id, year): appends correcting
    lines only where the ledger's net differs; returns how many. Call inside the transaction that
    changed the source. Idempotent: a retry appends nothing."""
    wanted_pairs = {(int(m), int(y)) for m, y in pairs}
    if not wanted_pairs:
        return 0
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return len(_sync_once(wanted_pairs, actor))
        except IntegrityError:
            # A concurrent writer appended the same version first: compute again (once).
            if attempt == 2:
                raise
    return 0  # pragma: no cover


def points_sync_attendance(
    *, attendance_ids: Iterable[int], actor: Actor = None, member_ids: Iterable[int] | None = None
) -> int:
    """After attendance rows changed (or were deleted): re-derive the (member, year)s they and
    their ledger lines concern (``study.attendance_changed``)."""
    if not schemes_exist():
        return 0
    ids = sorted({int(i) for i in attendance_ids})
    pairs = {
        (member_id, timezone.localtime(start).year)
        for member_id, start in Attendance.objects.filter(pk__in=ids).values_list(
            "member_id", "activity__start"
        )
    }
    pairs |= set(
        PointsEntry.objects.filter(
            source_type__in=[ItemSource.ATTENDANCE, ItemSource.MAKEUP, EntrySource.VOLUNTEER],
            source_id__in=ids,
        ).values_list("member_id", "year")
    )
    if member_ids:
        year = timezone.localdate().year
        pairs |= {(int(m), year) for m in member_ids}
    return points_sync_members(pairs=pairs, actor=actor)


def points_sync_member_changes(*, member_ids: Iterable[int]) -> int:
    """After members were created, moved, edited or (de)activated (``members.changed``): their
    schemes, exemption or place in the organisations' distribution may differ; re-derive this
    year, every year of a members' scheme and every year their ledgers hold."""
    if not schemes_exist():
        return 0
    ids = sorted({int(i) for i in member_ids})
    years = {timezone.localdate().year, *kept_years()}
    pairs = {(m, y) for m in ids for y in years}
    pairs |= set(PointsEntry.objects.filter(member_id__in=ids).values_list("member_id", "year").distinct())
    return points_sync_members(pairs=pairs, actor=None)


def scheme_member_ids(scheme: PointsScheme) -> list[int]:
    """Whom a scheme change may concern: the members of its subtree and anyone its ledger names
    — and, for the first members' scheme of a year, everyone on the roll, who all count in that
    year's distribution (``distribution``)."""
    member_ids = list(
        Member.objects.filter(scheme.organization.subtree_q("org_path")).values_list("pk", flat=True)
    )
    if (
        scheme.audience == Audience.MEMBERS
        and not PointsScheme.objects.filter(year=scheme.year, audience=Audience.MEMBERS)
        .exclude(pk=scheme.pk)
        .exists()
    ):
        member_ids += active_member_ids()
    member_ids += list(
        PointsEntry.objects.filter(item__scheme=scheme).values_list("member_id", flat=True).distinct()
    )
    return sorted(set(member_ids))


def points_sync_scheme(*, scheme: PointsScheme, actor: Actor = None, background: bool = True) -> int:
    """After a scheme was created or changed: re-derive the year for every member of its
    subtree (through correcting lines), in the caller's transaction up to
    ``SCHEME_INLINE_MAX`` members; beyond that a background job (``jobs.SCHEME_KIND``) queued
    in it does the same in batches, and ``scheme.resync_job`` names it for the page
    (``background=False``: always here, e.g. the demo's seeding)."""
    ids = scheme_member_ids(scheme)
    if background and len(ids) > SCHEME_INLINE_MAX:
        from ..jobs import scheme_resync_enqueue

        scheme.resync_job = scheme_resync_enqueue(actor=actor, scheme=scheme)  # type: ignore[attr-defined]
        return 0
    return points_sync_scheme_batches(scheme=scheme, member_ids=ids, actor=actor)


def points_sync_scheme_batches(
    *,
    scheme: PointsScheme,
    member_ids: list[int],
    actor: Actor = None,
    each: Callable[[int, int], None] | None = None,
) -> int:
    """Re-derive ``scheme``'s year for ``member_ids``, SCHEME_CHUNK members per transaction
    (nested in the caller's when there is one); ``each(done, total)`` after every batch."""
    appended = 0
    for start in range(0, len(member_ids), SCHEME_CHUNK):
        chunk = member_ids[start : start + SCHEME_CHUNK]
        with transaction.atomic():
            appended += points_sync_members(pairs={(m, scheme.year) for m in chunk}, actor=actor)
        if each is not None:
            each(start + len(chunk), len(member_ids))
    return appended


def _sync_by_member_chunks(pairs: set[tuple[int, int]], actor: Actor) -> int:
    """Sync the pairs SCHEME_CHUNK members at a time (a regrade may concern a whole exam's takers)."""
    members = sorted({m for m, _y in pairs})
    appended = 0
    for start in range(0, len(members), SCHEME_CHUNK):
        chunk = set(members[start : start + SCHEME_CHUNK])
        appended += points_sync_members(pairs={p for p in pairs if p[0] in chunk}, actor=actor)
    return appended


def points_sync_member_years(*, member_ids: Iterable[int], years: Iterable[int], actor: Actor = None) -> int:
    """After lectures given or online resources completed changed (``lectures.lectures_changed``,
    ``learning.resources_completed``): re-derive every (member, year) of the members and years
    named (the caller passes the years before and after the change)."""
    if not schemes_exist():
        return 0
    pairs = {(int(m), int(y)) for m in member_ids for y in years}
    return _sync_by_member_chunks(pairs, actor)


def points_sync_exam_results(
    *, exam_ids: Iterable[int], member_ids: Iterable[int], actor: Actor = None
) -> int:
    """After the members' counted results at these exams may have changed (``exams.results_changed``:
    a submission, a grade, a regrade, another grading rule): re-derive each member's years in
    which they submitted an attempt at them (the counted attempt, before and after, is among
    them). One query per LOOKUP_CHUNK members for the years."""
    if not schemes_exist():
        return 0
    exams = sorted({int(e) for e in exam_ids})
    members = sorted({int(m) for m in member_ids})
    if not exams or not members:
        return 0
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(members), LOOKUP_CHUNK):
        pairs.update(
            Attempt.objects.filter(
                exam_id__in=exams,
                member_id__in=members[start : start + LOOKUP_CHUNK],
                submitted_at__isnull=False,
            )
            .annotate(year=ExtractYear("submitted_at"))
            .order_by()
            .values_list("member_id", "year")
            .distinct()
        )
    return _sync_by_member_chunks(pairs, actor)


def _nearest_schemes(parent_path: str) -> dict[tuple[int, str], int]:
    """(year, audience) → the scheme that applies at ``parent_path`` (the deepest up its path)."""
    found: dict[tuple[int, str], tuple[int, int]] = {}
    for pk, year, audience, path in PointsScheme.objects.filter(
        organization__path__in=ancestor_paths(parent_path)
    ).values_list("pk", "year", "audience", "organization__path"):
        if (year, audience) not in found or len(path) > found[(year, audience)][0]:
            found[(year, audience)] = (len(path), pk)
    return {key: pk for key, (_depth, pk) in found.items()}


def points_org_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the distribution follows the subtree (``distribution_org_moved``);
    where a scheme above the subtree now applies instead of another, its members' points are
    re-derived as for any member moved."""
    distribution_org_moved(
        organization=organization,
        old_path=old_path,
        old_parent_path=old_parent_path,
        new_parent_path=new_parent_path,
    )
    if not schemes_exist() or _nearest_schemes(old_parent_path) == _nearest_schemes(new_parent_path):
        return
    points_sync_member_changes(
        member_ids=Member.objects.filter(organization.subtree_q("org_path")).values_list("pk", flat=True)
    )
