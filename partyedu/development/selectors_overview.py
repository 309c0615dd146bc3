"""Reads behind the development pages beyond those of ``selectors``: the list's extra filters and
stage summary, the next step of each listed case, the organisation department's overview per child
organisation, the alerts' counts, the inputs of the case page read from other apps (the branch's
meetings, the members who may mentor or sponsor, the candidate's points), the case's papers, the
plans and the rules in force.

Every function takes the requesting ``user`` and starts from ``restrict(user, action)``. Rules
that differ per subtree (the policy's ``applicant_wait_days`` and ``warn_days``) are turned into
one SQL ``CASE`` over the organisation path (nearest policy first), so that a count over a whole
city stays one query whatever the number of branches or policies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import PATH_END, can, policy_paths, scope_for, subtree_q
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity

from .choices import OPEN_STAGES, Stage, Step
from .models import CaseDocument, CaseStep, DevelopmentCase, DevelopmentPlan, DevelopmentPolicy
from .policy import default_policy, policies_for_paths
from .selectors import case_list
from .timing import NextStep, next_steps

APP = "development"

# The pipeline's phases as the overview counts them (a stage waiting for the level above counts
# with the phase it leaves).
PHASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("applicants", "申请人", (Stage.APPLIED, Stage.TALKED)),
    ("activists", "入党积极分子", (Stage.ACTIVIST,)),
    ("candidates", "发展对象", (Stage.CANDIDATE, Stage.ADMISSION_VOTED)),
    ("probationary", "预备党员", (Stage.PROBATIONARY, Stage.CONVERSION_VOTED)),
)
PHASE_STAGES: dict[str, tuple[str, ...]] = {key: stages for key, _label, stages in PHASES}

# Stages in which a case with no step for ``applicant_wait_days`` is stalled (the policy's text).
WAITING_STAGES: tuple[str, ...] = (Stage.APPLIED, Stage.TALKED, Stage.ACTIVIST)

# The alerts a list can be filtered by (the workbench links to them).
ALERTS: dict[str, str] = {
    "talk": "谈话将到期或已逾期",
    "assessment": "培养考察将到期或已逾期",
    "probation": "预备期将满",
    "waiting": "长时间没有进展",
    "pre_review": "待上级党委预审",
    "approval": "待上级党委审批",
    "conversion_approval": "待上级党委审批转正",
}


# --- rules that differ per subtree, as SQL --------------------------------------------------------


def _policies_over(paths: Iterable[str]) -> list[DevelopmentPolicy]:
    """The policies that may apply to cases in the subtrees of ``paths``: those set at an
    ancestor of one of them or inside one of them. One query."""
    paths = tuple(sorted(set(paths)))
    if not paths:
        return []
    prefixes = sorted({p for path in paths for p in ancestor_paths(path)})
    return list(
        DevelopmentPolicy.objects.filter(
            Q(organization__path__in=prefixes) | subtree_q("organization__path", paths)
        ).select_related("organization")
    )


def _per_policy(
    policies: list[DevelopmentPolicy],
    value: Callable[[DevelopmentPolicy], date],
    field: str = "organization__path",
) -> Any:
    """``value(policy)`` of the policy nearest above each row's organisation (``field``), as one
    SQL expression: the deepest policy's subtree is tested first; the defaults apply elsewhere."""
    default = Value(value(default_policy()), output_field=DateField())
    if not policies:
        return default
    whens = [
        When(
            Q(**{f"{field}__gte": p.organization.path, f"{field}__lt": p.organization.path + PATH_END}),
            then=Value(value(p), output_field=DateField()),
        )
        for p in sorted(policies, key=lambda p: -len(p.organization.path))
    ]
    return Case(*whens, default=default, output_field=DateField())


def _stalled_q(policies: list[DevelopmentPolicy], today: date) -> Q:
    """An open case that has waited longer than the policy allows with no step (applicants and
    activists), or whose next step is past due."""
    wait_limit = _per_policy(policies, lambda p: today - timedelta(days=p.applicant_wait_days))
    return Q(stage__in=WAITING_STAGES, last_step_on__lt=wait_limit) | Q(
        stage__in=OPEN_STAGES, next_due__lt=today
    )


def _warn_limit(policies: list[DevelopmentPolicy], today: date) -> Any:
    return _per_policy(policies, lambda p: today + timedelta(days=p.warn_days))


def _waiting_for_pre_review() -> Q:
    """A 发展对象 whose 支委会审查 is confirmed and whose 上级党委预审 is not (the candidate
    stage's steps all follow the 确定为发展对象 step, and a case never returns to the stage)."""
    steps = CaseStep.objects.filter(case=OuterRef("pk"))
    return Q(
        Exists(steps.filter(step=Step.COMMITTEE_REVIEW)),
        ~Exists(steps.filter(step=Step.PRE_REVIEW)),
        stage=Stage.CANDIDATE,
    )


def _alert_q(alert: str, policies: list[DevelopmentPolicy], today: date) -> Q | None:
    warn = _warn_limit(policies, today)
    if alert == "talk":
        return Q(stage=Stage.APPLIED, next_due__lte=warn)
    if alert == "assessment":
        return Q(stage=Stage.ACTIVIST, next_due__lte=warn)
    if alert == "probation":
        return Q(stage=Stage.PROBATIONARY, probation_end__lte=warn)
    if alert == "waiting":
        wait_limit = _per_policy(policies, lambda p: today - timedelta(days=p.applicant_wait_days))
        return Q(stage__in=WAITING_STAGES, last_step_on__lt=wait_limit)
    if alert == "pre_review":
        return _waiting_for_pre_review()
    if alert == "approval":
        return Q(stage=Stage.ADMISSION_VOTED)
    if alert == "conversion_approval":
        return Q(stage=Stage.CONVERSION_VOTED)
    return None


# --- the list -------------------------------------------------------------------------------------


def case_list_filtered(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[DevelopmentCase]:
    """``selectors.case_list`` with the filters the overview and the alerts link to: ``phase``
    (a group of stages), ``stalled``, ``admitted`` / ``converted`` (a year), ``alert`` (one of
    ``ALERTS``); the policy rules are read for the user's subtrees in one query."""
    filters = dict(filters or {})
    qs = case_list(user=user, filters=filters)
    phase = filters.get("phase")
    if phase in PHASE_STAGES:
        qs = qs.filter(stage__in=PHASE_STAGES[phase])
    for name, lookup in (("admitted", "admitted_on__year"), ("converted", "full_member_on__year")):
        year = filters.get(name)
        if year:
            qs = qs.filter(**{lookup: int(year)})
    alert = filters.get("alert")
    if filters.get("stalled") or alert in ALERTS:
        today = timezone.localdate()
        policies = _policies_over(scope_for(user, "view", APP).paths)
        if filters.get("stalled"):
            qs = qs.filter(_stalled_q(policies, today))
        if alert in ALERTS:
            condition = _alert_q(alert, policies, today)
            if condition is not None:
                qs = qs.filter(condition)
    return qs


def stage_counts(*, user: Viewer, cases: QuerySet[DevelopmentCase]) -> list[tuple[str, str, int]]:
    """(stage, label, count) of every stage for a list of cases the caller read with
    ``case_list_filtered(user=user, …)``: one grouped query."""
    found = dict(cases.order_by().values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
    return [(value, str(label), found.get(value, 0)) for value, label in Stage.choices]


@dataclass(frozen=True)
class ListedCase:
    """A case of a list page with the step it waits for (the earliest due first)."""

    case: DevelopmentCase
    next: NextStep | None
    overdue: bool


def listed_cases(*, user: Viewer, cases: Iterable[DevelopmentCase]) -> list[ListedCase]:
    """The next step of each case of one page of ``case_list_filtered(user=user, …)``: the steps of
    the page's cases in one query and the policies of their branches in another."""
    cases = list(cases)
    if not cases:
        return []
    steps: dict[int, list[CaseStep]] = {c.pk: [] for c in cases}
    for row in (
        CaseStep.objects.restrict(user, "view")
        .filter(case_id__in=list(steps))
        .only("id", "case_id", "seq", "step", "date", "outcome")
        .order_by("case_id", "seq")
    ):
        steps[row.case_id].append(row)
    policies = policies_for_paths(c.organization.path for c in cases)
    today = timezone.localdate()
    rows = []
    for case in cases:
        upcoming = next_steps(case, steps[case.pk], policies[case.organization.path])
        dated = sorted((n for n in upcoming if n.due), key=lambda n: n.due or date.max)
        chosen = dated[0] if dated else (upcoming[0] if upcoming else None)
        overdue = bool(chosen and chosen.due and chosen.due < today)
        rows.append(ListedCase(case, chosen, overdue))
    return rows


# --- the overview ---------------------------------------------------------------------------------


@dataclass
class OverviewRow:
    """The figures of one organisation (a child of the chosen one, or the chosen one itself)."""

    organization: Organization | None
    phases: dict[str, int] = field(default_factory=dict)
    admitted: int = 0
    converted: int = 0
    overdue: int = 0
    stalled: int = 0
    plan: int | None = None

    @property
    def phase_counts(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.phases.get(key, 0)) for key, label, _stages in PHASES]

    @property
    def open_cases(self) -> int:
        return sum(self.phases.values())

    @property
    def drill(self) -> bool:
        """Whether the organisation has organisations under it to go down to."""
        return self.organization is not None and self.organization.level not in (
            OrgLevel.BRANCH,
            OrgLevel.GROUP,
        )


@dataclass
class Overview:
    organization: Organization
    year: int
    rows: list[OverviewRow]
    total: OverviewRow


def overview_children(*, user: Viewer, organization: Organization) -> QuerySet[Organization]:
    """The organisations one level down that the overview shows a row for (none under a
    branch: its groups keep no cases)."""
    return (
        Organization.objects.restrict(user, "view", app_label=APP)
        .filter(parent=organization, is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .order_by("sort_order", "path")
    )


def overview(
    *, user: Viewer, organization: Organization, year: int, children: list[Organization] | None = None
) -> Overview:
    """Per child organisation (``children``: a page of ``overview_children``; none → the
    organisation itself): the open cases by phase now, the 预备党员 admitted and the members
    converted in ``year``, overdue and stalled cases, and the year's plan. Three queries
    (policies, one grouped count, plans) whatever the number of children."""
    children = list(children or [])
    today = timezone.localdate()
    policies = _policies_over([organization.path])
    width = len(organization.path) + (SEGMENT_WIDTH if children else 0)
    aggregates: dict[str, Any] = {
        f"phase_{key}": Count("id", filter=Q(stage__in=stages)) for key, _label, stages in PHASES
    }
    aggregates.update(
        admitted=Count("id", filter=Q(admitted_on__year=year)),
        converted=Count("id", filter=Q(full_member_on__year=year)),
        overdue=Count("id", filter=Q(stage__in=OPEN_STAGES, next_due__lt=today)),
        stalled=Count("id", filter=_stalled_q(policies, today)),
    )
    grouped = (
        DevelopmentCase.objects.restrict(user, "view")
        .filter(organization.subtree_q("organization__path"))
        .annotate(prefix=Substr("organization__path", 1, width))
        .values("prefix")
        .annotate(**aggregates)
        .order_by()
    )
    by_prefix: dict[str, OverviewRow] = {}
    total = OverviewRow(organization)
    for found in grouped:
        row = _overview_row(None, found)
        by_prefix[found["prefix"]] = row
        _add(total, row)
    plans = dict(
        DevelopmentPlan.objects.restrict(user, "view")
        .filter(organization_id__in=[organization.pk, *(c.pk for c in children)], year=year)
        .values_list("organization_id", "planned")
    )
    total.plan = plans.get(organization.pk)
    rows = []
    for org in children or [organization]:
        row = by_prefix.get(org.path[:width]) or OverviewRow(None)
        row.organization = org
        row.plan = plans.get(org.pk)
        rows.append(row)
    return Overview(organization, year, rows, total)


def _overview_row(org: Organization | None, found: dict[str, Any]) -> OverviewRow:
    return OverviewRow(
        organization=org,
        phases={key: found[f"phase_{key}"] for key, _label, _stages in PHASES},
        admitted=found["admitted"],
        converted=found["converted"],
        overdue=found["overdue"],
        stalled=found["stalled"],
    )


def _add(total: OverviewRow, row: OverviewRow) -> None:
    for key, count in row.phases.items():
        total.phases[key] = total.phases.get(key, 0) + count
    total.admitted += row.admitted
    total.converted += row.converted
    total.overdue += row.overdue
    total.stalled += row.stalled


# --- the alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertCounts:
    talk: int = 0
    talk_overdue: int = 0
    assessment: int = 0
    assessment_overdue: int = 0
    probation: int = 0
    waiting: int = 0
    pre_review: int = 0
    approval: int = 0
    approval_overdue: int = 0
    conversion_approval: int = 0
    conversion_approval_overdue: int = 0


def branch_alert_counts(*, user: Viewer) -> AlertCounts:
    """What the branches the user may change have to do soon (谈话, 培养考察, 转正) or let wait
    too long: two queries (policies, one aggregate)."""
    paths = scope_for(user, "change", APP).paths
    if not paths:
        return AlertCounts()
    today = timezone.localdate()
    policies = _policies_over(paths)
    talk, assessment, probation, waiting = (
        _alert_q(name, policies, today) for name in ("talk", "assessment", "probation", "waiting")
    )
    found = DevelopmentCase.objects.restrict(user, "change").aggregate(
        talk=Count("id", filter=talk),
        talk_overdue=Count("id", filter=Q(stage=Stage.APPLIED, next_due__lt=today)),
        assessment=Count("id", filter=assessment),
        assessment_overdue=Count("id", filter=Q(stage=Stage.ACTIVIST, next_due__lt=today)),
        probation=Count("id", filter=probation),
        waiting=Count("id", filter=waiting),
    )
    return AlertCounts(**found)


def above_alert_counts(*, user: Viewer) -> AlertCounts:
    """What waits for the user as the party committee above a branch (an org_admin at a strict
    ancestor): 预审, 审批, 转正审批, with the overdue ones apart. One query."""
    paths = policy_paths(user)
    if not paths:
        return AlertCounts()
    today = timezone.localdate()
    below = subtree_q("organization__path", paths) & ~Q(organization__path__in=paths)
    found = (
        DevelopmentCase.objects.restrict(user, "change")
        .filter(below)
        .aggregate(
            pre_review=Count("id", filter=_waiting_for_pre_review()),
            approval=Count("id", filter=Q(stage=Stage.ADMISSION_VOTED)),
            approval_overdue=Count("id", filter=Q(stage=Stage.ADMISSION_VOTED, next_due__lt=today)),
            conversion_approval=Count("id", filter=Q(stage=Stage.CONVERSION_VOTED)),
            conversion_approval_overdue=Count(
                "id", filter=Q(stage=Stage.CONVERSION_VOTED, next_due__lt=today)
            ),
        )
    )
    return AlertCounts(**found)


# --- inputs of the case page read from other apps -------------------------------------------------


def branch_meetings(*, user: Viewer, case: DevelopmentCase) -> QuerySet[Activity]:
    """The 支部党员大会 of the case's branch held since its last step, newest first (the meetings
    a vote step may cite: the vote's date is the meeting's and may not precede the last step)."""
    since = datetime.combine(case.last_step_on, time.min, tzinfo=timezone.get_current_timezone())
    return (
        Activity.objects.restrict(user, "view", app_label=APP)
        .filter(
            organization_id=case.organization_id, activity_type=ActivityType.BRANCH_ASSEMBLY, start__gte=since
        )
        .order_by("-start", "-id")
    )


def people_choices(*, user: Viewer, case: DevelopmentCase) -> QuerySet[Member]:
    """The full members on the roll of the case's branch (its groups included) who may mentor
    or sponsor the applicant; the applicant themself excluded."""
    qs = (
        Member.objects.restrict(user, "view", app_label=APP)
        .filter(case.organization.subtree_q("org_path"), is_active=True, status=MemberStatus.FULL)
        .only("id", "name", "organization_id")
        .order_by("name", "id")
    )
    return qs.exclude(pk=case.member_id) if case.member_id else qs


@dataclass(frozen=True)
class CasePoints:
    """The candidate's points of the year under the candidates' scheme (积分择优: one input)."""

    year: int
    total: Decimal
    ranking_url: bool  # whether the user may open the 积分择优 list


def case_points(*, user: Viewer, case: DevelopmentCase, year: int) -> CasePoints | None:
    """The year's total of an activist's or candidate's points, when a points scheme applies to
    them and the user may see points at the branch; else None."""
    from partyedu.points.selectors import member_get, year_totals

    if case.member_id is None or case.stage not in (Stage.ACTIVIST, Stage.CANDIDATE):
        return None
    if not can(user, "view", case.organization, app_label="points"):
        return None
    try:
        member = member_get(user=user, pk=case.member_id)
    except Http404:
        return None
    total = year_totals(members=[member], year=year).get(member.pk)
    if total is None:
        return None
    return CasePoints(year, total, can(user, "change", case.organization, app_label="points"))


# --- the case page's papers, the plans and the rules -----------------------------------------------


def case_documents(*, user: Viewer, case: DevelopmentCase) -> QuerySet[CaseDocument]:
    """The papers of a case the caller read through ``case_get``, by kind."""
    return (
        CaseDocument.objects.restrict(user, "view")
        .filter(case=case)
        .select_related("uploaded_by")
        .order_by("kind", "id")
    )


def case_document_get(*, user: Viewer, case: DevelopmentCase, pk: Any) -> CaseDocument:
    """One paper of the case, within the user's scope; anything else is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("材料不存在") from None
    found = (
        CaseDocument.objects.restrict(user, "view").filter(case=case, pk=pk).select_related("case").first()
    )
    if found is None or not found.file:
        raise Http404("材料不存在")
    return found


def organization_get(*, user: Viewer, pk: Any) -> Organization:
    """An active organisation within the user's development scope; anything else is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("党组织不存在") from None
    found = (
        Organization.objects.restrict(user, "view", app_label=APP)
        .filter(pk=pk, is_active=True)
        .select_related("parent")
        .first()
    )
    if found is None:
        raise Http404("党组织不存在")
    return found


def organizations_in_scope(*, user: Viewer) -> QuerySet[Organization]:
    """The active organisations the user sees development data of, in tree order."""
    return Organization.objects.restrict(user, "view", app_label=APP).filter(is_active=True).order_by("path")


@dataclass(frozen=True)
class PlanRow:
    plan: DevelopmentPlan
    admitted: int

    @property
    def percent(self) -> int | None:
        if not self.plan.planned:
            return None
        return round(self.admitted * 100 / self.plan.planned)


def plan_rows(*, user: Viewer, year: int, limit: int = 200) -> list[PlanRow]:
    """The development plans of ``year`` within the user's scope, each with the 预备党员 admitted
    in its organisation's subtree that year: two queries (the plans; one count per plan in a
    single aggregate)."""
    plans = list(
        DevelopmentPlan.objects.restrict(user, "view")
        .filter(year=year)
        .select_related("organization")
        .order_by("organization__path")[:limit]
    )
    if not plans:
        return []
    counts = DevelopmentCase.objects.restrict(user, "view").aggregate(
        **{
            f"p{plan.pk}": Count(
                "id", filter=plan.organization.subtree_q("organization__path") & Q(admitted_on__year=year)
            )
            for plan in plans
        }
    )
    return [PlanRow(plan, counts[f"p{plan.pk}"]) for plan in plans]


@dataclass(frozen=True)
class PolicyInForce:
    """The timing rules that apply at an organisation and where they come from."""

    policy: DevelopmentPolicy
    source: Organization | None  # None: the defaults of DOMAIN_RULES (细则)
    own: bool  # set at this very organisation (so it can be reset here)


def policy_in_force(*, user: Viewer, organization: Organization) -> PolicyInForce:
    """The rules at ``organization`` (one the caller read with ``organization_get``): the nearest
    policy up the tree, or the defaults."""
    policy = policies_for_paths([organization.path])[organization.path]
    source = policy.organization if policy.pk else None
    return PolicyInForce(policy, source, bool(source and source.pk == organization.pk))


def policy_list(*, user: Viewer) -> QuerySet[DevelopmentPolicy]:
    """The timing rules set within the user's scope (each applies to its subtree)."""
    return (
        DevelopmentPolicy.objects.restrict(user, "view")
        .select_related("organization")
        .order_by("organization__path")
    )
