"""Forms of the development pages. Each collects what a service takes and limits its choices to
the user's scope; the services check every rule again (and say which) — a form's own checks are
only those of the input's shape (a date, a number, a choice)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import CheckboxGroup, DateInput, apply_validation_error
from partyedu.core.scope import policy_paths, subtree_q
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import ABOVE_STEPS, VOTE_STEPS, ConversionOutcome, DocumentKind, Recommendation, Stage, Step
from .models import NOTE_MAX, DevelopmentCase, DevelopmentPolicy
from .selectors_overview import ALERTS, PHASES

APP = "development"
ALL = [("", _("全部"))]

# The label of the date of each step (the day it happened; 公示: the day it ended).
DATE_LABELS: dict[str, str] = {
    Step.TALK: "谈话日期",
    Step.ACTIVIST: "支部委员会确定日期",
    Step.ASSESSMENT: "考察日期",
    Step.CANDIDATE: "支部委员会确定日期",
    Step.TRAINING_DONE: "培训结业日期",
    Step.COMMITTEE_REVIEW: "支委会审查日期",
    Step.PRE_REVIEW: "预审日期",
    Step.PUBLICITY: "公示结束日期",
    Step.ADMISSION_VOTE: "支部党员大会日期",
    Step.APPROVAL: "审批日期",
    Step.OATH: "宣誓日期",
    Step.CONVERSION_VOTE: "支部党员大会日期",
    Step.CONVERSION_APPROVAL: "审批日期",
}
PEOPLE_LABELS: dict[str, str] = {
    Step.TALK: "谈话人",
    Step.APPROVAL: "上级党委派出的谈话人",
    Step.OATH: "领誓人",
}
NOTE_LABELS: dict[str, str] = {
    Step.TALK: "谈话情况",
    Step.ASSESSMENT: "培养考察意见",
    Step.COMMITTEE_REVIEW: "政治审查结论和支委会审查意见",
}


def apply_rule_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's refusal on the form: each message beside its field; the rule codes
    (``RuleError``'s "rule" key, for the API) are not shown."""
    if hasattr(exc, "error_dict"):
        exc = ValidationError({k: v for k, v in exc.error_dict.items() if k != "rule"})
    apply_validation_error(cast(forms.Form, form), exc)


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("输入姓名")}),
    )
    organization = OrganizationChoiceField(
        label=_("党组织（含下级）"), queryset=None, required=False, empty_label=_("全部组织")
    )
    stage = forms.ChoiceField(label=_("发展阶段"), required=False, choices=ALL + Stage.choices)
    year = forms.IntegerField(label=_("申请年度"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)
    # Set by the overview's and the workbench's links (not shown as fields).
    phase = forms.ChoiceField(required=False, choices=[("", ""), *((k, label) for k, label, _s in PHASES)])
    stalled = forms.BooleanField(required=False)
    admitted = forms.IntegerField(required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    converted = forms.IntegerField(required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    alert = forms.ChoiceField(required=False, choices=[("", ""), *ALERTS.items()])

    LINK_FIELDS = ("phase", "stalled", "admitted", "converted", "alert")

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.LINK_FIELDS:
            self.fields[name].widget = forms.HiddenInput()
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label=APP
        )

    def filters(self) -> dict[str, Any]:
        """The filters of ``case_list_filtered``; a field that did not validate is ignored (and
        shown with its message)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        return {key: value for key, value in data.items() if value not in ("", None, False)}

    def link_labels(self) -> list[str]:
        """What the hidden link filters select, in words (shown above the list)."""
        filters = self.filters()
        labels = []
        if filters.get("phase"):
            labels.append({k: label for k, label, _s in PHASES}[filters["phase"]])
        if filters.get("stalled"):
            labels.append("停滞（长时间没有进展或已逾期）")
        if filters.get("admitted"):
            labels.append(f"{filters['admitted']}年接收的预备党员")
        if filters.get("converted"):
            labels.append(f"{filters['converted']}年转为正式党员")
        if filters.get("alert"):
            labels.append(ALERTS[filters["alert"]])
        return labels


class CaseCreateForm(forms.Form):
    organization = OrganizationChoiceField(
        label=_("党支部"), queryset=None, help_text=_("受理入党申请的党支部")
    )
    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")})
    id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=18,
        min_length=18,
        help_text=_("18位身份证号；出生日期和性别从号码中读取，申请人应年满18岁"),
        error_messages={
            "required": _("请填写身份证号"),
            "min_length": _("身份证号应为18位"),
            "max_length": _("身份证号应为18位"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    applied_on = forms.DateField(
        label=_("收到入党申请日期"),
        widget=DateInput(),
        error_messages={"required": _("请填写收到入党申请的日期"), "invalid": _("请填写日期（YYYY-MM-DD）")},
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP, levels={OrgLevel.BRANCH}
        )

    def clean_id_number(self) -> str:
        return str(self.cleaned_data["id_number"]).strip().upper()

    def service_data(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("organization", "name", "id_number", "applied_on")}


class MemberChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{timezone.localtime(obj.start):%Y-%m-%d} {obj.topic}"


class StepConfirmForm(forms.Form):
    """The fields one step uses (``step``), and no other: the date always; 培养联系人 and 推荐方式
    for 确定为入党积极分子; 入党介绍人 for 确定为发展对象 and 支委会审查; the meeting and the
    赞成票 for the branch meeting's votes; the start of the 公示; the decision on the conversion;
    the people and the note; and the 破例说明 for a user of the level above."""

    step = forms.CharField(widget=forms.HiddenInput())
    date = forms.DateField(
        label=_("日期"),
        widget=DateInput(),
        error_messages={"required": _("请填写日期"), "invalid": _("请填写日期（YYYY-MM-DD）")},
    )

    def __init__(
        self,
        *args: Any,
        case: DevelopmentCase,
        step: str,
        people: Any,
        meetings: Any,
        can_override: bool,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("step", step)
        kwargs["initial"].setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.case = case
        self.step_code = step
        self.step_label = str(Step(step).label)
        self.above = step in ABOVE_STEPS
        self.fields["date"].label = DATE_LABELS.get(step, "日期")
        if step == Step.ACTIVIST:
            self.fields["mentors"] = MemberChoices(
                label=_("培养联系人"),
                queryset=people,
                widget=CheckboxGroup(),
                help_text=_("1至2名正式党员"),
                error_messages={"required": _("请选择培养联系人")},
            )
            self.fields["recommendation"] = forms.ChoiceField(
                label=_("推荐方式"),
                choices=Recommendation.choices,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("请选择推荐方式")},
            )
        if step in (Step.CANDIDATE, Step.COMMITTEE_REVIEW):
            self.fields["sponsors"] = MemberChoices(
                label=_("入党介绍人"),
                queryset=people,
                widget=CheckboxGroup(),
                required=step == Step.COMMITTEE_REVIEW and not case.sponsors.exists(),
                help_text=_("2名正式党员；确定为发展对象时可先不填，支委会审查前须确定"),
                initial=list(case.sponsors.values_list("pk", flat=True))
                if step == Step.COMMITTEE_REVIEW
                else None,
                error_messages={"required": _("请选择入党介绍人")},
            )
        if step in VOTE_STEPS:
            self.fields["meeting"] = MeetingChoiceField(
                label=_("支部党员大会"),
                queryset=meetings,
                empty_label=_("请选择会议记录"),
                help_text=_("在“学习活动”中登记的本支部支部党员大会；应到、实到人数从会议出勤记录读取"),
                error_messages={"required": _("请选择讨论的支部党员大会（活动记录）")},
            )
            self.fields["yes_votes"] = forms.IntegerField(
                label=_("赞成票"),
                min_value=0,
                max_value=10000,
                error_messages={"required": _("请填写赞成票数"), "invalid": _("请填写整数")},
            )
        if step == Step.PUBLICITY:
            self.fields["start_on"] = forms.DateField(
                label=_("公示开始日期"),
                widget=DateInput(),
                error_messages={
                    "required": _("请填写公示开始日期"),
                    "invalid": _("请填写日期（YYYY-MM-DD）"),
                },
            )
        if step == Step.CONVERSION_VOTE:
            self.fields["outcome"] = forms.ChoiceField(
                label=_("讨论结果"),
                choices=ConversionOutcome.choices,
                initial=ConversionOutcome.CONVERT,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.fields["extension_months"] = forms.IntegerField(
                label=_("延长预备期（月）"),
                required=False,
                min_value=1,
                max_value=24,
                help_text=_("只在延长预备期时填写，一般为6至12个月"),
            )
        self.fields["people"] = forms.CharField(
            label=PEOPLE_LABELS.get(step, "相关人员"), required=False, max_length=200
        )
        self.fields["note"] = forms.CharField(
            label=NOTE_LABELS.get(step, "情况记录"),
            required=step == Step.COMMITTEE_REVIEW,
            max_length=NOTE_MAX,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={"required": _("请填写政治审查结论和支委会审查意见")},
        )
        if can_override:
            self.fields["override_reason"] = forms.CharField(
                label=_("破例说明（上级党委）"),
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("时限规则未满足而确需办理时填写理由；只在时限不符时填写，并记入审计日志"),
            )

    def clean_step(self) -> str:
        if self.cleaned_data.get("step") != self.step_code:
            raise ValidationError(_("请选择要确认的步骤"))
        return self.step_code

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step_code, "date": self.cleaned_data["date"]}
        for name, value in self.cleaned_data.items():
            if name in ("step", "date") or value in (None, "") or name not in self.fields:
                continue
            if name in ("mentors", "sponsors"):
                if not value:
                    continue
                data[name] = [m.pk for m in value]
            elif name == "meeting":
                data[name] = value.pk
            else:
                data[name] = value
        return data


class PeopleForm(forms.Form):
    """培养联系人 (an activist or candidate) and 入党介绍人 (a candidate)."""

    def __init__(self, *args: Any, case: DevelopmentCase, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        if case.stage in (Stage.ACTIVIST, Stage.CANDIDATE):
            self.fields["mentors"] = MemberChoices(
                label=_("培养联系人"),
                queryset=people,
                widget=CheckboxGroup(),
                initial=list(case.mentors.values_list("pk", flat=True)),
                error_messages={"required": _("请选择培养联系人")},
            )
        if case.stage == Stage.CANDIDATE:
            self.fields["sponsors"] = MemberChoices(
                label=_("入党介绍人"),
                queryset=people,
                widget=CheckboxGroup(),
                required=False,
                initial=list(case.sponsors.values_list("pk", flat=True)),
            )

    def service_data(self) -> dict[str, Any]:
        return {name: [m.pk for m in value] for name, value in self.cleaned_data.items()}


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("材料类型"),
        choices=[("", _("请选择")), *DocumentKind.choices],
        error_messages={"required": _("请选择材料类型")},
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_("PDF、图片、Word、WPS 或 OFD，不超过20MB；可用手机拍照上传"),
        error_messages={"required": _("请选择要上传的文件")},
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("终止原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如本人撤回申请、经培养考察不宜继续发展、组织关系转出等"),
        error_messages={"required": _("请填写终止原因")},
    )
    day = forms.DateField(label=_("终止日期"), widget=DateInput(), required=False, help_text=_("不填为今天"))


class OrganizationPickForm(forms.Form):
    organization = OrganizationChoiceField(label=_("党组织"), queryset=None)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label=APP
        )


class PlanForm(forms.Form):
    organization = OrganizationChoiceField(label=_("党组织"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    planned = forms.IntegerField(
        label=_("计划发展人数"),
        min_value=0,
        max_value=100000,
        error_messages={"required": _("请填写计划发展人数"), "min_value": _("计划人数不能为负数")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="change", app_label=APP)
        # The plan is the organisation department's (an org_admin over the organisation).
        field.queryset = field.queryset.filter(subtree_q("path", policy_paths(user)))


class PolicyForm(forms.ModelForm):
    """The timing rules of a subtree; the initial values are those that apply now."""

    class Meta:
        model = DevelopmentPolicy
        fields = [
            "min_age",
            "talk_within_months",
            "assessment_interval_months",
            "activist_min_months",
            "sponsors_required",
            "mentors_max",
            "publicity_days",
            "approval_within_months",
            "probation_months",
            "extension_min_months",
            "extension_max_months",
            "applicant_wait_days",
            "warn_days",
        ]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
