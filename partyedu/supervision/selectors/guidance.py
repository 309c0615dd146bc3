"""Reads of the guidance area: teams, coverage of branches, inspections, rectification items and
党课巡听 scores. Every public selector takes the requesting user and starts from their scope
(``restrict(user, "view")`` of the supervision app); a row outside it is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.core.scope import can, minimal_paths, scope_for, subtree_q
from partyedu.core.types import BaseActor, BaseViewer
from partyedu.lectures.models import Lecture
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization, ancestor_paths

from ..models.guidance import (
    GuidanceCoverage,
    GuidanceTeam,
    GuidanceTeamMember,
    Inspection,
    LectureInspection,
    RectificationItem,
    RectificationStatus,
)

APP = "supervision"


def _uid(user: BaseViewer) -> Any:
    return getattr(user, "pk", None)


def _get(qs: QuerySet[Any], pk: Any, message: str) -> Any:
    try:
        return qs.get(pk=int(pk))
    except (ValueError, TypeError, qs.model.DoesNotExist):
        raise Http404(message) from None


# --- who may inspect ------------------------------------------------------------------------------


def inspected_paths(user: BaseViewer) -> tuple[str, ...]:
    """The subtrees the user inspects as a member of an active guidance team (where they may record
    visits and 党课巡听 whatever their role's actions)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    paths = GuidanceCoverage.objects.filter(
        team__is_active=True, team__members__user_id=_uid(user)
    ).values_list("organization__path", flat=True)
    return minimal_paths(list(paths))


def can_inspect(user: BaseActor, organization: Organization) -> bool:
    """Whether the user may record an inspection visit or a 党课巡听 at ``organization``: a member
    of an active team covering it, or a holder of ``supervision.add`` at a level above it (an
    organisation never inspects itself)."""
    if user is None:
        return True
    if any(organization.path.startswith(p) for p in inspected_paths(user)):
        return True
    above = ancestor_paths(organization.path)[:-1]
    return bool(above) and can(user, "add", above[-1], app_label=APP)


def inspectable_q(user: BaseViewer, field: str = "organization__path") -> Q:
    """Rows whose organisation (``field``: its path) the user may inspect (``can_inspect``)."""
    condition = subtree_q(field, inspected_paths(user))
    # supervision.add held at P covers every organisation strictly below P.
    for path in scope_for(user, "add", APP).paths:
        condition |= Q(**{f"{field}__gt": path, f"{field}__lt": path + "~"})
    return condition


def may_reopen(user: BaseActor, item: RectificationItem) -> bool:
    """The issuer of an item: who raised it, a member of the inspecting team, or the team's owning
    department (supervision.change there); without a team, the level above the organisation."""
    if user is None:
        return True
    if item.created_by_id == getattr(user, "pk", None):
        return True
    team = item.inspection.team
    if team is not None:
        if GuidanceTeamMember.objects.filter(team=team, user_id=_uid(user)).exists():
            return True
        return can(user, "change", team.organization, app_label=APP)
    org = item.inspection.organization
    above = ancestor_paths(org.path)[:-1]
    return bool(above) and can(user, "change", above[-1], app_label=APP)


# --- teams and coverage -----------------------------------------------------------------------------


def team_list(*, user: BaseViewer, filters: dict[str, Any] | None = None) -> QuerySet[GuidanceTeam]:
    """Teams owned within the user's scope, and the teams the user belongs to. Filters:
    ``organization`` (owner in its subtree), ``year``, ``active``."""
    filters = filters or {}
    scope = scope_for(user, "view", APP)
    qs = GuidanceTeam.objects.filter(
        scope.q("organization__path")
        | Q(pk__in=GuidanceTeamMember.objects.filter(user_id=_uid(user)).values("team_id"))
        if getattr(user, "is_authenticated", False)
        else scope.q("organization__path")
    )
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("year"):
        qs = qs.filter(year=int(filters["year"]))
    if filters.get("active") in (True, "1", "true"):
        qs = qs.filter(is_active=True)
    return (
        qs.select_related("organization", "leader")
        .annotate(
            member_count=Count("members", distinct=True), coverage_count=Count("coverage", distinct=True)
        )
        .order_by("-year", "organization__path", "name", "id")
    )


def team_get(*, user: BaseViewer, pk: Any) -> GuidanceTeam:
    qs = cast(Any, team_list(user=user)).prefetch_related(
        Prefetch("members", queryset=GuidanceTeamMember.objects.select_related("user")),
        Prefetch("coverage", queryset=GuidanceCoverage.objects.select_related("organization", "contact")),
    )
    team: GuidanceTeam = _get(qs, pk, "指导组不存在")
    return team


def can_manage_team(user: BaseViewer, organization: Organization) -> bool:
    from partyedu.core.scope import can_set_policy

    return can(user, "change", organization, app_label=APP) and can_set_policy(user, organization)


@dataclass(frozen=True)
class CoverageRow:
    organization: Organization
    team: GuidanceTeam | None
    contact: Any
    via: Organization | None  # the covered organisation (the branch itself or an ancestor)


@dataclass(frozen=True)
class CoverageSummary:
    branches: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.branches - self.covered


def _active_coverage(paths: list[str]) -> list[GuidanceCoverage]:
    """Active coverage rows at any of ``paths`` or below the first of them."""
    return list(
        GuidanceCoverage.objects.filter(team__is_active=True)
        .filter(Q(organization__path__in=paths) | subtree_q("organization__path", paths[-1:]))
        .select_related("team", "organization", "contact", "team__leader")
        .order_by("organization__path", "team__name", "id")
    )


def coverage_branches(
    *, user: BaseViewer, organization: Organization, uncovered_only: bool = False
) -> tuple[QuerySet[Organization], list[GuidanceCoverage]]:
    """The active branches in ``organization``'s subtree that the user sees (all when
    ``uncovered_only`` is false, else those no active team covers), and the active coverage rows
    that reach them (at the organisation, an ancestor or below)."""
    scope = scope_for(user, "view", APP)
    if not scope.covers(organization.path):
        raise Http404("组织不存在")
    rows = _active_coverage(ancestor_paths(organization.path))
    branches = (
        Organization.objects.filter(scope.q("path"))
        .filter(organization.subtree_q("path"), level=OrgLevel.BRANCH, is_active=True)
        .order_by("path")
    )
    if uncovered_only:
        covered = minimal_paths([row.organization.path for row in rows])
        if covered:
            branches = branches.exclude(subtree_q("path", covered))
    return branches, rows


def coverage_summary(*, user: BaseViewer, organization: Organization) -> CoverageSummary:
    branches, rows = coverage_branches(user=user, organization=organization)
    covered = minimal_paths([row.organization.path for row in rows])
    total = branches.count()
    return CoverageSummary(total, branches.filter(subtree_q("path", covered)).count() if covered else 0)


def coverage_rows(
    *, user: BaseViewer, branches: list[Organization], rows: list[GuidanceCoverage]
) -> list[CoverageRow]:
    """Each branch of a page (from ``coverage_branches`` for the same user) with its nearest
    covering team and named contact."""
    by_path: dict[str, GuidanceCoverage] = {}
    for row in rows:
        by_path.setdefault(row.organization.path, row)
    result = []
    for branch in branches:
        found = None
        for path in reversed(ancestor_paths(branch.path)):
            if path in by_path:
                found = by_path[path]
                break
        if found is None:
            result.append(CoverageRow(branch, None, None, None))
        else:
            result.append(
                CoverageRow(branch, found.team, found.contact or found.team.leader, found.organization)
            )
    return result


# --- inspections and rectification ------------------------------------------------------------------


def inspection_list(*, user: BaseViewer, filters: dict[str, Any] | None = None) -> QuerySet[Inspection]:
    """Inspections of organisations in the user's scope, newest first. Filters: ``organization``
    (its subtree), ``team``, ``year``."""
    filters = filters or {}
    qs = Inspection.objects.restrict(user, "view")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("team"):
        qs = qs.filter(team_id=filters["team"])
    if filters.get("year"):
        qs = qs.filter(visited_on__year=int(filters["year"]))
    return (
        qs.select_related("organization", "team")
        .annotate(
            item_count=Count("items", distinct=True),
            open_count=Count("items", filter=Q(items__status=RectificationStatus.OPEN), distinct=True),
        )
        .order_by("-visited_on", "-id")
    )


def inspection_get(*, user: BaseViewer, pk: Any) -> Inspection:
    qs = inspection_list(user=user).prefetch_related("inspectors")
    inspection: Inspection = _get(qs, pk, "调研督导记录不存在")
    return inspection


def inspection_items(*, user: BaseViewer, inspection: Inspection) -> list[RectificationItem]:
    return list(
        RectificationItem.objects.restrict(user, "view")
        .filter(inspection=inspection)
        .select_related("organization")
        .order_by("status", "due_on", "id")
    )


def rectification_list(
    *, user: BaseViewer, filters: dict[str, Any] | None = None, today: date | None = None
) -> QuerySet[RectificationItem]:
    """Rectification items of organisations in the user's scope: open ones first, overdue before
    those still in time, by due date. Filters: ``status`` ("open", "closed", "overdue"),
    ``organization`` (its subtree), ``inspection``."""
    filters = filters or {}
    today = today or timezone.localdate()
    qs = RectificationItem.objects.restrict(user, "view")
    status = filters.get("status")
    if status == "overdue":
        qs = qs.filter(status=RectificationStatus.OPEN, due_on__lt=today)
    elif status in (RectificationStatus.OPEN, RectificationStatus.CLOSED):
        qs = qs.filter(status=status)
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    if filters.get("inspection"):
        qs = qs.filter(inspection_id=filters["inspection"])
    return qs.select_related("organization", "inspection", "closed_by").order_by("status", "due_on", "id")


def rectification_get(*, user: BaseViewer, pk: Any) -> RectificationItem:
    qs = rectification_list(user=user).select_related(
        "inspection__team__organization", "inspection__organization", "created_by"
    )
    item: RectificationItem = _get(qs, pk, "整改事项不存在")
    return item


def rectification_events(*, user: BaseViewer, item: RectificationItem) -> list[Any]:
    """The history of an item the user reached through ``rectification_get``."""
    return list(item.events.select_related("actor").order_by("created_at", "id"))


def rectification_open_counts(*, user: BaseViewer, today: date | None = None) -> dict[str, int]:
    """How many open items the user sees, and how many of them are overdue."""
    today = today or timezone.localdate()
    row = (
        RectificationItem.objects.restrict(user, "view")
        .filter(status=RectificationStatus.OPEN)
        .aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    )
    return {"open": row["open"] or 0, "overdue": row["overdue"] or 0}


def rectification_todo_items(*, user: BaseViewer, today: date | None = None) -> list[RectificationItem]:
    """Open items the user must close (``supervision.change`` at their organisation), overdue first."""
    today = today or timezone.localdate()
    return list(
        RectificationItem.objects.restrict(user, "change")
        .filter(status=RectificationStatus.OPEN)
        .select_related("organization")
        .order_by("due_on", "id")[:20]
    )


# --- 党课巡听 ---------------------------------------------------------------------------------------


def lecture_inspections(*, user: BaseViewer, lecture: Lecture) -> list[LectureInspection]:
    """The 党课巡听 scores of a lecture that the user sees (supervision view scope)."""
    return list(
        LectureInspection.objects.restrict(user, "view").filter(lecture=lecture).select_related("inspector")
    )


def lecture_inspection_mine(*, user: BaseViewer, lecture: Lecture) -> LectureInspection | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return LectureInspection.objects.filter(lecture=lecture, inspector_id=_uid(user)).first()


def lecture_inspection_list(
    *, user: BaseViewer, filters: dict[str, Any] | None = None
) -> QuerySet[LectureInspection]:
    """党课巡听 scores in the user's scope, newest lecture first. Filters: ``organization``, ``year``."""
    filters = filters or {}
    qs = LectureInspection.objects.restrict(user, "view")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("lecture__organization__path"))
    if filters.get("year"):
        qs = qs.filter(lecture__start__year=int(filters["year"]))
    return qs.select_related("lecture", "lecture__organization", "inspector").order_by(
        "-lecture__start", "-id"
    )


def lecture_to_inspect(*, user: BaseViewer, pk: Any) -> Lecture:
    """A lecture the user may score (``can_inspect`` its organisation); anything else is 404."""
    qs = Lecture.objects.filter(inspectable_q(user)).select_related("organization", "activity")
    lecture: Lecture = _get(qs, pk, "党课不存在")
    return lecture


def upcoming_lectures_to_inspect(*, user: BaseViewer, days: int = 14, held_days: int = 3) -> list[Lecture]:
    """党课 in the organisations the user inspects as a team member, from ``held_days`` days ago (a
    党课 just listened to is scored afterwards) to ``days`` days ahead, that the user has not
    scored yet."""
    paths = inspected_paths(user)
    if not paths:
        return []
    now = timezone.now()
    scored = LectureInspection.objects.filter(lecture=OuterRef("pk"), inspector_id=_uid(user))
    return list(
        Lecture.objects.filter(subtree_q("organization__path", paths))
        .filter(start__gte=now - timedelta(days=held_days), start__lt=now + timedelta(days=days))
        .exclude(Exists(scored))
        .select_related("organization")
        .order_by("start", "id")[:10]
    )


def lecture_inspection_average(*, user: BaseViewer, lecture: Lecture) -> dict[str, Any]:
    return (
        LectureInspection.objects.restrict(user, "view")
        .filter(lecture=lecture)
        .aggregate(
            n=Count("id"),
            content=Avg("content_score"),
            relevance=Avg("relevance_score"),
            delivery=Avg("delivery_score"),
            order=Avg("order_score"),
        )
    )


def team_for_inspection(*, user: BaseViewer, organization: Organization) -> GuidanceTeam | None:
    """The active team of which the user is a member that covers ``organization`` (the nearest
    coverage wins), to record a visit under."""
    if not getattr(user, "is_authenticated", False):
        return None
    row = (
        GuidanceCoverage.objects.filter(
            team__is_active=True,
            team__members__user_id=_uid(user),
            organization__path__in=ancestor_paths(organization.path),
        )
        .select_related("team")
        .order_by("-organization__path", "team_id")
        .first()
    )
    return row.team if row else None
