"""Forms of the organiser's exam pages: the list filter and the exam itself (create and edit).
They collect and label input; ``exam_create`` / ``exam_update`` validate and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.learning.choices import HourKind
from partyedu.members.models import Member
from partyedu.members.pii_index import id_number_index
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.models import TrainingClass

from .choices import ExamKind, Grading, ShowAnswers, TargetKind
from .models import Paper
from .selectors.results import ExamStatus

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_CHOICES = 500


class ExamFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *ExamStatus.CHOICES]
    )
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *ExamKind.choices])
    q = forms.CharField(label=_("名称"), required=False, max_length=100)

    def filters(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}


class ExamSettingsForm(forms.Form):
    """What ``exam_update`` may change (the window, limits, grading and display)."""

    title = forms.CharField(label=_("考试名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=ExamKind.choices,
        initial=ExamKind.EXAM,
        help_text=_("练习（应知应会）不限次数，交卷后即显示答案与解析，只向上级报告“已练习”"),
    )
    opens_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME)
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=DATETIME)
    time_limit_minutes = forms.IntegerField(
        label=_("答题时长（分钟）"), required=False, min_value=1, max_value=1440, help_text=_("不限时请留空")
    )
    grace_seconds = forms.IntegerField(
        label=_("交卷宽限（秒）"),
        min_value=0,
        max_value=600,
        initial=60,
        help_text=_("到时后仍接受答案的秒数，应对网络延迟"),
    )
    attempts_allowed = forms.IntegerField(
        label=_("允许次数"), min_value=0, max_value=100, initial=1, help_text=_("0 表示不限")
    )
    grading = forms.ChoiceField(label=_("成绩取法"), choices=Grading.choices, initial=Grading.HIGHEST)
    pass_score = forms.DecimalField(
        label=_("及格分"), min_value=0, max_digits=7, decimal_places=2, initial=60
    )
    show_answers = forms.ChoiceField(
        label=_("答案与解析"), choices=ShowAnswers.choices, initial=ShowAnswers.AFTER_CLOSE
    )
    counts_as_hours = forms.BooleanField(
        label=_("计入学时"),
        required=False,
        initial=False,
        help_text=_(
            "默认不计入：考试成绩只记入党员年度记录，作为评议依据。选中后，每名党员按成绩取法计算的成绩及格时，"
            "按下方学时数和类别记入学时台账一次；练习和竞赛轮次不计入"
        ),
    )
    credit_hours = forms.DecimalField(
        label=_("计入学时数"),
        required=False,
        min_value=Decimal("0.1"),
        max_value=Decimal(8),
        max_digits=4,
        decimal_places=1,
        initial=Decimal("1.0"),
        help_text=_("每名及格党员计入的学时，最多8学时"),
    )
    credit_kind = forms.ChoiceField(
        label=_("学时类别"),
        required=False,
        choices=HourKind.choices,
        initial=HourKind.ONLINE,
        help_text=_("在手机上参加的考试一般为网络学习；培训班集中组织的结业考试可选集中培训"),
    )
    completion_required = forms.BooleanField(
        label=_("作为结业条件"),
        required=False,
        initial=False,
        help_text=_("只用于面向培训班学员的考试：学员出勤达到结业比例且本考试及格，才算结业"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("counts_as_hours")
            and data.get("credit_hours") is None
            and "credit_hours" not in self.errors
        ):
            self.add_error("credit_hours", _("计入学时时请填写计入学时数"))
        return data

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ExamSettingsForm.base_fields}
        # Left empty (a form that predates the switch, a client that omits them): the model's defaults.
        for name in ("credit_hours", "credit_kind"):
            if data[name] in (None, ""):
                data.pop(name)
        return data


class PaperChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title}（{obj.organization.name} · {obj.get_kind_display()}）"


class ExamCreateForm(ExamSettingsForm):
    organization = OrganizationChoiceField(label=_("主办组织"), queryset=None)
    paper = PaperChoiceField(
        label=_("试卷"),
        queryset=Paper.objects.none(),
        help_text=_("试卷应属于主办组织；没有合适的试卷请先到“试卷”中组卷"),
    )
    target_kind = forms.ChoiceField(
        label=_("参考范围"),
        choices=TargetKind.choices,
        initial=TargetKind.SUBTREE,
        widget=forms.RadioSelect,
        help_text=_("按组织或培训班确定参考人员时，不含免于硬性要求的党员（年老体弱等），除非在下方指名"),
    )
    training_class = forms.ModelChoiceField(
        label=_("培训班（结业考试）"), required=False, queryset=TrainingClass.objects.none()
    )
    target_members = forms.CharField(
        label=_("指定党员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("每行一名：姓名或身份证号")}),
        help_text=_(
            "参考范围为“指定党员”时只由这些党员参加；为培训班时是追加的参考人员（可含免于硬性要求的党员）"
        ),
    )

    field_order = [
        "organization",
        "title",
        "kind",
        "paper",
        "target_kind",
        "training_class",
        "target_members",
    ]

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        picker = cast(OrganizationChoiceField, self.fields["organization"])
        picker.restrict_to(user=user, action="add", app_label="exams")
        papers = (
            Paper.objects.restrict(user, "add").select_related("organization").order_by("-id")[:MAX_CHOICES]
        )
        paper_field = cast(PaperChoiceField, self.fields["paper"])
        paper_field.queryset = Paper.objects.filter(pk__in=[p.pk for p in papers]).select_related(
            "organization"
        )
        classes = cast(forms.ModelChoiceField, self.fields["training_class"])
        classes.queryset = TrainingClass.objects.restrict(user, "view").order_by("-id")
        classes.empty_label = _("不选")

    def clean_target_members(self) -> list[int]:
        """Each line a 身份证号 or a name, resolved among the members the user sees; problems as
        第N行 messages."""
        text = self.cleaned_data.get("target_members") or ""
        members = Member.objects.restrict(self.user, "view", app_label="exams").filter(is_active=True)
        ids: list[int] = []
        errors: list[str] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            if len(line) == 18 and line[:17].isdigit():
                found = list(
                    members.filter(id_number_hash=id_number_index(line.upper())).values_list("pk", flat=True)[
                        :2
                    ]
                )
            else:
                found = list(members.filter(name=line).values_list("pk", flat=True)[:2])
            if not found:
                errors.append(f"第{number}行：未找到党员“{line}”，或不在您的管理范围内")
            elif len(found) > 1:
                errors.append(f"第{number}行：有多名党员叫“{line}”，请改填身份证号")
            elif found[0] not in ids:
                ids.append(found[0])
        if errors:
            raise forms.ValidationError(errors)
        return ids

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("target_kind")
        if kind == TargetKind.TRAINING_CLASS and not data.get("training_class"):
            self.add_error("training_class", _("请选择培训班"))
        if (
            kind == TargetKind.MEMBERS
            and not data.get("target_members")
            and "target_members" not in self.errors
        ):
            self.add_error("target_members", _("请填写指定党员"))
        if kind == TargetKind.SUBTREE and data.get("target_members"):
            # exam_create turns any named list without a class into a members-only exam.
            self.add_error(
                "target_members", _("按组织发布时不能追加指定党员；请改选“指定党员”或“培训班学员”")
            )
        return data

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        kind = self.cleaned_data["target_kind"]
        data["paper"] = self.cleaned_data["paper"]
        data["target_members"] = self.cleaned_data.get("target_members") or []
        if kind == TargetKind.TRAINING_CLASS:
            data["training_class"] = self.cleaned_data["training_class"]
        return data
