"""Forms of publication (公示), objections (异议), the veto (一票否决) and the ranking switch. They
parse input only; the rules (and their Chinese messages) are the services'."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import (
    PUBLICATION_DAYS_DEFAULT,
    PUBLICATION_DAYS_MAX,
    PUBLICATION_DAYS_MIN,
    ObjectionStatus,
    PublicationPeriod,
    VetoCategory,
)
from .models import PointsEntry, PointsItem
from .services.derive import points_text
from .services.publication import PUBLISHING_LEVELS


class PublicationForm(forms.Form):
    organization = OrganizationChoiceField(label=_("公示组织"), queryset=None)
    year = forms.IntegerField(
        label=_("年度"), min_value=2000, max_value=2100, error_messages={"required": _("请填写年度")}
    )
    period = forms.ChoiceField(label=_("公示范围"), choices=PublicationPeriod.choices)
    days = forms.IntegerField(
        label=_("公示天数"),
        min_value=PUBLICATION_DAYS_MIN,
        max_value=PUBLICATION_DAYS_MAX,
        initial=PUBLICATION_DAYS_DEFAULT,
        help_text=_("从今天起公示的天数，1到30天"),
        error_messages={"required": _("请填写公示天数")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year, "days": PUBLICATION_DAYS_DEFAULT})
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="change", app_label="points", levels=PUBLISHING_LEVELS
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写撤回原因")},
    )


class ObjectionForm(forms.Form):
    """A member's objection: one of their lines of the period (or none, for a missing item), the
    item (taken from the line when one is chosen) and the reason."""

    # Radio buttons, not a select: on a phone a select cuts the line's description off, and the
    # member must see which meeting or record they object to.
    entry = forms.ChoiceField(label=_("有异议的积分记录"), required=False, widget=forms.RadioSelect)
    item = forms.ChoiceField(
        label=_("积分项目"), required=False, help_text=_("选择了积分记录时可不选；漏记的项目请在这里选择")
    )
    reason = forms.CharField(
        label=_("异议理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请写明异议理由")},
    )

    def __init__(
        self, *args: Any, entries: list[PointsEntry], items: list[PointsItem], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.entries = {str(e.pk): e for e in entries}
        cast(forms.ChoiceField, self.fields["entry"]).choices = [("", _("（漏记，不选记录）"))] + [
            (
                e.pk,
                f"{e.source_date:%m-%d} {e.item.name} {'+' if e.points > 0 else '−'}{points_text(abs(e.points))}："
                f"{e.description[:60]}",
            )
            for e in entries
        ]
        cast(forms.ChoiceField, self.fields["item"]).choices = [("", "—")] + [(i.pk, i.name) for i in items]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        entry = self.entries.get(data.get("entry") or "")
        if not data.get("item"):
            if entry is None:
                self.add_error("item", _("请选择积分项目或有异议的积分记录"))
            else:
                data["item"] = entry.item_id
        return data


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=[
            (ObjectionStatus.UPHELD, _("异议成立，更正积分")),
            (ObjectionStatus.REJECTED, _("异议不成立")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择处理结果")},
    )
    points = forms.DecimalField(
        label=_("更正分值"),
        max_digits=6,
        decimal_places=1,
        required=False,
        help_text=_("异议成立时填写：正数加分，负数减分（如扣错了2分，填 2）"),
        error_messages={"invalid": _("更正分值应为数字，如 2 或 -1.5")},
    )
    answer = forms.CharField(
        label=_("答复"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("党员本人可以看到；异议成立时作为更正记录的说明"),
        error_messages={"required": _("请填写答复")},
    )


class VetoForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    category = forms.ChoiceField(label=_("否决情形"), choices=VetoCategory.choices)
    reason = forms.CharField(
        label=_("否决理由"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写否决理由，党员本人可以看到")},
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销理由"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写撤销理由")},
    )


class RankingForm(forms.Form):
    organization = OrganizationChoiceField(label=_("党支部"), queryset=None)
    enabled = forms.TypedChoiceField(
        label=_("支部内排名"),
        choices=[("1", _("开启")), ("0", _("关闭"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="change", app_label="points", levels={OrgLevel.BRANCH}
        )
