from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.forms import DateInput
from partyedu.core.types import BaseViewer
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.models import Activity

from .choices import STEP_ORDER, FollowUpMeasure, Grade, StepCode
from .models import COMMENT_MAX, DEFAULT_EXCELLENT_SHARE, SELF_EVALUATION_MAX, Appraisal, AppraisalStep
from .services import PlannedDates


class ScheduleMixin:
    """Two date fields per step (``<code>_start``, ``<code>_end``) and the schedule they give."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def add_schedule_fields(self, steps: list[AppraisalStep] | None = None) -> None:
        planned = {s.code: s for s in steps or []}
        for code in STEP_ORDER:
            label = StepCode(code).label
            step = planned.get(code)
            self.fields[f"{code}_start"] = forms.DateField(
                label=_("%(step)s 计划开始") % {"step": label},
                required=False,
                widget=DateInput(),
                initial=step.planned_start if step else None,
            )
            self.fields[f"{code}_end"] = forms.DateField(
                label=_("%(step)s 计划结束") % {"step": label},
                required=False,
                widget=DateInput(),
                initial=step.planned_end if step else None,
            )

    def schedule(self) -> dict[str, PlannedDates]:
        return {
            code: PlannedDates(self.cleaned_data.get(f"{code}_start"), self.cleaned_data.get(f"{code}_end"))
            for code in STEP_ORDER
        }


class AppraisalCreateForm(ScheduleMixin, forms.Form):
    organization = OrganizationChoiceField(label=_("党支部"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    excellent_percent = forms.DecimalField(
        label=_("优秀比例上限（%）"),
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        initial=Decimal("33.33"),
        help_text=_("评为优秀的人数超过参评党员数的这一比例时，须写明理由报上级党组织；默认三分之一"),
    )

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label="appraisal"
        )
        self.add_schedule_fields()

    def excellent_share(self) -> Decimal:
        percent = self.cleaned_data.get("excellent_percent")
        if percent is None:
            return DEFAULT_EXCELLENT_SHARE
        if percent == Decimal("33.33"):
            return DEFAULT_EXCELLENT_SHARE
        return (percent / 100).quantize(Decimal("0.0001"))


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.start:%Y-%m-%d} {obj.get_activity_type_display()} {obj.topic}"


class AppraisalEditForm(ScheduleMixin, forms.Form):
    meeting = MeetingChoiceField(
        label=_("民主测评会议"),
        queryset=Activity.objects.none(),
        required=False,
        help_text=_("进行民主测评投票的支部党员大会或组织生活会（本支部本年度的活动）"),
    )

    def __init__(self, *args: Any, appraisal: Appraisal, steps: list[AppraisalStep], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"meeting": appraisal.meeting_id})
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["meeting"])
        field.queryset = Activity.objects.filter(
            organization=appraisal.organization, start__year=appraisal.year
        ).order_by("-start")[:200]
        self.add_schedule_fields(steps)


class ParticipantAddForm(forms.Form):
    member = forms.ChoiceField(label=_("增加参评党员"), error_messages={"required": _("请选择党员")})

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["member"]).choices = [
            ("", "—"),
            *((m.pk, m.name) for m in members),
        ]


class SelfEvaluationForm(forms.Form):
    text = forms.CharField(
        label=_("自我评价"),
        max_length=SELF_EVALUATION_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "对照党员标准，从思想、学习、工作、作风、纪律等方面总结一年来的表现，查找不足，最多2000字"
        ),
        error_messages={"required": _("请填写自我评价")},
    )


class PeerCommentForm(forms.Form):
    appraisee = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    text = forms.CharField(
        label=_("评议意见"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不记名，最多500字；留空并保存即撤回"),
    )


class FollowUpCloseForm(forms.Form):
    closing_note = forms.CharField(
        label=_("办结情况"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写办结情况（整改结果或处置结果）")},
    )


class StepCloseForm(forms.Form):
    """The confirmation of closing a step (no field: the button is the answer)."""


GRADE_CHOICES = Grade.choices
MEASURE_CHOICES = [("", "—"), *FollowUpMeasure.choices]
