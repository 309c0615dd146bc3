"""Reads of study data. Every function starts from ``restrict(user, action)`` (or the user's
study scope, ``scope_for``), or continues a read that did (a summary, an object already got for the
user), and aggregates in SQL: counts per activity, per member, per branch and month come
from grouped queries, never from Python loops over rows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection
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
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core import pinyin
from partyedu.core.scope import PATH_END, Scope, scope_for, subtree_q
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths

from .choices import ATTENDED_STATUSES, ActivityType, AttendanceMethod, AttendanceStatus
from .models import (
    MONTH_FIELDS,
    Activity,
    ActivityMonthCount,
    Attendance,
    CadenceRule,
    ClassEnrollment,
    EducationBase,
    MaterialDistribution,
    RequiredTopic,
    StudyMaterial,
    StudyPlan,
    TeachingSite,
    TrainingClass,
)

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
    its whole subtree), ``year``, ``activity_type``, ``training_class``, ``site``,
    ``education_base``, ``required_topic`` (instances or ids), ``q`` (topic contains)."""
    filters = filters or {}
    qs = Activity.objects.restrict(user, action).select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("year"):
        qs = qs.filter(start__year=int(filters["year"]))
    if filters.get("activity_type"):
        qs = qs.filter(activity_type=filters["activity_type"])
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


def activity_quorum(*, user: Viewer, activity: Activity) -> dict[str, Any]:
    """Whether a 支部党员大会 had its quorum (支部条例 第十一条): more than half of the voting
    members expected were present (出席 or 迟到). Only full members vote: probationary members,
    candidates and invitees (列席) are not counted. An activity the user may not see counts
    nobody."""
    visible = Activity.objects.restrict(user, "view").filter(pk=activity.pk)
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

    @property
    def ratio(self) -> float:
        return self.attended / self.held if self.held else 0.0


def class_completion(
    *, user: Viewer, training_class: TrainingClass, at: datetime | None = None
) -> list[CompletionRow]:
    """Per enrollee: sessions attended (出席, 迟到, confirmed 补学) out of the sessions held so far,
    and whether that meets the class's completion ratio. Two queries: the sessions held, and the
    enrollees with their attended count as a grouped subquery. A class the user may not see has
    no rows."""
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
    return [
        CompletionRow(
            member=e.member,
            attended=e.attended,
            held=held,
            completed=bool(held) and Decimal(e.attended) >= ratio * held,
        )
        for e in enrollments
    ]


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

# DOMAIN_RULES defaults (per_months, times): 主题党日 monthly; 支部党员大会 and 党课 quarterly.
DEFAULT_CADENCE: dict[str, tuple[int, int]] = {
    ActivityType.THEME_DAY: (1, 1),
    ActivityType.BRANCH_ASSEMBLY: (3, 1),
    ActivityType.PARTY_LECTURE: (3, 1),
}


def cadence_rule_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[CadenceRule]:
    """Cadence rules set for organisations in the user's scope, in the order of the tree.
    Filters: ``organization`` (an Organization: its whole subtree)."""
    filters = filters or {}
    qs = CadenceRule.objects.restrict(user, "view").select_related("organization")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    return qs.order_by("organization__path", "activity_type", "id")


def cadence_rules_above(*, user: Viewer) -> QuerySet[CadenceRule]:
    """Rules set above the user's scope that apply to it (a city's rule over its districts):
    shown for reference, changed only by those above."""
    paths = scope_for(user, "view", APP).paths
    above = sorted({a for p in paths for a in ancestor_paths(p)[:-1]} - set(paths))
    return (
        CadenceRule.objects.filter(organization__path__in=above)
        .select_related("organization")
        .order_by("organization__path", "activity_type", "id")
    )


def cadence_rule_get(*, user: Viewer, pk: Any, action: str = "view") -> CadenceRule:
    qs = CadenceRule.objects.restrict(user, action).select_related("organization")
    rule: CadenceRule = _get(qs, pk, "频次规定不存在")
    return rule


def period_name(per_months: int) -> str:
    """How often a period comes round: 每月, 每季度, 每半年, 每年, 每N个月."""
    return {1: "每月", 3: "每季度", 6: "每半年", 12: "每年"}.get(per_months, f"每{per_months}个月")


def period_label(per_months: int, number: int) -> str:
    """The name of the ``number``-th period (1-based) of a year cut into ``per_months`` months."""
    if per_months == 1:
        return f"{number}月"
    if per_months == 3:
        return f"第{number}季度"
    if per_months == 6:
        return "上半年" if number == 1 else "下半年"
    if per_months == 12:
        return "全年"
    first = (number - 1) * per_months + 1
    return f"{first}–{min(first + per_months - 1, 12)}月"


@dataclass
class CadenceItem:
    activity_type: str
    per_months: int
    times: int
    # Activities held in each period of the year (index 0 = period 1).
    counts: list[int]
    # Periods (1-based) that have ended without enough activities.
    missing: list[int]
    # The period under way has not yet had enough (not counted as missing).
    pending: bool

    @property
    def label(self) -> str:
        return str(ActivityType(self.activity_type).label)

    @property
    def missing_labels(self) -> list[str]:
        return [period_label(self.per_months, n) for n in self.missing]


@dataclass
class BranchCadence:
    branch: Organization
    items: list[CadenceItem]

    @property
    def compliant(self) -> bool:
        return not any(item.missing for item in self.items)

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


def _period_state(year: int, per_months: int, as_of: date) -> tuple[int, int]:
    """(number of periods that have ended by ``as_of``, number of periods in the year)."""
    periods = -(-12 // per_months)
    ended = 0
    for n in range(1, periods + 1):
        last_month = min(n * per_months, 12)
        last_day = date(year, last_month, calendar.monthrange(year, last_month)[1])
        if last_day < as_of:
            ended = n
    return ended, periods


CadenceRules = dict[tuple[str, str], tuple[int, int]]


def _cadence_rules(organization: Organization, roots: list[str]) -> tuple[CadenceRules, list[str]]:
    """The rules that can apply to the branches of ``roots`` (set at ``organization`` or above
    it, or inside the roots), by (path, type), and the activity types to report: the defaults'
    and every type a rule names."""
    rules: CadenceRules = {
        (path, activity_type): (per_months, times)
        for path, activity_type, per_months, times in CadenceRule.objects.filter(
            Q(organization__path__in=ancestor_paths(organization.path))
            | subtree_q("organization__path", roots)
        ).values_list("organization__path", "activity_type", "per_months", "times")
    }
    types = list(dict.fromkeys([*DEFAULT_CADENCE, *(t for _, t in rules)]))
    return rules, types


def _rule_of(path: str, activity_type: str, rules: CadenceRules) -> tuple[int, int]:
    """(per_months, times) for a branch: the nearest rule up the tree, else the default."""
    for prefix in reversed(ancestor_paths(path)):
        if (prefix, activity_type) in rules:
            return rules[(prefix, activity_type)]
    return DEFAULT_CADENCE.get(activity_type, (0, 0))


def _branch_cadence(
    branch: Organization,
    types: list[str],
    rules: CadenceRules,
    held: dict[tuple[int, str], list[int]],
    *,
    year: int,
    as_of: date,
) -> BranchCadence:
    """One branch's row: per required type, the activities of each period and the periods that
    ended without enough of them. ``held``: (branch id, type) → the 12 monthly counts."""
    items = []
    for activity_type in types:
        per_months, times = _rule_of(branch.path, activity_type, rules)
        if not per_months or not times:
            continue
        ended, periods = _period_state(year, per_months, as_of)
        months = held.get((branch.pk, activity_type), [0] * 12)
        counts = [sum(months[(n - 1) * per_months : n * per_months]) for n in range(1, periods + 1)]
        missing = [n for n in range(1, ended + 1) if counts[n - 1] < times]
        pending = ended < periods and date(year, 1, 1) <= as_of and counts[ended] < times
        items.append(CadenceItem(activity_type, per_months, times, counts, missing, pending))
    return BranchCadence(branch=branch, items=items)


def _held(branch_ids: list[int], year: int, types: list[str]) -> dict[tuple[int, str], list[int]]:
    """The monthly activity counts of the given branches (their groups' included)."""
    rows = ActivityMonthCount.objects.filter(
        organization_id__in=branch_ids, year=year, activity_type__in=types
    ).values_list("organization_id", "activity_type", *MONTH_FIELDS)
    return {(row[0], row[1]): list(row[2:]) for row in rows}


def _report_branches(roots: list[str]) -> QuerySet[Organization]:
    return Organization.objects.filter(subtree_q("path", roots), level=OrgLevel.BRANCH, is_active=True)


def cadence_report(
    *, user: Viewer, organization: Organization, year: int, as_of: date | None = None
) -> list[BranchCadence]:
    """For every branch in ``organization``'s subtree within the user's scope: per required
    activity type, the activities held in each period of ``year`` and the periods that ended
    without enough of them (months lacking a 主题党日, quarters lacking a 支部党员大会 or a 党课 by
    default). Activities held by a branch's party groups count for the branch. CadenceRule rows
    override the defaults for a subtree; the nearest rule up the tree wins, and ``times=0`` lifts
    a requirement. The counts come from ``ActivityMonthCount`` (kept with the activities). Three
    queries whatever the number of branches: branches, rules and the branches' monthly counts.
    The report page uses ``cadence_summary`` and ``cadence_rows`` instead, which do not build a
    row for every branch of a city."""
    as_of = as_of or timezone.localdate()
    roots = _within(organization, scope_for(user, "view", APP))
    if not roots:
        return []
    branches = list(_report_branches(roots).order_by("path"))
    if not branches:
        return []
    rules, types = _cadence_rules(organization, roots)
    held: dict[tuple[int, str], list[int]] = {}
    rows = (
        ActivityMonthCount.objects.filter(
            organization__in=_report_branches(roots), year=year, activity_type__in=types
        )
        .values_list("organization_id", "activity_type", *MONTH_FIELDS)
        .order_by()
    )
    for row in rows:
        held[(row[0], row[1])] = list(row[2:])
    return [_branch_cadence(branch, types, rules, held, year=year, as_of=as_of) for branch in branches]


@dataclass
class CadenceSummary:
    """The cadence report of a subtree without a row per branch: how many branches, how many
    met every requirement, the activity types that apply somewhere, and the branches to page
    through (all, or those with a missing period) — counted in SQL from ``ActivityMonthCount``."""

    organization: Organization
    year: int
    as_of: date
    roots: list[str]
    rules: CadenceRules
    types: list[str]  # every type considered
    shown: list[str] = field(default_factory=list)  # the types required of at least one branch
    total: int = 0
    compliant: int = 0
    # SQL for the ids of the branches that missed a period, and its parameters
    missing_sql: tuple[str, list[Any]] | None = None

    @property
    def noncompliant(self) -> int:
        return self.total - self.compliant

    def branches(self, *, missing_only: bool = False) -> QuerySet[Organization]:
        if not self.roots:
            return Organization.objects.none()
        qs = _report_branches(self.roots)
        if missing_only and self.missing_sql is not None:
            qs = qs.filter(pk__in=RawSQL(*self.missing_sql))
        return qs.order_by("path")


# The cadence figures are SQL written here rather than ORM expressions: a city's report tests
# every ended month and quarter of three or more types, and building and compiling that many
# ``Case`` objects cost more than the query itself.


def _missing_sql(alias: str, rule: tuple[int, int], year: int, as_of: date) -> str:
    """The number of ended periods with fewer than ``times`` activities in the count row
    ``alias`` (a row that is missing holds none), for one (per_months, times)."""
    per_months, times = rule
    if not per_months or not times:
        return "0"
    ended, _periods = _period_state(year, per_months, as_of)
    qn = connection.ops.quote_name
    terms = []
    for n in range(1, ended + 1):
        months = range((n - 1) * per_months + 1, min(n * per_months, 12) + 1)
        held = " + ".join(f"COALESCE({alias}.{qn(f'm{month}')}, 0)" for month in months)
        terms.append(f"CASE WHEN {held} < {int(times)} THEN 1 ELSE 0 END")
    return " + ".join(terms) or "0"


def _by_branch_rule_sql(activity_type: str, summary: CadenceSummary, build: Any) -> tuple[str, list[Any]]:
    """``build(rule)`` (SQL) for the rule each branch ``b`` is under: the rules set inside the
    roots (deepest first) by subtree, else the nearest one at the organisation or above, else
    the default."""
    above = _rule_of(summary.organization.path, activity_type, summary.rules)
    own = set(ancestor_paths(summary.organization.path))
    inner = sorted(
        (path for path, t in summary.rules if t == activity_type and path not in own),
        key=lambda path: (-len(path), path),
    )
    if not inner:
        return f"({build(above)})", []
    path = f"b.{connection.ops.quote_name('path')}"
    whens, params = [], []
    for rule_path in inner:
        whens.append(
            f"WHEN {path} >= %s AND {path} < %s THEN {build(summary.rules[(rule_path, activity_type)])}"
        )
        params += [rule_path, rule_path + PATH_END]
    return f"(CASE {' '.join(whens)} ELSE {build(above)} END)", params


def _branches_sql(summary: CadenceSummary) -> tuple[str, list[Any]]:
    """``SELECT id, missing, required_0 … FROM`` the report's branches ``b``, each joined with its
    count row of every reported type: the periods it missed in all, and per type whether
    anything is required of it."""
    qn = connection.ops.quote_name
    joins, columns = [], []
    missing_parts: list[str] = []
    missing_params: list[Any] = []
    required_params: list[Any] = []
    join_params: list[Any] = []
    for index, activity_type in enumerate(summary.types):
        alias = f"c{index}"
        joins.append(
            f"LEFT JOIN {qn(ActivityMonthCount._meta.db_table)} {alias} ON {alias}.{qn('organization_id')} = "
            f"b.{qn('id')} AND {alias}.{qn('year')} = %s AND {alias}.{qn('activity_type')} = %s"
        )
        join_params += [summary.year, activity_type]
        sql, sql_params = _by_branch_rule_sql(
            activity_type,
            summary,
            lambda rule, alias=alias: _missing_sql(alias, rule, summary.year, summary.as_of),
        )
        missing_parts.append(sql)
        missing_params += sql_params
        sql, sql_params = _by_branch_rule_sql(
            activity_type, summary, lambda rule: "1" if rule[0] and rule[1] else "0"
        )
        columns.append(f"{sql} AS required_{index}")
        required_params += sql_params
    path = f"b.{qn('path')}"
    roots = " OR ".join(f"({path} >= %s AND {path} < %s)" for _ in summary.roots)
    root_params = [value for root in summary.roots for value in (root, root + PATH_END)]
    select = ", ".join([f"b.{qn('id')} AS id", f"{' + '.join(missing_parts) or '0'} AS missing", *columns])
    sql = (
        f"SELECT {select} FROM {qn(Organization._meta.db_table)} b {' '.join(joins)}"
        f" WHERE b.{qn('level')} = %s AND b.{qn('is_active')} AND ({roots})"
    )
    # in the order of the placeholders: the select list, the joins, the conditions
    return sql, [*missing_params, *required_params, *join_params, OrgLevel.BRANCH.value, *root_params]


def cadence_summary(
    *, user: Viewer, organization: Organization, year: int, as_of: date | None = None
) -> CadenceSummary:
    """What ``cadence_report`` says about a whole subtree, in two queries whatever the number of
    branches: the rules, then the figures over the branches, the periods each missed computed
    in SQL from its monthly counts (the rules of ``cadence_report``)."""
    as_of = as_of or timezone.localdate()
    roots = _within(organization, scope_for(user, "view", APP))
    rules, types = _cadence_rules(organization, roots) if roots else ({}, [])
    summary = CadenceSummary(organization, year, as_of, roots, rules, types)
    if not roots:
        return summary
    sql, params = _branches_sql(summary)
    required = ", ".join(f"SUM(t.required_{index})" for index in range(len(types)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM(CASE WHEN t.missing = 0 THEN 1 ELSE 0 END), {required} FROM ({sql}) t",
            params,
        )
        total, compliant, *needs = cursor.fetchone()
    summary.total, summary.compliant = total, compliant or 0
    summary.shown = [t for t, need in zip(types, needs, strict=True) if need]
    summary.missing_sql = (f"SELECT t.id FROM ({sql}) t WHERE t.missing > 0", params)
    return summary


def cadence_rows(
    *, user: Viewer, summary: CadenceSummary, branches: list[Organization]
) -> list[BranchCadence]:
    """The report's rows for the given branches (a page) in the user's study scope, from their
    monthly counts: one query."""
    scope = scope_for(user, "view", APP)
    branches = [b for b in branches if scope.covers(b.path)]
    held = _held([b.pk for b in branches], summary.year, summary.types) if branches else {}
    return [
        _branch_cadence(branch, summary.types, summary.rules, held, year=summary.year, as_of=summary.as_of)
        for branch in branches
    ]
