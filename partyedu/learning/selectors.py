"""Reads of learning hours, requirements, completion and online resources.

The requirement rules live here as plain functions (``requirement_of``, ``requirement_met``) and,
for the live summary, as the same rules written as SQL ``CASE`` expressions; a test holds the two
together. Every function that takes a ``user`` checks scope; an organisation or member outside it
is a 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from partyedu.accounts.types import Viewer
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, policy_paths, scope_for, subtree_q
from partyedu.core.search import SearchHit, SearchSource
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q, member_of_user
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths
from partyedu.study.choices import AttendanceStatus
from partyedu.study.models import Attendance, TrainingClass
from partyedu.study.selectors import CREDITED_Q

from .choices import REQUIRED_GROUPS, HourKind, RequirementGroup, ResourceKind, SourceType
from .models import (
    Column,
    HourRequirement,
    LearningHourEntry,
    OnlineResource,
    OrgCategoryCounts,
    OrgRequirementCounts,
    OrgYearCategoryCompletion,
    OrgYearCompletion,
    ResourceProgress,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ZERO = Decimal("0")
# Hours have one decimal place; comparing with a threshold lowered by half a step is exact for
# them and immune to the binary rounding of SQLite's REAL arithmetic.
APP = "learning"
EPSILON = Decimal("0.05")
# The requirement groups of the yearly completion rows (``OrgYearCompletion``), as field names.
COMPLETION_GROUPS = tuple(g.value for g in REQUIRED_GROUPS)
DEC: DecimalField[Decimal, Decimal] = DecimalField(max_digits=7, decimal_places=1)
STATUSES_WITH_REQUIREMENT = (MemberStatus.CANDIDATE, MemberStatus.PROBATIONARY, MemberStatus.FULL)
CADRE_CATEGORIES = (MemberCategory.SECRETARY, MemberCategory.COMMITTEE)
KIND_FIELDS = {
    HourKind.CONCENTRATED: "concentrated",
    HourKind.COLLECTIVE: "collective",
    HourKind.ONLINE: "online",
    HourKind.SELF: "self_study",
}


def current_year() -> int:
    return timezone.localdate().year


# --- requirement rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The hour requirement in force for a subtree (``path`` "" = the lawful defaults)."""

    path: str
    general_hours: Decimal
    cadre_hours: Decimal
    cadre_needs_concentrated: bool
    candidate_hours: Decimal
    online_daily_cap_minutes: int
    cadre_concentrated_min_hours: Decimal = Decimal("8")
    counts_online: bool = False
    online_cap: Decimal | None = None
    counts_self: bool = False
    self_cap: Decimal | None = None


def _default(name: str) -> Any:
    # django-stubs: get_field may return a relation; ``name`` is one of the rule's own fields.
    return HourRequirement._meta.get_field(name).get_default()  # type: ignore[union-attr]


def _cap_default(name: str) -> Decimal | None:
    value = _default(name)
    return None if value is None else Decimal(value)


DEFAULT_RULE = Rule(
    path="",
    general_hours=Decimal(_default("general_hours")),
    cadre_hours=Decimal(_default("cadre_hours")),
    cadre_needs_concentrated=bool(_default("cadre_needs_concentrated")),
    candidate_hours=Decimal(_default("candidate_hours")),
    online_daily_cap_minutes=int(_default("online_daily_cap_minutes")),
    cadre_concentrated_min_hours=Decimal(_default("cadre_concentrated_min_hours")),
    counts_online=bool(_default("counts_online")),
    online_cap=_cap_default("online_cap"),
    counts_self=bool(_default("counts_self")),
    self_cap=_cap_default("self_cap"),
)
RULE_FIELDS = (
    "general_hours",
    "cadre_hours",
    "cadre_needs_concentrated",
    "candidate_hours",
    "online_daily_cap_minutes",
    "cadre_concentrated_min_hours",
    "counts_online",
    "online_cap",
    "counts_self",
    "self_cap",
)


def _rule_from_values(values: dict[str, Any]) -> Rule:
    return Rule(path=values["organization__path"], **{name: values[name] for name in RULE_FIELDS})


def rules_for_paths(paths: Iterable[str]) -> dict[str, Rule]:
    """For each organisation path, the rule of the nearest organisation up the tree that has one
    (the defaults when none), in one query."""
    paths = set(paths)
    prefixes = {prefix for path in paths for prefix in ancestor_paths(path)}
    found: dict[str, Rule] = {}
    if prefixes:
        rows = HourRequirement.objects.filter(organization__path__in=sorted(prefixes)).values(
            "organization__path", *RULE_FIELDS
        )
        found = {row["organization__path"]: _rule_from_values(row) for row in rows}
    result = {}
    for path in paths:
        rule = DEFAULT_RULE
        for prefix in ancestor_paths(path):
            rule = found.get(prefix, rule)
        result[path] = rule
    return result


def rule_for_path(path: str) -> Rule:
    return rules_for_paths([path])[path]


def rules_in_subtree(path: str) -> list[Rule]:
    """The rules that apply somewhere in a subtree: the nearest one above or at it, then every
    rule inside it, deepest first (the order a CASE must test them in)."""
    base = rule_for_path(path)
    rows = (
        HourRequirement.objects.filter(subtree_q("organization__path", [path]))
        .exclude(organization__path=path)
        .values("organization__path", *RULE_FIELDS)
    )
    inner = sorted((_rule_from_values(r) for r in rows), key=lambda r: (-len(r.path), r.path))
    return [*inner, base]


@dataclass(frozen=True)
class Requirement:
    """What a member must achieve in a year: ``required_hours`` of the hours that count —
    集中培训 and 集体学习 always, 网络学习 and 自学 where the rule counts them, each up to its cap
    (``None``: no cap); a 发展对象's only 集中培训 — and, when ``needs_concentrated``, one
    concentrated training: a completed training class, or ``concentrated_min_hours`` of 集中培训."""

    group: str
    required_hours: Decimal
    needs_concentrated: bool = False
    concentrated_min_hours: Decimal = ZERO
    counts_online: bool = False
    online_cap: Decimal | None = None
    counts_self: bool = False
    self_cap: Decimal | None = None

    @property
    def is_required(self) -> bool:
        return self.group in REQUIRED_GROUPS

    @property
    def counts_concentrated_only(self) -> bool:
        """Development candidates' requirement is concentrated training (细则)."""
        return self.group == RequirementGroup.CANDIDATE


NO_REQUIREMENT = Requirement(RequirementGroup.NONE, ZERO)
EXEMPT = Requirement(RequirementGroup.EXEMPT, ZERO)


@dataclass(frozen=True)
class YearFigures:
    """A member's year as the requirement reads it: hours by kind, and the training classes the
    member completed (结业) whose end date falls in the year."""

    concentrated: Decimal = ZERO
    collective: Decimal = ZERO
    online: Decimal = ZERO
    self_study: Decimal = ZERO
    classes_completed: int = 0

    @classmethod
    def of(cls, row: Any) -> YearFigures:
        """From a ``MemberYearHours`` row as values (a mapping) or as a model instance."""

        def get(name: str) -> Any:
            return row[name] if isinstance(row, dict) else getattr(row, name)

        return cls(
            concentrated=Decimal(get("concentrated")),
            collective=Decimal(get("collective")),
            online=Decimal(get("online")),
            self_study=Decimal(get("self_study")),
            classes_completed=int(get("classes_completed") or 0),
        )


# What ``YearFigures.of`` reads from a ``MemberYearHours`` row.
FIGURE_FIELDS = ("concentrated", "collective", "online", "self_study", "classes_completed")


def _is_cadre(categories: Iterable[str] | None) -> bool:
    return any(c in CADRE_CATEGORIES for c in categories or ())


def _cap(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _counting(rule: Rule) -> dict[str, Any]:
    """Which kinds besides 集中培训 and 集体学习 count under the rule, and their caps (a cap is kept
    only for a kind that counts, so that equal counting compares equal)."""
    return {
        "counts_online": bool(rule.counts_online),
        "online_cap": _cap(rule.online_cap) if rule.counts_online else None,
        "counts_self": bool(rule.counts_self),
        "self_cap": _cap(rule.self_cap) if rule.counts_self else None,
    }


def requirement_of(
    *, status: str, categories: Iterable[str] | None, is_exempt: bool, rule: Rule
) -> Requirement:
    """The annual requirement: exempt members apart; 发展对象 the candidate hours of concentrated
    training; secretaries and committee members the cadre hours (with at least one concentrated
    training when the rule says so); other probationary and full members the general hours;
    activists, suspended and removed members none. A rule of 0 hours (and no concentrated
    training) is no requirement."""
    if status not in STATUSES_WITH_REQUIREMENT:
        return NO_REQUIREMENT
    if is_exempt:
        return EXEMPT
    if status == MemberStatus.CANDIDATE:
        hours = Decimal(rule.candidate_hours)
        return Requirement(RequirementGroup.CANDIDATE, hours) if hours > 0 else NO_REQUIREMENT
    if _is_cadre(categories):
        hours, needs = Decimal(rule.cadre_hours), bool(rule.cadre_needs_concentrated)
        if hours <= 0 and not needs:
            return NO_REQUIREMENT
        minimum = Decimal(rule.cadre_concentrated_min_hours) if needs else ZERO
        return Requirement(RequirementGroup.CADRE, hours, needs, minimum, **_counting(rule))
    hours = Decimal(rule.general_hours)
    return Requirement(RequirementGroup.GENERAL, hours, **_counting(rule)) if hours > 0 else NO_REQUIREMENT


def _capped(hours: Decimal, counts: bool, cap: Decimal | None) -> Decimal:
    if not counts:
        return ZERO
    return hours if cap is None else min(hours, cap)


def _counted_by_kind(req: Requirement, figures: YearFigures) -> dict[str, Decimal]:
    """How many of each kind's hours count towards the requirement."""
    if req.counts_concentrated_only:
        return {**dict.fromkeys(HourKind.values, ZERO), HourKind.CONCENTRATED: figures.concentrated}
    return {
        HourKind.CONCENTRATED: figures.concentrated,
        HourKind.COLLECTIVE: figures.collective,
        HourKind.ONLINE: _capped(figures.online, req.counts_online, req.online_cap),
        HourKind.SELF: _capped(figures.self_study, req.counts_self, req.self_cap),
    }


def _counted_hours(req: Requirement, figures: YearFigures) -> Decimal:
    """The hours that count towards the requirement (条例 第二十条: 集中学习培训)."""
    return sum(_counted_by_kind(req, figures).values(), ZERO)


def _concentrated_training_met(req: Requirement, figures: YearFigures) -> bool:
    """The condition of one concentrated training (规划): a completed training class, or at least
    ``concentrated_min_hours`` (and some) 集中培训 in the year; true where it does not apply."""
    if not req.needs_concentrated:
        return True
    if figures.classes_completed > 0:
        return True
    return figures.concentrated > 0 and figures.concentrated >= req.concentrated_min_hours


def requirement_met(req: Requirement, figures: YearFigures) -> bool:
    if not req.is_required:
        return False
    if _counted_hours(req, figures) < req.required_hours:
        return False
    return _concentrated_training_met(req, figures)


def member_requirement(member: Member, rule: Rule | None = None) -> Requirement:
    rule = rule or rule_for_path(member.org_path)
    return requirement_of(
        status=member.status, categories=member.categories, is_exempt=member.is_exempt, rule=rule
    )


# --- a member's hours -----------------------------------------------------------------------------


def can_view_member_hours(user: Viewer, member: Member) -> bool:
    """A member sees their own hours; others need the learning ``view`` action over the member's
    organisation."""
    if member.user_id is not None and member.user_id == getattr(user, "pk", None):
        return True
    return can(user, "view", member.org_path, app_label=APP)


@dataclass(frozen=True)
class HourLine:
    id: int
    hours: Decimal
    kind: str
    kind_display: str
    source: str
    source_type: str
    created_at: datetime
    # When the credited study happened: the activity's day for attendance, else the day of the line.
    occurred_on: date | None = None
    # The local day the line was written (credited).
    credited_on: date | None = None
    # A manual record's own line while it stands (not yet cancelled): the line a manager may
    # reverse (``learning_hours_manual_reverse``).
    reversible: bool = False


@dataclass(frozen=True)
class CompletedClass:
    """A training class a member completed (结业): sessions attended (出席, 迟到, confirmed 补学)
    at least the class's completion ratio of all its sessions."""

    id: int
    name: str
    end_date: date
    attended: int
    sessions: int


def _completed_classes(member_q: Q, *, year: int | None = None) -> dict[int, list[CompletedClass]]:
    """The training classes completed by the members of ``member_q`` (a condition on
    ``member_id``), by member, those whose end date falls in ``year`` when given. A class is
    completed when the sessions attended reach its completion ratio of all its sessions (the
    class page's rule once every session is held), whoever put the member on the roster, and —
    for a class with an exam required for completion (结业考试) — the member passed it
    (``study.class_completion_exams``). Three queries: the attended sessions grouped by member
    and class, the classes with their number of sessions, and the required exams' passes."""
    attended = Attendance.objects.filter(
        member_q, CREDITED_Q, activity__training_class__isnull=False
    ).order_by()
    if year is not None:
        attended = attended.filter(activity__training_class__end_date__year=year)
    rows = list(
        attended.values("member_id", "activity__training_class_id").annotate(n=Count("id")).order_by()
    )
    if not rows:
        return {}
    classes = {
        c["id"]: c
        for c in TrainingClass.objects.filter(pk__in=sorted({r["activity__training_class_id"] for r in rows}))
        .annotate(n_sessions=Count("sessions"))
        .values("id", "name", "end_date", "completion_ratio", "n_sessions")
    }
    required, passed = _class_exam_passes(
        class_ids=sorted(classes), member_ids=sorted({r["member_id"] for r in rows})
    )
    done: dict[int, list[CompletedClass]] = defaultdict(list)
    for row in rows:
        c = classes.get(row["activity__training_class_id"])
        if c is None or not c["n_sessions"]:
            continue
        if c["id"] in required and (c["id"], row["member_id"]) not in passed:
            continue
        if Decimal(row["n"]) >= Decimal(c["completion_ratio"]) * c["n_sessions"]:
            done[row["member_id"]].append(
                CompletedClass(c["id"], c["name"], c["end_date"], row["n"], c["n_sessions"])
            )
    for completed in done.values():
        completed.sort(key=lambda c: (c.end_date, c.id))
    return dict(done)


def _class_exam_passes(
    *, class_ids: list[int], member_ids: list[int]
) -> tuple[set[int], set[tuple[int, int]]]:
    """The classes among ``class_ids`` with an exam required for completion, and the (class,
    member) pairs that passed every such exam of their class (``study.class_completion_exams``,
    kept by exams; nothing required when no app registers it)."""
    required: set[int] = set()
    passed: set[tuple[int, int]] = set()
    if not class_ids or not member_ids:
        return required, passed
    for classes, pairs in hooks.call(
        "study.class_completion_exams", class_ids=class_ids, member_ids=member_ids
    ):
        required |= classes
        passed |= pairs
    return required, passed


def _class_counts(member_q: Q) -> dict[tuple[int, int], int]:
    """The number of training classes each member of ``member_q`` completed, by (member, year of
    the class's end date): what ``MemberYearHours.classes_completed`` holds."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, completed in _completed_classes(member_q).items():
        for c in completed:
            counts[(member_id, c.end_date.year)] += 1
    return dict(counts)


@dataclass
class MemberHours:
    """我的学时 for one year."""

    member: Member
    year: int
    requirement: Requirement
    earned: Decimal
    by_kind: dict[str, Decimal]
    entries: list[HourLine]
    # The training classes completed in the year (read for a requirement of one concentrated
    # training only).
    classes: list[CompletedClass] = field(default_factory=list)

    @property
    def required(self) -> Decimal:
        """The annual requirement's hours: 0 where there is none (exempt, not required, and 发展对象,
        whose training is counted over the candidate period: ``learning.candidates``)."""
        return self.requirement.required_hours if self.requirement.is_required else ZERO

    @property
    def exempt(self) -> bool:
        return self.requirement.group == RequirementGroup.EXEMPT

    @property
    def figures(self) -> YearFigures:
        return YearFigures(
            concentrated=self.by_kind[HourKind.CONCENTRATED],
            collective=self.by_kind[HourKind.COLLECTIVE],
            online=self.by_kind[HourKind.ONLINE],
            self_study=self.by_kind[HourKind.SELF],
            classes_completed=len(self.classes),
        )

    @property
    def counted_by_kind(self) -> dict[str, Decimal]:
        """How many hours of each kind count towards the requirement (the caps applied)."""
        return _counted_by_kind(self.requirement, self.figures)

    @property
    def counted(self) -> Decimal:
        """The hours that count towards the requirement (``earned`` is all kinds)."""
        return _counted_hours(self.requirement, self.figures)

    @property
    def missing(self) -> Decimal:
        if not self.requirement.is_required:
            return ZERO
        return max(ZERO, self.required - self.counted)

    @property
    def concentrated_ok(self) -> bool:
        """Whether the condition of at least one concentrated training holds (or does not apply)."""
        return _concentrated_training_met(self.requirement, self.figures)

    @property
    def concentrated_by(self) -> str:
        """How the condition of one concentrated training was met: ``class`` (a completed training
        class), ``hours`` (enough 集中培训), or "" (not met, or not required)."""
        if not self.requirement.needs_concentrated or not self.concentrated_ok:
            return ""
        return "class" if self.classes else "hours"

    @property
    def completed(self) -> bool:
        return requirement_met(self.requirement, self.figures)


def member_learning_hours(*, user: Viewer, member: Member, year: int) -> MemberHours:
    """A member's requirement, hours by kind and every ledger line of the year (corrections
    included, so the total is explained line by line). Two queries, and two more for the training
    classes completed when the requirement includes one concentrated training."""
    if not can_view_member_hours(user, member):
        raise Http404("党员不存在")
    requirement = member_requirement(member)
    activity_start = Subquery(
        Attendance.objects.filter(pk=OuterRef("source_id")).values("activity__start")[:1]
    )
    rows = list(
        LearningHourEntry.objects.filter(member=member, year=year)
        .annotate(
            activity_start=Case(When(source_type=SourceType.ATTENDANCE, then=activity_start), default=None)
        )
        .order_by("created_at", "id")
        .values(
            "id",
            "hours",
            "kind",
            "description",
            "source_type",
            "source_id",
            "version",
            "created_at",
            "activity_start",
        )
    )
    # A manual record and its cancellation share (source, kind) within the year.
    manual_nets: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["source_type"] == SourceType.MANUAL:
            manual_nets[(row["source_id"], row["kind"])] += row["hours"]
    by_kind = dict.fromkeys(HourKind.values, ZERO)
    entries = []
    for row in rows:
        by_kind[row["kind"]] += row["hours"]
        entries.append(
            HourLine(
                id=row["id"],
                hours=row["hours"],
                kind=row["kind"],
                kind_display=str(HourKind(row["kind"]).label),
                source=row["description"],
                source_type=row["source_type"],
                created_at=row["created_at"],
                occurred_on=timezone.localdate(row["activity_start"] or row["created_at"]),
                credited_on=timezone.localdate(row["created_at"]),
                reversible=row["source_type"] == SourceType.MANUAL
                and row["version"] == 1
                and manual_nets[(row["source_id"], row["kind"])] > 0,
            )
        )
    classes = (
        _completed_classes(Q(member_id=member.pk), year=year).get(member.pk, [])
        if requirement.needs_concentrated
        else []
    )
    return MemberHours(
        member=member,
        year=year,
        requirement=requirement,
        earned=sum(by_kind.values(), ZERO),
        by_kind=by_kind,
        entries=entries,
        classes=classes,
    )


@dataclass
class MissedActivity:
    """An activity of the year the member was expected at and did not attend (or whose 补学 is not
    confirmed yet)."""

    activity_id: int
    title: str
    day: date
    status: str
    status_display: str
    # 补学 can still be reported (absent or on leave), or has been and waits for the secretary.
    makeup_open: bool
    makeup_pending: bool


@dataclass
class ResourceOffer:
    """A published online resource the member has not finished, and the hours it credits."""

    resource_id: int
    title: str
    kind_display: str
    credit_hours: Decimal


@dataclass
class Shortfall:
    """What a member short of the year's requirement can still do about it, and by when."""

    missing: Decimal
    deadline: date
    days_left: int
    missed: list[MissedActivity]
    resources: list[ResourceOffer]

    @property
    def resource_hours(self) -> Decimal:
        return sum((r.credit_hours for r in self.resources), ZERO)


SHORTFALL_ROWS = 10


def member_shortfall(*, user: Viewer, hours: MemberHours) -> Shortfall | None:
    """Why ``hours.member`` is short of the year's requirement and how to close the gap: the
    year's activities they missed (and whether 补学 is still open), the published online resources
    they have not finished with the hours each credits (only where the requirement counts online
    study, below its cap), and the year's deadline. None when nothing is missing, the year is
    over, or the user may not see the member. Two queries (one where online study does not count)."""
    member, year = hours.member, hours.year
    today = timezone.localdate()
    if hours.missing <= 0 or year < today.year or not can_view_member_hours(user, member):
        return None
    missed_statuses = (AttendanceStatus.ABSENT, AttendanceStatus.LEAVE, AttendanceStatus.MAKEUP)
    rows = (
        Attendance.objects.filter(member=member, activity__start__year=year, status__in=missed_statuses)
        .exclude(status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False)
        .filter(activity__start__lte=timezone.now())
        .select_related("activity")
        .order_by("-activity__start")[:SHORTFALL_ROWS]
    )
    missed = [
        MissedActivity(
            activity_id=row.activity_id,
            title=str(row.activity),
            day=timezone.localdate(row.activity.start),
            status=row.status,
            status_display=str(AttendanceStatus(row.status).label),
            makeup_open=row.status in (AttendanceStatus.ABSENT, AttendanceStatus.LEAVE),
            makeup_pending=row.status == AttendanceStatus.MAKEUP,
        )
        for row in rows
    ]
    offers = (
        OnlineResource.objects.filter(published_for_member_q(member), credit_hours__gt=0)
        .exclude(
            Exists(
                ResourceProgress.objects.filter(
                    resource=OuterRef("pk"), member=member, completed_at__isnull=False
                )
            )
        )
        .order_by("-credit_hours", "-published_at", "-id")
        .values("id", "title", "kind", "credit_hours")[:SHORTFALL_ROWS]
    )
    # Online study closes the gap only where the requirement counts it, below its cap (never for
    # a 发展对象, whose requirement counts concentrated training only).
    req = hours.requirement
    online_counts = (
        req.counts_online
        and not req.counts_concentrated_only
        and (req.online_cap is None or hours.by_kind[HourKind.ONLINE] < req.online_cap)
    )
    resources = (
        []
        if not online_counts
        else [
            ResourceOffer(
                resource_id=r["id"],
                title=r["title"],
                kind_display=str(ResourceKind(r["kind"]).label),
                credit_hours=r["credit_hours"],
            )
            for r in offers
        ]
    )
    deadline = date(year, 12, 31)
    return Shortfall(
        missing=hours.missing,
        deadline=deadline,
        days_left=(deadline - today).days,
        missed=missed,
        resources=resources,
    )


def member_hour_years(*, user: Viewer, member: Member) -> list[int]:
    """The years in which the member has ledger lines, newest first (the year tabs of 我的学时)."""
    if not can_view_member_hours(user, member):
        return []
    years = LearningHourEntry.objects.filter(member=member).values_list("year", flat=True).distinct()
    return sorted(set(years), reverse=True)


def hour_entry_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[LearningHourEntry]:
    """Ledger lines within the user's learning scope (and the user's own)."""
    filters = filters or {}
    qs = LearningHourEntry.objects.restrict(user, "view").select_related("member")
    if filters.get("member"):
        qs = qs.filter(member=filters["member"])
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("source_type"):
        qs = qs.filter(source_type=filters["source_type"])
    return qs.order_by("-created_at", "-id")


# --- completion of an organisation ----------------------------------------------------------------


@dataclass
class GroupCount:
    members: int = 0
    completed: int = 0


@dataclass
class LearningSummary:
    """Completion of the annual requirement in an organisation's whole subtree. ``source`` says
    whether it was read from the summary rows (``summary``) or computed from members (``live``)."""

    organization: Organization
    year: int
    members: int
    required_members: int
    completed: int
    exempt: int
    not_required: int
    groups: dict[str, GroupCount]
    categories: dict[str, GroupCount] | None = None
    source: str = "live"
    required_by_category: dict[str, int] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float:
        """Completed over required members, 0–1 (0 when nobody has a requirement)."""
        return round(self.completed / self.required_members, 4) if self.required_members else 0.0

    @property
    def short(self) -> int:
        return self.required_members - self.completed


def learning_organization_get(*, user: Viewer, pk: Any, action: str = "view") -> Organization:
    """An organisation in the user's learning scope; anything else is 404."""
    try:
        return Organization.objects.restrict(user, action, app_label=APP).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("党组织不存在") from None


def learning_summary(
    *, user: Viewer, organization: Organization, year: int, by_category: bool = False
) -> LearningSummary:
    """Members, required members, completed, completion rate and exempt members for the whole
    subtree. Read from the summary rows kept with the ledger (two indexed rows, whatever the size
    of the subtree) when they are complete — they count as many members as the organisation's own
    member count — otherwise, and for the breakdown by member category, computed from the members
    in one grouped query."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    summary = learning_summary_from_rows(
        user=user, organization=organization, year=year, by_category=by_category
    )
    if summary is not None:
        return summary
    return _learning_summary_live(organization=organization, year=year, by_category=by_category)


def _add_categories_from_rows(summary: LearningSummary) -> None:
    """The breakdown by member category, from the category rows kept with the ledger beside the
    summary rows (valid when those are, which the caller checked): two indexed queries, whatever
    the size of the subtree."""
    org_id = summary.organization.pk
    categories = {c: GroupCount() for c in MemberCategory.values}
    required_by_category = dict.fromkeys(MemberCategory.values, 0)
    for category, members, required in OrgCategoryCounts.objects.filter(organization_id=org_id).values_list(
        "category", "members", "required"
    ):
        if category in categories:
            categories[category].members = members
            required_by_category[category] = required
    for category, completed in OrgYearCategoryCompletion.objects.filter(
        organization_id=org_id, year=summary.year
    ).values_list("category", "completed"):
        if category in categories:
            categories[category].completed = completed
    summary.categories = categories
    summary.required_by_category = required_by_category


def _counts_row(organization: Organization) -> dict[str, Any] | None:
    """The organisation's requirement counts when they are complete: they count as many members as
    the organisation's member count (kept by the member services in their transaction). A member
    created, transferred or taken off the roll without the learning hook shows up here as a
    difference, and the callers then compute from the members instead."""
    row: Any = (
        OrgRequirementCounts.objects.filter(organization_id=organization.pk)
        .values(
            "members",
            "general",
            "cadre",
            "candidate",
            "exempt",
            "not_required",
            "organization__member_count",
        )
        .first()
    )
    if row is None or row["members"] != row["organization__member_count"]:
        return None
    return dict(row)


def learning_summary_from_rows(
    *, user: Viewer, organization: Organization, year: int, by_category: bool = False
) -> LearningSummary | None:
    """``learning_summary`` read from the summary rows alone: None when they are not complete, or
    when the organisation lies outside the user's learning scope."""
    if not scope_for(user, "view", APP).covers(organization.path):
        return None
    summary = _summary_from_rows(organization=organization, year=year)
    if summary is not None and by_category:
        _add_categories_from_rows(summary)
    return summary


def learning_summary_live(
    *, user: Viewer | None, organization: Organization, year: int, by_category: bool = False
) -> LearningSummary:
    """``learning_summary`` computed from the members themselves, never from the summary rows: the
    proof that the rows are right (tests, the benchmark). ``user=None`` is the system; a user sees
    only an organisation in their learning scope (404 otherwise)."""
    if user is not None and not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    return _learning_summary_live(organization=organization, year=year, by_category=by_category)


def members_with_requirement(
    *, user: Viewer, organization: Organization, year: int
) -> QuerySet[MemberWithRequirement]:
    """The active members of the subtree with their year's requirement state computed live (see
    ``_members_with_requirement``), within the user's learning scope."""
    return _members_with_requirement(organization=organization, year=year).filter(
        scope_for(user, "view", APP).q("org_path")
    )


def _summary_from_rows(*, organization: Organization, year: int) -> LearningSummary | None:
    row = _counts_row(organization)
    if row is None:
        return None
    done: Any = (
        OrgYearCompletion.objects.filter(organization_id=organization.pk, year=year)
        .values(*COMPLETION_GROUPS)
        .first()
    ) or dict.fromkeys(COMPLETION_GROUPS, 0)
    groups = {g: GroupCount(row[g], done[g]) for g in COMPLETION_GROUPS}
    return LearningSummary(
        organization=organization,
        year=year,
        members=row["members"],
        required_members=sum(g.members for g in groups.values()),
        completed=sum(g.completed for g in groups.values()),
        exempt=row["exempt"],
        not_required=row["not_required"],
        groups=groups,
        source="summary",
    )


def _group_case(rule: Rule) -> Case:
    cadre_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.COMMITTEE)

    def group(req: Requirement) -> Value:
        return Value(str(req.group))

    return Case(
        When(~Q(status__in=STATUSES_WITH_REQUIREMENT), then=Value(RequirementGroup.NONE.value)),
        When(is_exempt=True, then=Value(RequirementGroup.EXEMPT.value)),
        When(
            status=MemberStatus.CANDIDATE,
            then=group(
                requirement_of(status=MemberStatus.CANDIDATE, categories=(), is_exempt=False, rule=rule)
            ),
        ),
        When(
            cadre_q,
            then=group(
                requirement_of(
                    status=MemberStatus.FULL, categories=CADRE_CATEGORIES, is_exempt=False, rule=rule
                )
            ),
        ),
        default=group(requirement_of(status=MemberStatus.FULL, categories=(), is_exempt=False, rule=rule)),
        output_field=CharField(),
    )


def _capped_expression(hours: str, counts: bool, cap: Decimal | None) -> Any:
    if not counts:
        return Value(ZERO, output_field=DEC)
    if cap is None:
        return F(hours)
    return Case(
        When(**{f"{hours}__lte": cap}, then=F(hours)), default=Value(cap, output_field=DEC), output_field=DEC
    )


def _counted_expression(req: Requirement) -> Any:
    """``_counted_hours`` on the annotations of ``_year_annotations``."""
    if req.counts_concentrated_only:
        return F("lh_conc")
    return ExpressionWrapper(
        F("lh_conc")
        + F("lh_coll")
        + _capped_expression("lh_online", req.counts_online, req.online_cap)
        + _capped_expression("lh_self", req.counts_self, req.self_cap),
        output_field=DEC,
    )


def _counted_case(rule: Rule) -> Case:
    """The hours that count for each member under ``rule`` (by requirement group)."""
    cadre_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.COMMITTEE)
    return Case(
        When(
            status=MemberStatus.CANDIDATE,
            then=_counted_expression(
                requirement_of(status=MemberStatus.CANDIDATE, categories=(), is_exempt=False, rule=rule)
            ),
        ),
        When(
            cadre_q,
            then=_counted_expression(
                requirement_of(
                    status=MemberStatus.FULL, categories=CADRE_CATEGORIES, is_exempt=False, rule=rule
                )
            ),
        ),
        default=_counted_expression(
            requirement_of(status=MemberStatus.FULL, categories=(), is_exempt=False, rule=rule)
        ),
        output_field=DEC,
    )


def _hours_ok_q(req: Requirement) -> Q | None:
    """Condition on the annotations ``lh_counted``, ``lh_conc`` and ``lh_classes`` for the
    requirement to be met (``requirement_met``; ``lh_counted`` is the member's own, under the
    same rule)."""
    if not req.is_required:
        return None
    condition = Q(lh_counted__gte=req.required_hours - EPSILON)
    if req.needs_concentrated:
        condition &= Q(lh_classes__gt=0) | Q(
            lh_conc__gt=EPSILON, lh_conc__gte=req.concentrated_min_hours - EPSILON
        )
    return condition


def _ok_case(rule: Rule) -> Case:
    cadre_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.COMMITTEE)
    one, zero = Value(1), Value(0)

    def ok(req: Requirement) -> Any:
        condition = _hours_ok_q(req)
        if condition is None:
            return zero
        return Case(When(condition, then=one), default=zero, output_field=IntegerField())

    return Case(
        When(~Q(status__in=STATUSES_WITH_REQUIREMENT) | Q(is_exempt=True), then=zero),
        When(
            status=MemberStatus.CANDIDATE,
            then=ok(requirement_of(status=MemberStatus.CANDIDATE, categories=(), is_exempt=False, rule=rule)),
        ),
        When(
            cadre_q,
            then=ok(
                requirement_of(
                    status=MemberStatus.FULL, categories=CADRE_CATEGORIES, is_exempt=False, rule=rule
                )
            ),
        ),
        default=ok(requirement_of(status=MemberStatus.FULL, categories=(), is_exempt=False, rule=rule)),
        output_field=IntegerField(),
    )


def _attribute_case(attribute: str, output_field: Any) -> Any:
    """A builder of ``CASE`` over the requirement groups giving ``requirement_of(…).<attribute>``
    under a rule (members without a requirement, and exempt ones: ``EXEMPT``'s). A decimal is
    cast, so that a column of nulls (no cap anywhere) has its type on PostgreSQL too."""

    def build(rule: Rule) -> Any:
        def value(req: Requirement) -> Any:
            found = getattr(req, attribute)
            if isinstance(output_field, DecimalField):
                return Cast(Value(found), output_field=output_field)
            return Value(found, output_field=output_field)

        cadre_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.COMMITTEE)
        return Case(
            When(~Q(status__in=STATUSES_WITH_REQUIREMENT) | Q(is_exempt=True), then=value(EXEMPT)),
            When(
                status=MemberStatus.CANDIDATE,
                then=value(
                    requirement_of(status=MemberStatus.CANDIDATE, categories=(), is_exempt=False, rule=rule)
                ),
            ),
            When(
                cadre_q,
                then=value(
                    requirement_of(
                        status=MemberStatus.FULL, categories=CADRE_CATEGORIES, is_exempt=False, rule=rule
                    )
                ),
            ),
            default=value(
                requirement_of(status=MemberStatus.FULL, categories=(), is_exempt=False, rule=rule)
            ),
            output_field=output_field,
        )

    return build


_required_case = _attribute_case("required_hours", DecimalField(max_digits=5, decimal_places=1))


def requirement_annotations(rules: list[Rule]) -> dict[str, Any]:
    """The requirement of each member of a subtree as SQL expressions on ``Member`` (``rq_group``,
    ``rq_hours``, ``rq_needs``, ``rq_conc_min`` and the counting of online and self study:
    ``rq_counts_online``, ``rq_online_cap``, ``rq_counts_self``, ``rq_self_cap``): the rules of
    ``requirement_of``, the nearest of ``rules`` (as ``rules_in_subtree`` gives them) chosen for
    each member by ``CASE`` on its path."""
    hours: DecimalField[Decimal, Decimal] = DecimalField(max_digits=5, decimal_places=1)
    flag: BooleanField[bool, bool] = BooleanField()

    def by_rule(attribute: str, output_field: Any) -> Any:
        return _by_rule(rules, _attribute_case(attribute, output_field), output_field)

    return {
        "rq_group": _by_rule(rules, _group_case, CharField()),
        "rq_hours": _by_rule(rules, _required_case, hours),
        "rq_needs": by_rule("needs_concentrated", flag),
        "rq_conc_min": by_rule("concentrated_min_hours", DecimalField(max_digits=4, decimal_places=1)),
        "rq_counts_online": by_rule("counts_online", flag),
        "rq_online_cap": by_rule("online_cap", hours),
        "rq_counts_self": by_rule("counts_self", flag),
        "rq_self_cap": by_rule("self_cap", hours),
    }


def _by_rule(rules: list[Rule], build: Any, output_field: Any) -> Any:
    """``build(rule)`` for the nearest rule of each member: the deepest rule first."""
    *inner, base = rules
    if not inner:
        return build(base)
    return Case(
        *(When(subtree_q("org_path", [r.path]), then=build(r)) for r in inner),
        default=build(base),
        output_field=output_field,
    )


class RequirementAnnotations(TypedDict):
    """What ``_members_with_requirement`` (and the short list) put on each member."""

    lh_total: Decimal
    lh_conc: Decimal
    lh_coll: Decimal
    lh_online: Decimal
    lh_self: Decimal
    lh_classes: int
    lh_counted: Decimal
    lh_group: str
    lh_ok: int
    lh_required: Decimal
    lh_missing: Decimal


MemberWithRequirement: TypeAlias = "WithAnnotations[Member, RequirementAnnotations]"


def _year_annotations() -> dict[str, Any]:
    """The member's year (``lh_year``, a ``FilteredRelation``) as ``lh_total``, the hours by kind
    (``lh_conc``, ``lh_coll``, ``lh_online``, ``lh_self``) and ``lh_classes`` (training classes
    completed), 0 for a year without a row: annotate after ``lh_year``."""
    return {
        "lh_total": Coalesce(F("lh_year__total"), Value(ZERO), output_field=DEC),
        "lh_conc": Coalesce(F("lh_year__concentrated"), Value(ZERO), output_field=DEC),
        "lh_coll": Coalesce(F("lh_year__collective"), Value(ZERO), output_field=DEC),
        "lh_online": Coalesce(F("lh_year__online"), Value(ZERO), output_field=DEC),
        "lh_self": Coalesce(F("lh_year__self_study"), Value(ZERO), output_field=DEC),
        "lh_classes": Coalesce(F("lh_year__classes_completed"), Value(0), output_field=IntegerField()),
    }


def _members_with_requirement(*, organization: Organization, year: int) -> QuerySet[MemberWithRequirement]:
    """Active members of the subtree annotated, in SQL, with their year's hours (``lh_total``, by
    kind ``lh_conc`` …), the hours that count (``lh_counted``), requirement group (``lh_group``),
    required hours (``lh_required``), whether they met it (``lh_ok``, 1/0) and what is missing
    (``lh_missing``)."""
    rules = rules_in_subtree(organization.path)
    year_of = _year_annotations()
    return (
        Member.objects.filter(organization.subtree_q("org_path"), is_active=True)
        .annotate(lh_year=FilteredRelation("year_hours", condition=Q(year_hours__year=year)))
        .annotate(
            lh_total=year_of["lh_total"],
            lh_conc=year_of["lh_conc"],
            lh_coll=year_of["lh_coll"],
            lh_online=year_of["lh_online"],
            lh_self=year_of["lh_self"],
            lh_classes=year_of["lh_classes"],
        )
        .annotate(lh_counted=_by_rule(rules, _counted_case, DEC))
        .annotate(
            lh_group=_by_rule(rules, _group_case, CharField()),
            lh_ok=_by_rule(rules, _ok_case, IntegerField()),
            lh_required=_by_rule(rules, _required_case, DecimalField(max_digits=5, decimal_places=1)),
        )
        .annotate(lh_missing=Greatest(F("lh_required") - F("lh_counted"), Value(ZERO), output_field=DEC))
    )


def _learning_summary_live(
    *, organization: Organization, year: int, by_category: bool = False
) -> LearningSummary:
    """The summary computed from the members in one query grouped by requirement group (and by
    the member's categories, a handful of distinct lists, when the breakdown is wanted)."""
    qs = _members_with_requirement(organization=organization, year=year)
    keys = ["lh_group", "categories"] if by_category else ["lh_group"]
    rows = qs.values(*keys).annotate(n=Count("id"), done=Sum("lh_ok")).order_by()
    groups = {g.value: GroupCount() for g in REQUIRED_GROUPS}
    totals = {g.value: 0 for g in RequirementGroup}
    categories = {c: GroupCount() for c in MemberCategory.values} if by_category else None
    required_by_category = dict.fromkeys(MemberCategory.values, 0) if by_category else {}
    for row in rows:
        group, n, done = row["lh_group"], row["n"], int(row["done"] or 0)
        totals[group] += n
        if group in groups:
            groups[group].members += n
            groups[group].completed += done
        if categories is not None:
            for category in set(row["categories"] or ()):
                if category in categories:
                    categories[category].members += n
                    categories[category].completed += done
                    if group in groups:
                        required_by_category[category] += n
    return LearningSummary(
        organization=organization,
        year=year,
        members=sum(totals.values()),
        required_members=sum(g.members for g in groups.values()),
        completed=sum(g.completed for g in groups.values()),
        exempt=totals[RequirementGroup.EXEMPT],
        not_required=totals[RequirementGroup.NONE],
        groups=groups,
        categories=categories,
        source="live",
        required_by_category=required_by_category,
    )


def learning_short_list(
    *, user: Viewer, organization: Organization, year: int
) -> QuerySet[MemberWithRequirement]:
    """Members of the subtree who have a requirement and have not met it yet, in tree order, with
    the annotations of ``_members_with_requirement`` (exempt members are never listed)."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    return _short_list_for(organization=organization, year=year)


def _short_list_for(*, organization: Organization, year: int) -> QuerySet[MemberWithRequirement]:
    """``learning_short_list`` without the scope check (for the export service, which checked it). When the
    summary rows are complete the list is read from the members' requirement states and completion
    flags (an ordered index scan that stops at the page: well under a millisecond for a city's
    first page); otherwise the requirement is computed in SQL for every member of the subtree."""
    required = [g.value for g in REQUIRED_GROUPS]
    if _counts_row(organization) is not None:
        return (
            _members_with_requirement_state(organization=organization, year=year)
            .filter(learning_requirement__group__in=required)
            .filter(Q(lh_year__completed=False) | Q(lh_year__id__isnull=True))
            .select_related("organization")
            .order_by("org_path", "name", "id")
        )
    return (
        _members_with_requirement(organization=organization, year=year)
        # django-stubs checks ``__in`` on an annotation as if it were an exact match (wants a str).
        .filter(lh_group__in=required, lh_ok=0)  # type: ignore[misc]
        .select_related("organization")
        .order_by("org_path", "name", "id")
    )


def _members_with_requirement_state(
    *, organization: Organization, year: int
) -> QuerySet[MemberWithRequirement]:
    """Active members of the subtree with the annotations of ``_members_with_requirement``, read
    from the requirement states and the year's hours kept with the ledger."""
    state = "learning_requirement__"
    year_of = _year_annotations()
    counted = Case(
        When(**{f"{state}group": RequirementGroup.CANDIDATE}, then=F("lh_conc")),
        default=F("lh_conc")
        + F("lh_coll")
        + _capped_by_state("lh_online", f"{state}counts_online", f"{state}online_cap")
        + _capped_by_state("lh_self", f"{state}counts_self", f"{state}self_cap"),
        output_field=DEC,
    )
    return (
        Member.objects.filter(organization.subtree_q("org_path"), is_active=True)
        .annotate(lh_year=FilteredRelation("year_hours", condition=Q(year_hours__year=year)))
        .annotate(
            lh_total=year_of["lh_total"],
            lh_conc=year_of["lh_conc"],
            lh_coll=year_of["lh_coll"],
            lh_online=year_of["lh_online"],
            lh_self=year_of["lh_self"],
            lh_classes=year_of["lh_classes"],
        )
        .annotate(
            lh_counted=counted,
            lh_group=F(f"{state}group"),
            lh_required=F(f"{state}required_hours"),
            lh_ok=Case(
                When(lh_year__completed=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .annotate(lh_missing=Greatest(F("lh_required") - F("lh_counted"), Value(ZERO), output_field=DEC))
    )


def _capped_by_state(hours: str, counts: str, cap: str) -> Case:
    """The hours of one kind that count under a member's stored requirement state."""
    return Case(
        When(**{counts: False}, then=Value(ZERO)),
        When(Q(**{f"{cap}__isnull": True}) | Q(**{f"{hours}__lte": F(cap)}), then=F(hours)),
        default=F(cap),
        output_field=DEC,
    )


# --- online resources -----------------------------------------------------------------------------


def published_for_member_q(member: Member, prefix: str = "") -> Q:
    """Resources published for ``member``: those of the member's organisation and of every
    organisation above it (``prefix``: the path to the resource from the queried model)."""
    return Q(
        **{f"{prefix}organization__path__in": ancestor_paths(member.org_path), f"{prefix}is_published": True}
    )


def resource_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[OnlineResource]:
    """What the user may open: resources published for the user's own member record, and every
    resource (drafts included) of organisations in the user's learning scope."""
    filters = filters or {}
    condition = Q(pk__in=[])
    scope = scope_for(user, "view", APP)
    if scope.paths:
        condition |= scope.q("organization__path")
    member = member_of_user(user=user)
    if member is not None:
        condition |= published_for_member_q(member)
    qs = OnlineResource.objects.filter(condition).select_related("column")
    if filters.get("column"):
        qs = qs.filter(column_id=filters["column"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("q"):
        qs = qs.filter(title__icontains=filters["q"].strip())
    if filters.get("published") in (True, False):
        qs = qs.filter(is_published=filters["published"])
    return qs.order_by("-published_at", "-id")


def resource_get(*, user: Viewer, pk: Any, action: str = "view") -> OnlineResource:
    """A resource the user may open (``view``: published to them or in their learning scope), or
    one in their scope for ``action`` (``change``, ``delete``); anything else is 404."""
    qs = resource_list(user=user) if action == "view" else OnlineResource.objects.restrict(user, action)
    try:
        return qs.select_related("organization", "column").get(pk=pk)
    except (OnlineResource.DoesNotExist, ValueError, TypeError):
        raise Http404("学习资源不存在") from None


@dataclass(frozen=True)
class ResourceUsage:
    learners: int
    completed: int


def resource_usage(*, user: Viewer, resource: OnlineResource) -> ResourceUsage:
    """How many members the user sees have studied the resource, and how many completed it (one
    query). Whoever may manage a resource sees all its learners: they belong to its subtree."""
    row = (
        ResourceProgress.objects.restrict(user, "view")
        .filter(resource=resource)
        .aggregate(learners=Count("pk"), completed=Count("completed_at"))
    )
    return ResourceUsage(learners=row["learners"], completed=row["completed"])


def resource_progress_for(
    *, user: Viewer, member: Member | None, resource_ids: list[int]
) -> dict[int, ResourceProgress]:
    """The member's progress on each of the given resources, in one query; none for a member
    whose hours the user may not see (``can_view_member_hours``)."""
    if member is None or not resource_ids or not can_view_member_hours(user, member):
        return {}
    rows = ResourceProgress.objects.filter(member=member, resource_id__in=resource_ids)
    return {p.resource_id: p for p in rows}


def column_list(*, user: Viewer) -> QuerySet[Column]:
    return (
        Column.objects.restrict(user, "view")
        .select_related("organization")
        .order_by("organization__path", "name")
    )


def resource_column_choices(*, user: Viewer, resource: OnlineResource) -> QuerySet[Column]:
    """Columns a resource may move to: those the user sees of its organisation or above, and the
    one it is in now (which may belong to an organisation above the user's scope)."""
    allowed = Q(organization__path__in=ancestor_paths(resource.organization.path))
    visible = Column.objects.restrict(user, "view").filter(allowed).values("pk")
    current = Q(pk=resource.column_id) if resource.column_id else Q(pk__in=[])
    return (
        Column.objects.filter(Q(pk__in=visible) | current)
        .select_related("organization")
        .order_by("organization__path", "name")
    )


def hour_requirement_list(*, user: Viewer) -> QuerySet[HourRequirement]:
    return (
        HourRequirement.objects.restrict(user, "view")
        .select_related("organization")
        .order_by("organization__path")
    )


def hour_requirement_get(
    *, user: Viewer, pk: Any, action: str = "view", policy: bool = False
) -> HourRequirement:
    """A subtree's own rule within the user's learning scope for ``action`` (and, with
    ``policy``, where the user sets requirements — policy of the organisation departments); else
    404."""
    qs = HourRequirement.objects.restrict(user, action).select_related("organization")
    if policy:
        qs = qs.filter(subtree_q("organization__path", policy_paths(user)))
    try:
        return qs.get(pk=pk)
    except (HourRequirement.DoesNotExist, ValueError, TypeError):
        raise Http404("学时要求不存在") from None


@dataclass(frozen=True)
class ScopeRule:
    """The rule in force at the top of one of the user's subtrees, and where it comes from
    (``organization`` None: the lawful defaults)."""

    scope: Organization
    rule: Rule
    organization: Organization | None


def hour_requirement_scope_rules(*, user: Viewer) -> list[ScopeRule]:
    """For each subtree of the user's learning scope, the rule that applies at its top (set there
    or above, or the defaults): what the rules in the list override. Two queries."""
    paths = scope_for(user, "view", APP).paths
    if not paths:
        return []
    rules = rules_for_paths(paths)
    wanted = set(paths) | {rule.path for rule in rules.values() if rule.path}
    orgs = {org.path: org for org in Organization.objects.filter(path__in=sorted(wanted))}
    return [
        ScopeRule(scope=orgs[path], rule=rules[path], organization=orgs.get(rules[path].path))
        for path in paths
        if path in orgs
    ]


def hour_requirement_inherited(*, user: Viewer, requirement: HourRequirement) -> ScopeRule:
    """The rule that applies to the subtree once its own is removed: the nearest one above, or
    the defaults (and where it is set, even above the user's scope: shown for reference). A
    requirement outside the user's learning scope is a 404."""
    organization = requirement.organization
    if not can(user, "view", organization, app_label=APP):
        raise Http404("学时要求不存在")
    parent = organization.path[:-SEGMENT_WIDTH]
    rule = rule_for_path(parent) if parent else DEFAULT_RULE
    source = Organization.objects.filter(path=rule.path).first() if rule.path else None
    return ScopeRule(scope=organization, rule=rule, organization=source)


def learning_member_get(*, user: Viewer, pk: Any, action: str = "view") -> Member:
    """A member within the user's learning scope for ``action`` (the members app's own scope
    does not apply: it is the learning data that is read or written); else 404."""
    members = Member.objects.filter(scope_for(user, action, APP).q("org_path"))
    try:
        return members.select_related("organization").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404("党员不存在") from None


def learning_member_hours_get(*, user: Viewer, pk: Any) -> Member:
    """A member whose hours the user may see (``can_view_member_hours``): the user's own record,
    or one within their learning scope; else 404."""
    condition = scope_for(user, "view", APP).q("org_path")
    if getattr(user, "is_authenticated", False):
        condition |= Q(user=user)
    try:
        return Member.objects.filter(condition).select_related("organization").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404("党员不存在") from None


def manual_entry_get(*, user: Viewer, member: Member, pk: Any, action: str = "change") -> LearningHourEntry:
    """A manual record's line of the member, within the user's learning scope for ``action``."""
    qs = LearningHourEntry.objects.restrict(user, action).filter(
        member=member, source_type=SourceType.MANUAL, version=1
    )
    try:
        entry: LearningHourEntry = qs.get(pk=pk)
    except (LearningHourEntry.DoesNotExist, ValueError, TypeError):
        raise Http404("学时记录不存在") from None
    return entry


# --- site search ---------------------------------------------------------------------------------

# What a resource hit shows (not the article's body).
RESOURCE_SEARCH_FIELDS = (
    "id",
    "title",
    "kind",
    "credit_hours",
    "is_published",
    "published_at",
    "column__name",
)


def resource_search_source(*, user: Viewer) -> SearchSource | None:
    """``core.search``: online resources by title, exactly those the resource list offers the
    user (published to their own member record, and every resource of their learning scope). The
    list page has no text filter, so the search page lists every match itself."""
    if not scope_for(user, "view", APP).paths and not scope_for(user, "view", "members").own:
        return None
    kinds = dict(ResourceKind.choices)

    def find(text: str) -> QuerySet[OnlineResource]:
        return resource_list(user=user, filters={"q": text}).only(*RESOURCE_SEARCH_FIELDS)

    def hit(resource: OnlineResource) -> SearchHit:
        hours = f"{resource.credit_hours.normalize():f}"
        parts = [str(kinds.get(resource.kind, resource.kind)), f"{hours} 学时"]
        if resource.column is not None:
            parts.append(resource.column.name)
        return SearchHit(
            title=resource.title,
            url=reverse("learning:resource_detail", args=[resource.pk]),
            detail=" · ".join(parts),
            badge="" if resource.is_published else str(gettext_lazy("未发布")),
        )

    return SearchSource(kind="resources", label=gettext_lazy("网上学习"), icon="play-btn", find=find, hit=hit)
