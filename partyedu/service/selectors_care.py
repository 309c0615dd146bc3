"""Reads of the care area: 谈心谈话 and its yearly coverage, 关怀帮扶 (cases, visits and aid, pairs,
the aid approval threshold, totals) and 政治生日.

Who sees what:
- talks: the organisation roles through ``restrict(user, "view")``, and each of the two people their
  own talks; the private note only the two people and the branch committee — users holding
  ``service.care`` over the talk's organisation (``talk_note_visible``);
- care records (cases, visits, pairs): ``service.care`` only, which no wildcard grants;
- political birthdays: the organisation roles over their subtree (``service.view``), and each
  member their own anniversary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404

from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_action, scope_for, subtree_q
from partyedu.members.choices import PARTY_STATUSES, MemberCategory
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths

from .choices import FundSource
from .models import CareCase, CarePair, CareVisit, ServicePolicy, Talk, TalkRule

APP = "service"
# The threshold where no policy is set: the model's own default (¥500).
DEFAULT_AID_THRESHOLD: Decimal = ServicePolicy._meta.get_field("aid_approval_threshold").get_default()
COMMITTEE_CATEGORIES = (MemberCategory.SECRETARY.value, MemberCategory.COMMITTEE.value)
# The largest subtree whose members one coverage page lists by name (a branch has at most 50).
NOT_TALKED_LIST_MAX = 500


def _own_member_q(user: Viewer, prefix: str = "") -> Q:
    return Q(**{f"{prefix}user_id": int(user.pk or 0)})


def own_member(*, user: Viewer) -> Member | None:
    """The member record of the user's own account (none for an account without one)."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=user.pk, is_active=True).select_related("organization").first()


def branch_of(*, user: Viewer, member: Member) -> Organization:
    """The branch a member belongs to: their organisation, or the branch above their party group."""
    org = member.organization
    if org.level == OrgLevel.GROUP and org.parent_id:
        parent = Organization.objects.filter(pk=org.parent_id).first()
        if parent is not None:
            return parent
    return org


# --- 谈心谈话 -----------------------------------------------------------------------------------


def talk_list(
    *, user: Viewer, organization: Organization | None = None, year: int | None = None
) -> QuerySet[Talk]:
    """The talks the user sees: those of the organisations in their ``service.view`` scope and
    their own (as one of the two people), newest first."""
    if not user.is_authenticated or not has_action(user, "view", APP):
        return Talk.objects.none()
    scope = scope_for(user, "view", APP)
    condition = scope.q("organization__path") | Q(party_a__user_id=user.pk) | Q(party_b__user_id=user.pk)
    talks = Talk.objects.filter(condition)
    if organization is not None:
        talks = talks.filter(organization.subtree_q("organization__path"))
    if year is not None:
        talks = talks.filter(date__year=year)
    return talks.select_related("organization", "party_a", "party_b").order_by("-date", "-id")


def talk_note_visible(*, user: Viewer, talk: Talk) -> bool:
    """The private note is for the two people and the branch committee (``service.care`` over the
    talk's organisation): never for anyone else, whatever else they may see."""
    if not user.is_authenticated:
        return False
    if user.pk is not None and user.pk in (talk.party_a.user_id, talk.party_b.user_id):
        return True
    return scope_for(user, "care", APP).covers(talk.organization.path)


@dataclass(frozen=True)
class TalkRow:
    talk: Talk
    note_visible: bool

    @property
    def note(self) -> str:
        return self.talk.note if self.note_visible else ""


def talk_rows(*, user: Viewer, talks: Iterable[Talk]) -> list[TalkRow]:
    """The talks with whether the user may read each one's note (no query: scope is cached)."""
    return [TalkRow(talk, talk_note_visible(user=user, talk=talk)) for talk in talks]


def talk_member_choices(*, user: Viewer, organization: Organization) -> QuerySet[Member]:
    """The members a talk at ``organization`` may be between: its subtree's members on the roll —
    within the user's ``service.add`` scope, or, for a member recording their own talk, the
    members of their own branch (whom they meet at every meeting; names only)."""
    members = Member.objects.filter(
        organization.subtree_q("org_path"), is_active=True, status__in=PARTY_STATUSES
    ).order_by("name", "id")
    if scope_for(user, "add", APP).covers(organization.path):
        return members.only("id", "name", "organization_id")
    own = own_member(user=user)
    if own is not None and own.org_path.startswith(organization.path) and has_action(user, "add", APP):
        return members.only("id", "name", "organization_id")
    return Member.objects.none()


def talk_rule_for(*, user: Viewer, organization: Organization) -> TalkRule | None:
    """The rule in force at ``organization``: its own, else the nearest one up the tree (policy:
    which pairs count, no people's data)."""
    rules = TalkRule.objects.filter(organization__path__in=ancestor_paths(organization.path)).select_related(
        "organization"
    )
    return max(rules, key=lambda r: len(r.organization.path), default=None)


@dataclass
class MemberCoverage:
    id: int
    name: str
    committee: bool
    required: int = 0
    held: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def not_talked(self) -> bool:
        return self.required > 0 and self.held == 0


@dataclass
class UnitCoverage:
    """One branch's pairs for the year."""

    organization: Organization
    member_pairs: bool
    members: list[MemberCoverage]
    pairs_required: int = 0
    pairs_held: int = 0

    @property
    def not_talked(self) -> list[MemberCoverage]:
        return [m for m in self.members if m.not_talked]

    @property
    def percent(self) -> int:
        return round(100 * self.pairs_held / self.pairs_required) if self.pairs_required else 100


@dataclass
class TalkCoverage:
    organization: Organization
    year: int
    units: list[UnitCoverage]

    @property
    def pairs_required(self) -> int:
        return sum(u.pairs_required for u in self.units)

    @property
    def pairs_held(self) -> int:
        return sum(u.pairs_held for u in self.units)

    @property
    def members_total(self) -> int:
        return sum(len(u.members) for u in self.units)

    @property
    def not_talked(self) -> list[MemberCoverage]:
        return [m for u in self.units for m in u.not_talked]

    @property
    def percent(self) -> int:
        return round(100 * self.pairs_held / self.pairs_required) if self.pairs_required else 100


def _units(user: Viewer, organization: Organization) -> list[Organization]:
    """The branches whose pairs count: a party group counts alone, anything else by the branches
    in its subtree (itself, when it is one)."""
    if organization.level in (OrgLevel.GROUP, OrgLevel.BRANCH):
        return [organization] if organization.is_active else []  # branches hold no branches
    return list(
        Organization.objects.restrict(user, "view", app_label=APP)
        .filter(organization.subtree_q("path"), level=OrgLevel.BRANCH, is_active=True)
        .order_by("path")
    )


def talk_coverage(
    *, user: Viewer, organization: Organization, year: int, detail: bool = False
) -> TalkCoverage:
    """The year's 谈心谈话 coverage of the branches in ``organization``'s subtree, in four queries
    whatever their size (three for one branch): the branches, their members, the year's talks, and
    the rules.

    Pairs required in a branch with c committee members (书记, 支部委员) and m other members:
    c(c−1)/2 + c·m, plus m(m−1)/2 where the branch's rule counts 党员与党员 pairs. A pair is held
    with one talk or more in the year between the two, of any kind; a member with pairs required
    and none held is "not talked with yet". ``detail`` also names each member's missing partners
    (for one branch's page)."""
    units = _units(user, organization)
    if not units:
        return TalkCoverage(organization, year, [])
    by_path = {u.path: u for u in units}
    members_q = subtree_q("org_path", [u.path for u in units])
    people = (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(members_q, is_active=True, status__in=PARTY_STATUSES)
        .order_by("org_path", "name", "id")
        .values_list("id", "name", "categories", "org_path")
    )
    unit_of: dict[int, str] = {}
    people_of: dict[str, list[MemberCoverage]] = defaultdict(list)
    for pk, name, categories, org_path in people:
        unit_path = next((p for p in reversed(ancestor_paths(org_path)) if p in by_path), None)
        if unit_path is None:
            continue
        committee = any(c in COMMITTEE_CATEGORIES for c in (categories or ()))
        unit_of[pk] = unit_path
        people_of[unit_path].append(MemberCoverage(pk, name, committee))
    held: set[tuple[int, int]] = set()
    talks = (
        Talk.objects.restrict(user, "view")
        .filter(subtree_q("organization__path", [u.path for u in units]), date__year=year)
        .values_list("party_a_id", "party_b_id")
        .distinct()
    )
    for a, b in talks:
        if a in unit_of and unit_of.get(a) == unit_of.get(b):
            held.add((min(a, b), max(a, b)))
    rule_rows = TalkRule.objects.filter(
        Q(organization__path__in=ancestor_paths(organization.path))
        | organization.subtree_q("organization__path")
    ).values_list("organization__path", "member_pairs")
    rules = dict(rule_rows)
    result = []
    for unit in units:
        member_pairs = next((rules[p] for p in reversed(ancestor_paths(unit.path)) if p in rules), False)
        result.append(_unit_coverage(unit, people_of.get(unit.path, []), held, member_pairs, detail))
    return TalkCoverage(organization, year, result)


def _unit_coverage(
    unit: Organization,
    members: list[MemberCoverage],
    held: set[tuple[int, int]],
    member_pairs: bool,
    detail: bool,
) -> UnitCoverage:
    committee = [m for m in members if m.committee]
    c, n = len(committee), len(members)
    m = n - c
    required = c * (c - 1) // 2 + c * m + (m * (m - 1) // 2 if member_pairs else 0)
    by_id = {p.id: p for p in members}
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in held:
        if a in by_id and b in by_id and (member_pairs or by_id[a].committee or by_id[b].committee):
            partners[a].add(b)
            partners[b].add(a)
    pairs_held = sum(len(p) for p in partners.values()) // 2
    for person in members:
        person.required = n - 1 if (member_pairs or person.committee) else c
        person.held = len(partners[person.id])
        if detail and person.held < person.required:
            wanted = members if (member_pairs or person.committee) else committee
            person.missing = [o.name for o in wanted if o.id != person.id and o.id not in partners[person.id]]
    return UnitCoverage(unit, member_pairs, members, required, pairs_held)


def coverage_organization(*, user: Viewer, pk: Any) -> Organization:
    """An organisation in the user's ``service.view`` scope, else 404."""
    org = None
    if str(pk).isdigit() and int(pk) < 2**62:
        org = Organization.objects.restrict(user, "view", app_label=APP).filter(pk=int(pk)).first()
    if org is None:
        raise Http404("党组织不存在")
    return org


def talk_secretary_branches(*, user: Viewer) -> list[Organization]:
    """The branches (and party groups) where the user is a secretary (党务工作者/支部书记): their
    workbench asks them for the talks still to hold."""
    from partyedu.core.scope import role_paths

    paths = role_paths(user, "branch_admin")
    if not paths:
        return []
    return list(
        Organization.objects.filter(
            path__in=paths, level__in=(OrgLevel.BRANCH, OrgLevel.GROUP), is_active=True
        ).order_by("path")[:5]
    )


# --- 关怀帮扶 -----------------------------------------------------------------------------------


def care_members(*, user: Viewer, organization: Organization | None = None) -> QuerySet[Member]:
    """Members on the roll the user may keep care records for (``service.care``)."""
    members = Member.objects.restrict(user, "care", app_label=APP).filter(is_active=True)
    if organization is not None:
        members = members.filter(organization.subtree_q("org_path"))
    return members.order_by("org_path", "name", "id")


def care_member_get(*, user: Viewer, pk: Any) -> Member | None:
    """A member in the user's care scope, or None."""
    if not str(pk).isdigit() or int(pk) >= 2**62:
        return None
    return care_members(user=user).select_related("organization").filter(pk=int(pk)).first()


def care_case_list(
    *, user: Viewer, organization: Organization | None = None, open_only: bool = False
) -> QuerySet[CareCase]:
    cases = CareCase.objects.restrict(user, "care")
    if organization is not None:
        cases = cases.filter(organization.subtree_q("member__org_path"))
    if open_only:
        cases = cases.filter(ended_on__isnull=True)
    return cases.select_related("member", "member__organization").order_by(
        "member__org_path", "member__name", "-since", "id"
    )


def care_case_get(*, user: Viewer, pk: int) -> CareCase:
    case = (
        CareCase.objects.restrict(user, "care")
        .select_related("member", "member__organization")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("记录不存在")
    return case


def care_visit_list(
    *,
    user: Viewer,
    organization: Organization | None = None,
    year: int | None = None,
    pending_only: bool = False,
    member: Member | None = None,
) -> QuerySet[CareVisit]:
    visits = CareVisit.objects.restrict(user, "care")
    if organization is not None:
        visits = visits.filter(organization.subtree_q("member__org_path"))
    if year is not None:
        visits = visits.filter(date__year=year)
    if pending_only:
        visits = visits.filter(awaiting_decision_q())
    if member is not None:
        visits = visits.filter(member=member)
    return visits.select_related("member", "member__organization", "approved_by").order_by("-date", "-id")


def care_visit_get(*, user: Viewer, pk: int) -> CareVisit:
    visit = (
        CareVisit.objects.restrict(user, "care")
        .select_related("member", "member__organization")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404("记录不存在")
    return visit


def awaiting_decision_q(prefix: str = "") -> Q:
    """Visits above the threshold that the level above has neither approved nor refused yet
    (``CareVisit.awaiting_decision``)."""
    return Q(
        **{
            f"{prefix}needs_approval": True,
            f"{prefix}approved_at__isnull": True,
            f"{prefix}rejected_at__isnull": True,
        }
    )


def counted_q(prefix: str = "") -> Q:
    """Visits that count as given: below the threshold, or approved by the level above (a visit
    the level above refused — 不予批准 — keeps ``approved_at`` null and never counts)."""
    return Q(**{f"{prefix}needs_approval": False}) | Q(**{f"{prefix}approved_at__isnull": False})


def pending_approvals(*, user: Viewer) -> QuerySet[CareVisit]:
    """Visits above the threshold waiting for the user to approve them: within their care scope,
    below an organisation where they act for the level above (org_admin at a strict ancestor)."""
    from partyedu.core.scope import policy_paths

    paths = policy_paths(user)
    if not paths:
        return CareVisit.objects.none()
    below = Q(pk__in=[])
    for path in paths:
        below |= Q(member__org_path__startswith=path) & ~Q(member__org_path=path)
    return care_visit_list(user=user, pending_only=True).filter(below)


def aid_threshold(*, user: Viewer | None, path: str) -> Decimal:
    """The aid amount above which the level above must approve, at the organisation ``path``: the
    nearest policy up the tree, else the default (policy, no people's data)."""
    policy = (
        ServicePolicy.objects.filter(organization__path__in=ancestor_paths(path))
        .order_by(F("organization__depth").desc())
        .values_list("aid_approval_threshold", flat=True)
        .first()
    )
    return DEFAULT_AID_THRESHOLD if policy is None else policy


def policy_list(*, user: Viewer) -> QuerySet[ServicePolicy]:
    """The policies within the user's care scope (an org_admin sets them for their subtree)."""
    return (
        ServicePolicy.objects.restrict(user, "care")
        .select_related("organization")
        .order_by("organization__path")
    )


@dataclass
class CareTotalsRow:
    """One organisation's (or the level's own) figures for the year, counting only aid given."""

    label: str
    organization: Organization | None
    visits: int = 0
    people: int = 0
    payments: int = 0
    amount: Decimal = Decimal("0")
    by_source: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class CareTotals:
    organization: Organization
    year: int
    total: CareTotalsRow
    rows: list[CareTotalsRow]
    pending: int
    pending_amount: Decimal
    sources: list[tuple[str, str]]


def care_totals(*, user: Viewer, organization: Organization, year: int) -> CareTotals:
    """The year's care visits and aid given in ``organization``'s subtree: visits, people visited,
    aid payments (visits with an amount) and amounts by source of funds — in total and by child
    organisation; aid waiting for approval is counted apart, never in the totals, and aid the
    level above refused is counted nowhere. Five queries."""
    visits = care_visit_list(user=user, organization=organization, year=year).order_by()
    counted = visits.filter(counted_q())
    width = len(organization.path) + SEGMENT_WIDTH
    child_of = Substr("member__org_path", 1, width)

    measures: dict[str, Any] = {
        "visits": Count("id"),
        "people": Count("member_id", distinct=True),
        "payments": Count("id", filter=Q(amount__gt=0)),
        "amount": Sum("amount"),
    }
    overall = counted.aggregate(**measures)
    per_child = list(counted.annotate(child=child_of).values("child").annotate(**measures))
    sources = list(
        counted.filter(amount__gt=0)
        .annotate(child=child_of)
        .values("child", "fund_source")
        .annotate(amount=Sum("amount"))
    )
    pending = visits.filter(awaiting_decision_q()).aggregate(n=Count("id"), amount=Sum("amount"))
    children = {
        o.path: o
        for o in Organization.objects.restrict(user, "view", app_label=APP).filter(
            parent_id=organization.pk, path__in=[r["child"] for r in per_child]
        )
    }

    def row(label: str, org: Organization | None, data: dict[str, Any] | None) -> CareTotalsRow:
        data = data or {}
        return CareTotalsRow(
            label,
            org,
            data.get("visits", 0),
            data.get("people", 0),
            data.get("payments", 0),
            data.get("amount") or Decimal("0"),
        )

    total = row("合计", organization, overall)
    rows = []
    for data in sorted(per_child, key=lambda r: r["child"]):
        org = children.get(data["child"])
        rows.append(row(org.name if org else f"{organization.name}（本级）", org, data))
    by_child = {r.organization.path if r.organization else None: r for r in rows}
    for line in sources:
        key = line["child"] if line["child"] in children else None
        source = line["fund_source"] or FundSource.OTHER
        target = by_child.get(key)
        if target is not None:
            target.by_source[source] = target.by_source.get(source, Decimal("0")) + line["amount"]
        total.by_source[source] = total.by_source.get(source, Decimal("0")) + line["amount"]
    return CareTotals(
        organization=organization,
        year=year,
        total=total,
        rows=rows,
        pending=pending["n"] or 0,
        pending_amount=pending["amount"] or Decimal("0"),
        sources=[(value, str(label)) for value, label in FundSource.choices],
    )


def care_pair_list(
    *, user: Viewer, organization: Organization | None = None, active_only: bool = True
) -> QuerySet[CarePair]:
    pairs = CarePair.objects.restrict(user, "care")
    if organization is not None:
        pairs = pairs.filter(organization.subtree_q("elder__org_path"))
    if active_only:
        pairs = pairs.filter(ended_on__isnull=True)
    return pairs.select_related("elder", "younger", "elder__organization").order_by(
        "elder__org_path", "elder__name", "id"
    )


def care_organization(*, user: Viewer, pk: Any = None) -> Organization | None:
    """The organisation a care page shows: the one asked for within the user's care scope, else
    the top of that scope."""
    orgs = Organization.objects.restrict(user, "care", app_label=APP).filter(is_active=True)
    chosen = None
    if pk is not None and str(pk).isdigit() and int(pk) < 2**62:
        chosen = orgs.filter(pk=int(pk)).first()
    return chosen or orgs.order_by("path").first()


# --- 政治生日 -----------------------------------------------------------------------------------


def party_years(since: date | None, on: date) -> int | None:
    """Whole years from ``since`` to ``on`` (党龄 from ``full_member_on``; 入党N周年 from
    ``joined_on``); None without a date."""
    if since is None:
        return None
    return on.year - since.year - ((on.month, on.day) < (since.month, since.day))


def anniversary_in(joined_on: date, year: int) -> date:
    """The party birthday in ``year`` (29 February falls on the 28th in other years)."""
    try:
        return joined_on.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


@dataclass(frozen=True)
class Birthday:
    member: Member
    day: date
    years: int
    party_age: int | None


def birthday_members(*, user: Viewer, organization: Organization, year: int, month: int) -> list[Birthday]:
    """The members of ``organization``'s subtree whose party birthday (入党日期) falls in the month,
    by day — never a ranking. ``years``: the anniversary (入党N周年); ``party_age``: 党龄, counted
    from conversion (转正), None for a probationary member."""
    members = (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(
            organization.subtree_q("org_path"),
            is_active=True,
            status__in=PARTY_STATUSES,
            joined_on__month=month,
            joined_on__year__lt=year,
        )
        .select_related("organization")
        .order_by("joined_on__day", "name", "id")
    )
    out = []
    for member in members:
        assert member.joined_on is not None
        day = anniversary_in(member.joined_on, year)
        out.append(
            Birthday(member, day, year - member.joined_on.year, party_years(member.full_member_on, day))
        )
    return out


def birthday_count(*, user: Viewer, paths: tuple[str, ...], year: int, month: int) -> int:
    """How many members under ``paths`` (within the user's view scope) have their party birthday in
    the month (one count)."""
    if not paths:
        return 0
    return (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(
            subtree_q("org_path", paths),
            is_active=True,
            status__in=PARTY_STATUSES,
            joined_on__month=month,
            joined_on__year__lt=year,
        )
        .count()
    )


def own_birthday(*, user: Viewer, today: date) -> Birthday | None:
    """The user's own party birthday when it falls in the current week (Monday to Sunday)."""
    member = own_member(user=user)
    if member is None or member.joined_on is None or member.status not in PARTY_STATUSES:
        return None
    monday = today - timedelta(days=today.weekday())
    for year in {monday.year, (monday + timedelta(days=6)).year}:
        day = anniversary_in(member.joined_on, year)
        if monday <= day <= monday + timedelta(days=6) and year > member.joined_on.year:
            return Birthday(
                member, day, year - member.joined_on.year, party_years(member.full_member_on, day)
            )
    return None
