"""Reads of the organisation tree. Every function starts from ``restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from partyedu.core.scope import scope_for
from partyedu.core.search import SearchHit, SearchSource
from partyedu.core.types import BaseViewer

from .choices import parent_levels_for
from .models import SEGMENT_WIDTH, Organization


def organization_search_q(text: str) -> Q:
    """Name contains the text, pinyin initials start with it (``mhq``), or the code is it."""
    text = text.strip()
    return Q(name__icontains=text) | Q(code__iexact=text) | Q(name_initials__contains=" " + text.lower())


def organization_list(
    *, user: BaseViewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Organization]:
    qs = Organization.objects.restrict(user, action).select_related("parent")
    filters = filters or {}
    if filters.get("q") and filters["q"].strip():
        qs = qs.filter(organization_search_q(filters["q"]))
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("org_type"):
        qs = qs.filter(org_type=filters["org_type"])
    if filters.get("within"):
        qs = qs.filter(filters["within"].subtree_q("path"))
    if not filters.get("include_inactive"):
        qs = qs.filter(is_active=True)
    return qs


def organization_get(*, user: BaseViewer, pk: Any, action: str = "view") -> Organization:
    """One organisation in the user's scope; anything else is 404."""
    try:
        return Organization.objects.restrict(user, action).select_related("parent").get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("党组织不存在") from None


def organization_ancestors(*, user: BaseViewer, org: Organization) -> QuerySet[Organization]:
    """The chain from the root down to the parent, from the path prefixes (one query). The
    ancestors of an organisation the user sees are named even above the user's scope (the
    breadcrumb of its page); an organisation outside the scope has none."""
    if not scope_for(user, "view", "organizations").covers(org.path):
        return Organization.objects.none()
    prefixes = [org.path[:i] for i in range(SEGMENT_WIDTH, len(org.path), SEGMENT_WIDTH)]
    return Organization.objects.filter(path__in=prefixes).order_by("path")


def organization_roots(*, user: BaseViewer) -> list[Organization]:
    """The topmost organisations the user can see: roots of their visible forest."""
    visible = organization_list(user=user)
    paths = list(visible.order_by("path").values_list("path", flat=True)[:10000])
    roots: list[str] = []
    for path in paths:
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return list(Organization.objects.filter(path__in=roots).order_by("sort_order", "path"))


def organization_children(*, user: BaseViewer, parent: Organization) -> list[Organization]:
    return list(
        organization_list(user=user)
        .filter(parent=parent)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
        .order_by("sort_order", "path")
    )


def member_counts(orgs: list[Organization]) -> dict[int, int]:
    """Cumulative count of active members under each organisation (its whole subtree), as kept
    on the organisation by the member services."""
    return {o.pk: o.member_count for o in orgs}


def organization_choices(
    *, user: BaseViewer, action: str = "view", app_label: str = "organizations", levels: Any = None
) -> QuerySet[Organization]:
    """Active organisations where the user may perform ``action`` on ``app_label`` data: the
    queryset of every organisation choice field (assigning a role, adding a member, moving)."""
    if app_label == "organizations":
        qs = Organization.objects.restrict(user, action)
    else:
        qs = Organization.objects.restrict(user, "view").filter(scope_for(user, action, app_label).q("path"))
    qs = qs.filter(is_active=True)
    if levels:
        qs = qs.filter(level__in=list(levels))
    return qs.order_by("path")


def organization_move_targets(*, user: BaseViewer, org: Organization) -> QuerySet[Organization]:
    """Where the user may move ``org``: active organisations in their change scope whose level may
    hold it, outside its own subtree, other than its present parent."""
    targets = organization_choices(user=user, action="change", levels=parent_levels_for(org.level)).exclude(
        org.subtree_q("path")
    )
    return targets if org.parent_id is None else targets.exclude(pk=org.parent_id)


def child_counts(*, user: BaseViewer, orgs: list[Organization]) -> dict[int, int]:
    """How many active children the user sees under each given organisation, in one grouped query."""
    if not orgs:
        return {}
    counts = {o.pk: 0 for o in orgs}
    rows = (
        Organization.objects.restrict(user, "view")
        .filter(parent__in=[o.pk for o in orgs], is_active=True)
        .values("parent_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["parent_id"]] = row["n"]
    return counts


def organization_picker_options(
    *,
    user: BaseViewer,
    q: str = "",
    action: str = "view",
    app_label: str = "organizations",
    levels: Any = None,
    limit: int = 20,
) -> list[Organization]:
    """Suggestions of the organisation picker: the first ``limit`` organisations, in tree order,
    of exactly the choices an ``OrganizationChoiceField`` with the same parameters accepts
    (``organization_choices``), matching ``q``; with their parent and grandparent, in one query."""
    qs = organization_choices(user=user, action=action, app_label=app_label, levels=levels)
    if q.strip():
        qs = qs.filter(organization_search_q(q))
    return list(qs.select_related("parent__parent")[:limit])


def organization_search_source(*, user: BaseViewer) -> SearchSource | None:
    """``core.search``: active organisations the user sees, by name, pinyin initials or code, in
    tree order; "查看全部" is the tree's own search (``?q=``)."""
    if not scope_for(user, "view", "organizations").paths:
        return None

    def find(text: str) -> QuerySet[Organization]:
        return organization_list(user=user, filters={"q": text}).order_by("path")

    def hit(org: Organization) -> SearchHit:
        parent = org.parent.name if org.parent is not None else ""
        return SearchHit(
            title=org.name,
            url=reverse("organizations:detail", args=[org.pk]),
            detail=" · ".join(filter(None, [org.get_level_display(), parent])),
        )

    return SearchSource(
        kind="organizations",
        label=_("党组织"),
        icon="diagram-3",
        find=find,
        hit=hit,
        list_url=lambda text: f"{reverse('organizations:tree')}?{urlencode({'q': text})}",
    )
