"""Reads of study data. Every function starts from ``restrict(user, action)`` (or the user's
study scope, ``scope_for``), or continues a read that did (a summary, an object already got for the
user), and aggregates in SQL: counts per activity, per member, per branch and month come
from grouped queries, never from Python loops over rows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, ExtractWeek, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core import pinyin
from partyedu.core.hooks import hooks
from partyedu.core.scope import PATH_END, Scope, scope_for, subtree_q
from partyedu.core.search import SearchHit, SearchSource
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths

from .choices import (
    ATTENDED_STATUSES,
    FORMAT_BLANK,
    GROUP_OWN_TYPES,
    ActivityType,
    AttendanceMethod,
    AttendanceStatus,
    CadenceLevel,
    CadencePeriod,
    TeachingFormat,
    stored_format,
)
from .models import (
    MONTH_FIELDS,
    Activity,
    ActivityMonthCount,
    Attendance,
    CadenceRule,
    CentralGroupMembership,
    ClassEnrollment,
    EducationBase,
    MaterialDistribution,
    RequiredTopic,
    StudyMaterial,
    StudyPlan,
    TeachingSite,
    TrainingClass,
)
from .rosters import CENTRAL_GROUP_LEVELS, DefaultRoster, central_group_role_order, default_roster

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

APP = "study"


# --- scope helpers -------------------------------------------------------------------------------


def _within(org: Organization, scope: Scope) -> list[str]:
    """The part of ``org``'s subtree inside the scope, as subtree roots."""
    if scope.covers(org.path):
        return [org.path]
    return [p for p in scope.paths if p.startswith(org.path)]


def _from_above_q(field_name: str, scope: Scope) -> Q:
    """Rows owned by an organisation in the scope's subtrees or by an ancestor of one of them: what
    was issued from above (plans, materials, a district's teaching sites) is visible below."""
    above = sorted({a for p in scope.paths for a in ancestor_paths(p)[:-1]})
    condition = scope.q(field_name)
    if above:
        condition |= Q(**{f"{field_name}__in": above})
    return condition


def study_filter_organization(*, user: Viewer, org_id: Any, action: str = "view") -> Organization | None:
    """The organisation a list is narrowed to, if it lies inside the user's study scope; None
    for an unknown or out-of-scope id (the list is then empty, so ids cannot be probed)."""
    try:
        pk = int(org_id)
    except (TypeError, ValueError):
        return None
    return Organization.objects.restrict(user, action, app_label=APP).filter(pk=pk).first()


def _get(qs: QuerySet[Any], pk: Any, message: str) -> Any:
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(message) from None


# --- activities and attendance -------------------------------------------------------------------


def activity_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Activity]:
    """Activities in the user's scope, newest first. Filters: ``organization`` (an Organization:
    its whole subtree), ``year``, ``activity_type``, ``teaching_format`` (``FORMAT_BLANK``: not
    recorded), ``training_class``, ``site``, ``education_base``, ``required_topic`` (instances or
    ids), ``q`` (topic contains)."""
    filters = filters or {}
    qs = Activity.objects.restrict(user, action).select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("year"):
        qs = qs.filter(start__year=int(filters["year"]))
    if filters.get("activity_type"):
        qs = qs.filter(activity_type=filters["activity_type"])
    if filters.get("teaching_format"):
        qs = qs.filter(teaching_format=stored_format(filters["teaching_format"]))
    for name in ("training_class", "site", "education_base", "required_topic"):
        value = filters.get(name)
        if value not in (None, ""):
            qs = qs.filter(**{name: value})
    if filters.get("q") and str(filters["q"]).strip():
        qs = qs.filter(topic__contains=str(filters["q"]).strip())
    return qs.order_by("-start", "-id")


def activity_get(*, user: Viewer, pk: Any, action: str = "view") -> Activity:
    """One activity in the user's scope for ``action``; anything else is 404."""
    qs = Activity.objects.restrict(user, action).select_related(
        "organization", "site", "education_base", "required_topic", "training_class"
    )
    activity: Activity = _get(qs, pk, "活动不存在")
    return activity


@dataclass(frozen=True)
class AttendanceCounts:
    expected: int = 0  # the roster, invitees not included
    invitees: int = 0
    present: int = 0
    late: int = 0
    leave: int = 0
    absent: int = 0
    makeup: int = 0
    unmarked: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late

    def as_dict(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "invitees": self.invitees,
            "present": self.present,
            "late": self.late,
            "leave": self.leave,
            "absent": self.absent,
            "makeup": self.makeup,
            "unmarked": self.unmarked,
        }


def activity_attendance_counts(*, user: Viewer, activity_ids: list[int]) -> dict[int, AttendanceCounts]:
    """Attendance counts of the given activities (a page of a list) in one grouped query; an
    activity the user may not see counts nothing."""
    if not activity_ids:
        return {}
    roster = Q(is_invitee=False)
    visible = Activity.objects.restrict(user, "view").filter(pk__in=activity_ids)
    rows = (
        Attendance.objects.filter(activity__in=visible)
        .values("activity_id")
        .annotate(
            expected=Count("id", filter=roster),
            invitees=Count("id", filter=Q(is_invitee=True)),
            present=Count("id", filter=Q(status=AttendanceStatus.PRESENT)),
            late=Count("id", filter=Q(status=AttendanceStatus.LATE)),
            leave=Count("id", filter=Q(status=AttendanceStatus.LEAVE)),
            absent=Count("id", filter=Q(status=AttendanceStatus.ABSENT)),
            makeup=Count("id", filter=Q(status=AttendanceStatus.MAKEUP)),
            unmarked=Count("id", filter=Q(status=AttendanceStatus.UNMARKED)),
        )
        .order_by()
    )
    counts = {pk: AttendanceCounts() for pk in activity_ids}
    for row in rows:
        pk = row.pop("activity_id")
        counts[pk] = AttendanceCounts(**row)
    return counts


def attendance_list(*, user: Viewer, activity: Activity, action: str = "view") -> QuerySet[Attendance]:
    """The roster of an activity with each member's mark: the roster first, then invitees, each
    in the order of the organisation tree and name."""
    return (
        Attendance.objects.restrict(user, action)
        .filter(activity=activity)
        .select_related("member", "member__organization")
        .order_by("is_invitee", "member__org_path", "member__name", "id")
    )


def activity_same_day(
    *,
    user: Viewer,
    organization: Organization,
    activity_type: str,
    day: date,
    exclude_pk: int | None = None,
) -> QuerySet[Activity]:
    """Activities of this type held by this organisation on this (local) day, in the user's scope,
    earliest first; ``exclude_pk`` leaves out the activity being edited. A second 主题党日 on
    the same day is usually recorded twice by mistake, so the form asks before saving it."""
    qs = Activity.objects.restrict(user, "view").filter(
        organization=organization, activity_type=activity_type, start__date=day
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("start", "id")


@dataclass(frozen=True)
class CheckinBoard:
    """What the QR projector shows: who checked themselves in by scanning (in pinyin order), and
    how many attended by another way (marked by hand, imported), which are not scans."""

    scanned: list[Member]  # at most SCANNED_LISTED of them
    scanned_count: int
    marked_otherwise: int


SCANNED_LISTED = 500


def activity_checkin_board(*, user: Viewer, activity: Activity) -> CheckinBoard:
    """The QR projector's list for an activity in the user's ``change`` scope: QR check-ins only
    (``method == qr``), the members sorted by pinyin."""
    attended = (
        Attendance.objects.restrict(user, "change")
        .filter(activity=activity, status__in=ATTENDED_STATUSES)
        .select_related("member")
    )
    by_scan = Q(method=AttendanceMethod.QR)
    counts = attended.aggregate(scanned=Count("id", filter=by_scan), other=Count("id", filter=~by_scan))
    rows = list(attended.filter(by_scan).order_by("id")[:SCANNED_LISTED])
    return CheckinBoard(
        scanned=sorted((r.member for r in rows), key=lambda m: pinyin.sort_key(m.name)),
        scanned_count=counts["scanned"],
        marked_otherwise=counts["other"],
    )


def activity_quorum(*, user: Viewer | None, activity: Activity) -> dict[str, Any]:
    """Whether a 支部党员大会 had its quorum (支部条例 第十一条): more than half of the voting
    members expected were present (出席 or 迟到). Only full members vote: probationary members,
    candidates and invitees (列席) are not counted. An activity the user may not see counts
    nobody; ``user=None`` is the system (a service checking a vote against the record)."""
    visible = (Activity.objects.all() if user is None else Activity.objects.restrict(user, "view")).filter(
        pk=activity.pk
    )
    voting = Q(activity__in=visible, is_invitee=False, member__status=MemberStatus.FULL)
    agg = Attendance.objects.filter(voting).aggregate(
        voting_expected=Count("id"), voting_present=Count("id", filter=Q(status__in=ATTENDED_STATUSES))
    )
    expected, present = agg["voting_expected"], agg["voting_present"]
    return {"voting_expected": expected, "voting_present": present, "quorum_met": present * 2 > expected}


def attendance_get(*, user: Viewer, activity: Activity, pk: Any, action: str = "view") -> Attendance:
    """One attendance row of the activity, in the user's scope for ``action``; anything else is
    404."""
    qs = Attendance.objects.restrict(user, action).filter(activity=activity).select_related("member")
    row: Attendance = _get(qs, pk, "出勤记录不存在")
    return row


def attendance_makeup_pending(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Attendance]:
    """Reported 补学 waiting for the secretary's confirmation, in the user's scope."""
    filters = filters or {}
    qs = Attendance.objects.restrict(user, "change").filter(
        status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=True
    )
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("activity__organization__path"))
    return qs.select_related("member", "activity", "activity__organization").order_by(
        "-activity__start", "id"
    )


def my_attendance_list(*, user: Viewer, year: int | None = None) -> QuerySet[Attendance]:
    """The signed-in member's own attendance (我的活动): their own rows, whatever their roles."""
    if not user.is_authenticated:
        return Attendance.objects.none()
    qs = Attendance.objects.filter(member__user=user)
    if year:
        qs = qs.filter(activity__start__year=year)
    return qs.select_related("activity", "activity__organization").order_by("-activity__start", "-id")


# --- a member's own activities (我的活动) ----------------------------------------------------------

# Learning (above study) tells the member's page what each of their attendance rows credited.
ATTENDANCE_HOURS_HOOK = "study.attendance_hours"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _own_attendance(user: Viewer) -> QuerySet[Attendance]:
    """The user's own attendance rows — the self scope of the model (``Attendance.scope_self``,
    the member's account) — whatever other roles they hold, with what the rows show."""
    if not user.is_authenticated:
        return Attendance.objects.none()
    return Attendance.objects.filter(member__user=user).select_related(
        "activity", "activity__organization", "activity__site", "activity__education_base"
    )


def my_activities_upcoming(*, user: Viewer, today: date | None = None) -> QuerySet[Attendance]:
    """我的活动, still to come: the user's own attendance at activities that end today or later
    (one under way counts), soonest first."""
    start = _day_start(today or timezone.localdate())
    return _own_attendance(user).filter(activity__end__gte=start).order_by("activity__start", "id")


def my_activities_past(*, user: Viewer, today: date | None = None) -> QuerySet[Attendance]:
    """我的活动, already held: the user's own attendance at activities that ended before today,
    newest first."""
    start = _day_start(today or timezone.localdate())
    return _own_attendance(user).filter(activity__end__lt=start).order_by("-activity__start", "-id")


def my_attendance_get(*, user: Viewer, pk: Any) -> Attendance:
    """One of the user's own attendance rows; another member's row is 404."""
    row: Attendance = _get(_own_attendance(user), pk, "出勤记录不存在")
    return row


def my_attendance_hours(*, user: Viewer, attendance_ids: list[int]) -> dict[int, Decimal]:
    """The hours the learning ledger credits for each of the user's own attendance rows (the
    learning app answers through the hook ``study.attendance_hours``; a row without an answer
    credits nothing)."""
    hours: dict[int, Decimal] = {}
    if not attendance_ids or not user.is_authenticated:
        return hours
    for answer in hooks.call(ATTENDANCE_HOURS_HOOK, user=user, attendance_ids=attendance_ids):
        hours.update(answer)
    return hours


# --- activity statistics -------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """One line of a statistics table: a choice (its filter value and label) and how many."""

    value: str
    label: str
    count: int


@dataclass(frozen=True)
class ActivityStats:
    """Activities held in an organisation's subtree in a year, by teaching format and by type."""

    total: int
    by_format: list[CountRow]
    by_type: list[CountRow]

    @property
    def recorded(self) -> int:
        """Activities whose teaching format was recorded."""
        return self.total - next((r.count for r in self.by_format if r.value == FORMAT_BLANK), 0)


def activity_stats(
    *, user: Viewer, organization: Organization, year: int, filters: dict[str, Any] | None = None
) -> ActivityStats:
    """How many activities ``organization``'s subtree held in ``year`` (within the user's study
    view scope), by teaching format (every format, 未填 last) and by type (those held). Filters:
    ``activity_type``, ``teaching_format`` (``FORMAT_BLANK``: not recorded). One grouped query."""
    filters = filters or {}
    tz = timezone.get_current_timezone()
    qs = Activity.objects.restrict(user, "view").filter(
        organization.subtree_q("organization__path"),
        start__gte=datetime(year, 1, 1, tzinfo=tz),
        start__lt=datetime(year + 1, 1, 1, tzinfo=tz),
    )
    if filters.get("activity_type"):
        qs = qs.filter(activity_type=filters["activity_type"])
    if filters.get("teaching_format"):
        qs = qs.filter(teaching_format=stored_format(filters["teaching_format"]))
    formats: dict[str, int] = {}
    types: dict[str, int] = {}
    for row in qs.order_by().values("activity_type", "teaching_format").annotate(n=Count("id")):
        fmt = row["teaching_format"] or FORMAT_BLANK
        formats[fmt] = formats.get(fmt, 0) + row["n"]
        types[row["activity_type"]] = types.get(row["activity_type"], 0) + row["n"]
    by_format = [
        CountRow(value, str(label), formats.get(value, 0))
        for value, label in [*TeachingFormat.choices, (FORMAT_BLANK, _("未填"))]
    ]
    by_type = [
        CountRow(value, str(label), types[value]) for value, label in ActivityType.choices if value in types
    ]
    return ActivityStats(total=sum(types.values()), by_format=by_format, by_type=by_type)


# --- study plans ---------------------------------------------------------------------------------


def study_plan_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[StudyPlan]:
    """Plans issued by organisations in the user's scope or by those above it (a branch sees the
    plans its district and city issued)."""
    filters = filters or {}
    scope = scope_for(user, "view", APP)
    if not scope.paths:
        return StudyPlan.objects.none()
    qs = StudyPlan.objects.filter(_from_above_q("organization__path", scope)).select_related("organization")
    if filters.get("year"):
        qs = qs.filter(year=int(filters["year"]))
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    return qs.order_by("-year", "-id")


def study_plan_get(*, user: Viewer, pk: Any, action: str = "view") -> StudyPlan:
    """A plan the user may see (issued in their scope or above it); for any other action, one
    issued by an organisation in their scope for that action. Anything else is 404."""
    qs = (
        study_plan_list(user=user)
        if action == "view"
        else StudyPlan.objects.restrict(user, action).select_related("organization")
    )
    plan: StudyPlan = _get(qs, pk, "学习计划不存在")
    return plan


def required_topic_choices(*, user: Viewer, organization: Organization) -> QuerySet[RequiredTopic]:
    """Required topics an activity of ``organization`` may cover: those of plans issued by the
    organisation or one above it."""
    return (
        RequiredTopic.objects.filter(plan__organization__path__in=ancestor_paths(organization.path))
        .select_related("plan")
        .order_by("-plan__year", "plan_id", "sort_order", "id")
    )


def required_topic_usage(*, user: Viewer, plan: StudyPlan) -> dict[int, int]:
    """The number of activities the user sees covering each of the plan's topics (topics not
    covered are absent); one grouped query. Whoever may change a plan sees every activity that
    can cover it (they are held within the plan's subtree)."""
    return dict(
        Activity.objects.restrict(user, "view")
        .filter(required_topic__plan=plan)
        .values("required_topic_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("required_topic_id", "n")
    )


@dataclass
class TopicCoverage:
    topic: RequiredTopic
    covered: list[Organization]
    missing: list[Organization]

    @property
    def rate(self) -> float:
        total = len(self.covered) + len(self.missing)
        return len(self.covered) / total if total else 0.0


@dataclass
class PlanCoverage:
    plan: StudyPlan
    branches: list[Organization]
    topics: list[TopicCoverage]


def _branch_of(path: str, branches: dict[str, Organization]) -> Organization | None:
    """The branch whose subtree holds ``path`` (a branch or one of its groups)."""
    for prefix in reversed(ancestor_paths(path)):
        if prefix in branches:
            return branches[prefix]
    return None


def plan_coverage(plan: StudyPlan, user: Viewer) -> PlanCoverage:
    """For each required topic of the plan, which branches in the plan's subtree (and the user's
    scope) have held at least one activity covering it — held by the branch or one of its groups.
    Three queries whatever the number of branches."""
    roots = _within(plan.organization, scope_for(user, "view", APP))
    branches = list(
        Organization.objects.filter(subtree_q("path", roots), level=OrgLevel.BRANCH, is_active=True).order_by(
            "path"
        )
    )
    by_path = {b.path: b for b in branches}
    topics = list(plan.topics.all())
    covered: dict[int, set[int]] = {t.pk: set() for t in topics}
    pairs = (
        Activity.objects.filter(required_topic__plan=plan)
        .filter(subtree_q("organization__path", roots))
        .values_list("required_topic_id", "organization__path")
        .distinct()
    )
    for topic_id, path in pairs:
        branch = _branch_of(path, by_path)
        if branch is not None and topic_id in covered:
            covered[topic_id].add(branch.pk)
    return PlanCoverage(
        plan=plan,
        branches=branches,
        topics=[
            TopicCoverage(
                topic=t,
                covered=[b for b in branches if b.pk in covered[t.pk]],
                missing=[b for b in branches if b.pk not in covered[t.pk]],
            )
            for t in topics
        ],
    )


def _counted_branch() -> Case:
    """The branch an activity counts for (as ``_branch_of`` finds it): its organisation when
    that is a branch, the branch above when it is a party group (groups exist only under
    branches)."""
    return Case(
        When(organization__level=OrgLevel.GROUP, then=F("organization__parent_id")),
        default=F("organization_id"),
        output_field=IntegerField(),
    )


def _counts_for_branch_in_q(roots: list[str]) -> Q:
    """Activities that count for an active branch inside the given subtrees."""
    return Q(
        subtree_q("organization__path", roots),
        organization__level=OrgLevel.BRANCH,
        organization__is_active=True,
    ) | Q(
        subtree_q("organization__parent__path", roots),
        organization__level=OrgLevel.GROUP,
        organization__parent__level=OrgLevel.BRANCH,
        organization__parent__is_active=True,
    )


@dataclass(frozen=True)
class TopicCount:
    topic: RequiredTopic
    covered: int  # branches that held an activity covering the topic

    def rate(self, branches: int) -> float:
        return self.covered / branches if branches else 0.0


@dataclass
class PlanCoverageSummary:
    """``plan_coverage`` for a page: the counts of every topic over the plan's branches, and the
    branches as a query to paginate (all of them, or those that have not covered every topic)."""

    plan: StudyPlan
    branch_count: int
    topics: list[TopicCount]
    roots: list[str]
    complete_count: int = 0  # branches that covered every topic

    @property
    def incomplete_count(self) -> int:
        return self.branch_count - self.complete_count


def _plan_pairs(summary_roots: list[str], topic_ids: list[int]) -> Any:
    """The distinct (branch, topic) pairs of the activities that covered one of the topics. By
    topic ids, not a join on the plan: the planner then knows that thousands of activities come,
    reads them from the (topic, organisation) index alone and joins the organisations by hash."""
    return (
        Activity.objects.filter(required_topic_id__in=topic_ids)
        .filter(_counts_for_branch_in_q(summary_roots))
        .annotate(branch_id=_counted_branch())
        .order_by()
        .values_list("branch_id", "required_topic_id")
        .distinct()
    )


def _plan_branches_qs(roots: list[str]) -> QuerySet[Organization]:
    return Organization.objects.filter(subtree_q("path", roots), level=OrgLevel.BRANCH, is_active=True)


def plan_coverage_summary(plan: StudyPlan, user: Viewer) -> PlanCoverageSummary:
    """What ``plan_coverage`` shows, counted in SQL (a city's plan covers thousands of branches):
    the number of branches, how many covered each topic and how many covered them all. Three
    queries."""
    roots = _within(plan.organization, scope_for(user, "view", APP))
    topics = list(plan.topics.all())
    summary = PlanCoverageSummary(plan, 0, [TopicCount(t, 0) for t in topics], roots)
    if not roots:
        return summary
    summary.branch_count = _plan_branches_qs(roots).count()
    if not topics:
        return summary
    pairs_sql, params = _plan_pairs(roots, [t.pk for t in topics]).query.sql_with_params()
    sql = (
        f"WITH p (branch_id, topic_id) AS ({pairs_sql}) "
        "SELECT topic_id, COUNT(*) FROM p GROUP BY topic_id UNION ALL "
        "SELECT NULL, COUNT(*) FROM (SELECT branch_id FROM p GROUP BY branch_id HAVING COUNT(*) >= %s) c"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, len(topics)])
        counts = dict(cursor.fetchall())
    summary.complete_count = counts.pop(None, 0)
    summary.topics = [TopicCount(t, counts.get(t.pk, 0)) for t in topics]
    return summary


def _roots_in_scope(user: Viewer, roots: list[str]) -> list[str]:
    """The roots of a summary that lie in the user's study scope: all of them for the summary
    computed for the user (its roots were cut to the scope), none of another user's beyond it."""
    scope = scope_for(user, "view", APP)
    return [root for root in roots if scope.covers(root)]


def plan_branches(
    *, user: Viewer, summary: PlanCoverageSummary, incomplete_only: bool = False
) -> QuerySet[Organization]:
    """The plan's branches in tree order (only those that have not covered every topic)."""
    roots = _roots_in_scope(user, summary.roots)
    if not roots:
        return Organization.objects.none()
    qs = _plan_branches_qs(roots).order_by("path")
    if incomplete_only and summary.topics:
        complete = (
            _plan_pairs(roots, [t.topic.pk for t in summary.topics])
            .values("branch_id")
            .annotate(n=Count("required_topic_id", distinct=True))
            .filter(n__gte=len(summary.topics))
            .values("branch_id")
        )
        qs = qs.exclude(pk__in=complete)
    return qs


def plan_branch_marks(
    *, user: Viewer, summary: PlanCoverageSummary, branches: list[Organization]
) -> dict[int, list[bool]]:
    """For each of the given branches (a page) in the user's study scope, whether it covered each
    topic. One query, on the activities of those branches and their groups only."""
    roots = _roots_in_scope(user, summary.roots)
    scope = scope_for(user, "view", APP)
    marks: dict[int, set[int]] = {b.pk: set() for b in branches if scope.covers(b.path)}
    if marks and summary.topics:
        own = Organization.objects.filter(
            Q(pk__in=list(marks)) | Q(parent_id__in=list(marks), level=OrgLevel.GROUP)
        )
        pairs = _plan_pairs(roots, [t.topic.pk for t in summary.topics]).filter(
            organization_id__in=own.values("pk")
        )
        for branch_id, topic_id in pairs:
            marks[branch_id].add(topic_id)
    return {pk: [t.topic.pk in done for t in summary.topics] for pk, done in marks.items()}


# --- training classes ----------------------------------------------------------------------------


def training_class_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[TrainingClass]:
    filters = filters or {}
    qs = TrainingClass.objects.restrict(user, "view").select_related("organization", "site")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("year"):
        qs = qs.filter(start_date__year=int(filters["year"]))
    if filters.get("q") and str(filters["q"]).strip():
        qs = qs.filter(name__contains=str(filters["q"]).strip())
    return qs.annotate(enrolled=_count_of(ClassEnrollment, "training_class")).order_by("-start_date", "id")


def _count_of(model: Any, field_name: str) -> Any:
    """How many rows of ``model`` point at each row by ``field_name``, as a correlated subquery:
    unlike a joined ``Count`` it is left out when a page counts its list, so counting a list of
    places does not join every activity of the city."""
    rows = (
        model.objects.filter(**{field_name: OuterRef("pk")})
        .order_by()
        .values(field_name)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def training_class_get(*, user: Viewer, pk: Any, action: str = "view") -> TrainingClass:
    qs = TrainingClass.objects.restrict(user, action).select_related("organization", "site")
    tc: TrainingClass = _get(qs, pk, "培训班不存在")
    return tc


def training_class_sessions(*, user: Viewer, training_class: TrainingClass) -> QuerySet[Activity]:
    return (
        Activity.objects.restrict(user, "view")
        .filter(training_class=training_class)
        .select_related("organization", "site")
        .order_by("start", "id")
    )


def _enrollments(qs: QuerySet[ClassEnrollment]) -> QuerySet[ClassEnrollment]:
    return qs.select_related("member", "member__organization").order_by(
        "member__org_path", "member__name", "member_id"
    )


def training_class_enrollments(*, user: Viewer, training_class: TrainingClass) -> QuerySet[ClassEnrollment]:
    return _enrollments(ClassEnrollment.objects.restrict(user, "view").filter(training_class=training_class))


# Attendance that counts as attending a session: 出席, 迟到, or 补学 once confirmed.
CREDITED_Q = Q(status__in=ATTENDED_STATUSES) | Q(
    status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False
)


@dataclass(frozen=True)
class CompletionRow:
    member: Member
    attended: int
    held: int
    completed: bool
    # Whether the member passed the class's exams required for completion (结业考试); None when
    # the class has none.
    exam_passed: bool | None = None

    @property
    def ratio(self) -> float:
        return self.attended / self.held if self.held else 0.0


def class_completion(
    *, user: Viewer, training_class: TrainingClass, at: datetime | None = None
) -> list[CompletionRow]:
    """Per enrollee: sessions attended (出席, 迟到, confirmed 补学) out of the sessions held so far,
    and whether that meets the class's completion ratio and, when the class has an exam required
    for completion (结业考试), whether the member passed it. Two queries: the sessions held, and the
    enrollees with their attended count as a grouped subquery; and the required exams' passes
    (``study.class_completion_exams``, one query when the class has none). A class the user may
    not see has no rows."""
    at = at or timezone.now()
    visible = TrainingClass.objects.restrict(user, "view").filter(pk=training_class.pk)
    held = Activity.objects.filter(training_class__in=visible, start__lte=at).count()
    attended = (
        Attendance.objects.filter(
            CREDITED_Q,
            member_id=OuterRef("member_id"),
            activity__training_class=training_class,
            activity__start__lte=at,
        )
        .order_by()
        .values("member_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    enrollments = _enrollments(ClassEnrollment.objects.filter(training_class__in=visible)).annotate(
        attended=Coalesce(Subquery(attended, output_field=IntegerField()), Value(0))
    )
    ratio = Decimal(training_class.completion_ratio)
    rows = list(enrollments)
    required = False
    passed: set[tuple[int, int]] = set()
    if rows:
        for classes, pairs in hooks.call(
            "study.class_completion_exams",
            class_ids=[training_class.pk],
            member_ids=sorted(e.member_id for e in rows),
        ):
            required = required or training_class.pk in classes
            passed |= pairs
    result = []
    for e in rows:
        exam_passed = (training_class.pk, e.member_id) in passed if required else None
        result.append(
            CompletionRow(
                member=e.member,
                attended=e.attended,
                held=held,
                completed=bool(held) and Decimal(e.attended) >= ratio * held and exam_passed is not False,
                exam_passed=exam_passed,
            )
        )
    return result


# --- teaching sites and education bases ----------------------------------------------------------


def teaching_site_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[TeachingSite]:
    filters = filters or {}
    qs = TeachingSite.objects.restrict(user, "view").select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("is_active") in (True, False):
        qs = qs.filter(is_active=filters["is_active"])
    if filters.get("q") and str(filters["q"]).strip():
        qs = qs.filter(name__contains=str(filters["q"]).strip())
    return qs.order_by("organization__path", "name", "id")


def teaching_site_get(*, user: Viewer, pk: Any, action: str = "view") -> TeachingSite:
    site: TeachingSite = _get(
        TeachingSite.objects.restrict(user, action).select_related("organization"), pk, "教学点不存在"
    )
    return site


def teaching_site_choices(
    *, user: Viewer, organization: Organization | None = None
) -> QuerySet[TeachingSite]:
    """Active sites an activity may be held at: those in the user's scope and those run by an
    organisation above it (or above ``organization``)."""
    condition = _from_above_q("organization__path", scope_for(user, "view", APP))
    if organization is not None:
        condition |= Q(organization__path__in=ancestor_paths(organization.path))
    return (
        TeachingSite.objects.filter(condition, is_active=True)
        .select_related("organization")
        .order_by("organization__path", "name")
    )


class BaseVisits(TypedDict):
    """What ``education_base_list`` puts on each base: the activities held there."""

    visit_count: int


def education_base_list(
    *, user: Viewer, filters: dict[str, Any] | None = None
) -> QuerySet[WithAnnotations[EducationBase, BaseVisits]]:
    """Education bases in the user's scope, with the number of visits (activities held there)."""
    filters = filters or {}
    qs = EducationBase.objects.restrict(user, "view").select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("is_active") in (True, False):
        qs = qs.filter(is_active=filters["is_active"])
    if filters.get("q") and str(filters["q"]).strip():
        qs = qs.filter(name__contains=str(filters["q"]).strip())
    return qs.annotate(visit_count=_count_of(Activity, "education_base")).order_by(
        "organization__path", "name", "id"
    )


def education_base_get(*, user: Viewer, pk: Any, action: str = "view") -> EducationBase:
    base: EducationBase = _get(
        EducationBase.objects.restrict(user, action).select_related("organization"), pk, "教育基地不存在"
    )
    return base


def education_base_choices(
    *, user: Viewer, organization: Organization | None = None
) -> QuerySet[EducationBase]:
    condition = _from_above_q("organization__path", scope_for(user, "view", APP))
    if organization is not None:
        condition |= Q(organization__path__in=ancestor_paths(organization.path))
    return (
        EducationBase.objects.filter(condition, is_active=True)
        .select_related("organization")
        .order_by("organization__path", "name")
    )


def education_base_visits(*, user: Viewer, base: EducationBase) -> QuerySet[Activity]:
    """Visits to a base (活动 held there) that the user may see."""
    return activity_list(user=user, filters={"education_base": base})


# --- printed study materials ---------------------------------------------------------------------


def material_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[StudyMaterial]:
    """Materials handed out by organisations in the user's scope or above it."""
    filters = filters or {}
    scope = scope_for(user, "view", APP)
    if not scope.paths:
        return StudyMaterial.objects.none()
    qs = StudyMaterial.objects.filter(_from_above_q("organization__path", scope)).select_related(
        "organization"
    )
    if filters.get("year"):
        qs = qs.filter(year=int(filters["year"]))
    return qs.order_by("-year", "title", "id")


def material_get(*, user: Viewer, pk: Any, action: str = "view") -> StudyMaterial:
    """A material the user may see (handed out in their scope or above it); for any other
    action, one handed out by an organisation in their scope for that action."""
    qs = (
        material_list(user=user)
        if action == "view"
        else StudyMaterial.objects.restrict(user, action).select_related("organization")
    )
    material: StudyMaterial = _get(qs, pk, "学习材料不存在")
    return material


@dataclass(frozen=True)
class CoverageRow:
    organization: Organization
    members: int
    distributed: int
    # True for the row of members registered directly at the organisation (本级), not below it.
    own_level: bool = False

    @property
    def rate(self) -> float:
        return self.distributed / self.members if self.members else 0.0


@dataclass
class MaterialCoverage:
    total: CoverageRow
    rows: list[CoverageRow] = field(default_factory=list)


def material_coverage(
    *, user: Viewer, material: StudyMaterial, organization: Organization
) -> MaterialCoverage | None:
    """Copies handed out against active members for ``organization``'s subtree, with one row per
    direct child (and one for members registered at the organisation itself). Two grouped
    queries, grouping members by the path prefix of the child they fall under. None when the
    organisation is outside the user's scope."""
    if not scope_for(user, "view", APP).covers(organization.path):
        return None
    width = len(organization.path) + SEGMENT_WIDTH
    members = dict(
        Member.objects.filter(organization.subtree_q("org_path"), is_active=True)
        .annotate(prefix=Substr("org_path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("prefix", "n")
    )
    handed = dict(
        MaterialDistribution.objects.filter(
            organization.subtree_q("member__org_path"), material=material, member__is_active=True
        )
        .annotate(prefix=Substr("member__org_path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("prefix", "n")
    )
    children = {
        c.path: c for c in Organization.objects.filter(parent=organization).order_by("sort_order", "path")
    }
    rows = []
    if members.get(organization.path) or handed.get(organization.path):
        rows.append(
            CoverageRow(
                organization,
                members.get(organization.path, 0),
                handed.get(organization.path, 0),
                own_level=True,
            )
        )
    for path, child in children.items():
        if child.is_active or members.get(path) or handed.get(path):
            rows.append(CoverageRow(child, members.get(path, 0), handed.get(path, 0)))
    total = CoverageRow(organization, sum(members.values()), sum(handed.values()))
    return MaterialCoverage(total=total, rows=rows)


# --- cadence of organisational life --------------------------------------------------------------


def _type_label(kind: str | None, activity_type: str) -> str:
    """The name of a requirement's activity type: a 党委's 党课 is the one its secretary gives
    (党委（党组）书记讲党课), counted from the 党课 the 党委 itself holds."""
    if kind == CadenceLevel.COMMITTEE and activity_type == ActivityType.PARTY_LECTURE:
        return "党委（党组）书记讲党课"
    return str(ActivityType(activity_type).label) if activity_type in ActivityType.values else activity_type


def period_name(period: str) -> str:
    """How often a period comes round: 每周, 每月, 每季度, 每半年, 每年."""
    return str(CadencePeriod(period).label) if period in CadencePeriod.values else period


def period_label(period: str, number: int) -> str:
    """The name of the ``number``-th period (1-based) of a year: 第N周 (ISO week, GB/T 7408), N月,
    第N季度, 上半年 / 下半年, 全年."""
    if period == CadencePeriod.WEEK:
        return f"第{number}周"
    if period == CadencePeriod.MONTH:
        return f"{number}月"
    if period == CadencePeriod.QUARTER:
        return f"第{number}季度"
    if period == CadencePeriod.HALF_YEAR:
        return "上半年" if number == 1 else "下半年"
    return "全年"


@dataclass(frozen=True)
class CadenceRequirement:
    """What each organisation of ``kind`` must do: hold ``activity_type`` at least ``min_count``
    times in every ``period``."""

    kind: str
    activity_type: str
    period: str
    min_count: int

    @property
    def label(self) -> str:
        return _type_label(self.kind, self.activity_type)

    @property
    def kind_label(self) -> str:
        return str(CadenceLevel(self.kind).label)

    @property
    def period_name(self) -> str:
        return period_name(self.period)


# DOMAIN_RULES "Cadence of organisational life", by the kind of organisation: what each must hold
# unless a CadenceRule at it or above says otherwise.
DEFAULT_CADENCE: dict[tuple[str, str], CadenceRequirement] = {
    (r.kind, r.activity_type): r
    for r in (
        # 条例 第十六条
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.THEME_DAY, CadencePeriod.MONTH, 1),
        # 支部条例 第十一条
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.BRANCH_ASSEMBLY, CadencePeriod.QUARTER, 1),
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.PARTY_LECTURE, CadencePeriod.QUARTER, 1),
        # 支部条例 第十二条: branches with a committee only (COMMITTEE_ONLY_TYPES)
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.BRANCH_COMMITTEE, CadencePeriod.MONTH, 1),
        # 条例 第十七、十八条
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.ORG_LIFE_MEETING, CadencePeriod.YEAR, 1),
        CadenceRequirement(CadenceLevel.BRANCH, ActivityType.DEMOCRATIC_EVALUATION, CadencePeriod.YEAR, 1),
        # 支部条例: every party group on its own
        CadenceRequirement(CadenceLevel.GROUP, ActivityType.GROUP_MEETING, CadencePeriod.MONTH, 1),
        # local (seed 001) and 支部条例: the 党委's 中心组学习 and its secretary's 党课
        CadenceRequirement(
            CadenceLevel.COMMITTEE, ActivityType.CENTRAL_GROUP_STUDY, CadencePeriod.QUARTER, 2
        ),
        CadenceRequirement(CadenceLevel.COMMITTEE, ActivityType.PARTY_LECTURE, CadencePeriod.YEAR, 1),
    )
}

# The organisations each kind of rule applies to, and the order of the kinds down the tree.
CADENCE_ORG_LEVELS: dict[str, tuple[str, ...]] = {
    CadenceLevel.COMMITTEE: (OrgLevel.COMMITTEE, OrgLevel.LEADING_GROUP, OrgLevel.WORKING_COMMITTEE),
    CadenceLevel.BRANCH: (OrgLevel.BRANCH,),
    CadenceLevel.GROUP: (OrgLevel.GROUP,),
}
CADENCE_KINDS: tuple[str, ...] = tuple(CADENCE_ORG_LEVELS)
_KIND_OF_LEVEL = {level: kind for kind, levels in CADENCE_ORG_LEVELS.items() for level in levels}

# Required of a branch only when it has a committee (支部委员会, 支部条例 第十二条). A branch has one
# when a full member on its roll (of the branch or one of its groups) holds the 支部委员 category:
# the roster is what the system knows of the committee.
COMMITTEE_ONLY_TYPES: frozenset[str] = frozenset({ActivityType.BRANCH_COMMITTEE})

MONTHS_PER_PERIOD = {
    CadencePeriod.MONTH: 1,
    CadencePeriod.QUARTER: 3,
    CadencePeriod.HALF_YEAR: 6,
    CadencePeriod.YEAR: 12,
}

# How a period stands: enough held; ended without enough (未达标, red); under way and not yet
# enough (进行中, never red); not begun.
PERIOD_MET, PERIOD_MISSING, PERIOD_IN_PROGRESS, PERIOD_UPCOMING = "met", "missing", "in_progress", "upcoming"
PERIOD_STATUS_LABELS = {
    PERIOD_MET: "达标",
    PERIOD_MISSING: "未达标",
    PERIOD_IN_PROGRESS: "进行中",
    PERIOD_UPCOMING: "未开始",
}


# A cell names at most this many missing periods, then says how many there are.
MISSING_SHOWN = 5
PERIOD_UNITS: dict[str, str] = {
    CadencePeriod.WEEK: "周",
    CadencePeriod.MONTH: "个月",
    CadencePeriod.QUARTER: "个季度",
    CadencePeriod.HALF_YEAR: "个半年",
    CadencePeriod.YEAR: "年",
}


def _spans(period: str, year: int) -> list[tuple[date, date]]:
    """The (first, last) day of each period of ``year``: the ISO weeks of the ISO year, or the
    months, quarters, halves or the whole of the calendar year."""
    if period == CadencePeriod.WEEK:
        weeks = date(year, 12, 28).isocalendar()[1]
        return [
            (date.fromisocalendar(year, n, 1), date.fromisocalendar(year, n, 7)) for n in range(1, weeks + 1)
        ]
    size = MONTHS_PER_PERIOD[CadencePeriod(period)]
    spans = []
    for first in range(1, 13, size):
        last = first + size - 1
        spans.append((date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])))
    return spans


def _period_state(period: str, year: int, as_of: date) -> tuple[int, int, bool]:
    """(periods ended before ``as_of``, periods in the year, whether the next one is under way)."""
    spans = _spans(period, year)
    ended = sum(1 for _first, last in spans if last < as_of)
    return ended, len(spans), ended < len(spans) and spans[ended][0] <= as_of


@dataclass(frozen=True)
class PeriodMark:
    number: int
    label: str
    count: int
    status: str

    @property
    def met(self) -> bool:
        return self.status == PERIOD_MET

    @property
    def status_label(self) -> str:
        return PERIOD_STATUS_LABELS[self.status]


@dataclass
class CadenceItem:
    """One requirement of one organisation over a year: the activities held in each period, the
    ended periods without enough (``missing``, 1-based) and whether the period under way has not
    yet had enough (``pending``: 进行中, not missing)."""

    kind: str
    activity_type: str
    period: str
    min_count: int
    counts: list[int]
    missing: list[int]
    pending: bool
    ended: int  # periods ended by the report's day

    @property
    def label(self) -> str:
        return _type_label(self.kind, self.activity_type)

    @property
    def period_name(self) -> str:
        return period_name(self.period)

    @property
    def missing_labels(self) -> list[str]:
        return [period_label(self.period, n) for n in self.missing]

    @property
    def missing_text(self) -> str:
        """The missing periods for a table cell: all of them, or the first five and how many."""
        labels = self.missing_labels
        if len(labels) <= MISSING_SHOWN + 1:
            return "、".join(labels)
        return f"{'、'.join(labels[:MISSING_SHOWN])}等{len(labels)}{PERIOD_UNITS[self.period]}"

    @property
    def periods(self) -> list[PeriodMark]:
        marks = []
        for number, count in enumerate(self.counts, start=1):
            if count >= self.min_count:
                status = PERIOD_MET
            elif number <= self.ended:
                status = PERIOD_MISSING
            elif number == self.ended + 1 and self.pending:
                status = PERIOD_IN_PROGRESS
            else:
                status = PERIOD_UPCOMING
            marks.append(PeriodMark(number, period_label(self.period, number), count, status))
        return marks


@dataclass
class OrgCadence:
    """The cadence of one organisation: an item per requirement that applies to it (none for an
    organisation of no kind a rule names, such as a 党总支), and the requirements a rule names but
    that do not bind it (``exempt``: a branch without a committee holds no 支委会), with a note
    saying why."""

    organization: Organization
    kind: str | None
    items: list[CadenceItem]
    notes: list[str] = field(default_factory=list)
    exempt: list[str] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return not any(item.missing for item in self.items)

    @property
    def kind_label(self) -> str:
        return str(CadenceLevel(self.kind).label) if self.kind else ""

    def item(self, activity_type: str) -> CadenceItem | None:
        return next((i for i in self.items if i.activity_type == activity_type), None)

    def missing(self, activity_type: str) -> list[int]:
        item = self.item(activity_type)
        return item.missing if item else []

    @property
    def theme_day_missing_months(self) -> list[int]:
        return self.missing(ActivityType.THEME_DAY)

    @property
    def assembly_missing_quarters(self) -> list[int]:
        return self.missing(ActivityType.BRANCH_ASSEMBLY)

    @property
    def lecture_missing_quarters(self) -> list[int]:
        return self.missing(ActivityType.PARTY_LECTURE)


def _kind_of(org: Organization) -> str | None:
    return _KIND_OF_LEVEL.get(org.level)


def cadence_rule_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[CadenceRule]:
    """Cadence rules set for organisations in the user's scope, in the order of the tree.
    Filters: ``organization`` (an Organization: its whole subtree)."""
    filters = filters or {}
    qs = CadenceRule.objects.restrict(user, "view").select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    return qs.order_by("organization__path", "applies_to", "activity_type", "id")


def cadence_rules_above(*, user: Viewer) -> QuerySet[CadenceRule]:
    """Rules set above the user's scope that apply to it (a city's rule over its districts):
    shown for reference, changed only by those above."""
    paths = scope_for(user, "view", APP).paths
    above = sorted({a for p in paths for a in ancestor_paths(p)[:-1]} - set(paths))
    return (
        CadenceRule.objects.filter(organization__path__in=above)
        .select_related("organization")
        .order_by("organization__path", "applies_to", "activity_type", "id")
    )


def cadence_rule_get(*, user: Viewer, pk: Any, action: str = "view") -> CadenceRule:
    qs = CadenceRule.objects.restrict(user, action).select_related("organization")
    rule: CadenceRule = _get(qs, pk, "频次规定不存在")
    return rule


# (organisation path, kind, activity type) → (period, min_count) of the rules set there.
CadenceRules = dict[tuple[str, str, str], tuple[str, int]]


def _load_rules(condition: Q) -> CadenceRules:
    return {
        (path, kind, activity_type): (period, min_count)
        for path, kind, activity_type, period, min_count in CadenceRule.objects.filter(condition).values_list(
            "organization__path", "applies_to", "activity_type", "period", "min_count"
        )
    }


def _types_by_kind(rules: CadenceRules) -> dict[str, list[str]]:
    """Per kind, the activity types to consider: the defaults' and every type a rule names."""
    types: dict[str, list[str]] = {kind: [] for kind in CADENCE_KINDS}
    for kind, activity_type in [*DEFAULT_CADENCE, *((k, t) for _path, k, t in rules)]:
        if kind in types and activity_type not in types[kind]:
            types[kind].append(activity_type)
    return types


def _rule_of(path: str, kind: str, activity_type: str, rules: CadenceRules) -> tuple[str, int]:
    """(period, min_count) for an organisation: the nearest rule up the tree, else the default
    (``("", 0)``: nothing required)."""
    for prefix in reversed(ancestor_paths(path)):
        if (prefix, kind, activity_type) in rules:
            return rules[(prefix, kind, activity_type)]
    default = DEFAULT_CADENCE.get((kind, activity_type))
    return (default.period, default.min_count) if default else ("", 0)


def _weekly_types(rules: CadenceRules, kind: str | None = None) -> list[str]:
    return sorted(
        {
            t
            for (_p, k, t), (period, n) in rules.items()
            if period == CadencePeriod.WEEK and n and kind in (None, k)
        }
    )


def _cadence_counted() -> Case:
    """The organisation an activity counts for, as ``services.counts.counted_organization_id``
    keeps ``ActivityMonthCount``: a party group's 党小组会 for the group, its other activities
    for its branch, every other organisation's for itself."""
    return Case(
        When(
            Q(organization__level=OrgLevel.GROUP, organization__parent__isnull=False)
            & ~Q(activity_type__in=sorted(GROUP_OWN_TYPES)),
            then=F("organization__parent_id"),
        ),
        default=F("organization_id"),
        output_field=IntegerField(),
    )


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def _week_counts_qs(activities: Q, types: list[str], year: int, weeks: int | None = None) -> QuerySet[Any]:
    """(counted organisation, type, ISO week, activities) of ``year``'s ISO weeks (the first
    ``weeks`` only, if given), weeks in local time."""
    spans = _spans(CadencePeriod.WEEK, year)
    last = spans[(weeks or len(spans)) - 1][1]
    return (
        Activity.objects.filter(activities, activity_type__in=types)
        .filter(start__gte=_local_midnight(spans[0][0]), start__lt=_local_midnight(last + timedelta(days=1)))
        .annotate(counted=_cadence_counted(), week=ExtractWeek("start"))
        .values("counted", "activity_type", "week")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("counted", "activity_type", "week", "n")
    )


def _committee_branches_qs(members: Q) -> QuerySet[Any]:
    """The ids of the branches (among the members ``members`` selects) with a committee: a full
    member on the roll of the branch or one of its groups holds the 支部委员 category."""
    return (
        Member.objects.filter(members, is_active=True, status=MemberStatus.FULL)
        .filter(has_category_q(MemberCategory.COMMITTEE))
        .annotate(
            branch_id=Case(
                When(organization__level=OrgLevel.GROUP, then=F("organization__parent_id")),
                default=F("organization_id"),
                output_field=IntegerField(),
            )
        )
        .order_by()
        .values("branch_id")
        .distinct()
    )


@dataclass
class _Held:
    """What a set of rows is built from: monthly counts by (organisation, type), weekly counts
    by (organisation, type) → {week: n}, and the branches that have a committee."""

    months: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    weeks: dict[tuple[int, str], dict[int, int]] = field(default_factory=dict)
    committees: set[int] = field(default_factory=set)


def _load_held(
    *,
    year: int,
    types: dict[str, list[str]],
    rules: CadenceRules,
    counts_of: Q,
    activities: Q,
    members: Q | None,
    weekly_ids: list[int] | None = None,
) -> _Held:
    """One query for the monthly counts (rows ``counts_of`` selects), one for the branches'
    committees (``members``: None when no branch is reported), one for weekly counts (the
    activities ``activities`` selects) when a weekly rule exists."""
    held = _Held()
    all_types = sorted({t for kind_types in types.values() for t in kind_types})
    rows = (
        ActivityMonthCount.objects.filter(counts_of, year=year, activity_type__in=all_types)
        .values_list("organization_id", "activity_type", *MONTH_FIELDS)
        .order_by()
    )
    held.months = {(row[0], row[1]): list(row[2:]) for row in rows}
    if members is not None and any(t in COMMITTEE_ONLY_TYPES for t in types[CadenceLevel.BRANCH]):
        held.committees = set(_committee_branches_qs(members).values_list("branch_id", flat=True))
    weekly = _weekly_types(rules)
    if weekly:
        for org_id, activity_type, week, n in _week_counts_qs(activities, weekly, year):
            if weekly_ids is None or org_id in weekly_ids:
                held.weeks.setdefault((org_id, activity_type), {})[week] = n
    return held


def _org_cadence(
    org: Organization,
    types: dict[str, list[str]],
    rules: CadenceRules,
    held: _Held,
    *,
    year: int,
    as_of: date,
) -> OrgCadence:
    kind = _kind_of(org)
    row = OrgCadence(organization=org, kind=kind, items=[])
    if kind is None:
        return row
    for activity_type in types[kind]:
        period, min_count = _rule_of(org.path, kind, activity_type, rules)
        if not period or not min_count:
            continue
        if (
            kind == CadenceLevel.BRANCH
            and activity_type in COMMITTEE_ONLY_TYPES
            and org.pk not in held.committees
        ):
            row.notes.append(
                f"未登记支部委员（未设支部委员会），不要求召开{_type_label(kind, activity_type)}"
            )
            row.exempt.append(activity_type)
            continue
        ended, total, under_way = _period_state(period, year, as_of)
        if period == CadencePeriod.WEEK:
            weeks = held.weeks.get((org.pk, activity_type), {})
            counts = [weeks.get(n, 0) for n in range(1, total + 1)]
        else:
            months = held.months.get((org.pk, activity_type), [0] * 12)
            size = MONTHS_PER_PERIOD[CadencePeriod(period)]
            counts = [sum(months[n * size : (n + 1) * size]) for n in range(total)]
        missing = [n for n in range(1, ended + 1) if counts[n - 1] < min_count]
        pending = under_way and counts[ended] < min_count
        row.items.append(CadenceItem(kind, activity_type, period, min_count, counts, missing, pending, ended))
    return row


def _targets_qs(
    roots: list[str], kinds: tuple[str, ...] | list[str] = CADENCE_KINDS
) -> QuerySet[Organization]:
    """The active organisations of the given kinds in the subtrees."""
    levels = [level for kind in kinds for level in CADENCE_ORG_LEVELS[kind]]
    return Organization.objects.filter(subtree_q("path", roots), level__in=levels, is_active=True)


def cadence_report(
    *,
    user: Viewer,
    organization: Organization,
    year: int,
    as_of: date | None = None,
    kind: str | None = None,
) -> list[OrgCadence]:
    """For every organisation in ``organization``'s subtree within the user's scope that a
    requirement applies to (党支部, 党小组, 党委/党组/党工委; only ``kind`` if given), in tree
    order: per requirement, the activities held in each period of ``year`` and the periods that
    ended without enough of them (DOMAIN_RULES defaults, ``DEFAULT_CADENCE``). CadenceRule rows
    override the defaults for a subtree; the nearest rule up the tree wins, and ``min_count=0``
    lifts a requirement. Counts come from ``ActivityMonthCount`` (a party group's 党小组会 for the
    group, its other activities for its branch); weekly rules read the activities. Four queries
    whatever the size of the subtree (organisations, rules, counts, committees), five with a
    weekly rule. The report page uses ``cadence_summary`` and ``cadence_rows`` instead, which do
    not build a row for every organisation of a city."""
    as_of = as_of or timezone.localdate()
    roots = _within(organization, scope_for(user, "view", APP))
    if not roots:
        return []
    targets = _targets_qs(roots, [kind] if kind else CADENCE_KINDS)
    orgs = list(targets.order_by("path"))
    if not orgs:
        return []
    rules = _load_rules(
        Q(organization__path__in=ancestor_paths(organization.path)) | subtree_q("organization__path", roots)
    )
    types = _types_by_kind(rules)
    has_branches = any(o.level == OrgLevel.BRANCH for o in orgs)
    held = _load_held(
        year=year,
        types=types,
        rules=rules,
        counts_of=Q(organization__in=targets),
        activities=subtree_q("organization__path", roots),
        members=subtree_q("org_path", roots) if has_branches else None,
    )
    return [_org_cadence(org, types, rules, held, year=year, as_of=as_of) for org in orgs]


@dataclass
class CadenceFigures:
    """The report's figures for one kind of organisation: how many, how many met every
    requirement, and the activity types a rule asks of at least one of them (the columns; 支委会
    even where only branches without a committee fall under the rule)."""

    kind: str
    total: int = 0
    compliant: int = 0
    shown: list[str] = field(default_factory=list)

    @property
    def noncompliant(self) -> int:
        return self.total - self.compliant

    @property
    def label(self) -> str:
        return str(CadenceLevel(self.kind).label)

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(t, _type_label(self.kind, t)) for t in self.shown]


@dataclass
class CadenceSummary:
    """The cadence report of a subtree without a row per organisation: per kind, how many
    organisations, how many met every requirement, the types that apply somewhere, and the
    organisations to page through (all, or those with a missing period) — counted in SQL from
    ``ActivityMonthCount``."""

    organization: Organization
    year: int
    as_of: date
    roots: list[str]
    rules: CadenceRules
    types: dict[str, list[str]]
    figures: dict[str, CadenceFigures] = field(default_factory=dict)
    # per kind: SQL for the ids of the organisations that missed a period, and its parameters
    missing_sql: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)

    @property
    def kinds(self) -> list[CadenceFigures]:
        """The kinds with organisations in the report, down the tree."""
        return [
            self.figures[kind] for kind in CADENCE_KINDS if kind in self.figures and self.figures[kind].total
        ]

    def organizations(self, kind: str, *, missing_only: bool = False) -> QuerySet[Organization]:
        if not self.roots or kind not in CADENCE_ORG_LEVELS:
            return Organization.objects.none()
        qs = _targets_qs(self.roots, [kind])
        if missing_only and kind in self.missing_sql:
            qs = qs.filter(pk__in=RawSQL(*self.missing_sql[kind]))
        if kind == CadenceLevel.GROUP:
            qs = qs.select_related("parent")
        return qs.order_by("path")


# The cadence figures are SQL written here rather than ORM expressions: a city's report tests
# every ended month and quarter of several types for thousands of organisations, and building and
# compiling that many ``Case`` objects cost more than the query itself.


def _missing_sql(alias: str, weekly_alias: str | None, rule: tuple[str, int], year: int, as_of: date) -> str:
    """The number of ended periods with fewer than ``min_count`` activities for one (period,
    min_count): from the count row ``alias`` (a row that is missing holds none), or for a weekly
    rule from ``weekly_alias``'s column of weeks that had enough."""
    period, min_count = rule
    if not period or not min_count:
        return "0"
    ended, _total, _under_way = _period_state(period, year, as_of)
    if period == CadencePeriod.WEEK:
        if not ended or weekly_alias is None:
            return str(ended)
        return f"({ended} - COALESCE({weekly_alias}.ok_{int(min_count)}, 0))"
    qn = connection.ops.quote_name
    size = MONTHS_PER_PERIOD[CadencePeriod(period)]
    terms = []
    for n in range(ended):
        held = " + ".join(
            f"COALESCE({alias}.{qn(f'm{month}')}, 0)" for month in range(n * size + 1, (n + 1) * size + 1)
        )
        terms.append(f"CASE WHEN {held} < {int(min_count)} THEN 1 ELSE 0 END")
    return " + ".join(terms) or "0"


def _by_rule_sql(kind: str, activity_type: str, summary: CadenceSummary, build: Any) -> tuple[str, list[Any]]:
    """``build(rule)`` (SQL) for the rule each organisation ``b`` is under: the rules set inside
    the roots (deepest first) by subtree, else the nearest one at the report's organisation or
    above, else the default."""
    above = _rule_of(summary.organization.path, kind, activity_type, summary.rules)
    own = set(ancestor_paths(summary.organization.path))
    inner = sorted(
        (p for p, k, t in summary.rules if k == kind and t == activity_type and p not in own),
        key=lambda p: (-len(p), p),
    )
    if not inner:
        return f"({build(above)})", []
    path = f"b.{connection.ops.quote_name('path')}"
    whens, params = [], []
    for rule_path in inner:
        whens.append(
            f"WHEN {path} >= %s AND {path} < %s THEN {build(summary.rules[(rule_path, kind, activity_type)])}"
        )
        params += [rule_path, rule_path + PATH_END]
    return f"(CASE {' '.join(whens)} ELSE {build(above)} END)", params


def _committee_exists_sql() -> tuple[str, list[Any]]:
    """``SELECT 1 FROM`` the members that give branch ``b`` a committee (``_committee_branches_qs``
    for one branch, correlated): full members on the roll of the branch or its groups holding
    the 支部委员 category (jsonb containment on PostgreSQL, the quoted code in the JSON text
    elsewhere, as ``members.selectors.has_category_q``)."""
    qn = connection.ops.quote_name
    path, org_path = f"b.{qn('path')}", f"m.{qn('org_path')}"
    if connection.vendor == "postgresql":
        category, value = f"m.{qn('categories')} @> %s::jsonb", f'["{MemberCategory.COMMITTEE}"]'
    else:
        category, value = f"m.{qn('categories')} LIKE %s", f'%"{MemberCategory.COMMITTEE}"%'
    sql = (
        f"SELECT 1 FROM {qn(Member._meta.db_table)} m WHERE {org_path} >= {path} AND {org_path} < {path} || %s"
        f" AND m.{qn('is_active')} AND m.{qn('status')} = %s AND {category}"
    )
    return sql, [PATH_END, MemberStatus.FULL.value, value]


def _kind_sql(summary: CadenceSummary, kind: str, columns: list[tuple[str, str]]) -> tuple[str, list[Any]]:
    """``SELECT id, kind, missing, required_0 …`` over the report's organisations ``b`` of one
    kind, each joined with its count row of every type considered for the kind (and, for weekly
    rules, its weeks that had enough): the periods it missed in all, and per (kind, type) of
    ``columns`` whether a rule asks it of anyone (支委会 of every branch: a column shown beside
    branches without a committee, whose cells say so)."""
    qn = connection.ops.quote_name
    types = summary.types[kind]
    ended_weeks = _period_state(CadencePeriod.WEEK, summary.year, summary.as_of)[0]
    joins: list[str] = []
    join_params: list[Any] = []
    gated = kind == CadenceLevel.BRANCH
    missing_parts: list[str] = []
    missing_params: list[Any] = []
    weekly = set(_weekly_types(summary.rules, kind))
    for index, activity_type in enumerate(types):
        alias = f"c{index}"
        joins.append(
            f"LEFT JOIN {qn(ActivityMonthCount._meta.db_table)} {alias} ON {alias}.{qn('organization_id')} = "
            f"b.{qn('id')} AND {alias}.{qn('year')} = %s AND {alias}.{qn('activity_type')} = %s"
        )
        join_params += [summary.year, activity_type]
        weekly_alias = None
        if activity_type in weekly and ended_weeks:
            weekly_alias = f"w{index}"
            mins = sorted(
                {
                    n
                    for (_p, k, t), (period, n) in summary.rules.items()
                    if k == kind and t == activity_type and period == CadencePeriod.WEEK and n
                }
            )
            weeks_sql, weeks_params = _week_counts_qs(
                subtree_q("organization__path", summary.roots), [activity_type], summary.year, ended_weeks
            ).query.sql_with_params()
            oks = ", ".join(f"SUM(CASE WHEN x.n >= {int(m)} THEN 1 ELSE 0 END) AS ok_{int(m)}" for m in mins)
            joins.append(
                f"LEFT JOIN (SELECT x.counted AS org_id, {oks} FROM ({weeks_sql}) x GROUP BY x.counted) "
                f"{weekly_alias} ON {weekly_alias}.org_id = b.{qn('id')}"
            )
            join_params += weeks_params
        sql, params = _by_rule_sql(
            kind,
            activity_type,
            summary,
            lambda rule, alias=alias, weekly_alias=weekly_alias: _missing_sql(
                alias, weekly_alias, rule, summary.year, summary.as_of
            ),
        )
        if gated and activity_type in COMMITTEE_ONLY_TYPES:
            # Whether the branch has a committee is asked only of a branch short of meetings
            # (an index range of its own members), never of the whole roll of a city.
            exists_sql, exists_params = _committee_exists_sql()
            sql = f"(CASE WHEN {sql} = 0 THEN 0 WHEN EXISTS ({exists_sql}) THEN {sql} ELSE 0 END)"
            params = [*params, *exists_params, *params]
        missing_parts.append(sql)
        missing_params += params
    required: list[str] = []
    required_params: list[Any] = []
    for index, (column_kind, activity_type) in enumerate(columns):
        if column_kind != kind:
            required.append(f"0 AS required_{index}")
            continue
        sql, params = _by_rule_sql(
            kind, activity_type, summary, lambda rule: "1" if rule[0] and rule[1] else "0"
        )
        required.append(f"{sql} AS required_{index}")
        required_params += params
    path = f"b.{qn('path')}"
    roots = " OR ".join(f"({path} >= %s AND {path} < %s)" for _ in summary.roots)
    root_params = [value for root in summary.roots for value in (root, root + PATH_END)]
    levels = CADENCE_ORG_LEVELS[kind]
    select = ", ".join(
        [
            f"b.{qn('id')} AS id",
            f"'{kind}' AS kind",
            f"{' + '.join(missing_parts) or '0'} AS missing",
            *required,
        ]
    )
    sql = (
        f"SELECT {select} FROM {qn(Organization._meta.db_table)} b {' '.join(joins)}"
        f" WHERE b.{qn('level')} IN ({', '.join(['%s'] * len(levels))}) AND b.{qn('is_active')} AND ({roots})"
    )
    # in the order of the placeholders: the select list, the joins, the conditions
    return sql, [*missing_params, *required_params, *join_params, *levels, *root_params]


def cadence_summary(
    *, user: Viewer, organization: Organization, year: int, as_of: date | None = None
) -> CadenceSummary:
    """What ``cadence_report`` says about a whole subtree, in two queries whatever its size (three
    on PostgreSQL, which turns JIT off for the figures first): the rules, then per kind of
    organisation the figures, the periods each organisation missed computed in SQL from its
    monthly counts (and, for weekly rules, its activities)."""
    as_of = as_of or timezone.localdate()
    roots = _within(organization, scope_for(user, "view", APP))
    rules = (
        _load_rules(
            Q(organization__path__in=ancestor_paths(organization.path))
            | subtree_q("organization__path", roots)
        )
        if roots
        else {}
    )
    types = _types_by_kind(rules)
    summary = CadenceSummary(organization, year, as_of, roots, rules, types)
    summary.figures = {kind: CadenceFigures(kind) for kind in CADENCE_KINDS}
    if not roots:
        return summary
    columns = [(kind, t) for kind in CADENCE_KINDS for t in types[kind]]
    parts, params = [], []
    for kind in CADENCE_KINDS:
        sql, sql_params = _kind_sql(summary, kind, columns)
        parts.append(sql)
        params += sql_params
        summary.missing_sql[kind] = (f"SELECT t.id FROM ({sql}) t WHERE t.missing > 0", sql_params)
    required = "".join(f", SUM(t.required_{index})" for index in range(len(columns)))
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner prices the committee check (an index probe for each branch short of
            # 支委会) as if it ran for every branch, so a city's figures look costly enough to be
            # JIT-compiled, which costs more than the query itself. One statement more.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"SELECT t.kind, COUNT(*), SUM(CASE WHEN t.missing = 0 THEN 1 ELSE 0 END){required} "
            f"FROM ({' UNION ALL '.join(parts)}) t GROUP BY t.kind",
            params,
        )
        for kind, total, compliant, *needs in cursor.fetchall():
            figures = summary.figures[kind]
            figures.total, figures.compliant = total, compliant or 0
            figures.shown = [t for (k, t), need in zip(columns, needs, strict=True) if k == kind and need]
    return summary


def cadence_rows(
    *, user: Viewer, summary: CadenceSummary, organizations: list[Organization]
) -> list[OrgCadence]:
    """The report's rows for the given organisations (a page, or the report's own organisation)
    in the user's study scope: one query for their monthly counts, one for the branches'
    committees, one for weekly counts when a weekly rule exists."""
    scope = scope_for(user, "view", APP)
    orgs = [o for o in organizations if scope.covers(o.path)]
    if not orgs:
        return []
    return _rows_for(orgs, summary.rules, summary.types, year=summary.year, as_of=summary.as_of)


def _rows_for(
    orgs: list[Organization], rules: CadenceRules, types: dict[str, list[str]], *, year: int, as_of: date
) -> list[OrgCadence]:
    ids = [o.pk for o in orgs]
    branch_ids = [o.pk for o in orgs if o.level == OrgLevel.BRANCH]

    def own_and_groups(pks: list[int]) -> QuerySet[Any]:
        # The organisations whose rows count for ``pks``: by id, so that the members' and
        # activities' organisation indexes answer (an OR across the join would scan the roll).
        return Organization.objects.filter(Q(pk__in=pks) | Q(parent_id__in=pks, level=OrgLevel.GROUP)).values(
            "pk"
        )

    held = _load_held(
        year=year,
        types=types,
        rules=rules,
        counts_of=Q(organization_id__in=ids),
        activities=Q(organization_id__in=own_and_groups(ids)),
        members=Q(organization_id__in=own_and_groups(branch_ids)) if branch_ids else None,
        weekly_ids=ids,
    )
    return [_org_cadence(org, types, rules, held, year=year, as_of=as_of) for org in orgs]


def cadence_for(
    *, user: Viewer | None, organizations: list[Organization], year: int, as_of: date | None = None
) -> list[OrgCadence]:
    """The cadence of each given organisation in the user's study scope (others are left out;
    ``user=None``: the system, whose caller decided scope — the monthly report): its own
    requirements, the rules at it or above it applied. One query for the rules, then those of
    ``cadence_rows``."""
    if user is None:
        orgs = list(organizations)
    else:
        scope = scope_for(user, "view", APP)
        orgs = [o for o in organizations if scope.covers(o.path)]
    if not orgs:
        return []
    rules = _load_rules(Q(organization__path__in=sorted({a for o in orgs for a in ancestor_paths(o.path)})))
    return _rows_for(orgs, rules, _types_by_kind(rules), year=year, as_of=as_of or timezone.localdate())


def cadence_children(*, user: Viewer, organization: Organization) -> QuerySet[Organization]:
    """The active organisations directly below ``organization`` in the user's study scope, in
    tree order (the rows of a report by child)."""
    return (
        Organization.objects.restrict(user, "view", app_label=APP)
        .filter(parent=organization, is_active=True)
        .order_by("path")
    )


# --- site search ---------------------------------------------------------------------------------


def activity_search_source(*, user: Viewer) -> SearchSource | None:
    """``core.search``: activities by topic. Whoever views study data finds the activities of
    their scope ("查看全部": the activity list's ``?q=``); a 党员 (``view`` on their own member
    record only) finds the activities they were expected at or invited to, with their own mark,
    and has no activity page to open (the search page lists them all)."""
    if scope_for(user, "view", APP).paths:
        return _activity_search_in_scope(user)
    if scope_for(user, "view", "members").own:
        return _activity_search_own(user)
    return None


def _activity_hit_detail(activity: Activity) -> str:
    return " · ".join(
        [
            f"{timezone.localtime(activity.start):%Y-%m-%d}",
            activity.get_activity_type_display(),
            activity.organization.name,
        ]
    )


# What an activity hit shows (not its minutes).
ACTIVITY_SEARCH_FIELDS = ("id", "topic", "activity_type", "start", "organization__id", "organization__name")


def _activity_search_in_scope(user: Viewer) -> SearchSource:
    def find(text: str) -> QuerySet[Activity]:
        return activity_list(user=user, filters={"q": text}).only(*ACTIVITY_SEARCH_FIELDS)

    def hit(activity: Activity) -> SearchHit:
        return SearchHit(
            title=activity.topic,
            url=reverse("study:activity_detail", args=[activity.pk]),
            detail=_activity_hit_detail(activity),
        )

    return SearchSource(
        kind="activities",
        label=_("学习活动"),
        icon="calendar-check",
        find=find,
        hit=hit,
        list_url=lambda text: f"{reverse('study:activity_list')}?{urlencode({'q': text})}",
    )


def _activity_search_own(user: Viewer) -> SearchSource:
    marks = dict(AttendanceStatus.choices)

    def find(text: str) -> QuerySet[Activity]:
        if not user.is_authenticated:
            return Activity.objects.none()
        own = Attendance.objects.filter(member__user=user)
        return (
            Activity.objects.filter(pk__in=own.values("activity_id"), topic__contains=text.strip())
            .annotate(my_status=Subquery(own.filter(activity=OuterRef("pk")).values("status")[:1]))
            .select_related("organization")
            .only(*ACTIVITY_SEARCH_FIELDS)
            .order_by("-start", "-id")
        )

    def hit(activity: Activity) -> SearchHit:
        return SearchHit(
            title=activity.topic,
            detail=_activity_hit_detail(activity),
            badge=str(marks.get(getattr(activity, "my_status", "") or "", "")),
        )

    return SearchSource(kind="activities", label=_("我的活动"), icon="calendar-check", find=find, hit=hit)


# --- default rosters and the 中心组 lists --------------------------------------------------------

# Names of a default roster shown on the activity form; the count is always exact.
ROSTER_PREVIEW_NAMES = 60
# Up to this many offered 列席 are ticked one by one on the form; more are invited all or none.
ROSTER_PICK_LIMIT = 100


@dataclass(frozen=True)
class RosterPreview:
    """The default roster of a type at an organisation as the activity form shows it: how many
    members (and the first names), the offered 列席 and whether they start ticked."""

    organization: Organization
    activity_type: str
    roster: DefaultRoster
    count: int
    names: list[str]
    invitees: list[Member]
    invitee_count: int

    @property
    def label(self) -> str:
        return f"默认名单：{self.roster.source} {self.count} 人"

    @property
    def key(self) -> str:
        """Which type and organisation the preview is of (posted back with the form)."""
        return f"{self.activity_type}:{self.organization.pk}"

    @property
    def more_names(self) -> int:
        return max(0, self.count - len(self.names))

    @property
    def invitees_one_by_one(self) -> bool:
        return self.invitee_count <= ROSTER_PICK_LIMIT


def activity_roster_preview(*, user: Viewer, organization: Organization, activity_type: str) -> RosterPreview:
    """The default roster of ``activity_type`` at ``organization`` (``rosters.default_roster``)
    among the members the user may see, for the activity form. The user must be able to record
    activities there (else Http404)."""
    if not scope_for(user, "add", APP).covers(organization.path):
        raise Http404("组织不存在")
    roster = default_roster(organization, activity_type, members=Member.objects.restrict(user, "view"))
    ordered = roster.members.order_by("org_path", "name", "pk")
    names = list(ordered.values_list("name", flat=True)[:ROSTER_PREVIEW_NAMES])
    count = len(names) if len(names) < ROSTER_PREVIEW_NAMES else roster.members.count()
    invitees: list[Member] = []
    invitee_count = 0
    if roster.invitees is not None:
        invitees = list(
            roster.invitees.select_related("organization").order_by("org_path", "name", "pk")[
                : ROSTER_PICK_LIMIT + 1
            ]
        )
        invitee_count = len(invitees) if len(invitees) <= ROSTER_PICK_LIMIT else roster.invitees.count()
        invitees = invitees[:ROSTER_PICK_LIMIT]
    return RosterPreview(organization, activity_type, roster, count, names, invitees, invitee_count)


def _central_group_organizations(user: Viewer, action: str) -> QuerySet[Organization]:
    return Organization.objects.restrict(user, action, app_label=APP).filter(level__in=CENTRAL_GROUP_LEVELS)


def central_group_organizations(
    *, user: Viewer, filters: dict[str, Any] | None = None
) -> QuerySet[Organization]:
    """The 党委, 党组 and 党工委 in the user's study scope, each with ``listed`` (how many are on
    its 中心组 list), in tree order. Filters: ``q`` (name contains)."""
    filters = filters or {}
    qs = _central_group_organizations(user, "view").filter(is_active=True)
    if filters.get("q"):
        qs = qs.filter(name__contains=str(filters["q"]).strip())
    return qs.annotate(listed=_count_of(CentralGroupMembership, "organization")).order_by("path")


def central_group_organization_get(*, user: Viewer, pk: Any, action: str = "view") -> Organization:
    """A 党委, 党组 or 党工委 in the user's study scope for ``action``; anything else is Http404."""
    org: Organization = _get(_central_group_organizations(user, action), pk, "组织不存在")
    return org


def central_group_list(*, user: Viewer, organization: Organization) -> QuerySet[CentralGroupMembership]:
    """The 中心组 list of an organisation got for the user: 组长, 副组长, 成员, 列席, by name."""
    return (
        CentralGroupMembership.objects.restrict(user, "view")
        .filter(organization=organization)
        .select_related("member", "member__organization")
        .annotate(role_order=central_group_role_order())
        .order_by("role_order", "member__name", "pk")
    )


def central_group_membership_get(
    *, user: Viewer, organization: Organization, pk: Any, action: str = "view"
) -> CentralGroupMembership:
    qs = (
        CentralGroupMembership.objects.restrict(user, action)
        .filter(organization=organization)
        .select_related("organization", "member", "member__organization")
    )
    membership: CentralGroupMembership = _get(qs, pk, "该党员不在中心组名单中")
    return membership


def activity_credit_modes(*, user: Viewer, organization: Organization | None) -> dict[str, str]:
    """How attending each activity type credits learning hours at ``organization`` (read under
    the user's scope by the caller; None: the defaults), from the learning app's table through
    the ``study.credit_modes`` hook: "full", "study_part" or "none". Empty when no app answers —
    every type then credits by time. Policy, no people's data: ``user`` is not needed to read it."""
    del user
    results = hooks.call("study.credit_modes", organization=organization)
    return dict(results[0]) if results else {}


def cadence_branch_sql(
    *, user: Viewer | None, anchor: Organization, roots: list[str], year: int, as_of: date
) -> tuple[str, list[Any]]:
    """``SELECT id, kind, missing …`` (``_kind_sql``) over the 党支部 of the subtrees at ``roots``
    (paths under ``anchor``), for a caller that aggregates it by organisation — the dashboards'
    cadence compliance, from the same rules, defaults and SQL as the cadence report. ``user``
    limits the roots to the user's study scope; ``None`` is the system, whose caller decided it."""
    if user is not None:
        scope = scope_for(user, "view", APP)
        roots = [r for r in roots if scope.covers(r)]
    rules = _load_rules(
        Q(organization__path__in=ancestor_paths(anchor.path)) | subtree_q("organization__path", roots)
    )
    summary = CadenceSummary(anchor, year, as_of, roots, rules, _types_by_kind(rules))
    return _kind_sql(summary, CadenceLevel.BRANCH, [])
