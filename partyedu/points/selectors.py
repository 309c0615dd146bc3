"""Reads of the points app. Every function takes the requesting ``user`` and starts from
``restrict(user, action)``; a member or scheme outside the user's points scope is 404."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404

from partyedu.core.scope import can, restrict_sql, scope_for
from partyedu.core.types import BaseViewer
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths

from .choices import AUDIENCE_STATUSES, TOTAL_BANDS, Audience, EntrySource
from .models import ManualPoints, PointsEntry, PointsItem, PointsOrgYear, PointsScheme, PointsVeto
from .services.derive import ZERO, is_exempt, period_of, scheme_in_force_sql, scheme_of, schemes_for
from .services.distribution import BAND_FIELDS, band_of, kept_years
from .services.figures import vetoes_in_force
from .services.ranking import competition_ranks, ranking_enabled

APP = "points"


def member_get(*, user: BaseViewer, pk: Any, action: str = "view", veto_year: int | None = None) -> Member:
    """A member within the user's points scope for ``action`` (view: a 党员 themself; change:
    whoever may award, deduct or veto), else 404. With ``veto_year``, ``member.veto_id`` is the
    id of their veto in force that year (or None), read in the same query."""
    members: QuerySet[Any] = (
        Member.objects.restrict(user, action, app_label=APP).filter(pk=pk).select_related("organization")
    )
    if veto_year is not None:
        in_force = PointsVeto.objects.filter(member=OuterRef("pk"), year=veto_year, lifted_at__isnull=True)
        members = members.annotate(veto_id=Subquery(in_force.values("pk")[:1]))
    member: Member | None = members.first()
    if member is None:
        raise Http404("党员不存在")
    return member


def member_of_user(*, user: BaseViewer) -> Member | None:
    """The user's own member record, if any (the 我的积分 page)."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=user.pk).select_related("organization").first()


@dataclass
class ItemFigure:
    code: str
    name: str
    kind: str
    points: Decimal
    cap: Decimal | None
    cap_period: str
    capped: bool


@dataclass
class MemberPoints:
    member: Member
    year: int
    scheme: PointsScheme | None
    base: Decimal
    earned: Decimal
    deducted: Decimal
    total: Decimal
    exempt: bool
    by_item: list[ItemFigure] = field(default_factory=list)
    entries: list[PointsEntry] = field(default_factory=list)
    manual: list[ManualPoints] = field(default_factory=list)
    # 一票否决 in force for the year: the total reads 0, the lines stay as they are.
    veto: PointsVeto | None = None

    @property
    def vetoed(self) -> bool:
        return self.veto is not None

    @property
    def veto_reason(self) -> str:
        return self.veto.reason if self.veto is not None else ""


def _state(member: Member) -> dict[str, Any]:
    return {
        "id": member.pk,
        "org_path": member.org_path,
        "is_exempt": member.is_exempt,
        "categories": member.categories,
        "status": member.status,
    }


def member_points(
    *, user: BaseViewer, member: Member | int, year: int, with_manual: bool = True
) -> MemberPoints:
    """The member's year: base + earned − deducted, by item with its cap and whether a period
    reached it, and every ledger line with its source; under a veto (一票否决) the total is 0.
    ``member`` (a record or its id) is looked up once within the user's points view scope, else
    404. Three queries: the member with the id of their veto in force, the scheme in force with
    its items, the lines; one more for a veto, one when a line belongs to an item of another
    scheme (the member moved), and the manual records unless ``with_manual`` is off (the API
    does not show them)."""
    member = member_get(user=user, pk=getattr(member, "pk", member), veto_year=year)
    scheme = scheme_of(_state(member), year)
    entries = list(
        PointsEntry.objects.restrict(user, "view")
        .filter(member=member, year=year)
        .order_by("source_date", "id")
    )
    manual = (
        list(
            ManualPoints.objects.restrict(user, "view")
            .filter(member=member, year=year)
            .select_related("item", "actor")
        )
        if with_manual
        else []
    )
    return _member_year(member, year, scheme, entries, manual)


def _member_year(
    member: Member,
    year: int,
    scheme: PointsScheme | None,
    entries: list[PointsEntry],
    manual: list[ManualPoints],
) -> MemberPoints:
    """The figures of a member's year from its scheme in force and its lines (each line given its
    item); the veto in force read only when ``member.veto_id`` names one."""
    items: dict[int, PointsItem] = {}
    if scheme is not None:
        for item in scheme.item_list:  # type: ignore[attr-defined]
            items[item.pk] = item
    missing = {e.item_id for e in entries} - items.keys()
    if missing:
        items.update(PointsItem.objects.in_bulk(missing))
    per_item: dict[int, Decimal] = defaultdict(Decimal)
    per_period: dict[tuple[int, tuple[int, int]], Decimal] = defaultdict(Decimal)
    for entry in entries:
        item = entry.item = items[entry.item_id]  # the item of the scheme, already read
        per_item[entry.item_id] += entry.points
        if entry.source_type != EntrySource.OBJECTION:  # a correction is outside the cap
            per_period[(entry.item_id, period_of(entry.source_date, item.cap_period))] += abs(entry.points)
    by_item = []  # the scheme's items in its order, then those of lines of another scheme
    for item_id, item in items.items():
        capped = item.cap is not None and any(
            used >= item.cap for (iid, _p), used in per_period.items() if iid == item_id
        )
        by_item.append(
            ItemFigure(
                item.code,
                item.name,
                item.kind,
                per_item.get(item_id, ZERO),
                item.cap,
                item.cap_period,
                capped,
            )
        )
    earned = sum((p for p in per_item.values() if p > 0), ZERO)
    deducted = -sum((p for p in per_item.values() if p < 0), ZERO)
    base = scheme.base if scheme is not None else ZERO
    veto_id = getattr(member, "veto_id", None)
    veto = PointsVeto.objects.get(pk=veto_id) if veto_id else None
    return MemberPoints(
        member=member,
        year=year,
        scheme=scheme,
        base=base,
        earned=earned,
        deducted=deducted,
        total=ZERO if veto is not None else base + earned - deducted,
        exempt=is_exempt(_state(member)),
        by_item=by_item,
        entries=entries,
        manual=manual,
        veto=veto,
    )


# The scheme in force with its items, by (scheme id, time it last changed): a scheme's items
# change only with the scheme (``scheme_update`` saves it), so a changed scheme is another key
# and nothing here is ever stale. Filled only outside a transaction, from committed rows; the
# least recently read version goes first beyond ``_SCHEMES_MAX`` (a city whose branches refine
# the scheme has one version per branch in force).
_SCHEMES: OrderedDict[tuple[int, Any], PointsScheme] = OrderedDict()
_SCHEMES_MAX = 512
_SCHEMES_LOCK = threading.Lock()


def _may_keep() -> bool:
    """Whether what was just read is committed, so that other requests may be given it: outside
    a transaction (a write's own transaction may still roll back)."""
    return not connection.in_atomic_block


def _scheme_with_items(scheme_id: int, changed: Any) -> PointsScheme:
    key = (scheme_id, changed)
    with _SCHEMES_LOCK:
        scheme = _SCHEMES.get(key)
        if scheme is not None:
            _SCHEMES.move_to_end(key)
            return scheme
    item_list = list(
        PointsItem.objects.filter(scheme_id=scheme_id).select_related("scheme").order_by("position", "id")
    )
    scheme = item_list[0].scheme if item_list else PointsScheme.objects.get(pk=scheme_id)
    for item in item_list:
        item.scheme = scheme
    scheme.item_list = item_list  # type: ignore[attr-defined]
    if _may_keep():
        with _SCHEMES_LOCK:
            _SCHEMES[key] = scheme
            while len(_SCHEMES) > _SCHEMES_MAX:
                _SCHEMES.popitem(last=False)
    return scheme


def member_points_brief(*, user: BaseViewer, member: int, year: int) -> MemberPoints:
    """``member_points`` without the manual records, for the API (read on every visit of the
    app's 我的积分): the same figures from two hand-written statements — the member within the
    user's points view scope (``restrict_sql``: the rule of ``restrict``) with the ids of their
    veto in force and of the scheme in force, then their lines — and the scheme's items from
    memory when that version of the scheme was read before; 404 outside the scope."""
    if not 0 < member < 2**63:  # no such id (and beyond what a parameter of the database holds)
        raise Http404("党员不存在")
    qn = connection.ops.quote_name
    tables = {
        "member": qn(Member._meta.db_table),
        "veto": qn(PointsVeto._meta.db_table),
        "scheme": qn(PointsScheme._meta.db_table),
        "entry": qn(PointsEntry._meta.db_table),
    }
    scope, scope_params = restrict_sql(Member, user, "view", alias="m", app_label=APP)
    in_force, in_force_params = scheme_in_force_sql("m", year)
    sql = (
        "SELECT m.id, m.org_path, m.is_exempt, m.categories, m.status, "
        "(SELECT v.id FROM {veto} v WHERE v.member_id = m.id AND v.year = %s AND v.lifted_at IS NULL "
        "LIMIT 1) AS veto_id, s.id AS scheme_id, s.updated_at AS scheme_changed "
        "FROM {member} m LEFT JOIN {scheme} s ON s.id = ({in_force}) WHERE m.id = %s AND {scope}"
    ).format(scope=scope, in_force=in_force, **tables)
    params = [year, *in_force_params, member, *scope_params]
    found = list(Member.objects.raw(sql, params))
    if not found:
        raise Http404("党员不存在")
    row = found[0]
    scheme_id = getattr(row, "scheme_id", None)
    scheme = _scheme_with_items(scheme_id, getattr(row, "scheme_changed", None)) if scheme_id else None
    # The member's lines, within the same scope: a line is scoped by its member.
    entries = list(
        PointsEntry.objects.raw(
            "SELECT e.id, e.points, e.item_id, e.description, e.source_type, e.source_date, e.created_at "
            "FROM {entry} e JOIN {member} m ON m.id = e.member_id "
            "WHERE e.member_id = %s AND e.year = %s AND {scope} ORDER BY e.source_date, e.id".format(
                scope=scope, **tables
            ),
            [member, year, *scope_params],
        )
    )
    return _member_year(row, year, scheme, entries, [])


@dataclass
class MemberTotal:
    member: Member
    base: Decimal
    net: Decimal
    veto_reason: str | None = None  # 一票否决 in force: the total reads 0
    rank: int | None = None  # only on a branch's own list, when the branch's ranking is on

    @property
    def vetoed(self) -> bool:
        return self.veto_reason is not None

    @property
    def total(self) -> Decimal:
        return ZERO if self.vetoed else self.base + self.net


def branch_members(*, user: BaseViewer, organization: Organization) -> QuerySet[Member]:
    """The members on the roll of the organisation's subtree within the user's points scope,
    ordered by name (no ranking): the list the page shows a page of."""
    return (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(organization.subtree_q("org_path"), is_active=True)
        .only("id", "name", "org_path", "is_exempt", "categories", "status", "organization_id")
        .order_by("name", "id")
    )


def member_totals(*, user: BaseViewer, members: Iterable[Member], year: int) -> list[MemberTotal]:
    """Base and total of each of ``members`` (one page of ``branch_members``, so already within
    the user's scope) for the year, in their order, with the veto in force: four queries
    whatever the page."""
    members = list(members)
    if not members:
        return []
    ids = [m.pk for m in members]
    nets = dict(
        PointsEntry.objects.filter(member_id__in=ids, year=year)
        .values("member_id")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("member_id", "s")
    )
    schemes = schemes_for({m.pk: _state(m) for m in members}, {year})
    vetoes = vetoes_in_force(ids, year)
    return [
        MemberTotal(
            m,
            schemes[(m.pk, year)].base if (m.pk, year) in schemes else ZERO,
            nets.get(m.pk) or ZERO,
            vetoes[m.pk].reason if m.pk in vetoes else None,
        )
        for m in members
    ]


def branch_ranks(*, user: BaseViewer, organization: Organization, year: int) -> dict[int, int] | None:
    """The rank of each party member of one branch by the year's total, when the organisation
    department turned ranking on for that branch (else None: no rank anywhere). Only inside the
    branch: a list of several branches never asks. Members under a veto and candidates (scored
    apart) have no rank. Six queries whatever the branch's size."""
    if not ranking_enabled(organization=organization):
        return None
    members = list(
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(
            organization.subtree_q("org_path"),
            is_active=True,
            status__in=AUDIENCE_STATUSES[Audience.MEMBERS],
        )
        .only("id", "org_path", "is_exempt", "categories", "status")
    )
    rows = member_totals(user=user, members=members, year=year)
    return competition_ranks({r.member.pk: r.total for r in rows if not r.vetoed})


def year_totals(*, members: Iterable[Member], year: int) -> dict[int, Decimal | None]:
    """The year's total (base + the ledger's net) of each of ``members``, None for a member no
    scheme applies to, 0 for a member whose year is vetoed (一票否决). No viewer: for a caller that
    already decided access to these members (the appraisal's evidence); ``member_totals`` is the
    scoped form. Four queries at most, whatever the number of members (the ledger's sums, the
    vetoes in force, the schemes and their items)."""
    members = list(members)
    if not members:
        return {}
    nets = dict(
        PointsEntry.objects.filter(member_id__in=[m.pk for m in members], year=year)
        .values("member_id")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("member_id", "s")
    )
    vetoed = set(
        PointsVeto.objects.filter(
            member_id__in=[m.pk for m in members], year=year, lifted_at__isnull=True
        ).values_list("member_id", flat=True)
    )
    schemes = schemes_for({m.pk: _state(m) for m in members}, {year})
    return {
        m.pk: (ZERO if m.pk in vetoed else schemes[(m.pk, year)].base + (nets.get(m.pk) or ZERO))
        if (m.pk, year) in schemes
        else None
        for m in members
    }


@dataclass
class OrgFigure:
    """A child organisation's figures: members on the roll, the average total, how many fall
    in each band of ``TOTAL_BANDS`` (label, count) and how many are under a veto (total 0)."""

    organization: Organization
    members: int
    average: Decimal
    bands: list[tuple[str, int]] = field(default_factory=list)
    vetoed: int = 0


def points_distribution(*, user: BaseViewer, organization: Organization, year: int) -> list[OrgFigure]:
    """Per child organisation of ``organization``: its party members on the roll within the
    user's scope, their average total and their count per total band (60分以下, 60–69 … 90分及以上),
    a veto counting 0 — figures for an org_admin, never a ranking of people. Each member's base
    is that of the nearest members' scheme up their own path.

    In a year of a members' scheme, a child the user's scope covers whole is read from its kept
    cumulative row (``PointsOrgYear``, kept by ``services.distribution``): three queries whatever
    the size of the city. A child the scope covers in part, and a year without a members'
    scheme, are counted from the members (``_distribution_counted``)."""
    scope = scope_for(user, "view", APP)
    children = list(Organization.objects.filter(parent=organization, is_active=True).order_by("path"))
    if not children:
        return []
    counted: dict[str, tuple[int, Decimal, int, list[int]]] = {}
    live = children
    if year in kept_years():
        whole = [c for c in children if scope.covers(c.path)]
        live = [c for c in children if not scope.covers(c.path)]
        rows = {r.organization_id: r for r in PointsOrgYear.objects.filter(organization__in=whole, year=year)}
        for child in whole:
            row = rows.get(child.pk)
            if row is not None:
                bands = [getattr(row, f) for f in BAND_FIELDS]
                counted[child.path] = (row.members, row.total_sum, row.vetoed, bands)
    if live:
        counted.update(_distribution_counted(user, organization, live, year))
    labels = [label for _lo, _up, label in TOTAL_BANDS]
    figures = []
    for child in children:
        n, total, vetoed, bands = counted.get(child.path, (0, ZERO, 0, [0] * len(TOTAL_BANDS)))
        if not n:
            figures.append(OrgFigure(child, 0, ZERO, [(label, 0) for label in labels]))
            continue
        average = (total / n).quantize(Decimal("0.1"))
        figures.append(OrgFigure(child, n, average, list(zip(labels, bands, strict=True)), vetoed))
    return figures


def _distribution_counted(
    user: BaseViewer, organization: Organization, children: list[Organization], year: int
) -> dict[str, tuple[int, Decimal, int, list[int]]]:
    """Child path → (members, sum of totals, vetoed, count per band), counted from the members
    on the roll within the user's scope joined to their kept year totals (``PointsYearTotal``)
    and grouped by child, total and veto: the bands are counted here from a few hundred
    groups. Two queries (the schemes, the groups)."""
    scope = scope_for(user, "view", APP)
    width = len(organization.path) + SEGMENT_WIDTH
    bases = dict(
        PointsScheme.objects.filter(year=year, audience=Audience.MEMBERS)
        .filter(
            Q(organization__path__in=ancestor_paths(organization.path))
            | organization.subtree_q("organization__path")
        )
        .values_list("organization__path", "base")
    )
    decimal: DecimalField[Decimal, Decimal] = DecimalField(max_digits=10, decimal_places=1)
    # The nearest scheme up a member's path: the deepest scheme organisation that prefixes it.
    whens = [
        When(org_path__startswith=path, then=Value(base, output_field=decimal))
        for path, base in sorted(bases.items(), key=lambda s: -len(s[0]))
    ]
    total: Any = Coalesce(F("kept__net"), Value(ZERO, output_field=decimal), output_field=decimal)
    if whens:
        total = total + Case(*whens, default=Value(ZERO, output_field=decimal), output_field=decimal)
    in_children = Q()
    for child in children:
        in_children |= child.subtree_q("org_path")
    groups = (
        Member.objects.filter(
            scope.q("org_path"),
            in_children,
            is_active=True,
            status__in=AUDIENCE_STATUSES[Audience.MEMBERS],
        )
        .annotate(
            kept=FilteredRelation("points_year_totals", condition=Q(points_year_totals__year=year)),
            prefix=Substr("org_path", 1, width),
            total=total,
            vetoed=Exists(
                PointsVeto.objects.filter(member=OuterRef("pk"), year=year, lifted_at__isnull=True)
            ),
        )
        .values("prefix", "total", "vetoed")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[str, tuple[int, Decimal, int, list[int]]] = {}
    for row in groups:
        prefix, n = row["prefix"], row["n"]
        value = ZERO if row["vetoed"] else Decimal(str(row["total"] or 0))
        members, total_sum, vetoes, bands = out.get(prefix, (0, ZERO, 0, [0] * len(TOTAL_BANDS)))
        bands[band_of(value)] += n
        out[prefix] = (members + n, total_sum + value * n, vetoes + (n if row["vetoed"] else 0), bands)
    return out


def scheme_list(*, user: BaseViewer, action: str = "view") -> QuerySet[PointsScheme]:
    return (
        PointsScheme.objects.restrict(user, action)
        .select_related("organization")
        .order_by("-year", "organization__path")
    )


def scheme_get(*, user: BaseViewer, pk: Any, action: str = "view") -> PointsScheme:
    scheme = scheme_list(user=user, action=action).filter(pk=pk).first()
    if scheme is None:
        raise Http404("积分方案不存在")
    return scheme


@dataclass
class CandidateFigure:
    """One 入党积极分子 or 发展对象 on the 积分择优 list: their total and the points by item."""

    member: Member
    base: Decimal
    total: Decimal
    by_item: dict[int, Decimal]
    has_scheme: bool
    values: list[Decimal] = field(default_factory=list)  # by_item in the list's column order


@dataclass
class CandidateList:
    organization: Organization
    year: int
    items: list[PointsItem]  # the columns: the items of the candidates' schemes in force
    rows: list[CandidateFigure]


def candidates_ranked(*, user: BaseViewer, organization: Organization, year: int) -> CandidateList:
    """积分择优: the 入党积极分子 and 发展对象 on the roll of ``organization``'s subtree, ordered by
    the year's total under the candidates' scheme (highest first, then by name), with the points
    behind each total by item — one input of the branch committee's choice of whom to develop,
    shown only to whoever may change points at the organisation. Four queries."""
    if not can(user, "change", organization, app_label=APP):
        raise Http404("只有支部委员会（党务工作者）可以查看积分择优名单")
    members = list(
        Member.objects.restrict(user, "change", app_label=APP)
        .filter(
            organization.subtree_q("org_path"),
            is_active=True,
            status__in=AUDIENCE_STATUSES[Audience.CANDIDATES],
        )
        .only("id", "name", "org_path", "is_exempt", "categories", "status", "organization_id")
        .order_by("name", "id")
    )
    schemes = schemes_for({m.pk: _state(m) for m in members}, {year})
    per_item: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for member_id, item_id, points in (
        PointsEntry.objects.filter(member_id__in=[m.pk for m in members], year=year)
        .values("member_id", "item_id")
        .annotate(s=Sum("points"))
        .order_by()
        .values_list("member_id", "item_id", "s")
    ):
        per_item[member_id][item_id] = points or ZERO
    columns: dict[int, PointsItem] = {}
    for scheme in {id(s): s for s in schemes.values()}.values():
        for item in scheme.item_list:  # type: ignore[attr-defined]
            columns.setdefault(item.pk, item)
    rows = []
    for m in members:
        applied = schemes.get((m.pk, year))
        base = applied.base if applied is not None else ZERO
        items = per_item.get(m.pk, {})
        rows.append(CandidateFigure(m, base, base + sum(items.values(), ZERO), items, applied is not None))
    rows.sort(key=lambda r: (-r.total, r.member.name, r.member.pk))
    for row in rows:
        row.values = [row.by_item.get(pk, ZERO) for pk in columns]
    return CandidateList(organization, year, list(columns.values()), rows)
