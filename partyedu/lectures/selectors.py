"""Reads of lectures data. Every function starts from ``restrict(user, action)`` (or the user's
``lectures`` scope) and aggregates in SQL: counts per year, per type, per category and per
organisation come from grouped queries, never from Python loops over rows. The statistics of a
subtree and the duty summary read the cumulative summary rows kept by ``summaries`` (a few rows
whatever the size of the subtree); ``lecture_stats_from_sources`` is the same computed from the
lectures, what the tests compare them with.

Beyond the subtree scope of administrators, a few reads follow the work itself:

- a member (党员, 讲师: ``lectures.view`` on themself) sees the lectures they were expected at or
  gave, their own lecturer entries, rotation weeks and topic tasks;
- lecturer pools, topic calls and library series of organisations *above* the user's scope are
  visible below it (a city's 师资库 serves its branches; a district's call is answered by its
  branches), as study plans are in the study app.

Ratings are only ever read as aggregates or as anonymous comments (no member, no date)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from partyedu.accounts.types import User, Viewer
from partyedu.core.hooks import hooks
from partyedu.core.scope import Scope, is_system, scope_for, subtree_q
from partyedu.core.search import SearchHit, SearchSource
from partyedu.members.choices import MemberCategory
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths
from partyedu.study.choices import ATTENDED_STATUSES, AttendanceStatus
from partyedu.study.models import Activity, Attendance

from . import summaries
from .choices import LecturerCategory, LectureType, TaskStatus
from .models import (
    Lecture,
    LectureFigure,
    Lecturer,
    LectureRating,
    LectureSeries,
    LectureSpeaker,
    LibraryItem,
    Rotation,
    RotationSlot,
    TopicCall,
    TopicProposal,
    TopicTask,
)

APP = "lectures"
# Attendance that lets a member rate a lecture: 出席, 迟到, or 补学 once the secretary confirmed it.
ATTENDED_Q = Q(status__in=ATTENDED_STATUSES) | Q(
    status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False
)
RECORD_LECTURES = 50
# The competitions app (above this one) tells the statistics and a lecturer's record its figures
# through these hooks (``partyedu.core.hooks``); lectures never import competitions.
COMPETITION_FIGURES_HOOK = "lectures.competition_figures"
LECTURER_AWARDS_HOOK = "lectures.lecturer_awards"
# Every subtree: what the system (``user=None``: jobs, commands, tests) reads.
SYSTEM_SCOPE = Scope(paths=("",), own=False)


# --- scope helpers -------------------------------------------------------------------------------


def _scope(user: Viewer | None, action: str = "view") -> Scope:
    """The user's lectures scope (``scope_for``); the system (None) reaches every subtree."""
    return SYSTEM_SCOPE if is_system(user) else scope_for(user, action, APP)


def is_manager(user: Viewer, action: str = "view") -> bool:
    """Whether the user manages lectures somewhere (a subtree role, not only their own data)."""
    return bool(_scope(user, action).paths)


def _above(paths: tuple[str, ...]) -> list[str]:
    """The ancestors of the given subtrees (not the subtrees themselves)."""
    return sorted({a for p in paths for a in ancestor_paths(p)[:-1]} - set(paths))


def _within(org: Organization, scope: Scope) -> list[str]:
    """The part of ``org``'s subtree inside the scope, as subtree roots."""
    if scope.covers(org.path):
        return [org.path]
    return [p for p in scope.paths if p.startswith(org.path)]


def _get(qs: QuerySet[Any], pk: Any, message: str) -> Any:
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(message) from None


def year_range(year: int) -> tuple[datetime, datetime]:
    """The start of the year and of the next one, in the local time zone (an indexable range)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(date(year, 1, 1), time.min, tzinfo=tz),
        datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=tz),
    )


def lectures_filter_organization(
    *, user: Viewer | None, org_id: Any, action: str = "view"
) -> Organization | None:
    """The organisation a list is narrowed to, if it lies inside the user's lectures scope; None
    for an unknown or out-of-scope id (the list is then empty, so ids cannot be probed)."""
    try:
        pk = int(org_id)
    except (TypeError, ValueError):
        return None
    return Organization.objects.filter(_scope(user, action).q("path"), pk=pk).first()


# --- ratings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingSummary:
    """What anybody is shown of the ratings of a lecture (or a lecturer): never who rated."""

    count: int = 0
    total: int = 0
    distribution: tuple[int, ...] = (0, 0, 0, 0, 0)  # number of 1, 2, 3, 4 and 5 ratings

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None

    @property
    def bars(self) -> list[tuple[int, int, int]]:
        """(score, number, percent) from 5 down to 1, for a bar chart."""
        return [
            (score, n, round(100 * n / self.count) if self.count else 0)
            for score, n in reversed(list(enumerate(self.distribution, start=1)))
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "average": self.average,
            "distribution": {str(score): n for score, n in enumerate(self.distribution, start=1)},
        }


def _summary(rows: Any) -> RatingSummary:
    """A summary from ``(score, n)`` rows."""
    distribution = [0] * 5
    for score, n in rows:
        if 1 <= score <= 5:
            distribution[score - 1] += n
    count = sum(distribution)
    total = sum(score * n for score, n in enumerate(distribution, start=1))
    return RatingSummary(count=count, total=total, distribution=tuple(distribution))


def lecture_rating_summary(*, user: Viewer, lecture: Lecture) -> RatingSummary:
    """The summary of every rating of a lecture the user may see (``lecture_list``); empty for any
    other lecture."""
    rows = (
        LectureRating.objects.filter(lecture=lecture, lecture__in=_visible_lectures(user))
        .values("score")
        .annotate(n=Count("id"))
        .order_by()
    )
    return _summary((r["score"], r["n"]) for r in rows)


def lecture_rating_summaries(*, user: Viewer, lecture_ids: list[int]) -> dict[int, RatingSummary]:
    """The rating summaries of the given lectures (a page of a list), in one grouped query; empty
    for a lecture the user may not see."""
    if not lecture_ids:
        return {}
    grouped: dict[int, list[tuple[int, int]]] = {pk: [] for pk in lecture_ids}
    rows = (
        LectureRating.objects.filter(lecture_id__in=lecture_ids, lecture__in=_visible_lectures(user))
        .values("lecture_id", "score")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        grouped[row["lecture_id"]].append((row["score"], row["n"]))
    return {pk: _summary(items) for pk, items in grouped.items()}


def _lecturer_rating_summary(lecturer: Lecturer) -> RatingSummary:
    """All ratings of the lectures the lecturer gave."""
    rows = (
        LectureRating.objects.filter(
            lecture__in=LectureSpeaker.objects.filter(lecturer=lecturer).values("lecture_id")
        )
        .values("score")
        .annotate(n=Count("id"))
        .order_by()
    )
    return _summary((r["score"], r["n"]) for r in rows)


def lecture_rating_comments(*, user: Viewer, lecture: Lecture) -> list[tuple[int, str]] | None:
    """The comments given with ratings, anonymous: (score, text), best first, with no member,
    id or time that could tell who wrote them. None for a user who may not read them
    (``can_see_rating_comments``)."""
    if not can_see_rating_comments(user, lecture):
        return None
    return list(
        LectureRating.objects.filter(lecture=lecture)
        .exclude(comment="")
        .order_by("-score", "comment")
        .values_list("score", "comment")
    )


def lecture_my_rating(*, user: Viewer, lecture: Lecture) -> LectureRating | None:
    """The signed-in member's own rating of the lecture, if any."""
    if not user.is_authenticated:
        return None
    return LectureRating.objects.filter(lecture=lecture, member__user=user).first()


def _is_speaker(user: Viewer, lecture: Lecture) -> bool:
    if not user.is_authenticated:
        return False
    return LectureSpeaker.objects.filter(lecture=lecture, lecturer__member__user=user).exists()


def can_see_rating_comments(user: Viewer, lecture: Lecture) -> bool:
    """Administrators of the lecture's organisation read the anonymous comments; a lecturer sees
    only the aggregate of their own lecture, even where they also administer."""
    org_path = lecture.activity.organization.path
    return _scope(user, "change").covers(org_path) and not _is_speaker(user, lecture)


def rating_member(user: Viewer | None) -> Member | None:
    """The active member record of the signed-in user (ratings are always the user's own)."""
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.filter(user=user, is_active=True).first()


def rating_refusal(*, user: Viewer | None, lecture: Lecture) -> str:
    """Why the user may not rate the lecture ("" when they may): ratings are always the user's own
    as a member (``rating_member``), so the system (``user=None``) and a user without an active
    member record are refused."""
    member = rating_member(user)
    if member is None:
        return "只有党员本人可以评价党课"
    if LectureSpeaker.objects.filter(lecture=lecture, lecturer__member=member).exists():
        return "主讲人不能评价自己的党课"
    attended = Attendance.objects.filter(activity_id=lecture.activity_id, member=member).filter(ATTENDED_Q)
    if not attended.exists():
        return "只有参加了本次党课的党员（出席、迟到或已确认补学）可以评价"
    return ""


# --- the lecturer pool ---------------------------------------------------------------------------


def lecturer_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Lecturer]:
    """Lecturers of the pools in the user's scope (a lecturer themself: their own entries), with
    the number of lectures each gave. Filters: ``organization`` (an Organization: its subtree),
    ``tag`` (a tag id or name), ``category``, ``q`` (name, unit or title contains),
    ``include_inactive``, ``include_above`` (also the pools above the user's scope, which serve
    it)."""
    filters = filters or {}
    qs = Lecturer.objects.restrict(user, action)
    if filters.get("include_above") and action == "view":
        qs = qs | Lecturer.objects.filter(organization__path__in=_above(_scope(user).paths))
    if not filters.get("include_inactive"):
        qs = qs.filter(is_active=True)
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    tag = filters.get("tag")
    if tag not in (None, ""):
        tag_q = Q(tags__name=str(tag))
        if str(tag).isdigit():
            tag_q |= Q(tags__pk=int(str(tag)))
        qs = qs.filter(pk__in=Lecturer.objects.filter(tag_q).values("pk"))
    if filters.get("category"):
        qs = qs.filter(category=filters["category"])
    text = str(filters.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(name__contains=text) | Q(unit__contains=text) | Q(title__contains=text))
    # The count is a subquery of each row, not a join grouped over the whole pool: the database
    # computes it after sorting and cutting the page (PostgreSQL postpones such expressions).
    given = LectureSpeaker.objects.filter(lecturer=OuterRef("pk")).order_by().values("lecturer")
    return (
        qs.select_related("organization")
        .prefetch_related("tags")
        .annotate(
            lecture_count=Coalesce(
                Subquery(given.annotate(n=Count("lecture_id", distinct=True)).values("n")[:1]), 0
            )
        )
        .order_by("organization__path", "name", "id")
    )


def lecturer_choices(
    *, user: Viewer, organization: Organization | None = None, include_inactive: bool = False
) -> QuerySet[Lecturer]:
    """Lecturers the user may name for a lecture or a topic: those of pools in the user's scope,
    of pools above it, and of pools above ``organization`` (a district's or city's 师资库 serves
    the branches below it)."""
    above = _above(_scope(user).paths)
    if organization is not None:
        above = sorted(set(above) | set(ancestor_paths(organization.path)))
    qs = Lecturer.objects.restrict(user, "view") | Lecturer.objects.filter(organization__path__in=above)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.select_related("organization").order_by("organization__path", "name", "id")


def lecturer_get(*, user: Viewer, pk: Any, action: str = "view") -> Lecturer:
    """A lecturer the user may see (their scope, pools above it, or their own entry); for any
    other action, one of a pool in their scope for that action. Anything else is 404."""
    if action == "view":
        qs = Lecturer.objects.restrict(user, "view") | Lecturer.objects.filter(
            organization__path__in=_above(_scope(user).paths)
        )
    else:
        qs = Lecturer.objects.restrict(user, action)
    lecturer: Lecturer = _get(
        qs.select_related("organization", "member__organization").prefetch_related("tags"), pk, "讲师不存在"
    )
    return lecturer


def lecturer_profile_get(*, user: Viewer, pk: Any) -> tuple[Lecturer, bool]:
    """A lecturer's page: ``(lecturer, full)``. ``full`` when ``lecturer_get`` reaches them (a
    pool in or above the user's scope, or the user's own entry): their whole record. Otherwise
    the public profile of a lecturer who spoke at a lecture the user may see (``restrict``
    through ``_visible_lectures``: a member reaches the lecturers of the lectures they attended or
    were expected at): ``full`` is False and the page shows only what a listener may know — name,
    category, unit, title, topics and the lectures the user may see, never the member behind
    the entry. Anything else is 404."""
    try:
        return lecturer_get(user=user, pk=pk), True
    except Http404:
        pass
    spoke = LectureSpeaker.objects.filter(lecture__in=_visible_lectures(user).values("pk"))
    qs = Lecturer.objects.filter(pk__in=spoke.values("lecturer_id"))
    lecturer: Lecturer = _get(qs.select_related("organization").prefetch_related("tags"), pk, "讲师不存在")
    return lecturer, False


@dataclass(frozen=True)
class YearCount:
    year: int
    lectures: int
    cross: int


@dataclass(frozen=True)
class LecturerAward:
    """A competition award of a lecturer (优秀党课 or 优秀主讲人), as shown in their record."""

    competition: str
    year: int
    kind: str
    label: str
    entry_title: str
    awarded_on: date
    certificate_code: str


@dataclass
class LecturerRecord:
    """A lecturer's record, derived from data: lectures given per year (and of them cross
    lectures), ratings of their lectures, the recent lectures the viewer may see, and the
    competition awards of the member they are."""

    lecturer: Lecturer
    years: list[YearCount]
    ratings: RatingSummary
    lectures: list[Lecture]
    awards: list[LecturerAward] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(y.lectures for y in self.years)


def _lecturer_awards(lecturer: Lecturer) -> list[LecturerAward]:
    """The competition awards of a lecturer who is a member of the system: the 优秀党课 and
    优秀主讲人 awards of entries the member lectured, newest first, with the certificate code.
    Awards whose certificate was revoked are not part of a record; an outside lecturer has none.
    The competitions app answers through the hook ``lectures.lecturer_awards`` (one query; none
    for an outside lecturer)."""
    if lecturer.member_id is None:
        return []
    return [
        award for awards in hooks.call(LECTURER_AWARDS_HOOK, member_id=lecturer.member_id) for award in awards
    ]


def lecturer_record(*, user: Viewer, lecturer: Lecturer) -> LecturerRecord:
    """The record of a lecturer: counts per year over every lecture they gave (their teaching
    record is theirs), the ratings summary, the most recent lectures within the viewer's reach,
    and their competition awards (``_lecturer_awards``: public on the verification page anyway).
    Four queries."""
    years = (
        LectureSpeaker.objects.filter(lecturer=lecturer)
        .annotate(year=ExtractYear("lecture__start"))
        .values("year")
        .annotate(n=Count("lecture", distinct=True), cross=Count("id", filter=Q(is_cross=True)))
        .order_by("-year")
    )
    lectures = list(lecture_list(user=user, filters={"lecturer": lecturer.pk})[:RECORD_LECTURES])
    return LecturerRecord(
        lecturer=lecturer,
        years=[YearCount(r["year"], r["n"], r["cross"]) for r in years],
        ratings=_lecturer_rating_summary(lecturer),
        lectures=lectures,
        awards=_lecturer_awards(lecturer),
    )


# --- lectures ------------------------------------------------------------------------------------


def _own_lectures_q(user: User) -> Q:
    """Lectures a member was expected at (on the roster or invited) or gave."""
    return Q(activity_id__in=Attendance.objects.filter(member__user=user).values("activity_id")) | Q(
        pk__in=LectureSpeaker.objects.filter(lecturer__member__user=user).values("lecture_id")
    )


def _visible_lectures(user: Viewer) -> QuerySet[Lecture]:
    """The lectures the user may see: those in their scope and, for a member (``view`` on
    themself), those they were expected at or gave (``lecture_list`` without its filters)."""
    qs = Lecture.objects.restrict(user, "view")
    if _scope(user).own and user.is_authenticated:
        qs = qs | Lecture.objects.filter(_own_lectures_q(user))
    return qs


def lecture_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Lecture]:
    """Lectures in the user's scope — for a member (``view`` on themself), the lectures they were
    expected at or gave — newest first. Filters: ``organization`` (its subtree), ``year``,
    ``lecture_type``, ``lecturer`` (id), ``cross`` (only lectures with a cross speaker), ``q``
    (title contains)."""
    filters = filters or {}
    qs = _visible_lectures(user) if action == "view" else Lecture.objects.restrict(user, action)
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("year"):
        start, end = year_range(int(filters["year"]))
        qs = qs.filter(start__gte=start, start__lt=end)
    if filters.get("lecture_type"):
        qs = qs.filter(lecture_type=filters["lecture_type"])
    if filters.get("lecturer"):
        qs = qs.filter(
            pk__in=LectureSpeaker.objects.filter(lecturer_id=filters["lecturer"]).values("lecture_id")
        )
    if filters.get("cross"):
        qs = qs.filter(pk__in=LectureSpeaker.objects.filter(is_cross=True).values("lecture_id"))
    text = str(filters.get("q") or "").strip()
    if text:
        qs = qs.filter(title__contains=text)
    return (
        qs.select_related("activity", "activity__organization")
        .prefetch_related("speakers__lecturer")
        .order_by("-start", "-id")
    )


def lecture_page_rows(*, user: Viewer, ids: list[int]) -> list[Lecture]:
    """The lectures of one page of ``lecture_list``, in the page's order, with what a list shows
    (activity, organisation, speakers). A page is cut from the list's ids alone, so that a later
    page sorts narrow rows instead of whole lectures with their activities; then its rows are read
    by id, within the user's reach as the list is. Three queries."""
    rows = lecture_list(user=user).filter(pk__in=ids).in_bulk()
    return [rows[pk] for pk in ids if pk in rows]


def lecture_get(*, user: Viewer, pk: Any, action: str = "view") -> Lecture:
    qs = lecture_list(user=user, action=action).select_related("task__proposal")
    lecture: Lecture = _get(qs, pk, "党课不存在")
    return lecture


def lecture_activity_get(*, user: Viewer, pk: Any, action: str = "add") -> Activity:
    """An activity the user may see (study scope) in whose organisation they may ``action``
    lectures: the page that records its lecture. Anything else is 404."""
    qs = (
        Activity.objects.restrict(user, "view")
        .filter(_scope(user, action).q("organization__path"))
        .select_related("organization")
    )
    activity: Activity = _get(qs, pk, "活动不存在")
    return activity


def lecture_of_activity(*, user: Viewer, activity: Activity) -> Lecture | None:
    """The lecture recorded at an activity the user reached through ``lecture_activity_get`` (a
    lecture belongs to its activity's organisation)."""
    return (
        Lecture.objects.restrict(user, "view")
        .filter(activity=activity)
        .select_related("task__proposal")
        .first()
    )


# --- leaders' duty to lecture ----------------------------------------------------------------------

DUTY_CATEGORIES = (MemberCategory.SECRETARY, MemberCategory.LEADER)


def _members(user: Viewer | None) -> QuerySet[Member]:
    return Member.objects.all() if user is None else Member.objects.restrict(user, "view")


def _duty_roots(user: Viewer | None, organization: Organization) -> list[str]:
    return _within(organization, _scope(user))


def _duty_members(user: Viewer | None, organization: Organization) -> QuerySet[Member]:
    roots = _duty_roots(user, organization)
    if not roots:
        return Member.objects.none()
    duty_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.LEADER)
    return _members(user).filter(subtree_q("org_path", roots), duty_q, is_active=True)


def _given_in(year: int) -> QuerySet[LectureSpeaker]:
    """The speakings of the outer member (through any of their lecturer entries) at lectures of
    ``year``."""
    start, end = year_range(year)
    return LectureSpeaker.objects.filter(
        lecturer__member=OuterRef("pk"), lecture__start__gte=start, lecture__start__lt=end
    )


def _lectured_in(year: int) -> Exists:
    return Exists(_given_in(year))


def _lectures_of_member(speakings: QuerySet[LectureSpeaker]) -> Coalesce:
    """The number of distinct lectures among the outer member's ``speakings``."""
    counted = speakings.order_by().values("lecturer__member").annotate(n=Count("lecture_id", distinct=True))
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


def lecture_duty(
    *,
    user: Viewer | None,
    organization: Organization,
    year: int,
    lectured: bool | None = None,
    with_counts: bool = True,
) -> QuerySet[Member]:
    """党委(党组)书记 ≥ 1 lecture a year (DOMAIN_RULES), and secretaries should lecture: the active
    members of ``organization``'s subtree (within the user's scope) categorised 基层党组织书记 or
    领导干部, each with ``lecture_count`` (lectures given in ``year``, wherever) and ``cross_count``
    (of them, cross lectures). ``lectured`` keeps those who have (True) or have not (False)
    lectured; exempt members (年老体弱) are reported apart by ``is_exempt``. One query. A page
    asks ``with_counts=False`` and then ``lecture_duty_counts`` for its own rows: the database
    would compute the counts of every row it skips to reach a later page."""
    qs = _duty_members(user, organization)
    if lectured is True:
        qs = qs.filter(_lectured_in(year))
    elif lectured is False:
        qs = qs.filter(~_lectured_in(year))
    qs = qs.select_related("organization").order_by("org_path", "name", "id")
    if not with_counts:
        return qs
    given = _given_in(year)
    return qs.annotate(
        lecture_count=_lectures_of_member(given),
        cross_count=_lectures_of_member(given.filter(is_cross=True)),
    )


def lecture_duty_counts(*, user: Viewer, members: Iterable[Member], year: int) -> None:
    """Set ``lecture_count`` and ``cross_count`` (as ``lecture_duty`` annotates them) on the given
    members, say a page of the duty list. A member outside the user's reach (``lecture_duty``: the
    members they see within their lectures scope) counts 0. One query (none for no members)."""
    rows = list(members)
    counts: dict[int, dict[str, int]] = {}
    if rows:
        start, end = year_range(year)
        given = LectureSpeaker.objects.filter(
            lecturer__member_id__in=[m.pk for m in rows],
            lecturer__member__in=_members(user).filter(_scope(user).q("org_path")),
            lecture__start__gte=start,
            lecture__start__lt=end,
        )
        for row in (
            given.values("lecturer__member_id")
            .annotate(
                n=Count("lecture_id", distinct=True),
                cross=Count("lecture_id", distinct=True, filter=Q(is_cross=True)),
            )
            .order_by()
        ):
            counts[row["lecturer__member_id"]] = row
    for member in rows:
        row = counts.get(member.pk, {})
        setattr(member, "lecture_count", row.get("n", 0))  # noqa: B010
        setattr(member, "cross_count", row.get("cross", 0))  # noqa: B010


@dataclass(frozen=True)
class DutySummary:
    total: int = 0
    lectured: int = 0
    exempt: int = 0
    exempt_lectured: int = 0  # exempt, and lectured all the same

    @property
    def not_lectured(self) -> int:
        return self.total - self.exempt - self.lectured

    def listed(self, lectured: bool | None) -> int:
        """The length of ``lecture_duty`` with the same ``lectured`` filter."""
        if lectured is None:
            return self.total
        done = self.lectured + self.exempt_lectured
        return done if lectured else self.total - done


def _duty_from_figures(values: Counter[str]) -> DutySummary:
    return DutySummary(
        total=values[summaries.DUTY],
        lectured=values[summaries.DUTY_LECTURED],
        exempt=values[summaries.DUTY_EXEMPT],
        exempt_lectured=values[summaries.DUTY_EXEMPT_LECTURED],
    )


def _duty_summary_from_sources(user: Viewer | None, organization: Organization, year: int) -> DutySummary:
    row = _duty_members(user, organization).aggregate(
        total=Count("id"),
        exempt=Count("id", filter=Q(is_exempt=True)),
        lectured=Count("id", filter=Q(_lectured_in(year), is_exempt=False)),
        exempt_lectured=Count("id", filter=Q(_lectured_in(year), is_exempt=True)),
    )
    return DutySummary(
        total=row["total"],
        lectured=row["lectured"],
        exempt=row["exempt"],
        exempt_lectured=row["exempt_lectured"],
    )


def _members_cover(user: Viewer | None, paths: list[str]) -> bool:
    """Whether the user sees every member of these subtrees (so that the summary rows, which count
    all of them, are what the user's list shows)."""
    if is_system(user):
        return True
    members = scope_for(user, "view", "members")
    return all(members.covers(p) for p in paths)


def lecture_duty_summary(*, user: Viewer | None, organization: Organization, year: int) -> DutySummary:
    """Counts of the duty list: all, lectured (not exempt), exempt (and exempt who lectured). From
    the summary rows (``summaries``) when the user sees every member of the subtrees concerned —
    one query — else counted from the members."""
    roots = _duty_roots(user, organization)
    if not roots:
        return DutySummary()
    if not _members_cover(user, roots):
        return _duty_summary_from_sources(user, organization, year)
    rows = LectureFigure.objects.filter(
        organization__path__in=roots,
        year__in=[year, summaries.ALL_YEARS],
        name__in=summaries.DUTY_FIGURES,
    )
    values: Counter[str] = Counter()
    for name, value in rows.values_list("name", "value"):
        values[name] += value
    return _duty_from_figures(values)


# --- statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class OrgStatsRow:
    organization: Organization
    lectures: int
    cross_lectures: int
    ratings: int
    rating_total: int
    own_level: bool = False
    # Competitions (评选) of the year: entries recommended by organisations of this row's subtree,
    # the submitted reviews of those entries, and awards naming those organisations, by kind.
    entries: int = 0
    reviews: int = 0
    lecture_awards: int = 0
    lecturer_awards: int = 0
    organization_awards: int = 0

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_total / self.ratings, 2) if self.ratings else None

    @property
    def awards(self) -> int:
        return self.lecture_awards + self.lecturer_awards + self.organization_awards


@dataclass(frozen=True)
class CompetitionSummary:
    """The competitions part of the statistics: entries, reviews done, awards by kind."""

    entries: int = 0
    reviews: int = 0
    awards: tuple[CountRow, ...] = ()

    @property
    def award_total(self) -> int:
        return sum(row.count for row in self.awards)


@dataclass
class LectureStats:
    organization: Organization
    year: int
    lectures: int
    cross_lectures: int
    by_type: list[CountRow]
    by_category: list[CountRow]
    ratings: int
    rating_total: int
    duty: DutySummary
    rows: list[OrgStatsRow]
    competitions: CompetitionSummary = field(default_factory=CompetitionSummary)

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_total / self.ratings, 2) if self.ratings else None


# The summary figures of a row of the statistics (per child organisation).
ROW_FIGURES = (summaries.LECTURES, summaries.CROSS, summaries.RATINGS, summaries.RATING_TOTAL)

# The fields of OrgStatsRow that the competitions app counts (hook ``lectures.competition_figures``).
COMPETITION_FIELDS = ("entries", "reviews", "lecture_awards", "lecturer_awards", "organization_awards")


@dataclass(frozen=True)
class CompetitionFigures:
    """The competitions app's answer to the hook ``lectures.competition_figures``: per path prefix,
    figures named as the ``COMPETITION_FIELDS`` of ``OrgStatsRow``; and the award kinds as (kind,
    label, field), in the order the statistics list them."""

    by_prefix: dict[str, dict[str, int]] = field(default_factory=dict)
    award_kinds: tuple[tuple[str, str, str], ...] = ()


def _competition_prefix_counts(
    user: Viewer | None, organization: Organization, year: int, width: int
) -> CompetitionFigures:
    """Competition figures of ``organization``'s subtree for competitions of ``year``, grouped by
    the path prefix of ``width`` characters (the direct child, or the organisation itself), within
    the user's lectures scope, as the competitions app counts them through the hook
    (``competitions.selectors.lecture_stats_figures``: two grouped queries). Nothing when no app
    answers."""
    by_prefix: dict[str, dict[str, int]] = {}
    kinds: list[tuple[str, str, str]] = []
    for figures in hooks.call(
        COMPETITION_FIGURES_HOOK, user=user, organization=organization, year=year, width=width
    ):
        for prefix, values in figures.by_prefix.items():
            by_prefix.setdefault(prefix, {}).update(values)
        kinds.extend(figures.award_kinds)
    return CompetitionFigures(by_prefix=by_prefix, award_kinds=tuple(kinds))


def lecture_stats(*, user: Viewer | None, organization: Organization, year: int) -> LectureStats | None:
    """Lectures of ``organization``'s subtree in ``year``: how many, by lecture type, by lecturer
    category (a lecture counts once under each category of its speakers), cross lectures (with a
    cross speaker), ratings (count, average), the duty summary of secretaries and leading cadres,
    the competitions of the year (entries, reviews done, awards by kind:
    ``_competition_prefix_counts``), and one row per direct child organisation (and one for the
    organisation itself). The lecture and duty figures are the summary rows of the organisation
    and of its children (``summaries``: cumulative, kept by the services), so the page reads a few
    rows whatever the size of the subtree; ``lecture_stats_from_sources`` computes the same from
    the lectures themselves. Four queries (one more for a user who sees only part of the
    subtree's members: their duty summary is counted). None when the organisation is outside the
    user's scope."""
    if not _scope(user).covers(organization.path):
        return None
    children = list(Organization.objects.filter(parent=organization).order_by("sort_order", "path"))
    rows_q = Q(organization=organization) | Q(
        organization__in=[child.pk for child in children], name__in=ROW_FIGURES
    )
    figures: dict[int, Counter[str]] = {}
    for org_id, name, value in LectureFigure.objects.filter(
        rows_q, year__in=[year, summaries.ALL_YEARS]
    ).values_list("organization_id", "name", "value"):
        figures.setdefault(org_id, Counter())[name] += value
    total = figures.get(organization.pk, Counter())
    by_type = [
        CountRow(code, str(label), total[summaries.TYPE + code]) for code, label in LectureType.choices
    ]
    by_category = [
        CountRow(code, str(label), total[summaries.CATEGORY + code])
        for code, label in LecturerCategory.choices
    ]
    own = Counter({name: total[name] for name in ROW_FIGURES})
    for child in children:
        own.subtract(figures.get(child.pk, Counter()))
    width = len(organization.path) + SEGMENT_WIDTH
    contest_figures = _competition_prefix_counts(user, organization, year, width)
    contests = contest_figures.by_prefix

    def org_row(org: Organization, values: Counter[str], own_level: bool = False) -> OrgStatsRow:
        competition = contests.get(org.path, {})
        return OrgStatsRow(
            organization=org,
            lectures=values[summaries.LECTURES],
            cross_lectures=values[summaries.CROSS],
            ratings=values[summaries.RATINGS],
            rating_total=values[summaries.RATING_TOTAL],
            own_level=own_level,
            **{name: competition.get(name, 0) for name in COMPETITION_FIELDS},
        )

    def contest_total(key: str) -> int:
        return sum(values.get(key, 0) for values in contests.values())

    rows = []
    if own[summaries.LECTURES] or organization.path in contests:
        rows.append(org_row(organization, own, own_level=True))
    for child in children:
        values = figures.get(child.pk, Counter())
        if child.is_active or values[summaries.LECTURES] or child.path in contests:
            rows.append(org_row(child, values))
    duty = (
        _duty_from_figures(total)
        if _members_cover(user, [organization.path])
        else _duty_summary_from_sources(user, organization, year)
    )
    return LectureStats(
        organization=organization,
        year=year,
        lectures=total[summaries.LECTURES],
        cross_lectures=total[summaries.CROSS],
        by_type=by_type,
        by_category=by_category,
        ratings=total[summaries.RATINGS],
        rating_total=total[summaries.RATING_TOTAL],
        duty=duty,
        rows=rows,
        competitions=CompetitionSummary(
            entries=contest_total("entries"),
            reviews=contest_total("reviews"),
            awards=tuple(
                CountRow(kind, label, contest_total(name))
                for kind, label, name in contest_figures.award_kinds
            ),
        ),
    )


def lecture_stats_from_sources(
    *, user: Viewer | None, organization: Organization, year: int
) -> LectureStats | None:
    """``lecture_stats`` computed from the lectures, ratings and members themselves, grouped by
    path prefix in SQL: what the summary rows must agree with (the tests compare the two). Eight
    queries, each aggregating the whole subtree. None when the organisation is outside the user's
    scope."""
    if not _scope(user).covers(organization.path):
        return None
    start, end = year_range(year)
    lectures = Lecture.objects.filter(
        organization.subtree_q("activity__organization__path"),
        activity__start__gte=start,
        activity__start__lt=end,
    )
    types = dict(
        lectures.values("lecture_type").annotate(n=Count("id")).order_by().values_list("lecture_type", "n")
    )
    by_type = [CountRow(code, str(label), types.get(code, 0)) for code, label in LectureType.choices]
    categories = dict(
        LectureSpeaker.objects.filter(lecture__in=lectures)
        .values("lecturer__category")
        .annotate(n=Count("lecture", distinct=True))
        .order_by()
        .values_list("lecturer__category", "n")
    )
    by_category = [
        CountRow(code, str(label), categories.get(code, 0)) for code, label in LecturerCategory.choices
    ]

    width = len(organization.path) + SEGMENT_WIDTH
    per_prefix: dict[str, dict[str, int]] = {}
    lecture_rows = (
        lectures.annotate(prefix=Substr("activity__organization__path", 1, width))
        .values("prefix")
        .annotate(
            n=Count("id", distinct=True),
            cross=Count("id", distinct=True, filter=Q(speakers__is_cross=True)),
        )
        .order_by()
    )
    for row in lecture_rows:
        per_prefix.setdefault(row["prefix"], {}).update(lectures=row["n"], cross=row["cross"])
    rating_rows = (
        LectureRating.objects.filter(lecture__in=lectures)
        .annotate(prefix=Substr("lecture__activity__organization__path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"), total=Sum("score"))
        .order_by()
    )
    for row in rating_rows:
        per_prefix.setdefault(row["prefix"], {}).update(ratings=row["n"], rating_total=row["total"] or 0)
    contest_figures = _competition_prefix_counts(user, organization, year, width)
    for prefix, values in contest_figures.by_prefix.items():
        per_prefix.setdefault(prefix, {}).update(values)

    def org_row(org: Organization, values: dict[str, int], own: bool = False) -> OrgStatsRow:
        return OrgStatsRow(
            organization=org,
            lectures=values.get("lectures", 0),
            cross_lectures=values.get("cross", 0),
            ratings=values.get("ratings", 0),
            rating_total=values.get("rating_total", 0),
            own_level=own,
            **{name: values.get(name, 0) for name in COMPETITION_FIELDS},
        )

    def total(key: str) -> int:
        return sum(v.get(key, 0) for v in per_prefix.values())

    competitions = CompetitionSummary(
        entries=total("entries"),
        reviews=total("reviews"),
        awards=tuple(CountRow(kind, label, total(name)) for kind, label, name in contest_figures.award_kinds),
    )

    rows = []
    if organization.path in per_prefix:
        rows.append(org_row(organization, per_prefix[organization.path], own=True))
    for child in Organization.objects.filter(parent=organization).order_by("sort_order", "path"):
        if child.is_active or child.path in per_prefix:
            rows.append(org_row(child, per_prefix.get(child.path, {})))
    return LectureStats(
        organization=organization,
        year=year,
        lectures=total("lectures"),
        cross_lectures=total("cross"),
        by_type=by_type,
        by_category=by_category,
        ratings=total("ratings"),
        rating_total=total("rating_total"),
        duty=_duty_summary_from_sources(user, organization, year),
        rows=rows,
        competitions=competitions,
    )


# --- rotations -----------------------------------------------------------------------------------


def rotation_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Rotation]:
    filters = filters or {}
    qs = Rotation.objects.restrict(user, "view").select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    return qs.order_by("-start_date", "-id")


def rotation_get(*, user: Viewer, pk: Any, action: str = "view") -> Rotation:
    rotation: Rotation = _get(
        Rotation.objects.restrict(user, action).select_related("organization"), pk, "轮讲安排不存在"
    )
    return rotation


def rotation_slots(*, user: Viewer, rotation: Rotation) -> QuerySet[RotationSlot]:
    """The weeks of a rotation the user may see, in order."""
    return (
        RotationSlot.objects.restrict(user, "view")
        .filter(rotation=rotation)
        .select_related("member", "member__organization")
        .order_by("date", "id")
    )


def rotation_upcoming(
    *, user: Viewer, organization: Organization | None = None, today: date | None = None
) -> QuerySet[RotationSlot]:
    """Weeks still to come of the rotations the user may see, soonest first."""
    qs = RotationSlot.objects.restrict(user, "view").filter(date__gte=today or timezone.localdate())
    if organization is not None:
        qs = qs.filter(organization.subtree_q("rotation__organization__path"))
    return qs.select_related("member", "rotation", "rotation__organization").order_by("date", "id")


def my_rotation_slots(*, user: Viewer, today: date | None = None) -> QuerySet[RotationSlot]:
    """The signed-in member's own weeks to lecture (我的党课安排), whatever their roles."""
    if not user.is_authenticated:
        return RotationSlot.objects.none()
    return (
        RotationSlot.objects.filter(member__user=user, date__gte=today or timezone.localdate())
        .select_related("rotation", "rotation__organization")
        .order_by("date", "id")
    )


# --- topic calls ---------------------------------------------------------------------------------


def topic_call_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[TopicCall]:
    """Calls opened by organisations in the user's scope or above it (a branch answers its
    district's call)."""
    filters = filters or {}
    paths = _scope(user).paths
    if not paths:
        return TopicCall.objects.none()
    qs = TopicCall.objects.restrict(user, "view") | TopicCall.objects.filter(
        organization__path__in=_above(paths)
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs.select_related("organization").order_by("-deadline", "-id")


def topic_call_get(*, user: Viewer, pk: Any, action: str = "view") -> TopicCall:
    """A call the user may see (in or above their scope); for any other action, one opened by an
    organisation in their scope for that action."""
    qs = (
        topic_call_list(user=user)
        if action == "view"
        else TopicCall.objects.restrict(user, action).select_related("organization")
    )
    call: TopicCall = _get(qs, pk, "选题征集不存在")
    return call


def topic_proposal_list(*, user: Viewer, call: TopicCall) -> QuerySet[TopicProposal]:
    """The topics submitted to a call that the user may see: all of them for the calling
    organisation's administrators, a branch's own otherwise. Key topics first."""
    return (
        TopicProposal.objects.restrict(user, "view")
        .filter(call=call)
        .select_related("organization")
        .annotate(task_count=Count("tasks"))
        .order_by("-is_key", "id")
    )


def topic_proposal_get(*, user: Viewer, pk: Any, action: str = "change") -> TopicProposal:
    """A proposal whose call the user may manage (``action`` over the calling organisation)."""
    qs = TopicProposal.objects.filter(
        call__in=TopicCall.objects.restrict(user, action).values("pk")
    ).select_related("call__organization", "organization")
    proposal: TopicProposal = _get(qs, pk, "选题不存在")
    return proposal


def topic_task_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[TopicTask]:
    """Assigned topics (点题任务) of organisations in the user's scope (a lecturer: their own).
    Filters: ``organization`` (subtree), ``status``, ``call``."""
    filters = filters or {}
    qs = TopicTask.objects.restrict(user, "view")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("call"):
        qs = qs.filter(proposal__call=filters["call"])
    return qs.select_related("proposal", "proposal__call", "organization", "lecturer").order_by(
        "status", "due_date", "id"
    )


def topic_task_get(*, user: Viewer, pk: Any, action: str = "view") -> TopicTask:
    task: TopicTask = _get(
        TopicTask.objects.restrict(user, action).select_related(
            "proposal", "organization", "lecturer__member"
        ),
        pk,
        "点题任务不存在",
    )
    return task


def my_topic_tasks(*, user: Viewer) -> QuerySet[TopicTask]:
    """Topics assigned to the signed-in user as a lecturer, still to be given."""
    if not user.is_authenticated:
        return TopicTask.objects.none()
    return (
        TopicTask.objects.filter(lecturer__member__user=user, status=TaskStatus.ASSIGNED)
        .select_related("proposal", "proposal__call", "organization")
        .order_by("due_date", "id")
    )


def task_choices(*, user: Viewer, current: TopicTask | None = None) -> QuerySet[TopicTask]:
    """Tasks a lecture may fulfil: assigned ones the user may see (and the lecture's own)."""
    qs = TopicTask.objects.restrict(user, "view").filter(status=TaskStatus.ASSIGNED)
    if current is not None:
        qs = qs | TopicTask.objects.filter(pk=current.pk)
    return qs.select_related("proposal", "organization").order_by("due_date", "id")


# --- the library ---------------------------------------------------------------------------------


def library_series_list(*, user: Viewer) -> QuerySet[LectureSeries]:
    """Series of organisations in the user's scope or above it, with their number of items."""
    paths = _scope(user).paths
    qs = LectureSeries.objects.restrict(user, "view")
    if paths:
        qs = qs | LectureSeries.objects.filter(organization__path__in=_above(paths))
    return qs.select_related("organization").annotate(item_count=Count("items")).order_by("-id")


def library_series_get(*, user: Viewer, pk: Any, action: str = "view") -> LectureSeries:
    qs = (
        library_series_list(user=user)
        if action == "view"
        else LectureSeries.objects.restrict(user, action).select_related("organization")
    )
    series: LectureSeries = _get(qs, pk, "党课系列不存在")
    return series


def library_item_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[LibraryItem]:
    """Library items published by organisations in the user's scope. Filters: ``series`` (id),
    ``q`` (title contains)."""
    filters = filters or {}
    qs = LibraryItem.objects.restrict(user, action)
    if filters.get("series"):
        qs = qs.filter(series_id=filters["series"])
    text = str(filters.get("q") or "").strip()
    if text:
        qs = qs.filter(resource__title__contains=text)
    return qs.select_related("resource", "resource__organization", "series", "lecturer").order_by(
        "series_id", "sort_order", "id"
    )


def library_item_get(*, user: Viewer, pk: Any, action: str = "view") -> LibraryItem:
    item: LibraryItem = _get(library_item_list(user=user, action=action), pk, "党课库条目不存在")
    return item


def library_series_for(*, user: Viewer, organization: Organization) -> QuerySet[LectureSeries]:
    """Series an item shown to ``organization``'s subtree may join, offered to the user: those
    of the organisation itself and of every organisation above it that the user may see."""
    return library_series_list(user=user).filter(organization__path__in=ancestor_paths(organization.path))


def lecturer_of_member(*, user: Viewer | None, member: Any, organization: Organization) -> Lecturer | None:
    """The pool entry (师资库) of a member that the user may name on an item shown to
    ``organization``'s subtree (``lecturer_choices``; every pool for the system, ``user=None``), or
    None: an active entry first, then the pool highest in the tree, then the oldest entry."""
    member_id = getattr(member, "pk", member)
    if member_id is None:
        return None
    pools = (
        Lecturer.objects.all()
        if user is None
        else lecturer_choices(user=user, organization=organization, include_inactive=True)
    )
    return pools.filter(member_id=member_id).order_by("-is_active", "organization__path", "id").first()


def library_honour_titles(
    *, user: Viewer, organization: Organization, honour: str, titles: list[str]
) -> dict[str, set[Any]]:
    """Which of ``titles`` the library of ``organization`` already holds under ``honour`` (e.g.
    “2026年全市优秀党课评选 优秀党课”): title → the members of those items' lecturers (None for an
    item without a lecturer or with an outside lecturer). One query. Published and withdrawn
    items alike: a withdrawn item is put back with ``library_item_republish``, not published
    twice. Only items the user may see (none of an organisation outside their scope)."""
    if not titles:
        return {}
    out: dict[str, set[Any]] = {}
    rows = (
        LibraryItem.objects.restrict(user, "view")
        .filter(resource__organization=organization, honour=honour, resource__title__in=list(set(titles)))
        .values_list("resource__title", "lecturer__member_id")
    )
    for title, member_id in rows:
        out.setdefault(title, set()).add(member_id)
    return out


def library_item_for_honour(
    *,
    user: Viewer | None,
    organization: Organization,
    honour: str,
    title: str,
    member: Any = None,
    action: str = "view",
) -> LibraryItem | None:
    """The library item of ``organization`` holding ``title`` under ``honour`` — for a lecture of
    a member, one whose lecturer is that member or names no member (another member's lecture of
    the same title is a different lecture). None when there is none within the user's ``action``
    scope (a publisher passes ``add``, the right it checked; every item for the system,
    ``user=None``)."""
    items = LibraryItem.objects.all() if is_system(user) else LibraryItem.objects.restrict(user, action)
    qs = items.filter(resource__organization=organization, honour=honour, resource__title=title)
    member_id = getattr(member, "pk", member)
    if member_id is not None:
        qs = qs.filter(Q(lecturer__member_id=member_id) | Q(lecturer__member__isnull=True))
    return qs.select_related("resource").order_by("id").first()


@dataclass
class SeriesGroup:
    series: LectureSeries | None
    items: list[LibraryItem]


def library_showing(*, user: Viewer, member: Member, today: date | None = None) -> list[SeriesGroup]:
    """What the library shows a member today (展播): published items of the member's organisation
    and every organisation above it whose showing dates cover today, grouped by series (series
    first, newest series first; items outside a series last). Only for the user's own member
    record: nothing for anybody else's."""
    if user.pk is None or member.user_id != user.pk:
        return []
    today = today or timezone.localdate()
    items = list(
        LibraryItem.objects.filter(
            resource__organization__path__in=ancestor_paths(member.org_path), resource__is_published=True
        )
        .filter(Q(show_from__isnull=True) | Q(show_from__lte=today))
        .filter(Q(show_until__isnull=True) | Q(show_until__gte=today))
        .select_related("resource", "series", "lecturer")
        .order_by("-series_id", "sort_order", "id")
    )
    groups: dict[int | None, SeriesGroup] = {}
    for item in items:
        key = item.series_id
        if key not in groups:
            groups[key] = SeriesGroup(series=item.series, items=[])
        groups[key].items.append(item)
    ordered = [g for k, g in groups.items() if k is not None]
    if None in groups:
        ordered.append(groups[None])
    return ordered


# --- a member's own page -------------------------------------------------------------------------


def my_lectures_given(*, user: Viewer) -> QuerySet[Lecture]:
    """Lectures the signed-in user gave (as any of their lecturer entries), newest first."""
    if not user.is_authenticated:
        return Lecture.objects.none()
    return (
        Lecture.objects.filter(
            pk__in=LectureSpeaker.objects.filter(lecturer__member__user=user).values("lecture_id")
        )
        .select_related("activity", "activity__organization")
        .order_by("-start", "-id")
    )


def my_lectures_attended(*, user: Viewer, since: date | None = None) -> QuerySet[Lecture]:
    """Lectures the signed-in member attended (and so may rate), newest first."""
    if not user.is_authenticated:
        return Lecture.objects.none()
    attended = Attendance.objects.filter(member__user=user).filter(ATTENDED_Q)
    qs = Lecture.objects.filter(activity_id__in=attended.values("activity_id"))
    if since is not None:
        qs = qs.filter(start__date__gte=since)
    return qs.select_related("activity", "activity__organization").order_by("-start", "-id")


def my_rated_lecture_ids(*, user: Viewer, lecture_ids: list[int]) -> set[int]:
    if not user.is_authenticated or not lecture_ids:
        return set()
    return set(
        LectureRating.objects.filter(member__user=user, lecture_id__in=lecture_ids).values_list(
            "lecture_id", flat=True
        )
    )


# --- site search ---------------------------------------------------------------------------------

LECTURE_SEARCH_FIELDS = ("id", "title", "lecture_type", "start", "organization__id", "organization__name")


def lecture_search_source(*, user: Viewer) -> SearchSource | None:
    """``core.search``: lectures by title, exactly those of the lecture list (in the user's scope;
    for a 党员, the lectures they were expected at or gave); "查看全部": its ``?q=``."""
    if _scope(user).empty:
        return None

    def find(text: str) -> QuerySet[Lecture]:
        return (
            lecture_list(user=user, filters={"q": text})
            .prefetch_related(None)
            .select_related(None)
            .select_related("organization")
            .only(*LECTURE_SEARCH_FIELDS)
        )

    def hit(lecture: Lecture) -> SearchHit:
        day = f"{timezone.localtime(lecture.start):%Y-%m-%d}"
        return SearchHit(
            title=lecture.title,
            url=reverse("lectures:lecture_detail", args=[lecture.pk]),
            detail=" · ".join([day, lecture.get_lecture_type_display(), lecture.organization.name]),
        )

    return SearchSource(
        kind="lectures",
        label=gettext_lazy("党课"),
        icon="mic",
        find=find,
        hit=hit,
        list_url=lambda text: f"{reverse('lectures:lecture_list')}?{urlencode({'q': text})}",
    )
