"""Reads of the service app's community area: pledges (我为群众办实事) and their planned-vs-done
figures, the 联户 grid and residents' requests, centres, rooms and bookings with the centre's use.

Reach beyond ``restrict``, each for a stated reason:

- a pledge is also seen by those who confirm it (``pledge_confirmers_q``): the level above the
  pledging organisation and the benefiting community, which may lie outside the pledger's subtree;
- a member sees their own pledges (``scope_self``) and the grid cells they are the contact of,
  with those cells' requests (the contact may be an in-service member of another unit);
- bookings are kept by the booking unit (``restrict``) and seen too by the centre's managers
  (``room__centre__organization__path`` within their scope);
- centres and their rooms are public within the deployment for users who may book for a unit
  (``service.add`` over some subtree): any unit may see every open centre, its rooms and the taken
  slots of a day (time and unit, never the purpose), so that it can choose a free one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, Substr
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import User, Viewer
from partyedu.core.scope import scope_for, subtree_q
from partyedu.organizations.models import Organization

from .choices import HOLDING_STATUSES, BookingStatus, PledgeStatus, RequestStatus
from .models import Booking, Centre, GridUnit, Pledge, ResidentRequest, Room

APP = "service"
DONE_STATUSES: tuple[str, ...] = (PledgeStatus.COMPLETED, PledgeStatus.CONFIRMED)


def _paths(user: Viewer, action: str) -> tuple[str, ...]:
    return scope_for(user, action, APP).paths


def _pk(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and int(text) < 2**62 else None


# --- pledges ------------------------------------------------------------------------------------------


def pledge_confirmers_q(*, user: Viewer, action: str = "change") -> Q:
    """Pledges ``user`` confirms (or, with ``view``, sees as a confirmer): an organisation's pledge
    whose organisation's parent lies in the user's scope, a member's pledge whose organisation does,
    and any pledge naming a community in it. The finer rule (not one's own pledge, not a community
    above the pledger) is ``services.community.pledge_may_confirm``."""
    paths = _paths(user, action)
    if not paths:
        return Q(pk__in=[])
    return (
        (Q(member__isnull=True) & subtree_q("organization__parent__path", paths))
        | (Q(member__isnull=False) & subtree_q("organization__path", paths))
        | subtree_q("community__path", paths)
    )


def _pledges(user: Viewer, action: str = "view") -> QuerySet[Pledge]:
    own = Pledge.objects.restrict(user, action).values("pk")
    confirm = Pledge.objects.filter(pledge_confirmers_q(user=user, action="view")).values("pk")
    return Pledge.objects.filter(Q(pk__in=own) | Q(pk__in=confirm))


@dataclass(frozen=True)
class PledgeFilters:
    year: int | None = None
    status: str = ""
    kind: str = ""  # "org" | "member" | ""
    organization: Organization | None = None
    waiting: bool = False  # completed, awaiting the user's confirmation


def pledge_list(*, user: Viewer, filters: PledgeFilters | None = None) -> QuerySet[Pledge]:
    """The pledges the user sees (their scope, as a confirmer, their own), newest due first."""
    filters = filters or PledgeFilters()
    qs = _pledges(user)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.status in PledgeStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.kind == "org":
        qs = qs.filter(member__isnull=True)
    elif filters.kind == "member":
        qs = qs.filter(member__isnull=False)
    if filters.organization is not None:
        qs = qs.filter(subtree_q("organization__path", [filters.organization.path]))
    if filters.waiting:
        qs = qs.filter(pledge_confirmers_q(user=user), status=PledgeStatus.COMPLETED)
    return (
        qs.select_related("organization", "member", "community")
        .annotate(photo_count=Count("photos"))
        .order_by("-year", "due", "id")
    )


def pledge_get(*, user: Viewer, pk: Any) -> Pledge:
    """One pledge the user sees, with its organisation, member, community and photos; else 404."""
    found = _pk(pk)
    pledge = (
        _pledges(user)
        .filter(pk=found)
        .select_related("organization__parent", "member", "community", "created_by", "confirmed_by")
        .prefetch_related("photos")
        .first()
        if found is not None
        else None
    )
    if pledge is None:
        raise Http404("该实事不存在或不在您的权限范围内")
    return pledge


def pledges_waiting_count(*, user: Viewer) -> int:
    """Completed pledges waiting for the user's confirmation (the workbench item)."""
    if not _paths(user, "change"):
        return 0
    return Pledge.objects.filter(pledge_confirmers_q(user=user), status=PledgeStatus.COMPLETED).count()


def my_pledges(*, user: Viewer) -> QuerySet[Pledge]:
    """The pledges the user made as a member (their own account's member record)."""
    if not isinstance(user, User):
        return Pledge.objects.none()
    return (
        Pledge.objects.filter(member__user=user)
        .select_related("organization", "community")
        .annotate(photo_count=Count("photos"))
        .order_by("status", "due", "id")
    )


@dataclass
class PledgeRow:
    """Planned vs done of one organisation's subtree in a year: organisations' and members'."""

    organization: Organization
    org_planned: int = 0
    org_done: int = 0
    org_confirmed: int = 0
    member_planned: int = 0
    member_done: int = 0
    member_confirmed: int = 0

    @property
    def planned(self) -> int:
        return self.org_planned + self.member_planned

    @property
    def done(self) -> int:
        return self.org_done + self.member_done

    @staticmethod
    def rate(done: int, planned: int) -> str:
        return f"{done / planned * 100:.1f}%" if planned else "—"

    @property
    def org_rate(self) -> str:
        return self.rate(self.org_done, self.org_planned)

    @property
    def member_rate(self) -> str:
        return self.rate(self.member_done, self.member_planned)


@dataclass
class PledgeStats:
    total: PledgeRow
    children: list[PledgeRow] = field(default_factory=list)


def pledge_stats(*, user: Viewer, organization: Organization, year: int) -> PledgeStats:
    """Planned vs done (the Kunming 713/376 and 7,110/3,774 figures) of ``organization``'s
    subtree and of each active child, for the pledges due in ``year``: one grouped query (plus the
    children's list). Pledges the user does not see by scope are not counted."""
    total = PledgeRow(organization)
    if not scope_for(user, "view", APP).covers(organization.path):
        return PledgeStats(total)
    children = list(
        Organization.objects.filter(parent=organization, is_active=True).order_by("sort_order", "path")
    )
    by_path = {child.path: PledgeRow(child) for child in children}
    width = len(children[0].path) if children else len(organization.path)
    rows = (
        Pledge.objects.filter(subtree_q("organization__path", [organization.path]), year=year)
        .annotate(
            _prefix=Substr("organization__path", 1, width),
            _member=ExpressionWrapper(Q(member__isnull=False), output_field=BooleanField()),
        )
        .values("_prefix", "_member")
        .annotate(
            planned=Count("id"),
            done=Count("id", filter=Q(status__in=DONE_STATUSES)),
            confirmed=Count("id", filter=Q(status=PledgeStatus.CONFIRMED)),
        )
        .order_by()
    )
    for row in rows:
        targets = [total]
        if row["_prefix"] in by_path:
            targets.append(by_path[row["_prefix"]])
        for target in targets:
            if row["_member"]:
                target.member_planned += row["planned"]
                target.member_done += row["done"]
                target.member_confirmed += row["confirmed"]
            else:
                target.org_planned += row["planned"]
                target.org_done += row["done"]
                target.org_confirmed += row["confirmed"]
    return PledgeStats(total, list(by_path.values()))


# --- 联户 grid ------------------------------------------------------------------------------------------


def grid_communities(*, user: Viewer) -> QuerySet[Organization]:
    """The community (社区/村) organisations in the user's scope, with their number of cells and of
    open requests (the grid's start page)."""
    from .services.community import GRID_ORG_TYPES

    return (
        Organization.objects.restrict(user, "view", app_label=APP)
        .filter(org_type__in=GRID_ORG_TYPES, is_active=True)
        .annotate(cells=Count("grid_units", distinct=True))
        .order_by("-cells", "path")
    )


def grid_community_get(*, user: Viewer, pk: Any, action: str = "view") -> Organization:
    from .services.community import GRID_ORG_TYPES

    found = _pk(pk)
    org = (
        Organization.objects.restrict(user, action, app_label=APP)
        .filter(pk=found, org_type__in=GRID_ORG_TYPES)
        .first()
        if found is not None
        else None
    )
    if org is None:
        raise Http404("该社区不存在或不在您的权限范围内")
    return org


@dataclass
class GridCell:
    unit: GridUnit
    depth: int
    open_requests: int
    solved: int


def grid_tree(*, user: Viewer, community: Organization) -> list[GridCell]:
    """The cells of a community's grid in tree order (片 → 组 → 楼) with their open and solved
    requests: two queries."""
    units = list(
        GridUnit.objects.restrict(user, "view")
        .filter(community=community)
        .select_related("contact")
        .order_by("label", "id")
    )
    counts = {
        row["unit_id"]: row
        for row in ResidentRequest.objects.filter(unit__in=[u.pk for u in units])
        .values("unit_id")
        .annotate(
            open=Count("id", filter=~Q(status=RequestStatus.RESOLVED)),
            solved=Count("id", filter=Q(status=RequestStatus.RESOLVED)),
        )
        .order_by()
    }
    children: dict[int | None, list[GridUnit]] = defaultdict(list)
    ids = {u.pk for u in units}
    for unit in units:
        children[unit.parent_id if unit.parent_id in ids else None].append(unit)
    out: list[GridCell] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            row = counts.get(unit.pk, {})
            out.append(GridCell(unit, depth, row.get("open", 0), row.get("solved", 0)))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return out


def grid_households(cells: list[GridCell]) -> int:
    """Households the grid covers: the cells without sub-cells (a 片's households are those of its
    组 and 楼 when it has them), so that nothing is counted twice."""
    parents = {c.unit.parent_id for c in cells}
    return sum(c.unit.households for c in cells if c.unit.pk not in parents)


def grid_unit_get(*, user: Viewer, pk: Any, action: str = "view") -> GridUnit:
    found = _pk(pk)
    unit = (
        GridUnit.objects.restrict(user, action)
        .filter(pk=found)
        .select_related("community", "parent", "contact")
        .first()
        if found is not None
        else None
    )
    if unit is None:
        raise Http404("该网格不存在或不在您的权限范围内")
    return unit


def my_grid_units(*, user: Viewer) -> QuerySet[GridUnit]:
    """The cells the user is the contact of (as a party member), with their community."""
    if not isinstance(user, User):
        return GridUnit.objects.none()
    return (
        GridUnit.objects.filter(contact__user=user)
        .select_related("community")
        .order_by("community_id", "label")
    )


def _request_visible(user: Viewer) -> QuerySet[ResidentRequest]:
    scoped = ResidentRequest.objects.restrict(user, "view").values("pk")
    if not getattr(user, "is_authenticated", False):
        return ResidentRequest.objects.filter(pk__in=scoped)
    # The contact of the cell or of a cell above it (片 → 组 → 楼: three levels at most).
    mine = (
        Q(unit__contact__user=user)
        | Q(unit__parent__contact__user=user)
        | Q(unit__parent__parent__contact__user=user)
    )
    return ResidentRequest.objects.filter(Q(pk__in=scoped) | mine)


def resident_request_list(
    *, user: Viewer, community: Organization | None = None, status: str = "", unit: GridUnit | None = None
) -> QuerySet[ResidentRequest]:
    """Requests the user sees (the community's scope, or as a contact of the cell or a cell above)."""
    qs = _request_visible(user)
    if community is not None:
        qs = qs.filter(unit__community=community)
    if unit is not None:
        qs = qs.filter(unit=unit)
    if status == "open":
        qs = qs.exclude(status=RequestStatus.RESOLVED)
    elif status in RequestStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("unit__community").order_by("-logged_on", "-id")


def resident_request_get(*, user: Viewer, pk: Any) -> ResidentRequest:
    found = _pk(pk)
    request = (
        _request_visible(user).filter(pk=found).select_related("unit__community", "unit__parent").first()
        if found is not None
        else None
    )
    if request is None:
        raise Http404("该诉求不存在或不在您的权限范围内")
    return request


@dataclass
class RequestRow:
    organization: Organization
    logged: int = 0
    solved: int = 0
    households: int = 0


def request_stats(*, user: Viewer, organization: Organization, year: int) -> list[RequestRow]:
    """Requests logged and solved in ``year`` and the households benefited, per community of
    ``organization``'s subtree that has a grid (the Changsha "关键小事 100余件、受益3000余户"
    figures): one grouped query."""
    if not scope_for(user, "view", APP).covers(organization.path):
        return []
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = (
        ResidentRequest.objects.filter(subtree_q("unit__community__path", [organization.path]))
        .filter(
            Q(logged_on__gte=first, logged_on__lte=last) | Q(resolved_on__gte=first, resolved_on__lte=last)
        )
        .values("unit__community")
        .annotate(
            logged=Count("id", filter=Q(logged_on__gte=first, logged_on__lte=last)),
            solved=Count(
                "id", filter=Q(status=RequestStatus.RESOLVED, resolved_on__gte=first, resolved_on__lte=last)
            ),
            households=Sum(
                "households_benefited",
                filter=Q(status=RequestStatus.RESOLVED, resolved_on__gte=first, resolved_on__lte=last),
            ),
        )
        .order_by()
    )
    found = {row["unit__community"]: row for row in rows}
    orgs = Organization.objects.filter(pk__in=list(found)).order_by("path")
    return [
        RequestRow(org, found[org.pk]["logged"], found[org.pk]["solved"], found[org.pk]["households"] or 0)
        for org in orgs
    ]


# --- centres, rooms and bookings -------------------------------------------------------------------------


def may_book(*, user: Viewer) -> bool:
    """Whether the user may book for some unit (and so sees every open centre)."""
    return bool(_paths(user, "add"))


def centre_list(*, user: Viewer) -> QuerySet[Centre]:
    """Every open centre for a user who may book; plus the centres the user manages (open or not)."""
    managed = subtree_q("organization__path", _paths(user, "view"))
    condition = Q(is_active=True) | managed if may_book(user=user) else managed
    return (
        Centre.objects.filter(condition)
        .select_related("organization")
        .annotate(room_count=Count("rooms", filter=Q(rooms__is_active=True)))
        .order_by("name", "id")
    )


def centre_get(*, user: Viewer, pk: Any) -> Centre:
    found = _pk(pk)
    centre = centre_list(user=user).filter(pk=found).first() if found is not None else None
    if centre is None:
        raise Http404("该服务中心不存在或未开放")
    return centre


def centre_managed_get(*, user: Viewer, pk: Any, action: str = "change") -> Centre:
    """A centre the user manages (``action`` over its organisation), else 404."""
    found = _pk(pk)
    centre = (
        Centre.objects.restrict(user, action).filter(pk=found).select_related("organization").first()
        if found is not None
        else None
    )
    if centre is None:
        raise Http404("该服务中心不存在或不在您的管理范围内")
    return centre


def room_managed_get(*, user: Viewer, pk: Any, action: str = "change") -> Room:
    found = _pk(pk)
    room = (
        Room.objects.restrict(user, action).filter(pk=found).select_related("centre__organization").first()
        if found is not None
        else None
    )
    if room is None:
        raise Http404("该活动室不存在或不在您的管理范围内")
    return room


def room_get(*, user: Viewer, pk: Any) -> Room:
    """A room the user may book (an open room of a centre they see), else 404."""
    found = _pk(pk)
    room = (
        Room.objects.filter(pk=found, centre__in=centre_list(user=user).values("pk"))
        .select_related("centre__organization")
        .first()
        if found is not None
        else None
    )
    if room is None:
        raise Http404("该活动室不存在或未开放")
    return room


@dataclass(frozen=True)
class TakenSlot:
    start: datetime
    end: datetime
    unit: str
    status: str
    status_label: str
    own: bool


def room_day(*, user: Viewer, room: Room, day: date) -> list[TakenSlot]:
    """The slots of ``room`` taken on ``day`` (bookings holding it): time, the unit, the status;
    ``own`` when the booking is the user's unit's. One query."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    own = set(
        Booking.objects.restrict(user, "view")
        .filter(room=room, start__lt=end, end__gt=start)
        .values_list("pk", flat=True)
    )
    rows = (
        Booking.objects.filter(room=room, status__in=HOLDING_STATUSES, start__lt=end, end__gt=start)
        .select_related("organization")
        .order_by("start", "id")
    )
    return [
        TakenSlot(
            b.start,
            b.end,
            b.organization.short_name or b.organization.name,
            b.status,
            str(b.get_status_display()),
            b.pk in own,
        )
        for b in rows
    ]


def _booking_visible(user: Viewer, action: str = "view") -> QuerySet[Booking]:
    mine = Booking.objects.restrict(user, action).values("pk")
    managed = subtree_q("room__centre__organization__path", _paths(user, action))
    return Booking.objects.filter(Q(pk__in=mine) | managed)


@dataclass(frozen=True)
class BookingFilters:
    centre: Centre | None = None
    status: str = ""
    side: str = ""  # "unit": the user's units' bookings; "centre": bookings of the user's centres
    upcoming: bool = False


def booking_list(*, user: Viewer, filters: BookingFilters | None = None) -> QuerySet[Booking]:
    """Bookings of the user's units and of rooms of the centres they manage."""
    filters = filters or BookingFilters()
    qs: QuerySet[Booking]
    if filters.side == "unit":
        qs = Booking.objects.restrict(user, "view")
    elif filters.side == "centre":
        qs = Booking.objects.filter(subtree_q("room__centre__organization__path", _paths(user, "view")))
    else:
        qs = _booking_visible(user)
    if filters.centre is not None:
        qs = qs.filter(room__centre=filters.centre)
    if filters.status in BookingStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.upcoming:
        qs = qs.filter(end__gte=timezone.now())
    return qs.select_related("room__centre", "organization", "activity").order_by("-start", "-id")


def booking_get(*, user: Viewer, pk: Any) -> Booking:
    found = _pk(pk)
    booking = (
        _booking_visible(user)
        .filter(pk=found)
        .select_related("room__centre__organization", "organization", "activity", "booked_by", "decided_by")
        .first()
        if found is not None
        else None
    )
    if booking is None:
        raise Http404("该预约不存在或不在您的权限范围内")
    return booking


def bookings_waiting_count(*, user: Viewer) -> int:
    """Pending bookings of rooms of centres the user manages (the workbench item)."""
    paths = _paths(user, "change")
    if not paths:
        return 0
    return Booking.objects.filter(
        subtree_q("room__centre__organization__path", paths), status=BookingStatus.PENDING
    ).count()


@dataclass
class CentreUsage:
    """A centre's use in a year: approved bookings held (start before now) by month and by unit."""

    centre: Centre
    year: int
    by_month: list[int]
    by_unit: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return sum(self.by_month)


def centre_usage(*, user: Viewer, centre: Centre, year: int) -> CentreUsage:
    """The Kunming "开展和承接各类党群活动50余次" figure of a centre the user manages: approved
    bookings of its rooms that have started, in ``year``, per month and per booking unit. Two
    queries."""
    if not scope_for(user, "view", APP).covers(centre.organization.path):
        return CentreUsage(centre, year, [0] * 12, [])
    start = timezone.make_aware(datetime.combine(date(year, 1, 1), time.min))
    end = timezone.make_aware(datetime.combine(date(year + 1, 1, 1), time.min))
    held = Booking.objects.filter(
        room__centre=centre,
        status=BookingStatus.APPROVED,
        start__gte=start,
        start__lt=min(end, timezone.now()),
    )
    by_month = [0] * 12
    for row in (
        held.annotate(_m=ExtractMonth("start", tzinfo=timezone.get_current_timezone()))
        .values("_m")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_month[row["_m"] - 1] = row["n"]
    by_unit = list(
        held.values("organization", "organization__name")
        .annotate(n=Count("id"), people=Sum("attendees"))
        .order_by("-n", "organization__name")
    )
    return CentreUsage(centre, year, by_month, by_unit)
