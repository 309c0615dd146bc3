"""Query-string filters of organisation lists (API and web)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from partyedu.core.filters import IdFilter
from partyedu.core.scope import subtree_q

from .choices import OrgLevel, OrgType
from .models import Organization
from .selectors import organization_search_q


class OrganizationFilterSet(django_filters.FilterSet):
    """Filters applied on top of the caller's scope; they can narrow it, never widen it."""

    parent = IdFilter(field_name="parent", label="上级组织ID（直接下级）")
    level = django_filters.ChoiceFilter(choices=OrgLevel.choices, label="组织层级")
    org_type = django_filters.ChoiceFilter(choices=OrgType.choices, label="单位类型")
    is_active = django_filters.BooleanFilter(label="有效")
    search = django_filters.CharFilter(method="filter_search", label="名称、拼音首字母或组织代码")
    within = IdFilter(method="filter_within", label="某组织ID及其全部下级")

    class Meta:
        model = Organization
        fields = ["parent", "level", "org_type", "is_active", "search", "within"]

    def filter_search(
        self, queryset: QuerySet[Organization], name: str, value: str
    ) -> QuerySet[Organization]:
        return queryset.filter(organization_search_q(value)) if value.strip() else queryset

    def filter_within(
        self, queryset: QuerySet[Organization], name: str, value: int
    ) -> QuerySet[Organization]:
        # The anchor must itself be visible to the caller: an unknown or out-of-scope id gives an
        # empty list, so the filter cannot be used to probe which ids exist.
        user = getattr(self.request, "user", None)
        if user is None:
            return queryset.none()
        path = (
            Organization.objects.restrict(user, "view")
            .filter(pk=int(value))
            .values_list("path", flat=True)
            .first()
        )
        if path is None:
            return queryset.none()
        return queryset.filter(subtree_q("path", [path]))
