"""Reads of competitions: lists within scope, a reviewer's own assignments, round progress and
results with the chosen aggregation, awards and certificate verification.

Aggregation (docs/competitions.md) works on the reviews' weighted totals, in ``Decimal``, so the
same scores give the same ranking on every database:
- ``mean``: the mean of the totals;
- ``trimmed_mean``: with 5 or more reviews, drop one highest and one lowest total, then the mean;
- ``zscore``: each total becomes (total − μ) / σ over that reviewer's own submitted totals in the
  round (population σ; 0 when σ is 0), then the mean of the entry's z values.
Scores are rounded half-up to 4 places before ranking; equal scores share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import RoleAssignment, User
from partyedu.accounts.types import Viewer
from partyedu.core.scope import is_system, scope_for
from partyedu.lectures.selectors import APP as LECTURES_APP
from partyedu.lectures.selectors import CompetitionFigures, LecturerAward
from partyedu.organizations.models import ancestor_paths

from .choices import Aggregation, AwardKind, CompetitionKind, RoundStatus
from .models import (
    Award,
    AwardCategory,
    Certificate,
    Competition,
    Entry,
    Review,
    Round,
    RoundEntry,
    RoundReviewer,
)

APP = "competitions"
# The award category of a competition without an award plan: with its one grade, 优秀党课.
DEFAULT_AWARD_CATEGORY = "党课"
RESULT_PLACES = Decimal("0.0001")
TRIM_MIN_REVIEWS = 5


def competition_list(*, user: Viewer, action: str = "view") -> QuerySet[Competition]:
    return (
        Competition.objects.restrict(user, action)
        .filter(kind=CompetitionKind.LECTURE)  # a contest's award record lives in the exams pages
        .select_related("organization")
        .annotate(entry_count=Count("entries", filter=Q(entries__withdrawn=False), distinct=True))
        .order_by("-year", "-id")
    )


def competition_get(*, user: Viewer, pk: Any, action: str = "view") -> Competition:
    try:
        return (
            Competition.objects.restrict(user, action)
            .filter(kind=CompetitionKind.LECTURE)
            .select_related("organization")
            .get(pk=pk)
        )
    except (Competition.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def round_get(*, user: Viewer, pk: Any, action: str = "view") -> Round:
    try:
        return Round.objects.restrict(user, action).select_related("competition__organization").get(pk=pk)
    except (Round.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def entry_list(*, user: Viewer, competition: Competition) -> QuerySet[Entry]:
    return (
        Entry.objects.restrict(user, "view")
        .filter(competition=competition)
        .select_related("organization", "lecturer", "category")
        .order_by("id")
    )


def entry_get(*, user: Viewer, pk: Any, action: str = "view") -> Entry:
    try:
        return (
            Entry.objects.restrict(user, action)
            .select_related("competition__organization", "organization", "lecturer", "category")
            .get(pk=pk)
        )
    except (Entry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def own_entries(*, user: User) -> QuerySet[Entry]:
    """A member's own entries (self-nominated or recommended)."""
    return (
        Entry.objects.filter(lecturer__user=user)
        .select_related("competition", "organization")
        .order_by("-competition__year", "-id")
    )


def reviewer_roles(*, user: Viewer | None) -> QuerySet[RoleAssignment]:
    """Reviewer-role assignments of active users at organisations within the user's competitions
    scope (every one for the system, ``user=None``)."""
    qs = RoleAssignment.objects.filter(role__code=RoleCode.REVIEWER, user__is_active=True)
    if user is None:
        return qs
    return qs.filter(scope_for(user, "view", APP).q("organization__path"))


def reviewer_list(*, user: Viewer) -> list[dict[str, Any]]:
    """The users holding the reviewer role at organisations within the caller's scope, each with
    the organisation of that role (the first, when several)."""
    rows = (
        reviewer_roles(user=user)
        .order_by("user_id", "organization__path")
        .values_list(
            "user_id", "user__username", "user__display_name", "organization_id", "organization__name"
        )
    )
    out: dict[int, dict[str, Any]] = {}
    for user_id, username, display_name, org_id, org_name in rows:
        out.setdefault(
            user_id,
            {
                "id": user_id,
                "username": username,
                "display_name": display_name,
                "organization": org_id,
                "organization_name": org_name,
            },
        )
    return list(out.values())


def review_list(*, user: User) -> QuerySet[Review]:
    """Only the caller's own assignments, whatever else their roles allow."""
    return (
        Review.objects.restrict(user, "view")
        .filter(reviewer=user)
        .select_related("round_entry__entry__category", "round_entry__round__competition")
        .order_by("submitted_at", "round_entry__round__competition_id", "round_entry_id")
    )


def review_get(*, user: User, pk: Any) -> Review:
    """One of the caller's own reviews; any other is not found."""
    try:
        return review_list(user=user).get(pk=pk)
    except (Review.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def review_peers(*, user: Viewer, review: Review) -> list[Review]:
    """The other submitted reviews of the same entry, shown to a reviewer only after their own
    submission (empty before) and only for their own review (empty for anybody else's): peers'
    reviews lie outside a reviewer's scope, which reaches only their own assignments."""
    if review.submitted_at is None or review.reviewer_id != user.pk:
        return []
    return list(
        Review.objects.filter(round_entry_id=review.round_entry_id, submitted_at__isnull=False)
        .exclude(pk=review.pk)
        .order_by("id")
    )


# --- results -------------------------------------------------------------------------------------


def _round_q(user: Viewer | None, action: str, field: str) -> Q:
    """Rows whose round lies in the user's ``action`` scope (``field``: the path of the round's
    competition organisation, reached from the rows), so that a round out of scope yields
    nothing; every row for the system (``user=None``)."""
    if is_system(user):
        return Q()
    return scope_for(user, action, APP).q(field)


def _q(value: Decimal) -> Decimal:
    return value.quantize(RESULT_PLACES, rounding=ROUND_HALF_UP)


def _aggregate_mean(totals: Sequence[Decimal]) -> Decimal | None:
    if not totals:
        return None
    return _q(sum(totals, Decimal(0)) / len(totals))


def _aggregate_trimmed(totals: Sequence[Decimal]) -> Decimal | None:
    if len(totals) >= TRIM_MIN_REVIEWS:
        ordered = sorted(totals)
        return _aggregate_mean(ordered[1:-1])
    return _aggregate_mean(totals)


def _reviewer_z(totals_by_reviewer: dict[int, list[Decimal]]) -> dict[int, tuple[Decimal, Decimal]]:
    """Each reviewer's (μ, σ) over their submitted totals."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for reviewer_id, totals in totals_by_reviewer.items():
        mean = sum(totals, Decimal(0)) / len(totals)
        sigma = statistics.pstdev(totals, mean) if len(totals) > 1 else Decimal(0)
        out[reviewer_id] = (mean, Decimal(sigma))
    return out


def _z_value(total: Decimal, mean: Decimal, sigma: Decimal) -> Decimal:
    return Decimal(0) if sigma == 0 else (total - mean) / sigma


@dataclass
class ResultRow:
    round_entry_id: int
    entry_id: int
    title: str
    lecturer: str
    organization: str
    assigned: int = 0
    submitted: int = 0
    totals: list[Decimal] = field(default_factory=list)
    score: Decimal | None = None
    rank: int | None = None
    tied: bool = False
    spread: Decimal | None = None
    flagged: bool = False
    advanced: bool = False

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and self.submitted == self.assigned


def _rank_rows(rows: list[ResultRow]) -> list[ResultRow]:
    """Order by score (highest first; unscored last, by entry), equal scores sharing a rank."""
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.entry_id))
    counts: dict[Decimal, int] = defaultdict(int)
    for row in rows:
        if row.score is not None:
            counts[row.score] += 1
    position = 0
    previous: Decimal | None = None
    for index, row in enumerate(rows, start=1):
        if row.score is None:
            continue
        if row.score != previous:
            position = index
            previous = row.score
        row.rank = position
        row.tied = counts[row.score] > 1
    return rows


def round_results(*, user: Viewer | None, round_: Round, action: str = "view") -> list[ResultRow]:
    """Every entry of the round with its reviews' totals, its aggregate by the round's method,
    its rank and whether its reviewers disagree strongly (spread ≥ the round's threshold). Empty
    for a round outside the user's ``action`` scope (a service passes the right it required, or
    ``None`` for the system)."""
    rows: dict[int, ResultRow] = {}
    for re_id, entry_id, title, lecturer, org, advanced in (
        RoundEntry.objects.filter(
            _round_q(user, action, "round__competition__organization__path"),
            round=round_,
            entry__withdrawn=False,
        )
        .order_by("entry_id")
        .values_list(
            "pk", "entry_id", "entry__title", "entry__lecturer__name", "entry__organization__name", "advanced"
        )
    ):
        rows[re_id] = ResultRow(re_id, entry_id, title, lecturer, org, advanced=advanced)
    reviews = Review.objects.filter(
        _round_q(user, action, "round_entry__round__competition__organization__path"),
        round_entry__round=round_,
    ).order_by("id")
    by_entry: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    by_reviewer: dict[int, list[Decimal]] = defaultdict(list)
    for re_id, reviewer_id, total, submitted_at in reviews.values_list(
        "round_entry_id", "reviewer_id", "total", "submitted_at"
    ):
        row = rows.get(re_id)
        if row is None:
            continue
        row.assigned += 1
        if submitted_at is None or total is None:
            continue
        row.submitted += 1
        by_entry[re_id].append((reviewer_id, total))
        by_reviewer[reviewer_id].append(total)
    z = _reviewer_z(by_reviewer) if round_.aggregation == Aggregation.ZSCORE else {}
    for re_id, row in rows.items():
        pairs = by_entry.get(re_id, [])
        row.totals = [total for _, total in pairs]
        if not pairs:
            continue
        row.spread = max(row.totals) - min(row.totals)
        row.flagged = len(pairs) > 1 and row.spread >= round_.spread_threshold
        if round_.aggregation == Aggregation.TRIMMED_MEAN:
            row.score = _aggregate_trimmed(row.totals)
        elif round_.aggregation == Aggregation.ZSCORE:
            values = [_z_value(total, *z[reviewer_id]) for reviewer_id, total in pairs]
            row.score = _q(sum(values, Decimal(0)) / len(values))
        else:
            row.score = _aggregate_mean(row.totals)
    return _rank_rows(list(rows.values()))


@dataclass
class ReviewerProgress:
    user_id: int
    username: str
    assigned: int
    submitted: int
    # Filled in by the round page from the reviewer list and ``round_exclusions``.
    display_name: str = ""
    organization_name: str = ""
    exclusion: Exclusion | None = None


def round_progress(*, user: Viewer, round_: Round, action: str = "view") -> list[ReviewerProgress]:
    """Per panel member: reviews assigned and submitted (nobody for a round outside the user's
    ``action`` scope)."""
    counts = {
        row["reviewer_id"]: row
        for row in Review.objects.filter(
            _round_q(user, action, "round_entry__round__competition__organization__path"),
            round_entry__round=round_,
        )
        .values("reviewer_id")
        .annotate(assigned=Count("id"), submitted=Count("id", filter=Q(submitted_at__isnull=False)))
    }
    panel = RoundReviewer.objects.filter(
        _round_q(user, action, "round__competition__organization__path"), round=round_
    )
    out = []
    for user_id, username in panel.order_by("user_id").values_list("user_id", "user__username"):
        row = counts.get(user_id, {})
        out.append(ReviewerProgress(user_id, username, row.get("assigned", 0), row.get("submitted", 0)))
    return out


@dataclass
class Exclusion:
    """Why a panel member is kept from some of the round's entries (回避): the organisations they
    avoid under the competition's rule, why each (本人所在组织, or the unit one level below the
    organiser that holds it), and how many of the round's entries that excludes."""

    user_id: int
    avoided: list[tuple[str, str]] = field(default_factory=list)
    entries: int = 0


def round_exclusions(
    *, user: Viewer, round_: Round, action: str = "view", panel: Sequence[int] | None = None
) -> dict[int, Exclusion]:
    """Per panel member of the round, their ``Exclusion`` (none for a round outside the user's
    ``action`` scope). ``panel``: the panel's user ids when the caller read them already (from
    ``round_progress`` with the same scope). Four queries, and one more without ``panel``."""
    from partyedu.organizations.models import Organization

    from .conflicts import avoided_paths, conflicts, reviewer_paths

    competition = round_.competition
    if panel is None:
        panel = list(
            RoundReviewer.objects.filter(
                _round_q(user, action, "round__competition__organization__path"), round=round_
            ).values_list("user_id", flat=True)
        )
    if not panel:
        return {}
    own = reviewer_paths(panel)
    org_path, rule = competition.organization.path, competition.conflict_rule
    avoided = {pk: avoided_paths(paths, org_path, rule) for pk, paths in own.items()}
    names = dict(
        Organization.objects.filter(path__in={p for paths in avoided.values() for p in paths}).values_list(
            "path", "name"
        )
    )
    entries = list(
        RoundEntry.objects.filter(round=round_, entry__withdrawn=False).values_list(
            "entry__organization__path", "entry__lecturer_path", "entry__lecturer__user_id"
        )
    )
    out: dict[int, Exclusion] = {}
    for user_id in panel:
        row = Exclusion(user_id)
        for path in avoided[user_id]:
            why = "本人所在组织" if path in own[user_id] else "本人所在单位"
            row.avoided.append((names.get(path, path), why))
        row.entries = sum(1 for entry in entries if conflicts(user_id, avoided[user_id], *entry))
        out[user_id] = row
    return out


def round_assignments(*, user: Viewer, round_: Round, action: str = "view") -> list[Mapping[str, Any]]:
    """Every assignment of the round as plain rows (entry, reviewer, manual, submitted); none for
    a round outside the user's ``action`` scope."""
    return list(
        Review.objects.filter(
            _round_q(user, action, "round_entry__round__competition__organization__path"),
            round_entry__round=round_,
        )
        .order_by("round_entry__entry_id", "reviewer_id")
        .values(
            "id",
            "manual",
            "submitted_at",
            "reviewer",
            entry=F("round_entry__entry_id"),
            entry_title=F("round_entry__entry__title"),
            reviewer_username=F("reviewer__username"),
        )
    )


def round_panel(*, user: Viewer, round_: Round, action: str = "view") -> list[User]:
    """The reviewers on the round's panel (none for a round outside the user's ``action`` scope)."""
    return list(
        User.objects.filter(
            _round_q(user, action, "review_panels__round__competition__organization__path"),
            review_panels__round=round_,
        ).order_by("pk")
    )


def award_list(*, user: Viewer, competition: Competition) -> QuerySet[Award]:
    return (
        Award.objects.restrict(user, "view")
        .filter(competition=competition)
        .select_related("certificate", "entry", "organization")
        .order_by("kind", "id")
    )


def award_categories(*, user: Viewer, competition: Competition) -> list[AwardCategory]:
    """The competition's award plan (评奖类别 with their number per grade), in order; none for a
    competition outside the user's view scope."""
    return list(
        AwardCategory.objects.filter(
            _round_q(user, "view", "competition__organization__path"), competition=competition
        ).select_related("entry_category", "competition")
    )


# --- the award suggestion (评定建议) ---------------------------------------------------------------


@dataclass
class Candidate:
    """An entry ranked in the closed final round, as the awards see it."""

    entry_id: int
    title: str
    lecturer: str
    lecturer_id: int
    organization_id: int
    organization: str
    organization_path: str
    category_id: int | None
    lecture_type: str
    score: Decimal | None
    rank: int


@dataclass
class SuggestedAward:
    """An entry's place within an award category and the grade it would receive ("" none)."""

    candidate: Candidate
    category_rank: int
    tied: bool
    grade: str = ""


@dataclass
class CategorySuggestion:
    category: AwardCategory
    counts: list[tuple[str, int]]
    rows: list[SuggestedAward]

    @property
    def awarded(self) -> list[SuggestedAward]:
        return [row for row in self.rows if row.grade]


@dataclass
class UnitSuggestion:
    """A unit one level below the organiser, with the figures an organiser weighs when naming
    优秀组织单位: entries it recommended, lectures held in its subtree in the competition's year
    (None when the reader may not see its lectures), lecture awards its entries would receive and
    their best final rank. ``automatic``: named by the rule (``organization_count``)."""

    organization_id: int
    name: str
    path: str
    entries: int = 0
    lectures: int | None = None
    awards: int = 0
    best_rank: int | None = None
    automatic: bool = False
    # What the rule (``organization_count``) counts: the lecture awards, or, when none is named,
    # the first-placed entries.
    credited: int = 0
    credited_rank: int | None = None


@dataclass
class AwardSuggestion:
    """What ``services.awards_grant`` would name: per award category, its eligible entries ranked
    within it with their grades; 优秀主讲人 from the overall rank; and the units ranked by entries
    recommended and lectures held. ``ready`` is False until the final round is closed."""

    final: Round | None
    grades: list[str]
    categories: list[CategorySuggestion] = field(default_factory=list)
    lecturers: list[Candidate] = field(default_factory=list)
    units: list[UnitSuggestion] = field(default_factory=list)
    ready: bool = False

    @property
    def lecture_awards(self) -> list[tuple[CategorySuggestion, SuggestedAward]]:
        return [(c, row) for c in self.categories for row in c.awarded]


def _category_matches(category: AwardCategory, candidate: Candidate) -> bool:
    if category.entry_category_id is not None and candidate.category_id != category.entry_category_id:
        return False
    return not (category.lecture_type and candidate.lecture_type != category.lecture_type)


def _rank_categories(
    candidates: Sequence[Candidate], categories: Sequence[AwardCategory], grades: Sequence[str]
) -> list[CategorySuggestion]:
    """Rank the entries within each award category, in the plan's order, and give grades.

    An entry competes in every category whose filter it matches, but is named in the first one
    only (a later category ranks the entries not yet named). Within a category, entries keep the
    order of their final-round rank and equal final ranks share a category rank (1, 2, 2, 4).
    The grades fill cumulative cut-offs: with 一等奖 1, 二等奖 2, 三等奖 3 an entry ranked r in the
    category gets 一等奖 when r ≤ 1, else 二等奖 when r ≤ 3, else 三等奖 when r ≤ 6 — so entries
    tied at a cut-off all receive that grade, as tied entries all advance."""
    named: set[int] = set()
    out: list[CategorySuggestion] = []
    for category in categories:
        counts = [(g, int((category.counts or {}).get(g, 0) or 0)) for g in grades]
        cuts: list[tuple[str, int]] = []
        total = 0
        for grade, n in counts:
            total += n
            if n:
                cuts.append((grade, total))
        eligible = sorted(
            (c for c in candidates if c.entry_id not in named and _category_matches(category, c)),
            key=lambda c: (c.rank, c.entry_id),
        )
        ties: dict[int, int] = defaultdict(int)
        for c in eligible:
            ties[c.rank] += 1
        rows: list[SuggestedAward] = []
        position, previous = 0, None
        for index, c in enumerate(eligible, start=1):
            if c.rank != previous:
                position, previous = index, c.rank
            grade = next((g for g, cut in cuts if position <= cut), "")
            rows.append(SuggestedAward(c, position, ties[c.rank] > 1, grade))
        named.update(row.candidate.entry_id for row in rows if row.grade)
        out.append(CategorySuggestion(category, counts, rows))
    return out


def _candidates(user: Viewer | None, action: str, final: Round) -> list[Candidate]:
    rows = (
        RoundEntry.objects.filter(
            _round_q(user, action, "round__competition__organization__path"),
            round=final,
            rank__isnull=False,
            entry__withdrawn=False,
        )
        .order_by("rank", "entry_id")
        .values_list(
            "entry_id",
            "entry__title",
            "entry__lecturer__name",
            "entry__lecturer_id",
            "entry__organization_id",
            "entry__organization__name",
            "entry__organization__path",
            "entry__category_id",
            "entry__lecture__lecture_type",
            "score",
            "rank",
        )
    )
    return [
        Candidate(eid, title, lecturer, lid, oid, org, path, cat, ltype or "", score, rank or 0)
        for eid, title, lecturer, lid, oid, org, path, cat, ltype, score, rank in rows
    ]


def _unit_rows(
    user: Viewer | None,
    action: str,
    competition: Competition,
    awarded: list[Candidate],
    credited: list[Candidate],
) -> list[UnitSuggestion]:
    """The organiser's direct children with their figures: ``awarded`` are the entries named in
    lecture awards, ``credited`` those the automatic rule counts."""
    from partyedu.lectures.models import Lecture
    from partyedu.lectures.selectors import year_range
    from partyedu.organizations.models import SEGMENT_WIDTH, Organization

    from .choices import EntrySource

    org = competition.organization
    width = len(org.path) + SEGMENT_WIDTH
    units = {
        path: UnitSuggestion(pk, name, path)
        for pk, name, path in Organization.objects.filter(
            path__startswith=org.path, depth=org.depth + 1, is_active=True
        )
        .order_by("path")
        .values_list("pk", "name", "path")
    }
    if not units:
        return []
    entries = (
        Entry.objects.filter(
            _round_q(user, action, "competition__organization__path"),
            Q(source=EntrySource.RECOMMENDED) | Q(endorsed_at__isnull=False),
            competition=competition,
            withdrawn=False,
        )
        .annotate(prefix=Substr("organization__path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in entries:
        if row["prefix"] in units:
            units[row["prefix"]].entries = row["n"]
    lectures_scope = None if is_system(user) else scope_for(user, "view", LECTURES_APP)
    start, end = year_range(competition.year)
    lectures = (
        Lecture.objects.filter(
            Q() if lectures_scope is None else lectures_scope.q("organization__path"),
            org.subtree_q("organization__path"),
            start__gte=start,
            start__lt=end,
        )
        .annotate(prefix=Substr("organization__path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
    )
    held = {row["prefix"]: row["n"] for row in lectures}
    for path, unit in units.items():
        if lectures_scope is None or lectures_scope.covers(path):
            unit.lectures = held.get(path, 0)
    for c in awarded:
        holder = units.get(c.organization_path[:width])
        if holder is not None:
            holder.awards += 1
            holder.best_rank = c.rank if holder.best_rank is None else min(holder.best_rank, c.rank)
    for c in credited:
        holder = units.get(c.organization_path[:width])
        if holder is not None:
            holder.credited += 1
            holder.credited_rank = (
                c.rank if holder.credited_rank is None else min(holder.credited_rank, c.rank)
            )
    return sorted(units.values(), key=lambda u: (-u.entries, -(u.lectures or 0), u.path))


def award_suggestion(
    *,
    user: Viewer | None,
    competition: Competition,
    action: str = "view",
    lecture_count: int = 0,
    lecturer_count: int = 0,
    organization_count: int = 0,
) -> AwardSuggestion:
    """What the awards would be, from the closed final round (``AwardSuggestion``): the award
    plan's categories (or, for a competition without one, ``lecture_count`` entries of the best
    grade among all, named 党课 — 优秀党课 with the default grade), the lecturers of the top
    ``lecturer_count`` entries, and the units, of which the first ``organization_count`` holding
    lecture awards (most awards, then best rank, then tree order; the first-placed entries count
    when no lecture award is named) are marked automatic. Empty for a competition outside the
    user's ``action`` scope (``None``: the system)."""
    grades = list(competition.grades or [])
    final = (
        Round.objects.filter(
            _round_q(user, action, "competition__organization__path"), competition=competition
        )
        .order_by("-sequence")
        .first()
    )
    suggestion = AwardSuggestion(final=final, grades=grades)
    if final is None or final.status != RoundStatus.CLOSED:
        return suggestion
    suggestion.ready = True
    candidates = _candidates(user, action, final)
    categories = list(AwardCategory.objects.filter(competition=competition).select_related("entry_category"))
    if not categories and lecture_count and grades:
        categories = [
            AwardCategory(
                competition=competition, name=DEFAULT_AWARD_CATEGORY, counts={grades[0]: lecture_count}
            )
        ]
    suggestion.categories = _rank_categories(candidates, categories, grades)
    seen: set[int] = set()
    for c in candidates:
        if c.rank <= lecturer_count and c.lecturer_id not in seen:
            seen.add(c.lecturer_id)
            suggestion.lecturers.append(c)
    awarded = [row.candidate for _, row in suggestion.lecture_awards]
    credited = awarded or [c for c in candidates if c.rank <= 1]
    units = _unit_rows(user, action, competition, awarded, credited)
    by_awards = sorted(
        (u for u in units if u.credited), key=lambda u: (-u.credited, u.credited_rank or 0, u.path)
    )
    for unit in by_awards[:organization_count]:
        unit.automatic = True
    suggestion.units = units
    return suggestion


def certificate_verify(code: str) -> Certificate | None:
    """The certificate with this code, for the public page; None when there is none."""
    code = (code or "").strip().upper()
    if not code or len(code) > 32:
        return None
    return Certificate.objects.select_related("award__competition").filter(code=code).first()


# --- pages (added with the web UI) ---------------------------------------------------------------


def _open_round_q() -> Q:
    from .choices import RoundStatus

    return Q(rounds__status=RoundStatus.OPEN)


def competitions_accepting_entries(*, user: Viewer) -> QuerySet[Competition]:
    """Running competitions with an open round that an organisation in the user's ``add`` scope
    may enter: those held at or above an organisation of that scope (a district recommends to the
    city's competition) and those held within it."""
    from .choices import CompetitionStatus

    scope = scope_for(user, "add", APP)
    if not scope.paths:
        return Competition.objects.none()
    above = sorted({p for path in scope.paths for p in ancestor_paths(path)})
    return (
        Competition.objects.filter(
            Q(organization__path__in=above) | scope.q("organization__path"),
            status=CompetitionStatus.RUNNING,
        )
        .filter(pk__in=Competition.objects.filter(_open_round_q()).values("pk"))
        .select_related("organization")
        .order_by("-year", "-id")
    )


def competition_for_entries_get(*, user: Viewer, pk: Any) -> Competition:
    try:
        return competitions_accepting_entries(user=user).get(pk=pk)
    except (Competition.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def competitions_open_to_member(*, user: Viewer, member: Any) -> QuerySet[Competition]:
    """Running competitions with an open round held at the member's organisation or above it
    (the competitions a member may nominate themself to). Only for the user's own member record:
    none for anybody else's."""
    from .choices import CompetitionStatus

    if user.pk is None or member.user_id != user.pk:
        return Competition.objects.none()
    return (
        Competition.objects.filter(
            organization__path__in=ancestor_paths(member.org_path), status=CompetitionStatus.RUNNING
        )
        .filter(pk__in=Competition.objects.filter(_open_round_q()).values("pk"))
        .select_related("organization")
        .order_by("-year", "-id")
    )


def with_progress(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """Entries annotated with the furthest round they reached (``reached``, a sequence) and
    their number of awards."""
    from django.db.models import Max

    return entries.annotate(
        reached=Max("round_entries__round__sequence"),
        award_count=Count("awards", distinct=True),
    )


def pending_endorsements(*, user: Viewer) -> QuerySet[Entry]:
    """Self-nominations awaiting the endorsement of a branch the user may act for."""
    from .choices import EntrySource

    return (
        Entry.objects.restrict(user, "change")
        .filter(source=EntrySource.SELF, endorsed_at__isnull=True, withdrawn=False)
        .select_related("competition", "organization", "lecturer", "category")
        .order_by("competition_id", "id")
    )


def entry_for_withdraw_get(*, user: User, pk: Any) -> Entry:
    """An entry the user may withdraw: within their ``change`` scope, or their own."""
    try:
        return (
            Entry.objects.filter(
                Q(pk__in=Entry.objects.restrict(user, "change").values("pk")) | Q(lecturer__user=user)
            )
            .select_related("competition__organization", "organization", "lecturer")
            .get(pk=pk)
        )
    except (Entry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def entry_file_get(*, user: User, pk: Any) -> Entry:
    """An entry whose video and materials the user may open: one in their scope, one assigned
    to them for review, or their own."""
    assigned = Review.objects.restrict(user, "view").filter(reviewer=user).values("round_entry__entry_id")
    try:
        return Entry.objects.filter(
            Q(pk__in=Entry.objects.restrict(user, "view").values("pk"))
            | Q(pk__in=assigned)
            | Q(lecturer__user=user),
            pk=pk,
        ).get()
    except (Entry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def round_open_reviews(*, user: Viewer, round_: Round) -> QuerySet[Review]:
    """The round's assignments not yet submitted (those a manual reassignment may replace)."""
    return (
        Review.objects.restrict(user, "change")
        .filter(round_entry__round=round_, submitted_at__isnull=True, round_entry__entry__withdrawn=False)
        .select_related("round_entry__entry", "reviewer")
        .order_by("round_entry__entry_id", "reviewer_id")
    )


def round_following(*, user: Viewer, round_: Round, action: str = "view") -> Round | None:
    """The next round of the same competition within the user's ``action`` scope, if any."""
    return (
        Round.objects.restrict(user, action)
        .filter(competition_id=round_.competition_id, sequence__gt=round_.sequence)
        .order_by("sequence")
        .first()
    )


def award_get(*, user: Viewer, pk: Any, action: str = "view") -> Award:
    try:
        return (
            Award.objects.restrict(user, action)
            .select_related("competition__organization", "certificate")
            .get(pk=pk)
        )
    except (Award.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def competition_rounds(*, user: Viewer, competition: Competition) -> list[Round]:
    """The competition's rounds within the user's scope with their entries (``entry_count``),
    assignments (``assigned``) and submitted reviews (``submitted``)."""
    return list(
        Round.objects.restrict(user, "view")
        .filter(competition=competition)
        .annotate(
            entry_count=Count(
                "round_entries", filter=Q(round_entries__entry__withdrawn=False), distinct=True
            ),
            assigned=Count("round_entries__reviews", distinct=True),
            submitted=Count(
                "round_entries__reviews",
                filter=Q(round_entries__reviews__submitted_at__isnull=False),
                distinct=True,
            ),
        )
        .order_by("sequence")
    )


def round_names(*, user: User, competition_ids: Sequence[int]) -> dict[tuple[int, int], str]:
    """(competition id, sequence) → round name, for saying which round the user's own entries
    (``own_entries``) reached: only rounds of competitions the user has an entry in."""
    rows = (
        Round.objects.filter(competition_id__in=list(competition_ids))
        .filter(competition_id__in=Entry.objects.filter(lecturer__user=user).values("competition_id"))
        .values_list("competition_id", "sequence", "name")
    )
    return {(cid, seq): name for cid, seq, name in rows}


# --- what the lectures app shows of competitions (its hooks, registered in apps.py) ---------------

# Award kind → the field of ``lectures.selectors.OrgStatsRow`` that counts it.
AWARD_FIELDS: dict[str, str] = {
    AwardKind.LECTURE: "lecture_awards",
    AwardKind.LECTURER: "lecturer_awards",
    AwardKind.ORGANIZATION: "organization_awards",
}


def lecturer_awards(*, member_id: int) -> list[LecturerAward]:
    """The lecture awards (优秀党课, 精品微党课 …, under their printed name) and 优秀主讲人 awards of
    entries the member lectured, newest first, with the certificate code; awards whose certificate was revoked are left out (hook
    ``lectures.lecturer_awards``: a lecturer's record). One query."""
    labels = dict(AwardKind.choices)
    rows = (
        Award.objects.filter(
            kind__in=[AwardKind.LECTURE, AwardKind.LECTURER],
            entry__lecturer_id=member_id,
            certificate__revoked_at__isnull=True,
        )
        .order_by("-awarded_on", "-competition__year", "kind", "-id")
        .values_list(
            "competition__title",
            "competition__year",
            "kind",
            "entry__title",
            "awarded_on",
            "certificate__code",
            "title",
        )
    )
    return [
        LecturerAward(
            competition=title,
            year=year,
            kind=kind,
            label=award_title or str(labels.get(kind, kind)),
            entry_title=entry_title or "",
            awarded_on=awarded_on,
            certificate_code=code or "",
        )
        for title, year, kind, entry_title, awarded_on, code, award_title in rows
    ]


def lecture_stats_figures(
    *, user: Viewer | None, organization: Any, year: int, width: int
) -> CompetitionFigures:
    """Competition figures of ``organization``'s subtree for competitions of ``year``, grouped by
    the path prefix of ``width`` characters (the direct child, or the organisation itself), for the
    lecture statistics (hook ``lectures.competition_figures``), within the ``lectures`` view scope
    of the statistics' reader (the lectures app reads these rows with its own right; every
    subtree for the system, ``user=None``):

    - ``entries``: entries (not withdrawn) whose recommending organisation (报送组织) lies there;
    - ``reviews``: the submitted reviews of those entries, over every round;
    - one figure per award kind (``AWARD_FIELDS``): awards of those competitions naming an
      organisation there — 优秀党课 and 优秀主讲人 name the entry's organisation, 优秀组织单位 the
      credited unit — leaving out awards whose certificate was revoked.

    Two grouped queries."""
    within = Q() if is_system(user) else scope_for(user, "view", LECTURES_APP).q("organization__path")
    out: dict[str, dict[str, int]] = {}
    entry_rows = (
        Entry.objects.filter(
            within,
            organization.subtree_q("organization__path"),
            competition__year=year,
            withdrawn=False,
        )
        .annotate(prefix=Substr("organization__path", 1, width))
        .values("prefix")
        .annotate(
            n=Count("id", distinct=True),
            reviews=Count(
                "round_entries__reviews", filter=Q(round_entries__reviews__submitted_at__isnull=False)
            ),
        )
        .order_by()
    )
    for row in entry_rows:
        out.setdefault(row["prefix"], {}).update(entries=row["n"], reviews=row["reviews"])
    award_rows = (
        Award.objects.filter(
            within,
            organization.subtree_q("organization__path"),
            competition__year=year,
            certificate__revoked_at__isnull=True,
        )
        .annotate(prefix=Substr("organization__path", 1, width))
        .values("prefix", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in award_rows:
        name = AWARD_FIELDS.get(row["kind"])
        if name is not None:
            out.setdefault(row["prefix"], {})[name] = row["n"]
    kinds = tuple((str(kind), str(label), AWARD_FIELDS[kind]) for kind, label in AwardKind.choices)
    return CompetitionFigures(by_prefix=out, award_kinds=kinds)
