"""Query-string filters of online resource lists (API and web)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from partyedu.core.filters import IdFilter

from .choices import ResourceKind
from .models import OnlineResource


class ResourceFilterSet(django_filters.FilterSet):
    """Filters applied on top of what the caller may open; they can narrow it, never widen it."""

    column = IdFilter(field_name="column", label="栏目ID")
    kind = django_filters.ChoiceFilter(choices=ResourceKind.choices, label="类型")
    search = django_filters.CharFilter(method="filter_search", label="标题包含")
    is_published = django_filters.BooleanFilter(label="已发布")

    class Meta:
        model = OnlineResource
        fields = ["column", "kind", "search", "is_published"]

    def filter_search(
        self, queryset: QuerySet[OnlineResource], name: str, value: str
    ) -> QuerySet[OnlineResource]:
        return queryset.filter(title__icontains=value.strip()) if value.strip() else queryset
