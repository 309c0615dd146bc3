"""Reads of 双报到 and volunteer service. Every public function takes the requesting user and
starts from ``restrict(user, action)`` or from the user's scope paths; a row outside is 404.

Two sides read the same rows. The unit's side reaches agreements, registrations and service
records through the unit's and the members' organisation paths (``restrict``). The community side
— users with service rights over a community organisation — reaches the agreements made with it,
the members registered with it, and the service records it is to confirm, through the community's
path (``community__path`` within ``scope_for(user, action, "service").paths``).

Coverage (the organisation department's view, by organisation and year):

- **Units that should register**: organisations of the type 机关, 事业单位 or 国有企业 at the level
  党委, 党总支 or 党支部 that head their unit — their parent is a 党工委 or 党组 (a bureau under the
  机关工委, a street office under the 街道党工委) or an organisation of another type (a hospital's
  党委 under the 区委, a township office's branch under the 镇党委). Branches inside a unit are not
  units of their own, nor are the territorial committees (市委, 区委) above them.
- A unit **has registered** in a year when an agreement made by the unit or an organisation inside
  it was in force at some time in the year (signed by the year's end, not ended before its start).
- **Members expected to register**: party members (正式、预备) on the roll with the category 在职
  whose own organisation is of the type 机关, 事业单位 or 国有企业; **registered** in a year when a
  registration of theirs was in force at some time in it.
- **Services** of members: the confirmed service records of the year plus their attendances
  (出席、迟到) at volunteer activities of the year; **hours**: the records' hours plus the volunteer
  activities' clock hours. The units' own services are the volunteer activities they held.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for, subtree_q
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.choices import OrgLevel, OrgType
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType
from partyedu.study.models import Attendance

from .choices import ListKind, RecordStatus
from .models import Agreement, AgreementItem, Registration, ServiceRecord, VolunteerActivity

APP = "service"
UNIT_TYPES = (OrgType.ORGAN, OrgType.INSTITUTION, OrgType.SOE)
UNIT_LEVELS = (OrgLevel.COMMITTEE, OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH)
HEAD_LEVELS = (OrgLevel.WORKING_COMMITTEE, OrgLevel.LEADING_GROUP)
MEMBER_STATUSES = (MemberStatus.PROBATIONARY, MemberStatus.FULL)
ZERO = Decimal("0")
TENTH = Decimal("0.1")


def _uid(user: Viewer) -> int:
    return int(user.pk or 0) if user.is_authenticated else 0


def _year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def _hours(duration: timedelta | None) -> Decimal:
    if not duration:
        return ZERO
    return (Decimal(int(duration.total_seconds())) / 3600).quantize(TENTH, ROUND_HALF_UP)


DURATION = ExpressionWrapper(F("activity__end") - F("activity__start"), output_field=DurationField())


# --- the member's own ---------------------------------------------------------------------------


def my_member(*, user: Viewer) -> Member | None:
    """The user's own member record, if any (the 党员's own pages)."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=_uid(user)).select_related("organization").first()


def current_registration(*, user: Viewer, member: Member) -> Registration | None:
    """The member's registration in force, if the user may see the member's registrations."""
    return (
        Registration.objects.restrict(user, "view")
        .filter(member=member, ended_on__isnull=True)
        .select_related("community", "agreement_item")
        .first()
    )


def registration_history(*, user: Viewer, member: Member) -> QuerySet[Registration]:
    return (
        Registration.objects.restrict(user, "view")
        .filter(member=member)
        .select_related("community", "agreement_item")
        .order_by("-registered_on", "-id")
    )


def community_choices(*, user: Viewer) -> QuerySet[Organization]:
    """The communities one registers with: the head organisation of each community (a 社区党委,
    党总支 or 党支部 under a 街道党工委, not the branches inside it). Organisation names are public
    within the platform, so every signed-in member may pick from the whole tree."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return (
        Organization.objects.filter(org_type=OrgType.COMMUNITY, level__in=UNIT_LEVELS, is_active=True)
        .exclude(parent__org_type=OrgType.COMMUNITY, parent__level__in=UNIT_LEVELS)
        .only("pk", "name", "path")
        .order_by("path")
    )


def project_items_for(*, user: Viewer, member: Member) -> QuerySet[AgreementItem]:
    """The projects a member may take on: the project lines of agreements in force made by the
    member's own unit (their organisation or one above it), whether or not the user manages it."""
    if not user.is_authenticated:
        return AgreementItem.objects.none()
    today = timezone.localdate()
    return (
        AgreementItem.objects.filter(
            kind=ListKind.PROJECT,
            agreement__organization__path__in=ancestor_paths(member.org_path),
            agreement__signed_on__lte=today,
        )
        .filter(Q(agreement__ends_on__isnull=True) | Q(agreement__ends_on__gte=today))
        .select_related("agreement__community")
        .order_by("agreement_id", "id")
    )


@dataclass
class YearFigures:
    year: int
    records: int = 0
    record_hours: Decimal = ZERO
    pending: int = 0
    volunteer: int = 0
    volunteer_hours: Decimal = ZERO

    @property
    def hours(self) -> Decimal:
        return self.record_hours + self.volunteer_hours


def member_years(*, user: Viewer, member: Member) -> list[YearFigures]:
    """我的服务 by year: confirmed records and their hours, records awaiting confirmation, and
    volunteer activities attended with their clock hours. Two queries."""
    years: dict[int, YearFigures] = {}
    rows = (
        ServiceRecord.objects.restrict(user, "view")
        .filter(member=member)
        .annotate(y=ExtractYear("date"))
        .values("y")
        .annotate(
            n=Count("pk", filter=Q(status=RecordStatus.CONFIRMED)),
            h=Sum("hours", filter=Q(status=RecordStatus.CONFIRMED)),
            p=Count("pk", filter=Q(status=RecordStatus.PENDING)),
        )
        .order_by()
    )
    for row in rows:
        figures = years.setdefault(row["y"], YearFigures(row["y"]))
        figures.records, figures.record_hours, figures.pending = row["n"], row["h"] or ZERO, row["p"]
    attended = (
        Attendance.objects.restrict(user, "view", app_label=APP)
        .filter(
            member=member,
            status__in=ATTENDED_STATUSES,
            activity__activity_type=ActivityType.VOLUNTEER_SERVICE,
        )
        .annotate(y=ExtractYear("activity__start"))
        .values("y")
        .annotate(n=Count("pk"), d=Sum(DURATION))
        .order_by()
    )
    for row in attended:
        figures = years.setdefault(row["y"], YearFigures(row["y"]))
        figures.volunteer, figures.volunteer_hours = row["n"], _hours(row["d"])
    return [years[y] for y in sorted(years, reverse=True)]


def member_records(*, user: Viewer, member: Member) -> QuerySet[ServiceRecord]:
    return (
        ServiceRecord.objects.restrict(user, "view")
        .filter(member=member)
        .select_related("registration__community")
        .order_by("-date", "-id")
    )


def member_volunteer_attendance(*, user: Viewer, member: Member) -> QuerySet[Attendance]:
    """The member's rows on volunteer activities' rosters (signed up, attended or not)."""
    return (
        Attendance.objects.restrict(user, "view", app_label=APP)
        .filter(member=member, activity__activity_type=ActivityType.VOLUNTEER_SERVICE)
        .select_related("activity__organization", "activity__volunteer")
        .order_by("-activity__start", "-id")
    )


# --- agreements ---------------------------------------------------------------------------------


def _with_item_counts(qs: QuerySet[Agreement]) -> QuerySet[Agreement]:
    return qs.annotate(
        needs=Count("items", filter=Q(items__kind=ListKind.NEED)),
        resources=Count("items", filter=Q(items__kind=ListKind.RESOURCE)),
        projects=Count("items", filter=Q(items__kind=ListKind.PROJECT)),
    )


def agreement_list(*, user: Viewer, organization: Organization | None = None) -> QuerySet[Agreement]:
    """The agreements of the units in the user's scope (optionally one organisation's subtree),
    with the length of each list."""
    qs = Agreement.objects.restrict(user, "view").select_related("organization", "community")
    if organization is not None:
        qs = qs.filter(organization.subtree_q("organization__path"))
    return _with_item_counts(qs).order_by("organization__path", "-signed_on", "id")


def agreements_with_community(*, user: Viewer) -> QuerySet[Agreement]:
    """The community side: agreements made with a community organisation in the user's scope."""
    paths = scope_for(user, "view", APP).paths
    qs = Agreement.objects.filter(subtree_q("community__path", paths)).select_related(
        "organization", "community"
    )
    return _with_item_counts(qs).order_by("community__path", "-signed_on", "id")


def agreement_get(*, user: Viewer, pk: Any, action: str = "view") -> Agreement:
    """An agreement the user keeps (``action``) or, for viewing, one made with their community."""
    qs = Agreement.objects.restrict(user, action)
    if action == "view":
        qs = Agreement.objects.filter(
            Q(pk__in=Agreement.objects.restrict(user, "view").values("pk"))
            | subtree_q("community__path", scope_for(user, "view", APP).paths)
        )
    found = qs.select_related("organization", "community").filter(pk=pk).first()
    if found is None:
        raise Http404("协议不存在")
    return found


def agreement_items(*, user: Viewer, agreement: Agreement) -> dict[str, list[AgreementItem]]:
    """The agreement's three lists (an agreement the caller read with ``agreement_get``), each
    project with the members who took it on."""
    lists: dict[str, list[AgreementItem]] = {kind: [] for kind in ListKind.values}
    items = (
        AgreementItem.objects.filter(agreement=agreement)
        .annotate(
            takers=Count("registrations", filter=Q(registrations__ended_on__isnull=True)),
        )
        .order_by("kind", "id")
    )
    for item in items:
        lists[item.kind].append(item)
    return lists


def agreement_item_get(*, user: Viewer, pk: Any) -> AgreementItem:
    found = (
        AgreementItem.objects.restrict(user, "change")
        .select_related("agreement__organization", "agreement__community")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("清单事项不存在")
    return found


# --- registrations ------------------------------------------------------------------------------


def registration_list(
    *, user: Viewer, organization: Organization | None = None, in_force: bool = True
) -> QuerySet[Registration]:
    """Registrations of the members in the user's scope (optionally one organisation's subtree)."""
    qs = Registration.objects.restrict(user, "view").select_related(
        "member__organization", "community", "agreement_item"
    )
    if organization is not None:
        qs = qs.filter(organization.subtree_q("member__org_path"))
    if in_force:
        qs = qs.filter(ended_on__isnull=True)
    return qs.order_by("member__org_path", "member__name", "-registered_on", "id")


def registrations_with_community(*, user: Viewer) -> QuerySet[Registration]:
    """The community side: the members registered with a community in the user's scope (name,
    unit, post; nothing else of their records)."""
    paths = scope_for(user, "view", APP).paths
    return (
        Registration.objects.filter(subtree_q("community__path", paths), ended_on__isnull=True)
        .select_related("member__organization", "community", "agreement_item")
        .order_by("community__path", "member__name", "id")
    )


def registration_get(*, user: Viewer, pk: Any, action: str = "view") -> Registration:
    found = (
        Registration.objects.restrict(user, action)
        .select_related("member__organization", "community")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("报到记录不存在")
    return found


def member_get(*, user: Viewer, pk: Any, action: str = "add") -> Member:
    """A member the user may act for in the service app (their own record, or one in their
    subtree), else 404."""
    found = (
        Member.objects.restrict(user, action, app_label=APP)
        .select_related("organization")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("党员不存在")
    return found


def unregistered_members(*, user: Viewer, organization: Organization | None = None) -> QuerySet[Member]:
    """In-service party members in the user's scope with no registration in force (the
    secretary's list to register)."""
    qs = expected_members(Member.objects.restrict(user, "view", app_label=APP)).exclude(
        Exists(Registration.objects.filter(member=OuterRef("pk"), ended_on__isnull=True))
    )
    if organization is not None:
        qs = qs.filter(organization.subtree_q("org_path"))
    return qs.select_related("organization").order_by("org_path", "name", "id")


# --- service records ----------------------------------------------------------------------------


def _confirmer_q(user: Viewer) -> Q:
    """Records the user confirms: their registration's community is in the user's change scope,
    or (no community in the tree) the member's organisation is."""
    paths = scope_for(user, "change", APP).paths
    return subtree_q("registration__community__path", paths) | (
        Q(registration__community__isnull=True) & subtree_q("member__org_path", paths)
    )


def record_list(
    *, user: Viewer, organization: Organization | None = None, status: str = ""
) -> QuerySet[ServiceRecord]:
    """Service records of the members in the user's scope."""
    qs = ServiceRecord.objects.restrict(user, "view").select_related(
        "member__organization", "registration__community"
    )
    if organization is not None:
        qs = qs.filter(organization.subtree_q("member__org_path"))
    if status in RecordStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-date", "-id")


def records_to_confirm(*, user: Viewer, status: str = RecordStatus.PENDING) -> QuerySet[ServiceRecord]:
    """The community side's list: records it confirms (pending by default)."""
    if not user.is_authenticated:
        return ServiceRecord.objects.none()
    qs = ServiceRecord.objects.filter(_confirmer_q(user)).select_related(
        "member__organization", "registration__community"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("date", "id")


def record_for_decision(*, user: Viewer, pk: Any) -> ServiceRecord:
    """A record the user confirms or rejects, else 404."""
    found = records_to_confirm(user=user, status="").filter(pk=pk).first()
    if found is None:
        raise Http404("服务记录不存在")
    return found


def record_get(*, user: Viewer, pk: Any, action: str = "view") -> ServiceRecord:
    found = (
        ServiceRecord.objects.restrict(user, action)
        .select_related("member__organization", "registration__community")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("服务记录不存在")
    return found


def records_to_confirm_count(*, user: Viewer) -> int:
    if not user.is_authenticated or not scope_for(user, "change", APP).paths:
        return 0
    return records_to_confirm(user=user).count()


# --- volunteer activities -----------------------------------------------------------------------


def _signed_up() -> Count:
    return Count("activity__attendances", filter=Q(activity__attendances__is_invitee=False), distinct=True)


def volunteer_list(
    *, user: Viewer, organization: Organization | None = None, year: int | None = None
) -> QuerySet[VolunteerActivity]:
    qs = VolunteerActivity.objects.restrict(user, "view").select_related("activity__organization")
    if organization is not None:
        qs = qs.filter(organization.subtree_q("activity__organization__path"))
    if year is not None:
        start, end = _year_bounds(year)
        qs = qs.filter(activity__start__gte=start, activity__start__lt=end)
    return qs.annotate(
        signed_up=_signed_up(),
        attended=Count(
            "activity__attendances",
            filter=Q(activity__attendances__status__in=ATTENDED_STATUSES),
            distinct=True,
        ),
    ).order_by("-activity__start", "-id")


def volunteer_get(*, user: Viewer, pk: Any, action: str = "view") -> VolunteerActivity:
    found = (
        VolunteerActivity.objects.restrict(user, action)
        .select_related("activity__organization")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("志愿服务活动不存在")
    return found


def volunteer_roster(*, user: Viewer, volunteer: VolunteerActivity) -> QuerySet[Attendance]:
    """The members signed up for a volunteer activity the user read with ``volunteer_get``."""
    return (
        Attendance.objects.restrict(user, "view", app_label="study")
        .filter(activity_id=volunteer.activity_id, is_invitee=False)
        .select_related("member__organization")
        .order_by("member__org_path", "member__name", "id")
    )


def activity_hours(*, user: Viewer, volunteer: VolunteerActivity) -> Decimal:
    """The clock hours a volunteer activity (read with ``volunteer_get``) credits each attendee."""
    activity = volunteer.activity
    return _hours(activity.end - activity.start)


def volunteer_open_for(*, user: Viewer, member: Member) -> QuerySet[VolunteerActivity]:
    """Volunteer activities the user's own member record may sign up for or has signed up for,
    not yet over: held by the member's organisation or one above it (one not open to the subtree:
    by the member's own organisation, or the branch of their party group). Each carries
    ``signed_up`` (places taken) and ``mine`` (the member is on the roster)."""
    if not user.is_authenticated or member.user_id != _uid(user):
        return VolunteerActivity.objects.none()
    own = Q(activity__organization_id=member.organization_id)
    if member.organization.level == OrgLevel.GROUP:
        own |= Q(activity__organization_id=member.organization.parent_id)
    return (
        VolunteerActivity.objects.filter(
            activity__organization__path__in=ancestor_paths(member.org_path), activity__end__gt=timezone.now()
        )
        .filter(Q(open_to_subtree=True) | own)
        .select_related("activity__organization")
        .annotate(
            signed_up=_signed_up(),
            mine=Exists(Attendance.objects.filter(activity_id=OuterRef("activity_id"), member=member)),
        )
        .order_by("activity__start", "id")
    )


# --- coverage ------------------------------------------------------------------------------------


def unit_q() -> Q:
    """Organisations that head a unit expected to register (see the module docstring)."""
    return Q(org_type__in=UNIT_TYPES, level__in=UNIT_LEVELS, parent__isnull=False, is_active=True) & ~Q(
        parent__level__in=UNIT_LEVELS, parent__org_type=F("org_type")
    )


def expected_members(qs: QuerySet[Member]) -> QuerySet[Member]:
    """The members of ``qs`` expected to register (a filter on rows the caller read)."""
    return qs.filter(
        has_category_q(MemberCategory.EMPLOYED),
        is_active=True,
        status__in=MEMBER_STATUSES,
        organization__org_type__in=UNIT_TYPES,
    )


def _registered_in(year: int) -> Exists:
    start, end = _year_span(year)
    return Exists(
        Registration.objects.filter(member=OuterRef("pk"), registered_on__lte=end).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=start)
        )
    )


def _agreements_in(year: int) -> QuerySet[Agreement]:
    start, end = _year_span(year)
    return Agreement.objects.filter(signed_on__lte=end).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=start)
    )


@dataclass
class Figures:
    members_expected: int = 0
    members_registered: int = 0
    records: int = 0
    record_hours: Decimal = ZERO
    volunteer: int = 0
    volunteer_hours: Decimal = ZERO
    activities: int = 0

    @property
    def services(self) -> int:
        return self.records + self.volunteer

    @property
    def hours(self) -> Decimal:
        return self.record_hours + self.volunteer_hours

    @property
    def members_unregistered(self) -> int:
        return self.members_expected - self.members_registered

    def add(self, other: Figures) -> None:
        self.members_expected += other.members_expected
        self.members_registered += other.members_registered
        self.records += other.records
        self.record_hours += other.record_hours
        self.volunteer += other.volunteer
        self.volunteer_hours += other.volunteer_hours
        self.activities += other.activities


@dataclass
class UnitRow:
    organization: Organization
    agreements: int
    figures: Figures

    @property
    def registered(self) -> bool:
        return self.agreements > 0


@dataclass
class Coverage:
    organization: Organization
    year: int
    units: list[UnitRow] = field(default_factory=list)
    totals: Figures = field(default_factory=Figures)

    @property
    def units_total(self) -> int:
        return len(self.units)

    @property
    def units_registered(self) -> int:
        return sum(1 for u in self.units if u.registered)

    @property
    def units_unregistered(self) -> list[UnitRow]:
        return [u for u in self.units if not u.registered]


def _by_path(year: int, path: str) -> dict[str, Figures]:
    """The year's figures within the subtree at ``path``, grouped by organisation path (the
    members' for their figures, the holding organisation's for volunteer activities held): four
    grouped queries."""
    figures: dict[str, Figures] = defaultdict(Figures)
    members = (
        expected_members(Member.objects.filter(subtree_q("org_path", [path])))
        .values("org_path")
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(_registered_in(year))))
        .order_by()
    )
    for row in members:
        f = figures[row["org_path"]]
        f.members_expected, f.members_registered = row["n"], row["r"]
    start, end = _year_span(year)
    records = (
        ServiceRecord.objects.filter(
            subtree_q("member__org_path", [path]),
            status=RecordStatus.CONFIRMED,
            date__gte=start,
            date__lte=end,
        )
        .values("member__org_path")
        .annotate(n=Count("pk"), h=Sum("hours"))
        .order_by()
    )
    for row in records:
        f = figures[row["member__org_path"]]
        f.records, f.record_hours = row["n"], row["h"] or ZERO
    s, e = _year_bounds(year)
    attended = (
        Attendance.objects.filter(
            subtree_q("member__org_path", [path]),
            status__in=ATTENDED_STATUSES,
            activity__activity_type=ActivityType.VOLUNTEER_SERVICE,
            activity__start__gte=s,
            activity__start__lt=e,
        )
        .values("member__org_path")
        .annotate(n=Count("pk"), d=Sum(DURATION))
        .order_by()
    )
    for row in attended:
        f = figures[row["member__org_path"]]
        f.volunteer, f.volunteer_hours = row["n"], _hours(row["d"])
    held = (
        VolunteerActivity.objects.filter(
            subtree_q("activity__organization__path", [path]),
            activity__start__gte=s,
            activity__start__lt=e,
        )
        .values("activity__organization__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in held:
        figures[row["activity__organization__path"]].activities += row["n"]
    return figures


def coverage(*, user: Viewer, organization: Organization, year: int) -> Coverage:
    """The coverage of an organisation's subtree in a year (an organisation the user sees with
    ``service.view``, else 404): each unit expected to register with its agreements in force, its
    in-service members expected and registered, its members' services and hours and the volunteer
    activities it held; and the totals over the whole subtree. Six queries, whatever the size."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    path = organization.path
    # Units within the subtree, and the one the organisation itself lies in (its figures are
    # then that unit's, seen from inside).
    units = list(
        Organization.objects.filter(unit_q())
        .filter(Q(path__in=ancestor_paths(path)) | subtree_q("path", [path]))
        .only("pk", "name", "path", "level", "org_type", "depth")
        .order_by("path")
    )
    outer = min((u.path for u in units if path.startswith(u.path)), default=path, key=len)
    signed: dict[str, int] = defaultdict(int)
    for agreement_path in (
        _agreements_in(year)
        .filter(subtree_q("organization__path", [outer]))
        .values_list("organization__path", flat=True)
    ):
        signed[agreement_path] += 1
    figures = _by_path(year, path)
    result = Coverage(organization=organization, year=year)
    unit_paths = {u.path: UnitRow(u, 0, Figures()) for u in units}
    for agreement_path, n in signed.items():
        unit = _unit_of(agreement_path, unit_paths)
        if unit is not None:
            unit.agreements += n
    for org_path, f in figures.items():
        result.totals.add(f)
        unit = _unit_of(org_path, unit_paths)
        if unit is not None:
            unit.figures.add(f)
    result.units = list(unit_paths.values())
    return result


def _unit_of(path: str, units: dict[str, UnitRow]) -> UnitRow | None:
    """The unit a path lies in (the innermost unit among its ancestors)."""
    for ancestor in reversed(ancestor_paths(path)):
        if ancestor in units:
            return units[ancestor]
    return None


def service_figures(*, user: Viewer, organization: Organization, year: int) -> dict[str, Any]:
    """The 双报到 and service figures of the service summary (``GET
    /api/v1/organizations/{id}/service-summary/``) over the organisation's subtree."""
    found = coverage(user=user, organization=organization, year=year)
    return {
        "units_registered": found.units_registered,
        "units_total": found.units_total,
        "members_registered": found.totals.members_registered,
        "members_expected": found.totals.members_expected,
        "services": found.totals.services,
        "service_hours": found.totals.hours,
    }


@dataclass
class MemberRow:
    member: Member
    registration: Registration | None
    figures: Figures


def coverage_members(
    *, user: Viewer, organization: Organization, year: int, state: str = ""
) -> QuerySet[Member]:
    """The in-service members expected to register in the subtree (``state``: "registered",
    "unregistered" or all), each annotated with ``registered`` for the year."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    qs = expected_members(
        Member.objects.restrict(user, "view", app_label=APP).filter(organization.subtree_q("org_path"))
    ).annotate(registered=_registered_in(year))
    if state == "registered":
        qs = qs.filter(registered=True)
    elif state == "unregistered":
        qs = qs.filter(registered=False)
    return qs.select_related("organization").order_by("org_path", "name", "id")


def member_rows(*, user: Viewer, members: list[Member], year: int) -> list[MemberRow]:
    """Each member's registration (the latest in the year) and services of the year, for a page
    of members the caller read under scope. Three queries."""
    ids = [m.pk for m in members]
    start, end = _year_span(year)
    registrations: dict[int, Registration] = {}
    for reg in (
        Registration.objects.filter(member_id__in=ids, registered_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .select_related("community", "agreement_item")
        .order_by("member_id", "registered_on", "id")
    ):
        registrations[reg.member_id] = reg
    figures: dict[int, Figures] = defaultdict(Figures)
    for row in (
        ServiceRecord.objects.filter(
            member_id__in=ids, status=RecordStatus.CONFIRMED, date__gte=start, date__lte=end
        )
        .values("member_id")
        .annotate(n=Count("pk"), h=Sum("hours"))
        .order_by()
    ):
        figures[row["member_id"]].records, figures[row["member_id"]].record_hours = row["n"], row["h"] or ZERO
    s, e = _year_bounds(year)
    for row in (
        Attendance.objects.filter(
            member_id__in=ids,
            status__in=ATTENDED_STATUSES,
            activity__activity_type=ActivityType.VOLUNTEER_SERVICE,
            activity__start__gte=s,
            activity__start__lt=e,
        )
        .values("member_id")
        .annotate(n=Count("pk"), d=Sum(DURATION))
        .order_by()
    ):
        figures[row["member_id"]].volunteer = row["n"]
        figures[row["member_id"]].volunteer_hours = _hours(row["d"])
    return [MemberRow(m, registrations.get(m.pk), figures[m.pk]) for m in members]
