from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.choices import ActivityType

from .choices import Audience, CapPeriod, ItemKind, ItemSource
from .models import PointsItem


class SchemeForm(forms.Form):
    organization = OrganizationChoiceField(label=_("制定组织"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("方案名称"), max_length=100, required=False)
    base = forms.DecimalField(label=_("基础分"), max_digits=6, decimal_places=1, min_value=0, initial=60)
    audience = forms.ChoiceField(
        label=_("适用对象"),
        choices=Audience.choices,
        initial=Audience.MEMBERS,
        help_text=_("积极分子和发展对象的积分方案用于“积分择优”，其结果是支委会确定发展对象时的参考之一"),
    )
    allow_refine = forms.BooleanField(
        label=_("允许下级细化"),
        required=False,
        initial=True,
        help_text=_("下级组织可制定本级方案：基础分须相同，标为“下级不得改动”的项目须原样保留"),
    )

    def __init__(self, *args: Any, user: BaseViewer, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label="points"
        )
        if editing:
            del self.fields["organization"]
            del self.fields["year"]
            del self.fields["audience"]


class ItemForm(forms.Form):
    code = forms.SlugField(label=_("代码"), max_length=40)
    name = forms.CharField(label=_("项目名称"), max_length=100)
    kind = forms.ChoiceField(label=_("加分/扣分"), choices=ItemKind.choices)
    source = forms.ChoiceField(label=_("积分来源"), choices=ItemSource.choices)
    activity_types = forms.MultipleChoiceField(
        label=_("活动类型"),
        choices=ActivityType.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    points = forms.DecimalField(
        label=_("每次分值"),
        max_digits=6,
        decimal_places=1,
        min_value=0,
        help_text=_("志愿服务时长按每小时计"),
    )
    cap = forms.DecimalField(label=_("上限"), max_digits=6, decimal_places=1, min_value=0, required=False)
    cap_period = forms.ChoiceField(label=_("上限周期"), choices=CapPeriod.choices, initial=CapPeriod.YEAR)
    locked = forms.BooleanField(label=_("下级不得改动"), required=False)


ItemFormSet = forms.formset_factory(ItemForm, extra=2, can_delete=True)


def item_initial(items: list[PointsItem]) -> list[dict[str, Any]]:
    return [
        {
            f: getattr(i, f)
            for f in (
                "code",
                "name",
                "kind",
                "source",
                "activity_types",
                "points",
                "cap",
                "cap_period",
                "locked",
            )
        }
        for i in items
    ]


def formset_items(formset: Any) -> list[dict[str, Any]]:
    return [
        dict(f.cleaned_data)
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("code")
    ]


class ManualForm(forms.Form):
    item = forms.ChoiceField(label=_("积分项目"), error_messages={"required": _("请选择积分项目")})
    points = forms.DecimalField(
        label=_("分值"),
        max_digits=6,
        decimal_places=1,
        min_value=0,
        error_messages={"required": _("请填写分值"), "invalid": _("分值应为数字，如 2 或 1.5")},
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写加分或扣分的理由，党员本人可以看到")},
    )

    def __init__(self, *args: Any, items: list[PointsItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["item"]).choices = [
            (i.pk, f"{i.name}（{i.get_kind_display()}）") for i in items
        ]


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
