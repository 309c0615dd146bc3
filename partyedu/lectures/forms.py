"""Forms of the lectures pages. They parse what a secretary types on a phone (a member by name, a
list of topics one a line, expertise separated by commas) into the data the services take; the
services apply the rules (scope, attendance, deadlines, fairness)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import CheckboxGroup, DateInput
from partyedu.learning.models import OnlineResource
from partyedu.members.selectors import default_organization
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.forms import (
    MemberNamesField,
    OrgYearForm,
    resolve_members,
    year_choices,
)
from partyedu.study.models import Activity

from . import selectors
from .choices import LectureFileKind, LecturerCategory, LectureType, TaskStatus
from .models import Lecture, Lecturer, LectureSeries, Rotation, TopicCall

APP = "lectures"
ALL = [("", _("全部"))]
TAG_SEPARATORS = re.compile(r"[\s,，、;；]+")
MAX_CHOICES = 300


def _filters(form: forms.Form) -> dict[str, Any]:
    if not form.is_bound:
        return {}
    form.is_valid()
    data = dict(getattr(form, "cleaned_data", {}))
    return {key: value for key, value in data.items() if value not in ("", None, False)}


def _field(form: forms.Form, name: str) -> Any:
    """A field of the form, typed loosely: choice and organisation fields get their choices and
    scope after the form is built."""
    return form.fields[name]


def _org_field(label: Any, **kwargs: Any) -> OrganizationChoiceField:
    return OrganizationChoiceField(label=label, queryset=None, **kwargs)


def _picked_org(form: forms.Form, user: Viewer, action: str, levels: Any = None) -> None:
    """Limit the form's organisation picker to the user's ``action`` scope and start it with the
    user's own organisation."""
    field = _field(form, "organization")
    field.restrict_to(user=user, action=action, app_label=APP, levels=levels)
    if not form.is_bound and field.initial is None:
        field.initial = default_organization(user, action, APP)


# --- the lecturer pool ---------------------------------------------------------------------------


class LecturerFilterForm(forms.Form):
    organization = _org_field(_("师资库（含下级）"), required=False, empty_label=_("全部师资库"))
    q = forms.CharField(
        label=_("姓名、单位或称号"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("如：张、党校、金牌讲师")}),
    )
    tag = forms.CharField(label=_("专长"), required=False, max_length=30)
    category = forms.ChoiceField(label=_("讲师类别"), required=False, choices=ALL + LecturerCategory.choices)
    include_above = forms.BooleanField(label=_("含上级组织的师资库"), required=False)
    include_inactive = forms.BooleanField(label=_("含已移出师资库的"), required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "organization").restrict_to(user=user, action="view", app_label=APP)

    def filters(self) -> dict[str, Any]:
        return _filters(self)


class LecturerForm(forms.Form):
    """Add a lecturer (a member picked by name or ID number, or an outside person) or edit one.
    Editing, the pool and the member are fixed."""

    organization = _org_field(_("所属师资库"), help_text=_("讲师所在的师资库（组织）"))
    member_name = forms.CharField(
        label=_("对应党员"),
        required=False,
        max_length=50,
        help_text=_("本系统的党员填姓名或身份证号（重名的填身份证号）；外请讲师留空，填写下面的姓名"),
    )
    name = forms.CharField(label=_("姓名"), required=False, max_length=50)
    category = forms.ChoiceField(
        label=_("讲师类别"),
        required=False,
        choices=[("", _("按党员类别自动确定")), *LecturerCategory.choices],
    )
    unit = forms.CharField(label=_("工作单位"), required=False, max_length=100)
    title = forms.CharField(
        label=_("称号"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如：金牌讲师")}),
    )
    tags = forms.CharField(
        label=_("专长"),
        required=False,
        max_length=400,
        help_text=_("多个专长用逗号、顿号或空格分开，如：党史、乡村振兴、廉政"),
    )
    bio = forms.CharField(
        label=_("简介"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Viewer, instance: Lecturer | None = None, **kwargs: Any) -> None:
        self.user = user
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "category": instance.category,
                    "unit": instance.unit,
                    "title": instance.title,
                    "tags": "、".join(t.name for t in instance.tags.all()),
                    "bio": instance.bio,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is None:
            _picked_org(self, user, "add")
        else:
            del self.fields["organization"]
            del self.fields["member_name"]
            _field(self, "category").choices = LecturerCategory.choices
            if instance.member_id:
                del self.fields["name"]

    def clean_member_name(self) -> int | None:
        text = (self.cleaned_data.get("member_name") or "").strip()
        if not text:
            return None
        ids = resolve_members(user=self.user, text=text)
        if len(ids) != 1:
            raise ValidationError(_("请只填写一名党员"))
        return ids[0]

    def clean_tags(self) -> list[str]:
        return [t for t in TAG_SEPARATORS.split(self.cleaned_data.get("tags") or "") if t]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {name: d[name] for name in ("name", "category", "unit", "title", "tags", "bio") if name in d}
        if self.instance is None:
            data["organization"] = d["organization"]
            data["member"] = d.get("member_name")
        return data

    FIELD_MAP = {"member": "member_name"}


# --- lectures ------------------------------------------------------------------------------------


class LectureFilterForm(forms.Form):
    organization = _org_field(_("组织（含下级）"), required=False, empty_label=_("全部组织"))
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)
    lecture_type = forms.ChoiceField(label=_("党课类型"), required=False, choices=ALL + LectureType.choices)
    q = forms.CharField(
        label=_("题目"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("题目包含的文字")}),
    )
    cross = forms.BooleanField(label=_("只看交叉讲党课"), required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "organization").restrict_to(user=user, action="view", app_label=APP)
        _field(self, "year").choices = [("", _("全部年度")), *year_choices()]

    def filters(self) -> dict[str, Any]:
        return _filters(self)


class LecturersField(forms.TypedMultipleChoiceField):
    """Lecturers ticked among those of the pools the user may use, in the order of the tree
    (pools above first), each labelled with their pool."""

    widget = CheckboxGroup

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        super().__init__(**kwargs)


class LectureForm(forms.Form):
    """Record or edit the lecture of a 党课 activity: title, type, speakers, summary, the topic it
    answers and its materials."""

    title = forms.CharField(label=_("党课题目"), max_length=200)
    lecture_type = forms.ChoiceField(
        label=_("党课类型"), choices=LectureType.choices, initial=LectureType.STANDARD
    )
    lecturers = LecturersField(
        label=_("主讲人"), help_text=_("可选多人。师资库中没有的，请先在师资库中添加（外请讲师也可添加）")
    )
    summary = forms.CharField(
        label=_("内容摘要"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    task = forms.TypedChoiceField(label=_("对应点题任务"), required=False, coerce=int, empty_value=None)
    slides = forms.FileField(label=_("课件"), required=False, help_text=_("PPT、PPTX、PDF"))
    script = forms.FileField(label=_("讲稿"), required=False, help_text=_("Word、WPS、PDF、TXT"))
    video = forms.FileField(label=_("视频"), required=False, help_text=_("MP4、WebM"))
    remove_files = forms.TypedMultipleChoiceField(
        label=_("删除资料"), required=False, coerce=int, widget=CheckboxGroup
    )

    def __init__(
        self, *args: Any, user: Viewer, activity: Activity, lecture: Lecture | None = None, **kwargs: Any
    ) -> None:
        self.user = user
        self.activity = activity
        self.lecture = lecture
        self.existing_files = list(lecture.files.all()) if lecture is not None else []
        current = (
            set(lecture.speakers.values_list("lecturer_id", flat=True)) if lecture is not None else set()
        )
        if lecture is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": lecture.title,
                    "lecture_type": lecture.lecture_type,
                    "lecturers": sorted(current),
                    "summary": lecture.summary,
                    "task": lecture.task_id,
                },
            )
        else:
            kwargs.setdefault("initial", {"title": activity.topic})
        super().__init__(*args, **kwargs)
        choices = selectors.lecturer_choices(
            user=user, organization=activity.organization, include_inactive=True
        )
        rows = choices.filter(Q(pk__in=list(current)) | Q(is_active=True)).values_list(
            "pk", "name", "title", "organization__short_name", "organization__name"
        )[:MAX_CHOICES]
        # Plain values, not 300 lecturers and their organisations as model instances.
        _field(self, "lecturers").choices = [
            (pk, f"{name}{f'（{title}）' if title else ''} · {short_name or org_name}")
            for pk, name, title, short_name, org_name in rows
        ]
        tasks = selectors.task_choices(user=user, current=lecture.task if lecture is not None else None)
        task_rows = [(t.pk, f"{t.proposal.title}（{t.organization.name}）") for t in tasks[:MAX_CHOICES]]
        if task_rows:
            _field(self, "task").choices = [("", _("无")), *task_rows]
        else:
            del self.fields["task"]
        if lecture is not None and self.existing_files:
            _field(self, "remove_files").choices = [
                (f.pk, f"{f.get_kind_display()}：{f.name}") for f in self.existing_files
            ]
        else:
            del self.fields["remove_files"]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        files = [{"kind": kind, "file": d[kind]} for kind in LectureFileKind.values if d.get(kind)]
        data: dict[str, Any] = {
            "title": d["title"],
            "lecture_type": d["lecture_type"],
            "lecturers": d["lecturers"],
            "summary": d.get("summary", ""),
            "files": files,
        }
        if "task" in self.fields:
            data["task"] = d.get("task")
        if "remove_files" in self.fields:
            data["remove_files"] = d.get("remove_files") or []
        return data


class LectureDeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("我已确认删除该党课记录及其资料和评价（活动和出勤不受影响）"))


SCORE_CHOICES = [(n, f"{n}分") for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("评分"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect, help_text=_("5分最好")
    )
    comment = forms.CharField(
        label=_("评语（选填，匿名）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("您的评语只以匿名方式展示给组织，不会显示您的姓名")}
        ),
    )


# --- duty and statistics -------------------------------------------------------------------------


class LecturesOrgYearForm(OrgYearForm):
    """An organisation in the user's lectures scope (default: the top of it) and a year."""

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, user=user, app_label=APP, **kwargs)


DUTY_SHOW = [("", _("全部")), ("no", _("尚未讲党课")), ("yes", _("已讲党课"))]


class DutyForm(LecturesOrgYearForm):
    show = forms.ChoiceField(label=_("显示"), required=False, choices=DUTY_SHOW)

    def lectured(self) -> bool | None:
        value = self.cleaned_data.get("show") if self.is_bound and self.is_valid() else ""
        return {"no": False, "yes": True}.get(value or "")


# --- rotation ------------------------------------------------------------------------------------


class RotationForm(forms.Form):
    organization = _org_field(_("支部"))
    title = forms.CharField(
        label=_("名称"), max_length=100, initial=_("支部党课大家讲"), widget=forms.TextInput()
    )
    start_date = forms.DateField(label=_("首次日期"), widget=DateInput())
    weeks = forms.IntegerField(label=_("周数"), min_value=1, max_value=52, initial=12)
    topics = forms.CharField(
        label=_("每周主题"),
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "学习党章\n党史故事\n身边的榜样"}),
        help_text=_("每行一个主题，按周依次使用；主题少于周数时循环使用"),
    )
    members = MemberNamesField(
        label=_("主讲党员（选填）"), help_text=_("留空则为本支部（含党小组）全体党员，年老体弱免于要求的除外")
    )
    include_exempt = forms.BooleanField(label=_("也安排年老体弱、免于要求的党员"), required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        self.user = user
        kwargs.setdefault("initial", {"start_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        levels = {OrgLevel.BRANCH, OrgLevel.GENERAL_BRANCH, OrgLevel.GROUP}
        _picked_org(self, user, "add", levels)

    def clean_topics(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("topics") or "").splitlines() if line.strip()]

    def clean_members(self) -> list[int] | None:
        text = self.cleaned_data.get("members") or ""
        return resolve_members(user=self.user, text=text) if text.strip() else None

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "organization": d["organization"],
            "title": d["title"],
            "start_date": d["start_date"],
            "weeks": d["weeks"],
            "topics": d["topics"],
            "members": d.get("members"),
            "include_exempt": d.get("include_exempt", False),
        }


class SlotForm(forms.Form):
    member = forms.TypedChoiceField(label=_("主讲党员"), coerce=int)
    topic = forms.CharField(label=_("主题"), max_length=200)

    def __init__(self, *args: Any, rotation: Rotation, slot: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"member": slot.member_id, "topic": slot.topic})
        super().__init__(*args, **kwargs)
        from partyedu.members.models import Member

        members = Member.objects.filter(rotation.organization.subtree_q("org_path"), is_active=True).order_by(
            "org_path", "name", "id"
        )[:MAX_CHOICES]
        _field(self, "member").choices = [(m.pk, m.name) for m in members]


# --- topic calls ---------------------------------------------------------------------------------


class TopicCallForm(forms.Form):
    organization = _org_field(_("征集组织"), help_text=_("向本组织及全部下级组织征集"))
    title = forms.CharField(label=_("征集名称"), max_length=200)
    deadline = forms.DateField(label=_("截止日期"), widget=DateInput())
    description = forms.CharField(
        label=_("说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _picked_org(self, user, "add")


class ProposalForm(forms.Form):
    organization = _org_field(_("申报组织"))
    title = forms.CharField(label=_("选题"), max_length=200)
    description = forms.CharField(
        label=_("说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Viewer, call: TopicCall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _picked_org(self, user, "add")
        field = _field(self, "organization")
        field.queryset = field.queryset.filter(call.organization.subtree_q())


class AssignForm(forms.Form):
    organization = _org_field(_("承接组织"), required=False, empty_label=_("不指定组织"))
    lecturer = forms.TypedChoiceField(label=_("承接讲师"), required=False, coerce=int, empty_value=None)
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=DateInput())

    def __init__(self, *args: Any, user: Viewer, call: TopicCall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = _field(self, "organization")
        field.restrict_to(user=user, action="view", app_label=APP)
        field.queryset = field.queryset.filter(call.organization.subtree_q())
        lecturers = selectors.lecturer_choices(user=user, organization=call.organization).values_list(
            "pk", "name", "organization__name"
        )[:MAX_CHOICES]
        _field(self, "lecturer").choices = [("", _("不指定讲师"))] + [
            (pk, f"{name}（{org_name}）") for pk, name, org_name in lecturers
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("organization") and not data.get("lecturer") and not self.errors:
            raise ValidationError(_("请指定承接的组织或讲师"))
        return data


TASK_STATUS = [("", _("全部")), *TaskStatus.choices]


class TaskFilterForm(forms.Form):
    organization = _org_field(_("组织（含下级）"), required=False, empty_label=_("全部组织"))
    status = forms.ChoiceField(label=_("状态"), required=False, choices=TASK_STATUS)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "organization").restrict_to(user=user, action="view", app_label=APP)

    def filters(self) -> dict[str, Any]:
        return _filters(self)


# --- the library ---------------------------------------------------------------------------------


class SeriesForm(forms.Form):
    organization = _org_field(_("出品组织"))
    title = forms.CharField(label=_("系列名称"), max_length=200)
    description = forms.CharField(
        label=_("简介"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, user: Viewer, instance: LectureSeries | None = None, **kwargs: Any
    ) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {"title": instance.title, "description": instance.description})
        super().__init__(*args, **kwargs)
        if instance is None:
            _picked_org(self, user, "add")
        else:
            del self.fields["organization"]


def _series_choices(user: Viewer) -> list[tuple[Any, Any]]:
    return [("", _("不属于系列"))] + [
        (s.pk, f"{s.title}（{s.organization.name}）")
        for s in selectors.library_series_list(user=user)[:MAX_CHOICES]
    ]


class LibraryItemForm(forms.Form):
    series = forms.TypedChoiceField(label=_("所属系列"), required=False, coerce=int, empty_value=None)
    honour = forms.CharField(
        label=_("荣誉"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：2026年全市优秀党课")}),
    )
    show_from = forms.DateField(label=_("展播开始"), required=False, widget=DateInput())
    show_until = forms.DateField(label=_("展播结束"), required=False, widget=DateInput())
    sort_order = forms.IntegerField(label=_("排序"), required=False, min_value=0, initial=0)

    def __init__(self, *args: Any, user: Viewer, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "series": instance.series_id,
                    "honour": instance.honour,
                    "show_from": instance.show_from,
                    "show_until": instance.show_until,
                    "sort_order": instance.sort_order,
                },
            )
        super().__init__(*args, **kwargs)
        _field(self, "series").choices = _series_choices(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("show_from"), data.get("show_until")
        if start and end and end < start:
            self.add_error("show_until", _("展播结束日期不能早于开始日期"))
        return data

    def item_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "series": d.get("series"),
            "honour": d.get("honour", ""),
            "show_from": d.get("show_from"),
            "show_until": d.get("show_until"),
            "sort_order": d.get("sort_order") or 0,
        }


class PublishForm(LibraryItemForm):
    """Publish a lecture to the library: a new video (or audio, or PDF) or a resource already
    published as online study, with its series, lecturer, honour and showing dates."""

    organization = _org_field(_("展播范围"), help_text=_("本组织及全部下级组织的党员可以学习"))
    title = forms.CharField(label=_("标题"), required=False, max_length=200)
    file = forms.FileField(
        label=_("党课视频"), required=False, help_text=_("MP4、WebM 视频，也可以是 MP3 音频或 PDF 课件")
    )
    resource = forms.TypedChoiceField(
        label=_("或选择已有的学习资源"), required=False, coerce=int, empty_value=None
    )
    lecturer = forms.TypedChoiceField(label=_("主讲人"), required=False, coerce=int, empty_value=None)
    credit_hours = forms.DecimalField(
        label=_("学完计入学时"),
        initial=Decimal("1"),
        min_value=Decimal("0.1"),
        max_value=Decimal("8"),
        max_digits=3,
        decimal_places=1,
        help_text=_("学完（实际播放达95%）后计入网络学习学时，每人一次"),
    )
    duration_minutes = forms.DecimalField(
        label=_("时长（分钟）"),
        required=False,
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=1,
        help_text=_("可不填：按视频的实际播放时长计；课件填需要的阅读时间"),
    )
    field_order = [
        "organization",
        "title",
        "file",
        "resource",
        "lecturer",
        "series",
        "honour",
        "show_from",
        "show_until",
        "credit_hours",
        "duration_minutes",
        "sort_order",
    ]

    def __init__(self, *args: Any, user: Viewer, lecture: Lecture | None = None, **kwargs: Any) -> None:
        self.lecture = lecture
        if lecture is not None:
            kwargs.setdefault("initial", {"title": lecture.title})
        super().__init__(*args, user=user, **kwargs)
        _picked_org(self, user, "add")
        in_library = OnlineResource.objects.filter(library_item__isnull=False)
        resources = (
            OnlineResource.objects.restrict(user, "change")
            .exclude(pk__in=in_library.values("pk"))
            .order_by("-id")[:MAX_CHOICES]
        )
        _field(self, "resource").choices = [("", _("不选择，上传新文件"))] + [
            (r.pk, r.title) for r in resources
        ]
        lecturers = selectors.lecturer_choices(user=user).values_list("pk", "name", "organization__name")[
            :MAX_CHOICES
        ]
        initial_lecturers = []
        if lecture is not None:
            initial_lecturers = [s.lecturer_id for s in lecture.speakers.all()]
            if initial_lecturers and not self.is_bound:
                _field(self, "lecturer").initial = initial_lecturers[0]
        _field(self, "lecturer").choices = [("", _("不指定"))] + [
            (pk, f"{name}（{org_name}）") for pk, name, org_name in lecturers
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("file")) == bool(data.get("resource")) and not self.errors:
            raise ValidationError(_("请上传党课视频，或选择已有的学习资源（二者选一）"))
        if data.get("file") and not (data.get("title") or "").strip():
            self.add_error("title", _("请填写标题"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        minutes = d.get("duration_minutes")
        seconds = (
            int((minutes * 60).to_integral_value(rounding=ROUND_HALF_UP)) if minutes is not None else None
        )
        return {
            "organization": d["organization"],
            "title": d.get("title", ""),
            "file": d.get("file"),
            "resource": d.get("resource"),
            "lecturer": d.get("lecturer"),
            "lecture": self.lecture.pk if self.lecture is not None else None,
            "credit_hours": d["credit_hours"],
            "duration_seconds": seconds,
            **self.item_data(),
        }

    FIELD_MAP = {"duration_seconds": "duration_minutes", "kind": "file", "body": "file"}
