"""Forms of the annual assessment (年度考评) pages: the scheme editor (fields and a formset of
indicators whose weights the page sums live) and the manual score form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.organizations.picker import OrganizationChoiceField

from .models.assessment import (
    AssessmentIndicator,
    AssessmentMetric,
    AssessmentRule,
    AssessmentScheme,
    IndicatorKind,
)
from .services.assessment import IndicatorData

# Levels whose organisations have children to assess.
ASSESSING_LEVELS = [
    OrgLevel.COMMITTEE,
    OrgLevel.WORKING_COMMITTEE,
    OrgLevel.LEADING_GROUP,
    OrgLevel.GENERAL_BRANCH,
]

# A new scheme starts from this template (the admin changes weights or removes rows).
DEFAULT_INDICATORS: list[dict[str, Any]] = [
    {
        "name": "学时完成率",
        "kind": IndicatorKind.DERIVED,
        "metric": AssessmentMetric.HOURS_COMPLETION,
        "weight": 20,
    },
    {
        "name": "组织生活规范率",
        "kind": IndicatorKind.DERIVED,
        "metric": AssessmentMetric.CADENCE_COMPLIANCE,
        "weight": 20,
    },
    {
        "name": "月报按时报送率",
        "kind": IndicatorKind.DERIVED,
        "metric": AssessmentMetric.REPORT_TIMELINESS,
        "weight": 15,
        "rule": AssessmentRule.THRESHOLD,
        "threshold": 90,
    },
    {
        "name": "整改事项销号率",
        "kind": IndicatorKind.DERIVED,
        "metric": AssessmentMetric.RECTIFICATION_CLOSURE,
        "weight": 15,
    },
    {
        "name": "书记讲党课",
        "kind": IndicatorKind.DERIVED,
        "metric": AssessmentMetric.LECTURE_DUTY,
        "weight": 10,
    },
    {"name": "特色工作（人工评分）", "kind": IndicatorKind.MANUAL, "weight": 20},
]


class SchemeForm(forms.Form):
    organization = OrganizationChoiceField(label=_("考评组织"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    title = forms.CharField(label=_("方案名称"), max_length=200)
    target_level = forms.ChoiceField(
        label=_("考评对象"),
        required=False,
        choices=[
            ("", _("直属下级组织")),
            *[
                (c, _("下属全部%(level)s") % {"level": label})
                for c, label in OrgLevel.choices
                if c != OrgLevel.GROUP
            ],
        ],
    )
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self, *args: Any, user: Viewer, instance: AssessmentScheme | None = None, **kwargs: Any
    ) -> None:
        self.user = user
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "year": instance.year,
                    "title": instance.title,
                    "target_level": instance.target_level,
                    "description": instance.description,
                },
            )
        else:
            kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        if instance is None:
            field = cast(OrganizationChoiceField, self.fields["organization"])
            field.restrict_to(user=user, action="add", app_label="supervision", levels=ASSESSING_LEVELS)
        else:
            del self.fields["organization"]
        rows = (
            [
                {
                    "id": ind.pk,
                    "name": ind.name,
                    "kind": ind.kind,
                    "metric": ind.metric,
                    "weight": ind.weight,
                    "rule": ind.rule,
                    "threshold": ind.threshold,
                    "description": ind.description,
                }
                for ind in instance.indicators.order_by("sort_order", "id")
            ]
            if instance is not None
            else DEFAULT_INDICATORS
        )
        self.indicator_forms = IndicatorFormSet(
            self.data if self.is_bound else None, prefix="ind", initial=rows
        )

    def is_valid(self) -> bool:
        rows_valid = self.indicator_forms.is_valid()
        return super().is_valid() and rows_valid

    def indicators(self) -> list[IndicatorData]:
        """The rows kept (not deleted, not blank), in order, for the services."""
        rows: list[IndicatorData] = []
        for row in self.indicator_forms.forms:
            d = getattr(row, "cleaned_data", None) or {}
            if d.get("DELETE") or not (d.get("id") or d.get("name") or d.get("weight") is not None):
                continue
            rows.append(
                IndicatorData(
                    pk=d.get("id"),
                    name=d.get("name") or "",
                    kind=d.get("kind") or "",
                    metric=d.get("metric") or "",
                    weight=d.get("weight"),
                    rule=d.get("rule") or AssessmentRule.LINEAR,
                    threshold=d.get("threshold"),
                    description=d.get("description") or "",
                )
            )
        return rows

    def weight_total(self) -> Decimal:
        total = Decimal(0)
        for row in self.indicator_forms.forms:
            value = (row.initial or {}).get("weight") if not self.is_bound else None
            if self.is_bound:
                d = getattr(row, "cleaned_data", None) or {}
                value = None if d.get("DELETE") else d.get("weight")
            total += Decimal(value or 0)
        return total


class IndicatorForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("指标名称"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=IndicatorKind.choices)
    metric = forms.ChoiceField(
        label=_("依据数据"), required=False, choices=[("", _("（人工评分不选）")), *AssessmentMetric.choices]
    )
    weight = forms.DecimalField(
        label=_("分值"),
        required=False,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(
            attrs={"step": "0.5", "min": "0", "max": "100", "data-weight": "1", "inputmode": "decimal"}
        ),
    )
    rule = forms.ChoiceField(label=_("计分规则"), required=False, choices=AssessmentRule.choices)
    threshold = forms.DecimalField(
        label=_("达标线(%)"),
        required=False,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "1", "min": "0", "max": "100", "inputmode": "decimal"}),
    )
    description = forms.CharField(label=_("评分说明"), required=False, max_length=300)


IndicatorFormSet = forms.formset_factory(IndicatorForm, extra=1, can_delete=True, can_delete_extra=False)


class OrganizationNameField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ManualIndicatorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（满分{obj.weight.normalize():f}）"


class ManualScoreForm(forms.Form):
    organization = OrganizationNameField(label=_("被考评组织"), queryset=Organization.objects.none())
    indicator = ManualIndicatorField(label=_("人工评分指标"), queryset=AssessmentIndicator.objects.none())
    points = forms.DecimalField(
        label=_("得分"),
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    reason = forms.CharField(label=_("评分理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args: Any, organizations: Any, indicators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = organizations
        cast(forms.ModelChoiceField, self.fields["indicator"]).queryset = indicators
