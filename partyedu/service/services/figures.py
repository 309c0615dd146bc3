"""Service figures of each subtree, kept for the dashboards (``organizations.SubtreeFigure``),
as the service summary counts them (``selectors_summary``):

- ``service.records`` and ``service.record_hours``, per year and month of the service's date: the
  records confirmed by the community side, each counted under the organisation its member belongs
  to now (source ``records``);
- ``service.pledges``, ``service.pledges_done`` and ``service.pledges_confirmed``, per year and
  month of the due date: the pledges of the organisation (its own and its members'), those
  completed (办结, confirmed or awaiting confirmation) and those confirmed (source ``pledges``).

Each record remembers where it is counted (``ServiceRecord.counted_org``). ``records_refresh``
compares that copy with the record's status and its member's organisation and adds the
differences; the record services call it after a confirmation or a rejection, before a deletion
(``records_uncount``), and the ``members.changed`` hook after a member's change (a transfer takes
the member's records along). ``records_rebuild`` proves copies and figures (系统维护). A pledge likewise remembers the
organisation and status it is counted with (``Pledge.counted_org`` / ``counted_status``);
``pledges_refresh`` runs after its creation, completion and confirmation; ``pledges_rebuild``
proves them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q

from partyedu.organizations.figures import FigureKey, subtree_figures_add, subtree_figures_check

from ..choices import PledgeStatus, RecordStatus
from ..models import Pledge, ServiceRecord

RECORDS = "service.records"
RECORD_HOURS = "service.record_hours"
NAMES = (RECORDS, RECORD_HOURS)
PLEDGES = "service.pledges"
PLEDGES_DONE = "service.pledges_done"
PLEDGES_CONFIRMED = "service.pledges_confirmed"
PLEDGE_NAMES = (PLEDGES, PLEDGES_DONE, PLEDGES_CONFIRMED)
DONE_STATUSES = (PledgeStatus.COMPLETED, PledgeStatus.CONFIRMED)
_HELD = Q(status=RecordStatus.CONFIRMED) | Q(counted_org__isnull=False)


def _add(deltas: dict[FigureKey, Decimal], org_id: int, on: object, hours: Decimal, sign: int) -> None:
    year, month = on.year, on.month  # type: ignore[attr-defined]
    deltas[(org_id, year, month, RECORDS)] += sign
    deltas[(org_id, year, month, RECORD_HOURS)] += sign * hours


def records_refresh(member_ids: Iterable[int]) -> None:
    """Bring the kept figures in step with these members' records: each confirmed record counted
    under its member's organisation, every other one nowhere. Inside the transaction of the
    change; one query when nothing changed."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    rows = (
        ServiceRecord.objects.filter(_HELD, member_id__any=ids)
        .order_by()
        .values_list("pk", "date", "hours", "status", "counted_org", "member__organization_id")
    )
    deltas: dict[FigureKey, Decimal] = defaultdict(Decimal)
    changed: list[ServiceRecord] = []
    for pk, on, hours, status, counted_org, org_id in rows:
        want = org_id if status == RecordStatus.CONFIRMED else None
        if want == counted_org:
            continue
        if counted_org is not None:
            _add(deltas, counted_org, on, hours, -1)
        if want is not None:
            _add(deltas, want, on, hours, 1)
        changed.append(ServiceRecord(pk=pk, counted_org=want))
    if changed:
        ServiceRecord.objects.bulk_update(changed, ["counted_org"], batch_size=2000)
        subtree_figures_add(deltas)


def records_uncount(record: ServiceRecord) -> None:
    """Take a record out of the figures before it is deleted (inside the deletion's transaction)."""
    if record.counted_org is not None:
        deltas: dict[FigureKey, Decimal] = defaultdict(Decimal)
        _add(deltas, record.counted_org, record.date, record.hours, -1)
        subtree_figures_add(deltas)


def records_rebuild(*, apply: bool) -> tuple[int, int]:
    """(records whose copy differs, kept figure rows that differ from a recount); with ``apply``
    both are made equal."""
    own: dict[FigureKey, Decimal] = defaultdict(Decimal)
    fix: list[ServiceRecord] = []
    rows = (
        ServiceRecord.objects.filter(_HELD)
        .order_by()
        .values_list("pk", "date", "hours", "status", "counted_org", "member__organization_id")
    )
    for pk, on, hours, status, counted_org, org_id in rows.iterator(chunk_size=20_000):
        want = org_id if status == RecordStatus.CONFIRMED else None
        if want is not None:
            _add(own, want, on, hours, 1)
        if want != counted_org:
            fix.append(ServiceRecord(pk=pk, counted_org=want))
    if apply:
        ServiceRecord.objects.bulk_update(fix, ["counted_org"], batch_size=2000)
    return len(fix), subtree_figures_check(names=NAMES, own=own, apply=apply)


# --- pledges -------------------------------------------------------------------------------------


def _add_pledge(deltas: dict[FigureKey, Decimal], org_id: int, due: object, status: str, sign: int) -> None:
    year, month = due.year, due.month  # type: ignore[attr-defined]
    deltas[(org_id, year, month, PLEDGES)] += sign
    deltas[(org_id, year, month, PLEDGES_DONE)] += sign * (status in DONE_STATUSES)
    deltas[(org_id, year, month, PLEDGES_CONFIRMED)] += sign * (status == PledgeStatus.CONFIRMED)


def _pledge_changes(
    rows: Iterable[tuple[int, object, str, int | None, str, int]], deltas: dict[FigureKey, Decimal]
) -> list[Pledge]:
    """The copies to rewrite, adding the differences of each (pk, due, status, counted_org,
    counted_status, organization) to ``deltas``."""
    changed: list[Pledge] = []
    for pk, due, status, counted_org, counted_status, org_id in rows:
        if (counted_org, counted_status) == (org_id, status):
            continue
        if counted_org is not None:
            _add_pledge(deltas, counted_org, due, counted_status, -1)
        _add_pledge(deltas, org_id, due, status, 1)
        changed.append(Pledge(pk=pk, counted_org=org_id, counted_status=status))
    return changed


_PLEDGE_COLUMNS = ("pk", "due", "status", "counted_org", "counted_status", "organization_id")


def pledges_refresh(pledge_ids: Iterable[int]) -> None:
    """Bring the kept figures in step with these pledges (created, completed, confirmed). Inside
    the transaction of the change, the pledges locked."""
    ids = sorted(set(pledge_ids))
    if not ids:
        return
    deltas: dict[FigureKey, Decimal] = defaultdict(Decimal)
    changed = _pledge_changes(
        Pledge.objects.filter(pk__any=ids).order_by().values_list(*_PLEDGE_COLUMNS), deltas
    )
    if changed:
        Pledge.objects.bulk_update(changed, ["counted_org", "counted_status"], batch_size=2000)
        subtree_figures_add(deltas)


def pledges_rebuild(*, apply: bool) -> tuple[int, int]:
    """(pledges whose copy differs, kept figure rows that differ from a recount); with ``apply``
    both are made equal."""
    own: dict[FigureKey, Decimal] = defaultdict(Decimal)
    rows = list(Pledge.objects.order_by().values_list(*_PLEDGE_COLUMNS).iterator(chunk_size=20_000))
    for _pk, due, status, _counted_org, _counted_status, org_id in rows:
        _add_pledge(own, org_id, due, status, 1)
    fix = _pledge_changes(rows, defaultdict(Decimal))
    if apply:
        Pledge.objects.bulk_update(fix, ["counted_org", "counted_status"], batch_size=2000)
    return len(fix), subtree_figures_check(names=PLEDGE_NAMES, own=own, apply=apply)
