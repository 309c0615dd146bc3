"""Reads of the dashboards (统计分析) and the 大屏: an organisation in the user's supervision scope,
its figures and its children's (``supervision.figures``), the breadcrumb up the tree within scope,
and the rows behind an activity figure.

Comparison with siblings is the business of the level above (DESIGN §3.5, no public ranking): the
children table is of the organisation viewed, which the user covers, so an organisation is only ever
placed among its siblings for a user who covers its parent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.core.scope import scope_for
from partyedu.core.types import BaseViewer
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType
from partyedu.study.models import Activity

from ..figures import MonthlySeries, OrgFigures, Period, monthly_series, subtree_figures

APP = "supervision"


def _scope_q(user: BaseViewer, field_name: str = "path") -> Q:
    return scope_for(user, "view", APP).q(field_name)


def dashboard_roots(*, user: BaseViewer) -> list[Organization]:
    """The topmost active organisations of the user's supervision scope (the default and the
    choice of a user who covers several subtrees)."""
    paths = scope_for(user, "view", APP).paths
    if not paths:
        return []
    return list(Organization.objects.filter(path__in=paths, is_active=True).order_by("path"))


def dashboard_organization(*, user: BaseViewer, pk: Any = None) -> Organization:
    """The organisation of a dashboard: ``pk`` in the user's supervision view scope, or by default
    the user's top organisation; anything else is 404."""
    if pk in (None, ""):
        roots = dashboard_roots(user=user)
        if not roots:
            raise Http404("党组织不存在")
        return roots[0]
    try:
        return Organization.objects.filter(_scope_q(user)).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("党组织不存在") from None


@dataclass
class ChildRow:
    organization: Organization
    figures: OrgFigures
    has_children: bool = False


@dataclass
class Dashboard:
    organization: Organization
    period: Period
    figures: OrgFigures
    children: list[ChildRow]
    breadcrumb: list[Organization]
    roots: list[Organization] = field(default_factory=list)
    series: MonthlySeries | None = None


def dashboard_children(*, user: BaseViewer, organization: Organization) -> list[Organization]:
    """The active organisations directly below ``organization`` in the user's scope, in tree order."""
    return list(
        Organization.objects.filter(_scope_q(user), parent=organization, is_active=True).order_by(
            "sort_order", "path"
        )
    )


def dashboard_breadcrumb(*, user: BaseViewer, organization: Organization) -> list[Organization]:
    """The ancestors of ``organization`` that the user covers, root first (one query)."""
    prefixes = ancestor_paths(organization.path)[:-1]
    if not prefixes:
        return []
    return list(Organization.objects.filter(_scope_q(user), path__in=prefixes).order_by("path"))


def dashboard_get(
    *,
    user: BaseViewer,
    organization: Organization,
    year: int,
    month: int | None = None,
    with_series: bool = True,
) -> Dashboard:
    """The figures of ``organization`` (covered by the user: else 404) and of each child in scope
    for the year or the month, the breadcrumb and, for the charts, the trend by month. The number
    of queries does not depend on the number of children."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    children = dashboard_children(user=user, organization=organization)
    grandparents = set(
        Organization.objects.filter(parent__in=[c.pk for c in children], is_active=True)
        .values_list("parent_id", flat=True)
        .distinct()
    )
    figures = subtree_figures(organizations=[organization, *children], year=year, month=month)
    return Dashboard(
        organization=organization,
        period=Period(year, month),
        figures=figures[organization.pk],
        children=[ChildRow(c, figures[c.pk], c.pk in grandparents) for c in children],
        breadcrumb=dashboard_breadcrumb(user=user, organization=organization),
        series=monthly_series(
            organization=organization,
            year=year,
            # A year view has read the year's figures by month already.
            figures=figures[organization.pk] if month is None else None,
        )
        if with_series
        else None,
    )


def dashboard_activity_rows(
    *,
    user: BaseViewer,
    organization: Organization,
    year: int,
    month: int | None = None,
    activity_type: str = "",
) -> QuerySet[Activity]:
    """The activities a dashboard figure counts: held in ``organization``'s subtree in the period
    (started, not in the future), of ``activity_type`` if given, within the user's supervision
    scope, each with ``attended`` (attendance rows 出席/迟到: its person-times), newest first."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    period = Period(year, month)
    qs = Activity.objects.filter(
        _scope_q(user, "organization__path"),
        organization.subtree_q("organization__path"),
        start__gte=period.start,
        start__lt=period.held_until(timezone.now()),
    )
    if activity_type in ActivityType.values:
        qs = qs.filter(activity_type=activity_type)
    return (
        qs.select_related("organization")
        .annotate(attended=Count("attendances", filter=Q(attendances__status__in=ATTENDED_STATUSES)))
        .order_by("-start", "-id")
    )
