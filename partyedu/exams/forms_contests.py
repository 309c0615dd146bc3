"""Forms of the contest pages: a contest, a round (new or edited), their deletion, a live
session. Services validate again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import AdvanceUnit, Grading
from .models import Contest, ContestRound, Paper

APP = "exams"
# What stays editable in a round that members have started.
ROUND_OPEN_FIELDS = ("name", "closes_at")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ContestEditForm(forms.Form):
    """A contest's own fields (its organisation is chosen once, when it is made). Whether it is
    tiered can change only before its first round is added."""

    title = forms.CharField(label=_("竞赛名称"), max_length=200)
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    tiered = forms.BooleanField(
        label=_("逐级晋级"), required=False, help_text=_("各单位优胜者晋级下一轮（如支部初赛、区级决赛）")
    )
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self, *args: Any, contest: Contest | None = None, has_rounds: bool = False, **kwargs: Any
    ) -> None:
        if contest is not None:
            kwargs.setdefault(
                "initial", {name: getattr(contest, name) for name in ContestEditForm.base_fields}
            )
        super().__init__(*args, **kwargs)
        if has_rounds:
            tiered = self.fields["tiered"]
            tiered.disabled = True
            tiered.help_text = _("竞赛已有轮次，不能再更改是否逐级晋级")


class ContestForm(ContestEditForm):
    organization = OrganizationChoiceField(label=_("主办组织"), queryset=None)

    field_order = ["organization", "title", "starts_on", "ends_on", "tiered", "description"]

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )


class RoundForm(forms.Form):
    name = forms.CharField(label=_("轮次名称"), max_length=100, help_text=_("如：第一周、支部初赛、区级决赛"))
    paper = forms.ModelChoiceField(label=_("试卷"), queryset=Paper.objects.none())
    opens_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME)
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=DATETIME)
    time_limit_minutes = forms.IntegerField(label=_("答题时长（分钟）"), min_value=1, required=False)
    attempts_allowed = forms.IntegerField(
        label=_("每人答题次数上限"),
        min_value=1,
        max_value=20,
        initial=1,
        help_text=_("本轮每名党员最多答题次数"),
    )
    grading = forms.ChoiceField(label=_("成绩取法"), choices=Grading.choices, initial=Grading.HIGHEST)
    advance_by = forms.ChoiceField(label=_("晋级方式"), choices=AdvanceUnit.choices, required=False)
    advance_value = forms.IntegerField(label=_("晋级名额"), min_value=1, required=False)

    def __init__(
        self,
        *args: Any,
        contest: Contest,
        round_: ContestRound | None = None,
        locked: bool = False,
        **kwargs: Any,
    ) -> None:
        """``round_`` for an edit (its values are the initial ones); ``locked`` once it has
        attempts: only the name and the closing time stay editable."""
        if round_ is not None:
            kwargs.setdefault("initial", RoundForm.initial_of(round_))
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["paper"]).queryset = Paper.objects.filter(
            organization=contest.organization
        ).order_by("-id")
        if not contest.tiered:
            del self.fields["advance_by"]
            del self.fields["advance_value"]
        if locked:
            for name, field in self.fields.items():
                if name not in ROUND_OPEN_FIELDS:
                    field.disabled = True

    @staticmethod
    def initial_of(round_: ContestRound) -> dict[str, Any]:
        exam = round_.exam
        return {
            "name": round_.name,
            "paper": exam.paper_id,
            "opens_at": timezone.localtime(exam.opens_at),
            "closes_at": timezone.localtime(exam.closes_at),
            "time_limit_minutes": exam.time_limit_minutes,
            "attempts_allowed": exam.attempts_allowed,
            "grading": exam.grading,
            "advance_by": round_.advance_by,
            "advance_value": round_.advance_value,
        }


class ContestDeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("我已确认删除该竞赛及其全部轮次（试卷保留）"))


class RoundDeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("我已确认删除该轮次（试卷保留）"))


class LiveForm(forms.Form):
    round = forms.ModelChoiceField(
        label=_("题目来源（竞赛轮次的试卷）"), queryset=ContestRound.objects.none()
    )
    title = forms.CharField(label=_("现场竞赛名称"), max_length=200, required=False)
    seconds_per_question = forms.IntegerField(
        label=_("每题限时（秒）"), min_value=5, max_value=600, initial=30
    )
    question_count = forms.IntegerField(
        label=_("题数（留空为全部）"), min_value=1, max_value=100, required=False
    )
    teams = forms.CharField(
        label=_("参赛队"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个队名；留空则以主办组织的下一级组织为参赛队"),
    )

    def __init__(self, *args: Any, contest: Contest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["round"]).queryset = contest.rounds.order_by("sequence")
