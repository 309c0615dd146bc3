"""Forms of 双报到 and volunteer service: short ones for members on a phone (报到, a service record),
desktop ones for the unit and the organisation department (an agreement and its lists, a
volunteer activity, the coverage filter)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.forms import DateInput
from partyedu.core.types import BaseViewer
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.forms import TimeInput

from .choices import ItemStatus, ListKind, ServiceKind
from .models import NOTE_MAX, Agreement, AgreementItem

BIG = {"class": "form-control form-control-lg"}
BIG_SELECT = {"class": "form-select form-select-lg"}


class CommunityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.agreement.community_label}：{obj.title}"


class CommunityMixin:
    """A community picked from the tree or named (exactly one; the service says so if both)."""

    fields: dict[str, forms.Field]

    def add_community_fields(self, communities: Any) -> None:
        self.fields["community"] = CommunityChoiceField(
            label=_("居住地社区"),
            queryset=communities,
            required=False,
            empty_label=_("请选择社区"),
            widget=forms.Select(attrs=BIG_SELECT),
        )
        self.fields["community_name"] = forms.CharField(
            label=_("或填写社区名称"),
            max_length=100,
            required=False,
            widget=forms.TextInput(attrs=BIG),
            help_text=_("居住地社区不在列表中（如外市的社区）时填写，如“××市××区××街道××社区”"),
        )


class RegistrationForm(CommunityMixin, forms.Form):
    """报到: the community where the member lives, and a post or a project of their unit."""

    def __init__(
        self, *args: Any, communities: Any, projects: Any, current: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.add_community_fields(communities)
        self.fields["post"] = forms.CharField(
            label=_("服务岗位"),
            max_length=100,
            required=False,
            widget=forms.TextInput(attrs=BIG),
            help_text=_("如 政策宣传员、楼栋联络员、文明劝导员；认领了项目的可不填"),
        )
        self.fields["agreement_item"] = ProjectChoiceField(
            label=_("认领本单位共驻共建项目"),
            queryset=projects,
            required=False,
            empty_label=_("不认领项目"),
            widget=forms.Select(attrs=BIG_SELECT),
        )
        if current:
            self.fields["replace"] = forms.BooleanField(
                label=_("变更报到：结束原来的报到，改在上面的社区报到"),
                required=True,
                error_messages={"required": _("已有报到，请勾选“变更报到”确认结束原报到")},
            )


class RecordForm(forms.Form):
    """A service record on the phone: the day, hours, kind, a few words."""

    date = forms.DateField(label=_("服务日期"), widget=DateInput(attrs=BIG))
    hours = forms.DecimalField(
        label=_("服务时长（小时）"),
        min_value=0,
        max_value=24,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={**BIG, "step": "0.5", "inputmode": "decimal"}),
        help_text=_("以半小时计，如 1、1.5、2；一天合计不超过24小时"),
    )
    kind = forms.ChoiceField(
        label=_("服务类型"), choices=ServiceKind.choices, widget=forms.Select(attrs=BIG_SELECT)
    )
    description = forms.CharField(
        label=_("服务内容"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=BIG),
        help_text=_("简要写明，如“协助社区开展疫苗接种登记”"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("未确认原因"),
        max_length=200,
        widget=forms.TextInput(attrs=BIG),
        error_messages={"required": _("请写明未确认的原因，党员会看到")},
    )


class AgreementForm(CommunityMixin, forms.Form):
    organization = OrganizationChoiceField(label=_("报到单位党组织"), queryset=None)
    signed_on = forms.DateField(label=_("签订日期"), widget=DateInput())
    ends_on = forms.DateField(
        label=_("有效期至"), required=False, widget=DateInput(), help_text=_("长期有效的留空")
    )
    note = forms.CharField(
        label=_("说明"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        user: BaseViewer,
        communities: Any,
        agreement: Agreement | None = None,
        **kwargs: Any,
    ) -> None:
        if agreement is not None:
            kwargs.setdefault(
                "initial",
                {
                    "community": agreement.community_id,
                    "community_name": agreement.community_name,
                    "signed_on": agreement.signed_on,
                    "ends_on": agreement.ends_on,
                    "note": agreement.note,
                },
            )
        super().__init__(*args, **kwargs)
        if agreement is None:
            cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
                user=user, action="add", app_label="service"
            )
        else:
            del self.fields["organization"]
        self.add_community_fields(communities)
        self.fields["community"].label = _("共建社区")
        self.order_fields(["organization", "community", "community_name", "signed_on", "ends_on", "note"])


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("清单"), choices=ListKind.choices)
    title = forms.CharField(label=_("事项"), max_length=200)
    detail = forms.CharField(
        label=_("内容"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.CharField(label=_("负责人"), max_length=50, required=False, help_text=_("项目清单填写"))
    due = forms.DateField(
        label=_("完成时限"), required=False, widget=DateInput(), help_text=_("项目清单填写")
    )
    status = forms.ChoiceField(label=_("进度"), choices=ItemStatus.choices, initial=ItemStatus.PLANNED)

    def __init__(self, *args: Any, item: AgreementItem | None = None, **kwargs: Any) -> None:
        if item is not None:
            kwargs.setdefault(
                "initial",
                {f: getattr(item, f) for f in ("kind", "title", "detail", "owner", "due", "status")},
            )
        super().__init__(*args, **kwargs)


def _local_now() -> datetime:
    now = timezone.localtime()
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class VolunteerForm(forms.Form):
    organization = OrganizationChoiceField(label=_("组织单位"), queryset=None)
    topic = forms.CharField(
        label=_("活动主题"), max_length=200, help_text=_("如“疫苗接种现场服务”“政策宣传进小区”")
    )
    kind = forms.ChoiceField(label=_("服务类型"), choices=ServiceKind.choices)
    date = forms.DateField(label=_("日期"), widget=DateInput())
    start_time = forms.TimeField(label=_("开始"), widget=TimeInput())
    end_time = forms.TimeField(label=_("结束"), widget=TimeInput())
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    capacity = forms.IntegerField(
        label=_("招募人数"), min_value=1, max_value=10000, required=False, help_text=_("不限人数留空")
    )
    signup_date = forms.DateField(
        label=_("报名截止日期"), required=False, widget=DateInput(), help_text=_("留空则活动开始前均可报名")
    )
    open_to_subtree = forms.BooleanField(label=_("下级组织的党员也可报名"), required=False, initial=True)

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        start = _local_now()
        kwargs.setdefault(
            "initial",
            {
                "date": start.date(),
                "start_time": start.time(),
                "end_time": (start + timedelta(hours=2)).time(),
            },
        )
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label="service"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            data["start"] = timezone.make_aware(datetime.combine(day, start))
            data["end"] = timezone.make_aware(datetime.combine(day, end))
            if data["end"] <= data["start"]:
                self.add_error("end_time", _("结束时间应晚于开始时间"))
        signup = data.get("signup_date")
        data["signup_until"] = (
            timezone.make_aware(datetime.combine(signup, datetime.max.time().replace(microsecond=0)))
            if signup
            else None
        )
        return data


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX, required=False)
