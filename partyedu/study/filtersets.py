"""Query-string filters of study lists (API and web). They narrow the caller's scope, never widen
it: an organisation id outside the scope gives an empty list rather than an error, so the filter
cannot probe which ids exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from partyedu.core.filters import IdFilter, YearFilter

from .choices import FORMAT_BLANK, ActivityType, SiteKind, TeachingFormat, stored_format
from .models import Activity, EducationBase, TeachingSite, TrainingClass
from .selectors import study_filter_organization


class _OrganizationSubtreeMixin:
    request: Any

    def filter_organization(self, queryset: QuerySet[Any], name: str, value: int) -> QuerySet[Any]:
        user = getattr(self.request, "user", None)
        # Without a request (no user) nothing is in scope: the list is empty, as for a stranger.
        org = None if user is None else study_filter_organization(user=user, org_id=value)
        if org is None:
            return queryset.none()
        return queryset.filter(org.subtree_q("organization__path"))


class ActivityFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization = IdFilter(method="filter_organization", label="组织ID（含全部下级）")
    year = YearFilter(field_name="start", lookup_expr="year", label="年度（按开始时间）")
    activity_type = django_filters.ChoiceFilter(choices=ActivityType.choices, label="活动类型")
    teaching_format = django_filters.ChoiceFilter(
        choices=[*TeachingFormat.choices, (FORMAT_BLANK, "未填")],
        method="filter_teaching_format",
        label=f"教学形式（{FORMAT_BLANK} 为未填）",
    )
    training_class = IdFilter(field_name="training_class", label="培训班ID")
    site = IdFilter(field_name="site", label="教学点ID")
    education_base = IdFilter(field_name="education_base", label="教育基地ID")
    required_topic = IdFilter(field_name="required_topic", label="必修专题ID")
    search = django_filters.CharFilter(field_name="topic", lookup_expr="contains", label="主题包含")

    class Meta:
        model = Activity
        fields = [
            "organization",
            "year",
            "activity_type",
            "teaching_format",
            "training_class",
            "site",
            "education_base",
            "required_topic",
            "search",
        ]

    def filter_teaching_format(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(teaching_format=stored_format(value))


class TrainingClassFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization = IdFilter(method="filter_organization", label="组织ID（含全部下级）")
    year = YearFilter(field_name="start_date", lookup_expr="year", label="年度（按开班日期）")
    search = django_filters.CharFilter(field_name="name", lookup_expr="contains", label="名称包含")

    class Meta:
        model = TrainingClass
        fields = ["organization", "year", "search"]


class TeachingSiteFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization = IdFilter(method="filter_organization", label="组织ID（含全部下级）")
    kind = django_filters.ChoiceFilter(choices=SiteKind.choices, label="类型")
    is_active = django_filters.BooleanFilter(label="启用")
    search = django_filters.CharFilter(field_name="name", lookup_expr="contains", label="名称包含")

    class Meta:
        model = TeachingSite
        fields = ["organization", "kind", "is_active", "search"]


class EducationBaseFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization = IdFilter(method="filter_organization", label="组织ID（含全部下级）")
    is_active = django_filters.BooleanFilter(label="启用")
    search = django_filters.CharFilter(field_name="name", lookup_expr="contains", label="名称包含")

    class Meta:
        model = EducationBase
        fields = ["organization", "is_active", "search"]
