"""Forms of the service app's community area. Short forms with big inputs for the phone pages
(a member's pledge, completing a pledge, logging a resident's request, booking a room); the
organisation department's forms pick organisations with the scoped picker. The services check
every rule again; a form only shapes the input."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import DateInput
from partyedu.core.scope import scope_for, subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.forms import MultipleImageField, TimeInput
from partyedu.study.models import Activity

from .choices import GridRole, PledgeStatus
from .models import NOTE_MAX, Booking, GridUnit, Registration
from .services.community import GRID_ORG_TYPES, PHOTOS_MAX, PROGRESS_LINE_MAX

APP = "service"
BIG = {"class": "form-control form-control-lg"}


def _big(widget: forms.Widget) -> forms.Widget:
    widget.attrs.setdefault("class", "form-control form-control-lg")
    return widget


class CommunityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def benefiting_communities(*, user: Viewer) -> Any:
    """The communities a pledge may name as beneficiary in a form: those in the user's scope and
    those the user's units have a 共驻共建 agreement with (the service checks the same)."""
    paths = scope_for(user, "view", APP).paths
    if not paths:
        return Organization.objects.none()
    condition = subtree_q("path", paths) | subtree_q("community_agreements__organization__path", paths)
    return (
        Organization.objects.filter(condition, is_active=True, org_type__in=GRID_ORG_TYPES)
        .distinct()
        .order_by("path")
    )


# --- pledges -----------------------------------------------------------------------------------------


class PledgeForm(forms.Form):
    """An organisation's pledge (secretary, organisation department)."""

    organization = OrganizationChoiceField(label=_("承诺党组织"), queryset=None)
    title = forms.CharField(label=_("实事内容"), max_length=200, widget=_big(forms.TextInput()))
    beneficiary = forms.CharField(
        label=_("服务对象"), max_length=100, required=False, help_text=_("如：某某小区居民、辖区老年人")
    )
    community = CommunityChoiceField(
        label=_("受益社区"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("不指定"),
        help_text=_("可选：指定后，该社区党组织也可以确认办结"),
    )
    due = forms.DateField(label=_("承诺完成时间"), widget=DateInput(attrs=BIG))

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )
        cast(CommunityChoiceField, self.fields["community"]).queryset = benefiting_communities(user=user)


class MyPledgeForm(forms.Form):
    """A member's own pledge, on the phone: three fields."""

    title = forms.CharField(label=_("我要办的实事"), max_length=200, widget=_big(forms.TextInput()))
    beneficiary = forms.CharField(
        label=_("为谁办"), max_length=100, required=False, widget=_big(forms.TextInput())
    )
    due = forms.DateField(label=_("计划完成时间"), widget=DateInput(attrs=BIG))
    community = CommunityChoiceField(
        label=_("受益社区"), queryset=Organization.objects.none(), required=False, empty_label=_("不指定")
    )

    def __init__(self, *args: Any, member: Member | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(CommunityChoiceField, self.fields["community"])
        if member is None:
            field.queryset = Organization.objects.none()
        else:
            registered = Registration.objects.filter(member=member, ended_on__isnull=True).values("community")
            field.queryset = Organization.objects.filter(
                Q(pk__in=registered) | Q(path=member.org_path), org_type__in=GRID_ORG_TYPES
            ).order_by("path")
        if not field.queryset.exists():
            del self.fields["community"]


class PledgeFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *PledgeStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[("", _("全部")), ("org", _("组织承诺")), ("member", _("党员承诺"))],
    )
    waiting = forms.BooleanField(label=_("待我确认"), required=False)


class ProgressForm(forms.Form):
    note = forms.CharField(
        label=_("最新进展"),
        max_length=PROGRESS_LINE_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-lg"}),
    )


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=_("办结说明"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control form-control-lg"}),
        help_text=_("办了什么、结果如何，简要写明即可"),
    )
    photos = MultipleImageField(
        label=_("照片"), required=False, help_text=_("可选，最多%(n)d张") % {"n": PHOTOS_MAX}
    )
    completed_on = forms.DateField(
        label=_("办结日期"), required=False, widget=DateInput(attrs=BIG), help_text=_("不填为今天")
    )

    def clean_photos(self) -> list[Any]:
        photos = cast(list[Any], self.cleaned_data.get("photos") or [])
        if len(photos) > PHOTOS_MAX:
            raise forms.ValidationError(_("照片最多%(n)d张") % {"n": PHOTOS_MAX})
        return photos


# --- 联户 grid -----------------------------------------------------------------------------------------

PRIVACY_NOTE = _(
    "联户网格只记录联系党员和联系户数。居民只以门牌等住户标识出现，不登记居民的姓名、电话、身份证号等个人信息。"
)


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.organization.name}）"


def contact_choices(community: Organization) -> Any:
    """Members who may be a cell's contact: the community's own, and in-service members
    registered (报到) with it."""
    registered = Registration.objects.filter(community=community, ended_on__isnull=True).values("member")
    return (
        Member.objects.filter(subtree_q("org_path", [community.path]) | Q(pk__in=registered), is_active=True)
        .select_related("organization")
        .order_by("org_path", "name", "id")
    )


class GridUnitForm(forms.Form):
    role = forms.ChoiceField(label=_("网格层级"), choices=GridRole.choices)
    label = forms.CharField(
        label=_("网格名称"), max_length=50, help_text=_("如：第一片区、3号楼、幸福里小区二组")
    )
    parent = forms.ModelChoiceField(
        label=_("上级网格"), queryset=GridUnit.objects.none(), required=False, empty_label=_("无（最上一级）")
    )
    contact = ContactChoiceField(
        label=_("联系党员"), queryset=Member.objects.none(), required=False, empty_label=_("暂未确定")
    )
    households = forms.IntegerField(
        label=_("联系户数"), min_value=0, max_value=100_000, initial=0, help_text=PRIVACY_NOTE
    )

    def __init__(
        self, *args: Any, community: Organization, unit: GridUnit | None = None, **kwargs: Any
    ) -> None:
        if unit is not None:
            kwargs.setdefault(
                "initial",
                {
                    "role": unit.role,
                    "label": unit.label,
                    "parent": unit.parent_id,
                    "contact": unit.contact_id,
                    "households": unit.households,
                },
            )
        super().__init__(*args, **kwargs)
        cast(ContactChoiceField, self.fields["contact"]).queryset = contact_choices(community)
        if unit is None:
            parents = (
                GridUnit.objects.filter(community=community).exclude(role=GridRole.BUILDING).order_by("label")
            )
            cast(forms.ModelChoiceField, self.fields["parent"]).queryset = parents
        else:
            # Its place in the grid stays: only the name, the contact and the households change.
            del self.fields["role"]
            del self.fields["parent"]


class RequestForm(forms.Form):
    household = forms.CharField(
        label=_("住户"),
        max_length=50,
        widget=_big(forms.TextInput(attrs={"placeholder": _("如：5栋2单元301")})),
        help_text=_("只写门牌等住户标识，不写居民姓名、电话、身份证号"),
    )
    summary = forms.CharField(
        label=_("诉求"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-lg"}),
        help_text=_("如：楼道飞线充电、路口需要降坡"),
    )
    logged_on = forms.DateField(
        label=_("受理日期"), required=False, widget=DateInput(attrs=BIG), help_text=_("不填为今天")
    )
    handler = forms.CharField(label=_("办理人"), max_length=50, required=False)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("办理结果"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-lg"}),
    )
    households_benefited = forms.IntegerField(label=_("受益户数"), min_value=1, max_value=100_000, initial=1)
    resolved_on = forms.DateField(
        label=_("解决日期"), required=False, widget=DateInput(attrs=BIG), help_text=_("不填为今天")
    )


class StatsFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)


# --- centres and bookings -------------------------------------------------------------------------------


class CentreForm(forms.Form):
    organization = OrganizationChoiceField(label=_("管理党组织"), queryset=None)
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("如：市党群活动服务中心"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    requires_approval = forms.BooleanField(label=_("预约须经中心审核"), required=False, initial=True)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )


class CentreEditForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    requires_approval = forms.BooleanField(label=_("预约须经中心审核"), required=False)
    is_active = forms.BooleanField(label=_("开放预约"), required=False)


class RoomForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("如：一楼多功能厅"))
    capacity = forms.IntegerField(label=_("容纳人数"), min_value=1, max_value=10_000)
    is_active = forms.BooleanField(label=_("开放预约"), required=False, initial=True)


class BookingForm(forms.Form):
    """Book one room for a slot of one day (the phone page shows the day's taken slots above)."""

    organization = OrganizationChoiceField(label=_("预约单位"), queryset=None)
    day = forms.DateField(label=_("日期"), widget=DateInput(attrs=BIG))
    start_time = forms.TimeField(label=_("开始"), widget=TimeInput(attrs=BIG))
    end_time = forms.TimeField(label=_("结束"), widget=TimeInput(attrs=BIG))
    attendees = forms.IntegerField(
        label=_("人数"), min_value=1, max_value=100_000, widget=_big(forms.NumberInput())
    )
    purpose = forms.CharField(
        label=_("用途"),
        max_length=200,
        widget=_big(forms.TextInput(attrs={"placeholder": _("如：主题党日活动")})),
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )
        if not self.is_bound and "organization" not in self.initial:
            # A secretary books for their own organisation: offer it (the top of their scope).
            paths = scope_for(user, "add", APP).paths
            self.initial["organization"] = (
                Organization.objects.filter(path__in=paths)
                .order_by("path")
                .values_list("pk", flat=True)
                .first()
            )

    def moments(self) -> tuple[datetime, datetime]:
        day: date = self.cleaned_data["day"]
        begin: time = self.cleaned_data["start_time"]
        end: time = self.cleaned_data["end_time"]
        return (
            timezone.make_aware(datetime.combine(day, begin)),
            timezone.make_aware(datetime.combine(day, end)),
        )


class DecideForm(forms.Form):
    reason = forms.CharField(label=_("说明"), max_length=200, required=False, help_text=_("不通过时必填"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=200, required=False)


class ActivityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        start = timezone.localtime(obj.start)
        return f"{start:%m-%d %H:%M} {obj.topic}（{obj.organization.name}）"


class LinkActivityForm(forms.Form):
    activity = ActivityChoiceField(label=_("活动"), queryset=Activity.objects.none())

    def __init__(self, *args: Any, user: Viewer, booking: Booking, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ActivityChoiceField, self.fields["activity"]).queryset = (
            Activity.objects.restrict(user, "change", app_label="study")
            .filter(
                subtree_q("organization__path", [booking.organization.path]),
                start__lt=booking.end,
                end__gt=booking.start,
                booking__isnull=True,
            )
            .select_related("organization")
            .order_by("start", "id")
        )
