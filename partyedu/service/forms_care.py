"""Forms of the care area. Short and phone-first: the organisation is chosen on the page (``?organization=``)
before the form, so each form lists only that branch's members."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.forms import DateInput
from partyedu.core.types import BaseViewer
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.models import Member
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import AidKind, DifficultyKind, FundSource, PairKind, TalkKind
from .models import PRIVATE_NOTE_MAX

# The most members a select lists (a branch holds at most 50; a larger subtree asks for a branch).
MEMBER_CHOICES_MAX = 300


def year_choices() -> list[tuple[int, int]]:
    this = timezone.localdate().year
    return [(y, y) for y in range(this, this - 5, -1)]


def member_choices(members: QuerySet[Member]) -> list[tuple[str, str]]:
    return [("", "请选择")] + [(str(m.pk), m.name) for m in members[:MEMBER_CHOICES_MAX]]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class OrgPeriodForm(forms.Form):
    """An organisation in the user's scope and a year (and a month, for the birthdays): the filter
    of the coverage, totals and birthday pages."""

    organization = OrganizationChoiceField(label=_("党组织（含下级）"), queryset=None, required=False)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)
    month = forms.TypedChoiceField(
        label=_("月份"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[(m, f"{m}月") for m in range(1, 13)],
    )

    def __init__(
        self,
        *args: Any,
        user: BaseViewer,
        action: str = "view",
        month: bool = False,
        year: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action=action, app_label="service"
        )
        cast(forms.ChoiceField, self.fields["year"]).choices = year_choices()
        self.fields["year"].initial = timezone.localdate().year
        if not year:
            del self.fields["year"]
        if month:
            self.fields["month"].initial = timezone.localdate().month
        else:
            del self.fields["month"]

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_bound and self.is_valid() else None


def parse_year(raw: str | None) -> int:
    if raw and raw.isdigit() and YEAR_MIN <= int(raw) <= YEAR_MAX:
        return int(raw)
    return timezone.localdate().year


class TalkForm(forms.Form):
    party_a = forms.ChoiceField(label=_("谈话人"))
    party_b = forms.ChoiceField(label=_("谈话对象"))
    date = forms.DateField(label=_("谈话日期"), widget=DateInput())
    kind = forms.ChoiceField(label=_("谈话类型"), choices=TalkKind.choices, initial=TalkKind.COMMITTEE_MEMBER)
    note = forms.CharField(
        label=_("谈话要点（不公开）"),
        required=False,
        max_length=PRIVATE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("只有谈话双方和支部委员会能看到，不导出"),
    )

    def __init__(
        self, *args: Any, members: QuerySet[Member], own: Member | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        choices = member_choices(members)
        cast(forms.ChoiceField, self.fields["party_b"]).choices = choices
        self.own: Member | None = own
        if own is not None:
            # A member records their own talk: they are the first party.
            del self.fields["party_a"]
            self.fields["party_b"].label = _("和谁谈话")
        else:
            cast(forms.ChoiceField, self.fields["party_a"]).choices = choices

    def parties(self) -> list[int]:
        first = self.own.pk if self.own is not None else int(self.cleaned_data["party_a"])
        return [first, int(self.cleaned_data["party_b"])]


class TalkRuleForm(forms.Form):
    member_pairs = forms.BooleanField(
        label=_("党员与党员之间也须两两谈话"),
        required=False,
        help_text=_("不勾选时，只统计委员与委员、委员与党员之间的谈话（支部委员会与每名党员每年至少谈一次）"),
    )


class CareCaseForm(forms.Form):
    member = forms.ChoiceField(label=_("党员"))
    kind = forms.ChoiceField(label=_("困难类型"), choices=DifficultyKind.choices)
    since = forms.DateField(label=_("开始日期"), widget=DateInput())
    note = forms.CharField(
        label=_("情况说明（不公开）"),
        required=False,
        max_length=PRIVATE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("只有持关怀帮扶权限的支部委员会和上级可见，不导出"),
    )

    def __init__(self, *args: Any, members: QuerySet[Member], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("since", timezone.localdate())
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["member"]).choices = member_choices(members)


class CareCaseEndForm(forms.Form):
    ended_on = forms.DateField(label=_("结束日期"), widget=DateInput())


OCCASIONS = ("春节走访", "七一慰问", "重阳节慰问", "生病探望", "生活困难帮扶")


class CareVisitForm(forms.Form):
    member = forms.ChoiceField(label=_("党员"))
    date = forms.DateField(label=_("日期"), widget=DateInput())
    occasion = forms.CharField(
        label=_("事由"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "care-occasions", "placeholder": _("如：春节走访")}),
    )
    visitors = forms.CharField(label=_("走访人"), max_length=100, required=False)
    aid_kind = forms.ChoiceField(label=_("帮扶方式"), choices=AidKind.choices)
    amount = forms.DecimalField(
        label=_("金额（元）"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text=_("慰问品可填折合金额；超过审批线的须经上级党组织审批后计入"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    fund_source = forms.ChoiceField(
        label=_("资金来源"), required=False, choices=[("", _("无（未发放资金）")), *FundSource.choices]
    )
    note = forms.CharField(
        label=_("情况（不公开）"),
        required=False,
        max_length=PRIVATE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("只有持关怀帮扶权限的人员可见，不导出"),
    )

    def __init__(self, *args: Any, members: QuerySet[Member] | None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        if members is None:
            del self.fields["member"]  # the member is fixed (from a case's page)
        else:
            cast(forms.ChoiceField, self.fields["member"]).choices = member_choices(members)


class PolicyForm(forms.Form):
    organization = OrganizationChoiceField(label=_("党组织（含下级）"), queryset=None)
    aid_approval_threshold = forms.DecimalField(
        label=_("帮扶金额审批线（元）"),
        min_value=0,
        max_digits=10,
        decimal_places=2,
        initial=500,
        help_text=_("单次帮扶金额超过此数，须经上级党组织审批后才计入发放总数"),
    )

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from partyedu.core.scope import policy_paths, subtree_q

        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="care", app_label="service")
        # The threshold is the organisation department's (an org_admin over the subtree).
        field.queryset = field.queryset.filter(subtree_q("path", policy_paths(user)))


class CarePairForm(forms.Form):
    elder = forms.ChoiceField(label=_("老党员"))
    younger = forms.ChoiceField(label=_("青年党员"))
    kind = forms.ChoiceField(label=_("结对类型"), choices=PairKind.choices)
    since = forms.DateField(label=_("结对日期"), widget=DateInput())

    def __init__(self, *args: Any, members: QuerySet[Member], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("since", timezone.localdate())
        super().__init__(*args, **kwargs)
        choices = member_choices(members)
        cast(forms.ChoiceField, self.fields["elder"]).choices = choices
        cast(forms.ChoiceField, self.fields["younger"]).choices = choices


class ThemeDayForm(forms.Form):
    day = forms.DateField(label=_("日期"), widget=DateInput())
    start = forms.TimeField(label=_("开始"), widget=TimeInput())
    end = forms.TimeField(label=_("结束"), widget=TimeInput())
    topic = forms.CharField(label=_("主题"), max_length=200)
