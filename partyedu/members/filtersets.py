"""Query-string filters of member lists (API and web)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from partyedu.core.filters import IdFilter

from .choices import Gender, MemberCategory, MemberStatus
from .models import Member
from .selectors import has_category_q, member_filter_organization, search_q


class MemberFilterSet(django_filters.FilterSet):
    """Filters applied on top of the caller's scope; they can narrow it, never widen it."""

    organization = IdFilter(method="filter_organization", label="党组织ID（含全部下级）")
    search = django_filters.CharFilter(
        method="filter_search", label="姓名、拼音首字母（如 zs）或完整身份证号"
    )
    status = django_filters.ChoiceFilter(choices=MemberStatus.choices, label="党员状态")
    category = django_filters.ChoiceFilter(
        choices=MemberCategory.choices, method="filter_category", label="党员类别"
    )
    is_exempt = django_filters.BooleanFilter(label="免于硬性要求")
    gender = django_filters.ChoiceFilter(choices=Gender.choices, label="性别")

    class Meta:
        model = Member
        fields = ["organization", "search", "status", "category", "is_exempt", "gender"]

    def filter_organization(self, queryset: QuerySet[Member], name: str, value: int) -> QuerySet[Member]:
        user = getattr(self.request, "user", None)
        org = member_filter_organization(user=user, org_id=value) if user is not None else None
        if org is None:
            return queryset.none()
        return queryset.filter(org.subtree_q("org_path"))

    def filter_search(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_category(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        return queryset.filter(has_category_q(value))
