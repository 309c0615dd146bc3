"""Query-string filters of the lectures API lists. They narrow the caller's scope, never widen it:
an organisation id outside the scope gives an empty list rather than an error, so the filter
cannot probe which ids exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from partyedu.core.filters import IdFilter, YearFilter

from .choices import LecturerCategory, LectureType
from .models import Lecture, Lecturer, LectureSpeaker
from .selectors import lectures_filter_organization, year_range


class _OrganizationSubtreeMixin:
    request: Any
    organization_field = "organization__path"

    def filter_organization(self, queryset: QuerySet[Any], name: str, value: int) -> QuerySet[Any]:
        org = lectures_filter_organization(user=getattr(self.request, "user", None), org_id=value)
        if org is None:
            return queryset.none()
        return queryset.filter(org.subtree_q(self.organization_field))


class LecturerFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization = IdFilter(method="filter_organization", label="师资库组织ID（含全部下级）")
    tag = django_filters.CharFilter(method="filter_tag", label="专长（名称或ID）")
    category = django_filters.ChoiceFilter(choices=LecturerCategory.choices, label="讲师类别")
    q = django_filters.CharFilter(method="filter_q", label="姓名、单位或称号包含")
    is_active = django_filters.BooleanFilter(label="在库")

    class Meta:
        model = Lecturer
        fields = ["organization", "tag", "category", "q", "is_active"]

    def filter_tag(self, queryset: QuerySet[Lecturer], name: str, value: str) -> QuerySet[Lecturer]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(tags__name=value)
        if value.isdigit():
            condition |= Q(tags__pk=int(value))
        return queryset.filter(pk__in=Lecturer.objects.filter(condition).values("pk"))

    def filter_q(self, queryset: QuerySet[Lecturer], name: str, value: str) -> QuerySet[Lecturer]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(unit__contains=value) | Q(title__contains=value))


class LectureFilterSet(_OrganizationSubtreeMixin, django_filters.FilterSet):
    organization_field = "organization__path"

    organization = IdFilter(method="filter_organization", label="组织ID（含全部下级）")
    year = YearFilter(method="filter_year", label="年度（按党课活动的开始时间）")
    lecture_type = django_filters.ChoiceFilter(choices=LectureType.choices, label="党课类型")
    lecturer = IdFilter(method="filter_lecturer", label="讲师ID")

    class Meta:
        model = Lecture
        fields = ["organization", "year", "lecture_type", "lecturer"]

    def filter_year(self, queryset: QuerySet[Lecture], name: str, value: int) -> QuerySet[Lecture]:
        start, end = year_range(value)
        return queryset.filter(start__gte=start, start__lt=end)

    def filter_lecturer(self, queryset: QuerySet[Lecture], name: str, value: int) -> QuerySet[Lecture]:
        return queryset.filter(pk__in=LectureSpeaker.objects.filter(lecturer_id=value).values("lecture_id"))
