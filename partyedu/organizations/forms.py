"""Forms of the organisation pages. The services check levels, scope and the tree."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer
from partyedu.organizations.choices import ALLOWED_CHILD_LEVELS, OrgLevel, OrgType

from .models import Organization
from .picker import OrganizationChoiceField


class OrganizationSearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索组织"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("组织名称、拼音首字母或组织代码"), "type": "search"}),
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("组织名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=50, required=False)
    code = forms.CharField(
        label=_("组织代码"), max_length=32, help_text=_("唯一代码，导入时用于指定上级组织")
    )
    level = forms.ChoiceField(label=_("组织层级"), choices=OrgLevel.choices)
    org_type = forms.ChoiceField(label=_("单位类型"), choices=OrgType.choices, initial=OrgType.OTHER)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, initial=0, help_text=_("数字小的排在前面"))

    def __init__(self, *args: Any, parent: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if parent is not None:
            allowed = ALLOWED_CHILD_LEVELS.get(parent.level, set())
            cast(forms.ChoiceField, self.fields["level"]).choices = [
                (value, label) for value, label in OrgLevel.choices if value in allowed
            ]

    @classmethod
    def initial_from(cls, org: Organization) -> dict[str, Any]:
        return {name: getattr(org, name) for name in cls.base_fields}


class OrganizationMoveForm(forms.Form):
    parent = OrganizationChoiceField(label=_("新的上级组织"), queryset=None)

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["parent"]).restrict_to(user=user, action="change")


class OrganizationDeactivateForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我已核实：撤销该组织及其全部下级组织"),
        error_messages={"required": _("请勾选确认后再撤销")},
    )
