"""The query string of the case list. The filterset checks and documents the parameters (a bad
value is a 400 naming it); the filtering itself is ``selectors.case_list``'s, shared with the
pages. An organisation outside the caller's scope gives an empty list, so ids cannot be probed."""

from __future__ import annotations

import django_filters

from partyedu.core.filters import IdFilter, YearFilter
from partyedu.development.choices import Stage
from partyedu.development.models import DevelopmentCase


class CaseFilterSet(django_filters.FilterSet):
    organization = IdFilter(label="党组织ID（含全部下级）")
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label="发展阶段")
    year = YearFilter(label="申请入党年度")
    q = django_filters.CharFilter(label="姓名包含", max_length=50)
    overdue = django_filters.BooleanFilter(label="只看下一步已逾期的")

    class Meta:
        model = DevelopmentCase
        fields = ["organization", "stage", "year", "q", "overdue"]
