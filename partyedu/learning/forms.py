"""Forms of the learning pages: the completion view's organisation and year, the resource list's
filters, the forms an organisation department uses to publish and edit a resource, the hour
requirement of a subtree, and a manual hour record and its cancellation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.scope import can_set_policy, policy_paths, subtree_q
from partyedu.members.selectors import default_organization
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.forms import OrgYearForm

from . import selectors
from .choices import MEDIA_KINDS, CreditMode, HourKind, ResourceKind
from .media import duration_seconds_of
from .models import Column, OnlineResource
from .services import MAX_MANUAL_HOURS

MANUAL_YEARS_BACK = 4


class SummaryFilterForm(OrgYearForm):
    """An organisation in the user's learning scope (default: the top of it) and a year."""

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, user=user, app_label="learning", **kwargs)


class CandidateFilterForm(forms.Form):
    """The 发展对象 training list: an organisation in the user's learning scope (default: the top
    of it) and whether to show only those who have not met the rule."""

    organization = OrganizationChoiceField(label=_("组织（含下级）"), queryset=None, required=False)
    only_short = forms.BooleanField(label=_("只看未达到的"), required=False)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label="learning"
        )

    def values(self) -> tuple[Any, bool]:
        """The organisation (default: the top of the user's scope when it is one organisation)
        and the 未达到 filter."""
        org, only_short = None, False
        if self.is_bound and self.is_valid():
            org, only_short = self.cleaned_data.get("organization"), self.cleaned_data["only_short"]
        if org is None and not (self.is_bound and self.errors.get("organization")):
            org = default_organization(self.user, action="view", app_label="learning")
        return org, only_short


class ResourceFilterForm(forms.Form):
    column = forms.TypedChoiceField(label=_("栏目"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *ResourceKind.choices]
    )

    def __init__(self, *args: Any, columns: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["column"]).choices = [("", _("全部栏目")), *columns]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


def _duration_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("时长（分钟）"),
        required=False,
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=1,
        help_text=_("音视频可不填：按文件的实际播放时长计；课件、文章填需要的阅读时间"),
    )


def _credit_hours_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("学完计入学时"),
        initial=Decimal("1"),
        min_value=Decimal("0.1"),
        max_value=Decimal("8"),
        max_digits=3,
        decimal_places=1,
        help_text=_("学完（实际播放或阅读达95%）后计入网络学习学时，每人一次"),
    )


def _duration_seconds(form: forms.Form, data: dict[str, Any], kind: str | None, needs_typed: bool) -> None:
    """Minutes typed → ``data["duration_seconds"]`` (None when left empty, for media whose file
    may tell); reading time must be typed."""
    minutes = data.get("duration_minutes")
    data["duration_seconds"] = (
        int((minutes * 60).to_integral_value(rounding=ROUND_HALF_UP)) if minutes is not None else None
    )
    if minutes is None and needs_typed and "duration_minutes" not in form.errors:
        if kind in MEDIA_KINDS:
            form.add_error("duration_minutes", _("请填写播放时长（分钟）"))
        else:
            form.add_error("duration_minutes", _("请填写需要的阅读时间（分钟）"))


class ColumnChoiceField(forms.ModelChoiceField):
    """A column, labelled with its organisation (columns of two organisations may share a name)."""

    def label_from_instance(self, obj: Column) -> str:
        return f"{obj.name}（{obj.organization.display_name}）"


class ResourceForm(forms.Form):
    """Publish a video, audio, courseware (PDF) or article to an organisation's subtree."""

    organization = OrganizationChoiceField(
        label=_("发布组织"), queryset=None, help_text=_("本组织及全部下级组织的党员可以学习")
    )
    kind = forms.ChoiceField(label=_("类型"), choices=ResourceKind.choices, initial=ResourceKind.VIDEO)
    title = forms.CharField(label=_("标题"), max_length=200)
    column = ColumnChoiceField(label=_("栏目"), queryset=None, required=False, empty_label=_("不分栏目"))
    new_column = forms.CharField(
        label=_("或新建栏目"), required=False, max_length=100, help_text=_("如：教育学习园地")
    )
    issue_no = forms.IntegerField(label=_("期号"), required=False, min_value=1)
    file = forms.FileField(
        label=_("文件"),
        required=False,
        help_text=_("视频：MP4、WebM；音频：MP3、M4A；课件：PDF。文章不需要上传文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".mp4,.webm,.mp3,.m4a,.pdf"}),
    )
    body = forms.CharField(
        label=_("文章正文"), required=False, widget=forms.Textarea(attrs={"rows": 8}), max_length=200000
    )
    duration_minutes = _duration_field()
    credit_hours = _credit_hours_field()
    publish = forms.BooleanField(label=_("立即发布"), required=False, initial=True)

    FIELD_MAP = {"duration_seconds": "duration_minutes"}

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="add", app_label="learning")
        if not self.is_bound:
            field.initial = default_organization(user, action="add", app_label="learning")
        cast(ColumnChoiceField, self.fields["column"]).queryset = selectors.column_list(user=user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("column") and data.get("new_column"):
            self.add_error("new_column", _("已选择栏目时不用新建栏目"))
        kind = data.get("kind")
        # Media with a file: the service reads the length from it (and asks when it cannot).
        _duration_seconds(self, data, kind, needs_typed=kind not in MEDIA_KINDS)
        return data


class ResourceEditForm(forms.Form):
    """Change what a resource says and credits. Its organisation, type and file stay (publish a
    new resource for another file); audio and video whose file tells its length keep that."""

    title = forms.CharField(label=_("标题"), max_length=200)
    column = ColumnChoiceField(label=_("栏目"), queryset=None, required=False, empty_label=_("不分栏目"))
    new_column = forms.CharField(label=_("或新建栏目"), required=False, max_length=100)
    issue_no = forms.IntegerField(label=_("期号"), required=False, min_value=1)
    body = forms.CharField(label=_("文章正文"), widget=forms.Textarea(attrs={"rows": 12}), max_length=200000)
    duration_minutes = _duration_field()
    credit_hours = _credit_hours_field()

    FIELD_MAP = ResourceForm.FIELD_MAP

    def __init__(
        self, *args: Any, user: Viewer, resource: OnlineResource, file_seconds: float | None, **kwargs: Any
    ) -> None:
        self.resource = resource
        self.file_seconds = file_seconds
        initial = {
            "title": resource.title,
            "column": resource.column_id,
            "issue_no": resource.issue_no,
            "body": resource.body,
            "duration_minutes": (Decimal(resource.duration_seconds) / 60).quantize(Decimal("0.1")),
            "credit_hours": resource.credit_hours,
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        column = cast(ColumnChoiceField, self.fields["column"])
        column.queryset = selectors.resource_column_choices(user=user, resource=resource)
        if resource.kind != ResourceKind.ARTICLE:
            del self.fields["body"]
        if file_seconds is not None:
            # The file says how long it plays: nothing to type.
            del self.fields["duration_minutes"]
        elif resource.kind in MEDIA_KINDS:
            self.fields["duration_minutes"].help_text = _("无法从文件中读取播放时长，请填写")
        else:
            self.fields["duration_minutes"].label = _("需要的阅读时间（分钟）")
            self.fields["duration_minutes"].help_text = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("column") and data.get("new_column"):
            self.add_error("new_column", _("已选择栏目时不用新建栏目"))
        if "duration_minutes" in self.fields:
            _duration_seconds(self, data, self.resource.kind, needs_typed=True)
        return data

    def service_data(self) -> dict[str, Any]:
        """What ``resource_update`` takes (the column as chosen; a new one is made by the view)."""
        d = self.cleaned_data
        data = {
            "title": d["title"],
            "column": d.get("column"),
            "issue_no": d.get("issue_no"),
            "credit_hours": d["credit_hours"],
        }
        if "body" in self.fields:
            data["body"] = d["body"]
        if "duration_minutes" in self.fields:
            data["duration_seconds"] = d["duration_seconds"]
        elif self.file_seconds is not None:
            data["duration_seconds"] = duration_seconds_of(self.file_seconds)
        return data


# --- hour requirements -----------------------------------------------------------------------------


def _hours_field(label: Any, help_text: Any = "", *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_value=Decimal("500"),
        max_digits=4,
        decimal_places=1,
        help_text=help_text,
        error_messages={
            "min_value": _("学时不能为负数"),
            "max_value": _("学时应在0到500之间"),
            "max_decimal_places": _("学时最多一位小数"),
        },
    )


class HourRequirementForm(forms.Form):
    """Set (create or replace) the annual hour requirement of an organisation's subtree."""

    organization = OrganizationChoiceField(
        label=_("适用组织"),
        queryset=None,
        help_text=_("规定适用于该组织及其全部下级组织；下级组织另有规定的，从其规定"),
    )
    general_hours = _hours_field(
        _("党员每年学时"), _("条例规定每年集中学习培训不少于32学时；填 0 表示不作要求")
    )
    cadre_hours = _hours_field(_("基层党组织书记、班子成员每年学时"), _("默认不少于56学时"))
    cadre_needs_concentrated = forms.BooleanField(
        label=_("书记、班子成员每年须参加至少一次集中培训"), required=False
    )
    cadre_concentrated_min_hours = forms.DecimalField(
        label=_("不是培训班结业的，集中培训须满（学时）"),
        min_value=Decimal("0.5"),
        max_value=Decimal("100"),
        max_digits=4,
        decimal_places=1,
        help_text=_(
            "结业一个培训班即算参加过一次集中培训；否则本年度集中培训须满这些学时，默认8学时（一整天）"
        ),
        error_messages={
            "min_value": _("至少0.5学时"),
            "max_value": _("不能超过100学时"),
            "max_decimal_places": _("学时最多一位小数"),
        },
    )
    candidate_hours = _hours_field(_("发展对象集中培训学时"), _("发展对象只计集中培训学时，默认不少于24学时"))
    counts_online = forms.BooleanField(
        label=_("网络学习学时计入每年要求"),
        required=False,
        help_text=_("条例要求的是集中学习培训：不勾选时只计集中培训和集体学习，网络学习单独显示"),
    )
    online_cap = _hours_field(
        _("网络学习每年最多计入（学时）"), _("勾选计入时有效；留空表示不设上限"), required=False
    )
    counts_self = forms.BooleanField(
        label=_("自学学时计入每年要求"),
        required=False,
        help_text=_("不勾选时自学学时单独显示，不计入"),
    )
    self_cap = _hours_field(
        _("自学每年最多计入（学时）"), _("勾选计入时有效；留空表示不设上限"), required=False
    )
    online_daily_cap_minutes = forms.IntegerField(
        label=_("网络学习每日计入上限（分钟）"),
        min_value=0,
        max_value=1440,
        help_text=_("防止刷学时；0 表示不限"),
    )

    FIELDS = (
        "general_hours",
        "cadre_hours",
        "cadre_needs_concentrated",
        "cadre_concentrated_min_hours",
        "candidate_hours",
        "counts_online",
        "online_cap",
        "counts_self",
        "self_cap",
        "online_daily_cap_minutes",
    )

    def __init__(self, *args: Any, user: Viewer, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="change", app_label="learning")
        policy = policy_paths(user)
        field.queryset = field.queryset.filter(subtree_q("path", policy))
        if not self.is_bound:
            org = organization or default_organization(user, action="change", app_label="learning")
            if org is not None and can_set_policy(user, org):
                # Start from the rule in force there (its own, one above, or the defaults).
                rule = selectors.rule_for_path(org.path)
                field.initial = org
                for name in self.FIELDS:
                    self.fields[name].initial = getattr(rule, name)

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class HourRequirementDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我已确认删除该组织自己的学时要求，改按上级组织的要求（或默认要求）统计"),
        error_messages={"required": _("请勾选确认")},
    )


# --- manual hour records ----------------------------------------------------------------------------


class ManualHoursForm(forms.Form):
    """Hours no activity or resource in the system produced: 自学, a course at another party
    school, 集中培训 attended elsewhere."""

    year = forms.IntegerField(
        label=_("年度"),
        error_messages={"required": _("请填写年度"), "invalid": _("年度应为四位数字，如 2026")},
    )
    kind = forms.ChoiceField(label=_("学时类别"), choices=HourKind.choices, initial=HourKind.SELF)
    hours = forms.DecimalField(
        label=_("学时"),
        max_digits=5,
        decimal_places=1,
        help_text=_("1小时计1学时，半天计4学时，一天计8学时"),
        error_messages={
            "required": _("请填写学时"),
            "invalid": _("请填写数字，如 4 或 2.5"),
            "max_decimal_places": _("学时最多一位小数"),
            "max_digits": format_lazy(_("单次登记不超过{}学时"), MAX_MANUAL_HOURS),
            "max_whole_digits": format_lazy(_("单次登记不超过{}学时"), MAX_MANUAL_HOURS),
        },
    )
    description = forms.CharField(
        label=_("学习内容"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：2026年4月 自学《习近平新时代中国特色社会主义思想学习纲要》；市委党校春季班"),
        error_messages={
            "required": _("请填写学习内容"),
            "max_length": _("学习内容不超过200字"),
        },
    )

    def __init__(self, *args: Any, year: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.this_year = timezone.localdate().year
        self.fields["year"].initial = year or self.this_year
        self.fields["year"].help_text = _("学时计入的年度（%(a)d—%(b)d年）") % {
            "a": self.this_year - MANUAL_YEARS_BACK,
            "b": self.this_year,
        }

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        first = self.this_year - MANUAL_YEARS_BACK
        if not first <= year <= self.this_year:
            raise forms.ValidationError(
                _("年度应在%(a)d到%(b)d年之间，不能登记以后年度的学时") % {"a": first, "b": self.this_year}
            )
        return year

    def clean_hours(self) -> Decimal:
        hours = self.cleaned_data["hours"]
        if hours <= 0:
            raise forms.ValidationError(_("学时应大于0。要扣减登记错的学时，请在学时明细中撤销那一条登记"))
        if hours > MAX_MANUAL_HOURS:
            raise forms.ValidationError(_("单次登记不超过%(n)s学时") % {"n": MAX_MANUAL_HOURS})
        return hours

    def clean_description(self) -> str:
        text = self.cleaned_data["description"].strip()
        if not text:
            raise forms.ValidationError(_("请填写学习内容"))
        return text


class ManualReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：重复登记；学时数填错，已重新登记"),
        error_messages={"required": _("请填写撤销原因"), "max_length": _("撤销原因不超过200字")},
    )

    def clean_reason(self) -> str:
        text = self.cleaned_data["reason"].strip()
        if not text:
            raise forms.ValidationError(_("请填写撤销原因"))
        return text


class ResourceDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我已确认删除该资源及其文件，删除后无法恢复"),
        error_messages={"required": _("请勾选确认")},
    )


# --- which activities credit hours ------------------------------------------------------------------

# The choice that removes the organisation's own rule for a type (the one above applies again).
INHERIT = "inherit"


class CreditRuleOrganizationForm(forms.Form):
    """The organisation whose table of which activities credit hours is shown."""

    organization = OrganizationChoiceField(label=_("组织"), queryset=None, required=False)

    def __init__(self, *args: Any, user: Viewer, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="view", app_label="learning")
        field.initial = organization


class CreditRuleForm(forms.Form):
    """How attending one activity type credits hours in an organisation's subtree: its own rule,
    or the rule above it (``INHERIT``)."""

    mode = forms.ChoiceField(label=_("学时认定方式"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, current: Any, inherited: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if inherited.source == "default":
            above = format_lazy(_("按默认规定（{mode}）"), mode=inherited.mode_label)
        else:
            above = format_lazy(
                _("按“{name}”的规定（{mode}）"), name=inherited.set_at, mode=inherited.mode_label
            )
        field = cast(forms.ChoiceField, self.fields["mode"])
        field.choices = [(INHERIT, above), *CreditMode.choices]
        field.initial = current.mode if current.source == "own" else INHERIT
