"""Query-string filters of the competition list. They narrow the caller's scope (the selector
restricts first), never widen it."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from .choices import CompetitionStatus
from .models import Competition


def _years() -> list[tuple[int, str]]:
    this = timezone.localdate().year
    return [(y, f"{y}年") for y in range(this + 1, this - 5, -1)]


class CompetitionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="title",
        lookup_expr="contains",
        label="评选名称",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "名称包含的文字"}),
    )
    year = django_filters.ChoiceFilter(choices=_years, label="年度", empty_label="全部年度")
    status = django_filters.ChoiceFilter(choices=CompetitionStatus.choices, label="状态", empty_label="全部")

    class Meta:
        model = Competition
        fields = ["q", "year", "status"]
