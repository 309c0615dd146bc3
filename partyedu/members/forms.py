"""Forms of the member pages. They parse input into the data dict the services take; the
services apply the rules (ID number, dates, categories, scope)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import CheckboxGroup, DateInput
from partyedu.organizations.choices import MEMBER_LEVELS
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import Education, Gender, MemberCategory, MemberStatus
from .models import Member

ALL = [("", _("全部"))]


class MemberFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={"placeholder": _("姓名、拼音首字母（如 zs）或完整身份证号"), "type": "search"}
        ),
    )
    organization = OrganizationChoiceField(
        label=_("所在组织（含下级）"), queryset=None, required=False, empty_label=_("全部组织")
    )
    status = forms.ChoiceField(label=_("党员状态"), required=False, choices=ALL + MemberStatus.choices)
    category = forms.ChoiceField(label=_("党员类别"), required=False, choices=ALL + MemberCategory.choices)
    gender = forms.ChoiceField(label=_("性别"), required=False, choices=ALL + Gender.choices)
    is_exempt = forms.ChoiceField(
        label=_("免于硬性要求"), required=False, choices=[*ALL, ("1", _("是")), ("0", _("否"))]
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label="members"
        )

    def filters(self) -> dict[str, Any]:
        """The filters for ``member_list``; fields that did not validate are ignored (and shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        exempt = data.pop("is_exempt", "")
        if exempt in ("0", "1"):
            data["is_exempt"] = exempt == "1"
        return {key: value for key, value in data.items() if value not in ("", None)}


class MemberForm(forms.Form):
    organization = OrganizationChoiceField(
        label=_("所在党组织"), queryset=None, help_text=_("党支部或党小组")
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=25)
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=[("", _("按身份证号自动识别")), *Gender.choices]
    )
    birth_date = forms.DateField(
        label=_("出生日期"), required=False, widget=DateInput(), help_text=_("留空则按身份证号自动填写")
    )
    ethnicity = forms.CharField(label=_("民族"), max_length=20, initial="汉族")
    education = forms.ChoiceField(label=_("学历"), required=False, choices=[("", "—"), *Education.choices])
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    candidate_on = forms.DateField(
        label=_("确定为发展对象日期"),
        required=False,
        widget=DateInput(),
        help_text=_("发展对象培训从这一天起计算；改为“发展对象”时不填则记为当天"),
    )
    joined_on = forms.DateField(label=_("入党日期"), required=False, widget=DateInput())
    full_member_on = forms.DateField(label=_("转正日期"), required=False, widget=DateInput())
    status = forms.ChoiceField(label=_("党员状态"), choices=MemberStatus.choices, initial=MemberStatus.FULL)
    categories = forms.MultipleChoiceField(
        label=_("党员类别"), required=False, choices=MemberCategory.choices, widget=CheckboxGroup()
    )
    is_exempt = forms.BooleanField(label=_("免于硬性要求（年老体弱、重病等，送学上门）"), required=False)
    exempt_reason = forms.CharField(label=_("免除原因"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Viewer, member: Member | None = None, **kwargs: Any) -> None:
        self.member = member
        if member is not None:
            kwargs.setdefault("initial", self.initial_from(member))
        super().__init__(*args, **kwargs)
        if member is None:
            cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
                user=user, action="add", app_label="members", levels=MEMBER_LEVELS
            )
        else:
            # Personal data is never put into the page: blank means "unchanged".
            del self.fields["organization"]
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("当前为 %(v)s；留空表示不修改") % {
                "v": member.masked_id_number
            }
            self.fields["phone"].help_text = (
                _("当前为 %(v)s；留空表示不修改") % {"v": member.masked_phone}
                if member.phone
                else _("当前未登记")
            )
            self.fields["clear_phone"] = forms.BooleanField(label=_("清除手机号"), required=False)
            order = [name for name in self.fields if name != "clear_phone"]
            order.insert(order.index("phone") + 1, "clear_phone")
            self.order_fields(order)

    @staticmethod
    def initial_from(member: Member) -> dict[str, Any]:
        return {
            "name": member.name,
            "gender": member.gender,
            "birth_date": member.birth_date,
            "ethnicity": member.ethnicity,
            "education": member.education,
            "candidate_on": member.candidate_on,
            "joined_on": member.joined_on,
            "full_member_on": member.full_member_on,
            "status": member.status,
            "categories": member.categories,
            "is_exempt": member.is_exempt,
            "exempt_reason": member.exempt_reason,
        }

    def service_data(self) -> dict[str, Any]:
        """The ``data`` dict of ``member_create`` / ``member_update``."""
        data = dict(self.cleaned_data)
        clear_phone = data.pop("clear_phone", False)
        if not data.get("gender"):
            data.pop("gender", None)
        if data.get("birth_date") is None:
            data.pop("birth_date", None)
        if self.member is not None:
            if not data.get("id_number"):
                data.pop("id_number", None)
            if clear_phone:
                data["phone"] = ""
            elif not data.get("phone"):
                data.pop("phone", None)
        return data


class MemberTransferForm(forms.Form):
    to_organization = OrganizationChoiceField(
        label=_("转入组织"), queryset=None, help_text=_("党支部或党小组")
    )
    transferred_on = forms.DateField(label=_("转接日期"), widget=DateInput(), initial=date.today)
    reason = forms.CharField(label=_("转接原因"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["to_organization"]).restrict_to(
            user=user, action="change", app_label="members", levels=MEMBER_LEVELS
        )
