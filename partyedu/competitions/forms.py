"""Forms of the competition pages. They parse what organisers, reviewers and members type into
the data the services take; the services apply the rules (rubric sums to 100, scope, conflicts
of interest, scores 0–100, outstanding reviews) and their messages go back onto these forms."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePath
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import DateInput
from partyedu.core.scope import scope_for
from partyedu.lectures.choices import LectureType
from partyedu.lectures.selectors import library_series_for
from partyedu.members.idnumber import normalize_id_number
from partyedu.members.pii_index import id_number_index
from partyedu.members.selectors import member_list
from partyedu.organizations.models import Organization
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import GRADE_PRESETS, Aggregation, ConflictRule, GradeSet
from .models import Competition, Criterion, Review
from .services import MAX_AWARD_CATEGORIES, MAX_CRITERIA, MAX_GRADE_COUNT

APP = "competitions"
MB = 1024 * 1024
MAX_VIDEO_BYTES = 500 * MB
MAX_MATERIALS_BYTES = 50 * MB
VIDEO_EXTENSIONS = ("mp4", "m4v", "mov", "webm", "ogv")
MATERIAL_EXTENSIONS = ("pdf", "doc", "docx", "ppt", "pptx", "wps", "txt")
# What each aggregation method means, in the words an organiser reads on the round form.
AGGREGATION_HELP = {
    Aggregation.MEAN: _("各评委加权总分的算术平均。评委少、打分尺度接近时适用。"),
    Aggregation.TRIMMED_MEAN: _(
        "每件作品有5份及以上评分时，去掉一个最高分和一个最低分后再平均；不足5份时按平均分计算。"
        "可减少个别评委偏高或偏低的影响。"
    ),
    Aggregation.ZSCORE: _(
        "先把每位评委的总分换算成标准分：（该评委给这件作品的总分 − 该评委本轮全部评分的平均分）÷ "
        "该评委评分的标准差，再对作品的标准分求平均。评委各评不同作品、尺度宽严不一时适用；"
        "得分为标准分，0 表示与评委平均水平相当。"
    ),
}


def year_choices() -> list[tuple[int, str]]:
    this = timezone.localdate().year
    return [(y, f"{y}年") for y in range(this + 1, this - 5, -1)]


def _check_upload(upload: Any, extensions: tuple[str, ...], limit: int, what: Any) -> Any:
    if not upload:
        return upload
    name = getattr(upload, "name", "") or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in extensions:
        raise ValidationError(
            _("“%(name)s”不是%(what)s，请上传 %(ext)s 格式的文件")
            % {"name": name, "what": what, "ext": "、".join(extensions)}
        )
    if getattr(upload, "size", 0) > limit:
        raise ValidationError(
            _("“%(name)s”超过 %(mb)d MB，请压缩后再上传") % {"name": name, "mb": limit // MB}
        )
    return upload


class VideoField(forms.FileField):
    widget = forms.ClearableFileInput(attrs={"accept": "video/*"})

    def clean(self, data: Any, initial: Any = None) -> Any:
        return _check_upload(super().clean(data, initial), VIDEO_EXTENSIONS, MAX_VIDEO_BYTES, _("视频文件"))


class MaterialsField(forms.FileField):
    widget = forms.ClearableFileInput(attrs={"accept": ",".join(f".{e}" for e in MATERIAL_EXTENSIONS)})

    def clean(self, data: Any, initial: Any = None) -> Any:
        return _check_upload(
            super().clean(data, initial), MATERIAL_EXTENSIONS, MAX_MATERIALS_BYTES, _("讲稿或课件")
        )


# --- competitions --------------------------------------------------------------------------------
def grade_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


CONFLICT_HELP = _(
    "本人所在组织：评委不评本人所在组织（及下级）报送或主讲人所在的作品。"
    "本人所在单位：评委所在的主办组织下一级单位（如区县）报送的作品一律回避，适用于区县初评后的市级评审。"
)


class CompetitionForm(forms.Form):
    """A competition with its rubric (rows of ``CriterionFormSet``) and its categories."""

    title = forms.CharField(
        label=_("评选名称"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：2026年全市优秀党课评选")}),
    )
    organization = OrganizationChoiceField(
        label=_("主办组织"), queryset=None, help_text=_("本组织及全部下级组织的党课可以参评")
    )
    year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    categories = forms.CharField(
        label=_("参赛组别"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "微党课\n情景党课"}),
        help_text=_("每行一个组别；不分组别的留空"),
    )
    conflict_rule = forms.ChoiceField(
        label=_("回避规则"),
        choices=ConflictRule.choices,
        initial=ConflictRule.SUBTREE,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=CONFLICT_HELP,
    )
    grade_set = forms.ChoiceField(
        label=_("奖项等次"),
        choices=GradeSet.choices,
        initial=GradeSet.SINGLE,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=_("评定奖项时按等次评出，如“精品微党课”“微党课一等奖”；各评奖类别和名额可在创建后设置"),
    )
    custom_grades = forms.CharField(
        label=_("自定义等次"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "特等奖\n一等奖"}),
        help_text=_("选“自定义等次”时填写：每行一个，从高到低"),
    )

    # The rubric's own errors (weights ≠ 100 …), shown under the rubric table; set by the page.
    rubric_errors: list[str]

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="add", app_label=APP)
        paths = scope_for(user, "add", APP).paths
        if not self.is_bound and len(paths) == 1:
            # The organisation where the organiser's role applies, as the study forms start.
            field.initial = Organization.objects.filter(path=paths[0], is_active=True).first()
        cast(forms.ChoiceField, self.fields["year"]).choices = year_choices()
        self.fields["year"].initial = timezone.localdate().year
        self.criteria = CriterionFormSet(
            self.data if self.is_bound else None,
            prefix="criteria",
            initial=None if self.is_bound else DEFAULT_RUBRIC,
        )

    def clean_categories(self) -> list[str]:
        text = self.cleaned_data.get("categories") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def is_valid(self) -> bool:
        rows_valid = self.criteria.is_valid()
        return super().is_valid() and rows_valid

    def service_data(self) -> dict[str, Any]:
        rows = []
        for row in self.criteria.forms:
            d = getattr(row, "cleaned_data", None) or {}
            if d.get("name") or d.get("weight") is not None:
                rows.append(
                    {
                        "name": d.get("name", ""),
                        "weight": d.get("weight"),
                        "description": d.get("description", ""),
                    }
                )
        data = dict(self.cleaned_data)
        data["grades"] = grade_lines(data.pop("custom_grades", ""))
        return {**data, "criteria": rows}


class ConflictRuleForm(forms.Form):
    """The competition's 回避 rule."""

    conflict_rule = forms.ChoiceField(
        label=_("回避规则"),
        choices=ConflictRule.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=CONFLICT_HELP,
    )


class CriterionForm(forms.Form):
    """One row of the rubric."""

    name = forms.CharField(
        label=_("评分项"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"placeholder": _("如：内容")}),
    )
    weight = forms.IntegerField(
        label=_("权重"),
        required=False,
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-weight": ""}),
    )
    description = forms.CharField(label=_("评分要点"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("weight") is not None and not data.get("name"):
            self.add_error("name", _("请填写评分项名称"))
        if data.get("name") and data.get("weight") is None and "weight" not in self.errors:
            self.add_error("weight", _("请填写权重"))
        return data


DEFAULT_RUBRIC = [
    {"name": "内容", "weight": 40, "description": "政治方向正确，主题鲜明，内容充实"},
    {"name": "表达", "weight": 30, "description": "语言生动，通俗易懂，仪态自然"},
    {"name": "效果", "weight": 30, "description": "联系实际，感染力强，现场反响好"},
]
CriterionFormSet = forms.formset_factory(
    CriterionForm, extra=2, max_num=MAX_CRITERIA, absolute_max=MAX_CRITERIA
)


# --- rounds --------------------------------------------------------------------------------------


class RoundForm(forms.Form):
    name = forms.CharField(
        label=_("轮次名称"), max_length=100, widget=forms.TextInput(attrs={"placeholder": _("如：区县初评")})
    )
    reviews_per_entry = forms.IntegerField(
        label=_("每件作品评审人数"),
        min_value=1,
        max_value=50,
        initial=3,
        help_text=_("每件作品由几位评委打分；评委不会评到本人所在组织（及下级）的作品"),
    )
    aggregation = forms.ChoiceField(
        label=_("计分方法"),
        choices=Aggregation.choices,
        initial=Aggregation.MEAN,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    advance_count = forms.IntegerField(
        label=_("晋级名额"),
        required=False,
        min_value=1,
        help_text=_("前几名进入下一轮（与最后一名同分的一并晋级）；最后一轮可不填"),
    )
    advance_min_score = forms.DecimalField(
        label=_("晋级分数线"),
        required=False,
        max_digits=7,
        decimal_places=3,
        help_text=_("得分达到此分数的作品晋级；与晋级名额同时填写时须两项都满足"),
    )
    spread_threshold = forms.DecimalField(
        label=_("分歧提示阈值"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        initial=20,
        help_text=_("同一作品最高分与最低分相差达到此值时，结果中标出“分歧较大”"),
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {name: getattr(instance, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)
        self.instance = instance

    def aggregation_options(self) -> list[tuple[Any, Any]]:
        """Each method's radio button with its explanation."""
        return [(option, AGGREGATION_HELP.get(option.data["value"], "")) for option in self["aggregation"]]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("spread_threshold") is None:
            data.pop("spread_threshold", None)
        if self.instance is not None and data.get("reviews_per_entry") == self.instance.reviews_per_entry:
            # Unchanged: leave it out, so that a round with assignments can still be edited.
            data.pop("reviews_per_entry")
        return data


# --- entries -------------------------------------------------------------------------------------


class AnyIdField(forms.TypedChoiceField):
    """An id ticked in a list. Any id is accepted here: the service checks it against the roll,
    the user's scope and the competition (and says why it refuses)."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class EntryForm(forms.Form):
    """A lecture entered into a competition: recommended by an organisation (``recommend``),
    with its lecturer ticked in a list of members or typed by name or ID number, or nominated by
    its lecturer themself (the organisation and lecturer fields leave the form)."""

    lecturer = AnyIdField(label=_("主讲人"), required=False, coerce=int, empty_value=None)
    lecturer_name = forms.CharField(
        label=_("或填写主讲人姓名/身份证号"),
        required=False,
        max_length=50,
        help_text=_("不在上面名单中时填写；重名的请填身份证号"),
    )
    organization = OrganizationChoiceField(
        label=_("报送组织"), queryset=None, help_text=_("以哪个组织的名义推荐该作品")
    )
    category: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("组别"), queryset=None, required=False, empty_label=_("不分组别")
    )
    title = forms.CharField(label=_("党课题目"), max_length=200)
    summary = forms.CharField(
        label=_("内容简介"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    video = VideoField(label=_("授课视频"), required=False, help_text=_("MP4 等格式，不超过500 MB"))
    materials = MaterialsField(
        label=_("讲稿/课件"), required=False, help_text=_("PDF、Word、PPT 等格式，不超过50 MB")
    )

    def __init__(
        self,
        *args: Any,
        user: Viewer,
        competition: Competition,
        recommend: bool = True,
        members: list[Any] | None = None,
        default_organization: Organization | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.competition = competition
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = competition.categories.order_by("id")
        if not competition.categories.exists():
            del self.fields["category"]
        if not recommend:
            for name in ("lecturer", "lecturer_name", "organization"):
                del self.fields[name]
            self.order_fields(["title", "category", "summary", "video", "materials"])
            return
        cast(forms.ChoiceField, self.fields["lecturer"]).choices = [("", "")] + [
            (m.pk, m.name) for m in members or []
        ]
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="add", app_label=APP)
        field.queryset = field.queryset.filter(competition.organization.subtree_q())
        if not self.is_bound and default_organization is not None:
            field.initial = default_organization

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "lecturer" not in self.fields:
            return data
        text = (data.get("lecturer_name") or "").strip()
        if data.get("lecturer") is None and text:
            data["lecturer"] = self._lecturer_by_text(text)
        if data.get("lecturer") is None and not self.has_error("lecturer_name"):
            self.add_error("lecturer", _("请从名单中选择主讲人，或填写其姓名"))
        return data

    def _lecturer_by_text(self, text: str) -> int | None:
        """The one active member in the competition's subtree, visible to the user, with this
        name or ID number."""
        members = member_list(user=self.user, filters={"organization": self.competition.organization})
        number = normalize_id_number(text)
        if len(number) == 18:
            rows = list(members.filter(id_number_hash=id_number_index(number)).values_list("pk", "name")[:2])
        else:
            rows = list(members.filter(name=text).values_list("pk", "organization__name")[:10])
        if not rows:
            self.add_error("lecturer_name", _("未找到“%(text)s”（或不在您的管理范围内）") % {"text": text})
            return None
        if len(rows) > 1:
            orgs = "、".join(str(org) for _pk, org in rows)
            self.add_error(
                "lecturer_name",
                _("有多名党员叫“%(text)s”（%(orgs)s），请改填其身份证号，或从名单中选择")
                % {"text": text, "orgs": orgs},
            )
            return None
        return int(rows[0][0])

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "lecturer_name"}
        return {k: v for k, v in data.items() if v not in (None, "")}


class MemberSourceForm(forms.Form):
    """Which organisation's members to list for picking the lecturer."""

    organization = OrganizationChoiceField(
        label=_("从哪个组织选主讲人（含下级）"), queryset=None, required=False
    )

    def __init__(self, *args: Any, user: Viewer, competition: Competition, **kwargs: Any) -> None:
        kwargs["prefix"] = "from"
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="view", app_label="members")
        field.queryset = field.queryset.filter(competition.organization.subtree_q())

    def picked(self) -> Organization | None:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("organization")
        return None


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), required=False, max_length=200)


# --- panel, assignment, finishing ----------------------------------------------------------------


class PanelForm(forms.Form):
    users = forms.TypedMultipleChoiceField(
        label=_("本轮评委"), coerce=int, required=True, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, reviewers: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reviewers = reviewers
        cast(forms.ChoiceField, self.fields["users"]).choices = [(r["id"], r["username"]) for r in reviewers]
        self.fields["users"].error_messages["required"] = _("请至少勾选一位评委")

    def selected(self) -> set[int]:
        """The ticked user ids (as posted, or the current panel)."""
        values = self["users"].value() or []
        return {int(v) for v in values if str(v).isdigit()}


class ReassignForm(forms.Form):
    review = forms.TypedChoiceField(label=_("要替换的评审（尚未提交）"), coerce=int)
    reviewer = forms.TypedChoiceField(label=_("改由哪位评委评审"), coerce=int)
    reason = forms.CharField(
        label=_("调整原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：原评委出差，无法按时评审")}),
        help_text=_("必填，记入审计日志"),
    )

    def __init__(self, *args: Any, reviews: list[Review], panel: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reviews = {r.pk: r for r in reviews}
        cast(forms.ChoiceField, self.fields["review"]).choices = [("", _("请选择"))] + [
            (r.pk, f"《{r.round_entry.entry.title}》— {r.reviewer.username}") for r in reviews
        ]
        cast(forms.ChoiceField, self.fields["reviewer"]).choices = [("", _("请选择"))] + [
            (u.pk, f"{u.username}（{u.display_name}）" if u.display_name else u.username) for u in panel
        ]


class FinishForm(forms.Form):
    """Advance (or close) a round; with reviews outstanding only by an explicit, reasoned override."""

    override = forms.BooleanField(label=_("强制执行（尚有评审未提交）"), required=False)
    reason = forms.CharField(
        label=_("强制执行的原因"), required=False, max_length=200, help_text=_("强制执行时必填，记入审计日志")
    )


# --- scoring -------------------------------------------------------------------------------------


class ScoreField(forms.DecimalField):
    """The score of one criterion; the page shows the criterion's ``weight`` beside it."""

    weight: int


class ReviewForm(forms.Form):
    """One number per criterion (0–100, one decimal) and a comment."""

    comment = forms.CharField(
        label=_("评语"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, criteria: list[Criterion], review: Review, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"comment": review.comment}
        for criterion in criteria:
            if criterion.name in (review.scores or {}):
                initial[f"score_{criterion.pk}"] = Decimal(str(review.scores[criterion.name]))
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        fields: dict[str, forms.Field] = {}
        for criterion in criteria:
            field = ScoreField(
                label=criterion.name,
                min_value=Decimal(0),
                max_value=Decimal(100),
                max_digits=4,
                decimal_places=1,
                help_text=criterion.description,
                widget=forms.NumberInput(
                    attrs={"step": "0.1", "min": "0", "max": "100", "inputmode": "decimal", "data-score": ""}
                ),
                error_messages={
                    "required": _("请为“%(name)s”打分") % {"name": criterion.name},
                    "max_decimal_places": _("最多保留一位小数"),
                },
            )
            field.weight = criterion.weight
            fields[f"score_{criterion.pk}"] = field
        comment = self.fields.pop("comment")
        self.fields.update(fields)
        self.fields["comment"] = comment

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{c.pk}"] for c in self.criteria]

    def scores(self) -> dict[str, Decimal]:
        return {c.name: self.cleaned_data[f"score_{c.pk}"] for c in self.criteria}


# --- awards --------------------------------------------------------------------------------------


class AwardPlanForm(forms.Form):
    """The award plan (评奖方案): the grade set, and the award categories (rows of
    ``award_category_formset``), each with its filter and one number per grade. The number
    columns follow the grade set as posted (or as saved), so switching the grade set and pressing
    “更新名额栏” redraws them, keeping the numbers of grades both sets share."""

    grade_set = forms.ChoiceField(
        label=_("奖项等次"),
        choices=GradeSet.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    custom_grades = forms.CharField(
        label=_("自定义等次"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "特等奖\n一等奖"}),
        help_text=_("选“自定义等次”时填写：每行一个，从高到低"),
    )

    def __init__(self, *args: Any, competition: Competition, **kwargs: Any) -> None:
        saved = list(competition.award_categories.select_related("entry_category"))
        kwargs.setdefault(
            "initial",
            {
                "grade_set": competition.grade_set,
                "custom_grades": "\n".join(competition.grades)
                if competition.grade_set == GradeSet.CUSTOM
                else "",
            },
        )
        super().__init__(*args, **kwargs)
        self.competition = competition
        self.grades = self._grades(competition)
        scopes: list[tuple[str, Any]] = [("", _("全部作品"))]
        scopes += [
            (f"category:{c.pk}", _("组别：%(n)s") % {"n": c.name}) for c in competition.categories.all()
        ]
        scopes += [
            (f"type:{value}", _("党课类型：%(n)s") % {"n": label}) for value, label in LectureType.choices
        ]
        initial_rows = [
            {
                "name": c.name,
                "scope": f"category:{c.entry_category_id}"
                if c.entry_category_id
                else (f"type:{c.lecture_type}" if c.lecture_type else ""),
                **{f"count_{i}": (c.counts or {}).get(g) for i, g in enumerate(self.grades)},
            }
            for c in saved
        ]
        self.rows = award_category_formset(self.grades, scopes)(
            self.data if self.is_bound else None,
            prefix="plan",
            initial=None if self.is_bound else initial_rows,
        )
        if self.is_bound:
            self._carry_counts(competition)

    def _grades(self, competition: Competition) -> list[str]:
        """The grade columns: of the posted grade set (the saved grades when it cannot be read)."""
        if not self.is_bound:
            return list(competition.grades)
        grade_set = self.data.get("grade_set")
        if grade_set in GRADE_PRESETS:
            return list(GRADE_PRESETS[grade_set])
        if grade_set == GradeSet.CUSTOM:
            return grade_lines(self.data.get("custom_grades"))[:5] or list(competition.grades)
        return list(competition.grades)

    def _carry_counts(self, competition: Competition) -> None:
        """Numbers posted under the columns the page showed (``shown_grade``, one per column) move to the
        columns of the same grade now shown."""
        getlist = getattr(self.data, "getlist", None)
        shown = [str(g) for g in (getlist("shown_grade") if getlist else self.data.get("shown_grade") or [])]
        if not shown or shown == self.grades:
            return
        data = cast(Any, self.data).copy()
        for row in range(int(data.get("plan-TOTAL_FORMS") or 0)):
            old = {g: data.get(f"plan-{row}-count_{i}") for i, g in enumerate(shown)}
            for i, g in enumerate(self.grades):
                data[f"plan-{row}-count_{i}"] = old.get(g) or ""
        self.rows = type(self.rows)(data, prefix="plan")

    def is_valid(self) -> bool:
        rows_valid = self.rows.is_valid()
        return super().is_valid() and rows_valid

    def service_kwargs(self) -> dict[str, Any]:
        categories = []
        for row in self.rows.forms:
            d = getattr(row, "cleaned_data", None) or {}
            if not d.get("name"):
                continue
            scope = d.get("scope") or ""
            kind, _sep, value = scope.partition(":")
            categories.append(
                {
                    "name": d["name"],
                    "entry_category": value if kind == "category" else None,
                    "lecture_type": value if kind == "type" else "",
                    "counts": {
                        g: d.get(f"count_{i}") for i, g in enumerate(self.grades) if d.get(f"count_{i}")
                    },
                }
            )
        return {
            "grade_set": self.cleaned_data["grade_set"],
            "grades": grade_lines(self.cleaned_data.get("custom_grades")),
            "categories": categories,
        }


class AwardCategoryRowForm(forms.Form):
    """One award category of the plan; ``count_<i>`` fields (one per grade) are added by
    ``award_category_formset``."""

    name = forms.CharField(
        label=_("评奖类别"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如：微党课")}),
    )
    scope = forms.ChoiceField(label=_("参评作品"), required=False)

    grade_fields: list[str]

    def count_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.grade_fields]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("name") and any(data.get(n) for n in self.grade_fields):
            self.add_error("name", _("请填写评奖类别名称"))
        return data


def award_category_formset(grades: list[str], scopes: list[tuple[str, Any]]) -> Any:
    """The plan's rows with one number field per grade (``count_0`` for the best grade …)."""

    class Row(AwardCategoryRowForm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            cast(forms.ChoiceField, self.fields["scope"]).choices = scopes
            self.grade_fields = []
            for i, grade in enumerate(grades):
                name = f"count_{i}"
                self.fields[name] = forms.IntegerField(
                    label=grade,
                    required=False,
                    min_value=0,
                    max_value=MAX_GRADE_COUNT,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "text-end"}),
                )
                self.grade_fields.append(name)

    return forms.formset_factory(
        Row, extra=2, max_num=MAX_AWARD_CATEGORIES, absolute_max=MAX_AWARD_CATEGORIES
    )


class AwardGrantForm(forms.Form):
    """评定奖项: the numbers of 优秀主讲人 and (by the rule) 优秀组织单位, the units the organiser
    chooses from the suggestion (``unit_<id>`` ticks with ``reason_<id>``), the date; and, for a
    competition without an award plan, the number of 优秀党课."""

    lecture_count = forms.IntegerField(
        label=_("优秀党课名额"),
        min_value=0,
        max_value=MAX_GRADE_COUNT,
        initial=0,
        required=False,
        help_text=_("最后一轮前几名（并列的一并获奖）。要分等次、分类别评奖，请先设置评奖方案"),
    )
    lecturer_count = forms.IntegerField(
        label=_("优秀主讲人名额"),
        min_value=0,
        max_value=MAX_GRADE_COUNT,
        initial=0,
        help_text=_("最后一轮前几名作品的主讲人"),
    )
    organization_count = forms.IntegerField(
        label=_("优秀组织单位名额（按获奖作品自动评出）"),
        min_value=0,
        max_value=MAX_GRADE_COUNT,
        initial=0,
        help_text=_("主办组织的下一级单位中，所属作品获奖件数多的在前，件数相同比最好名次"),
    )
    awarded_on = forms.DateField(label=_("授予日期"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args: Any, has_plan: bool, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_plan:
            del self.fields["lecture_count"]
        self.units = units
        for unit in units:
            self.fields[f"unit_{unit.organization_id}"] = forms.BooleanField(
                label=_("选定“%(name)s”为优秀组织单位") % {"name": unit.name}, required=False
            )
            self.fields[f"reason_{unit.organization_id}"] = forms.CharField(
                label=_("评定理由"),
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": _("没有获奖作品的单位必填")}),
            )

    def unit_rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [
            (u, self[f"unit_{u.organization_id}"], self[f"reason_{u.organization_id}"]) for u in self.units
        ]

    @staticmethod
    def typed_counts(data: Any, *, has_plan: bool) -> dict[str, int]:
        """The numbers as typed (0 for what cannot be read, none before anything is posted), for
        the suggestion the page shows before the form is checked."""
        out: dict[str, int] = {}
        for name in ("lecture_count", "lecturer_count", "organization_count"):
            if data is None or (name == "lecture_count" and has_plan):
                out[name] = 0
                continue
            try:
                out[name] = max(0, min(int(data.get(name) or 0), MAX_GRADE_COUNT))
            except (TypeError, ValueError):
                out[name] = 0
        return out

    def service_data(self) -> dict[str, Any]:
        data = {
            key: self.cleaned_data.get(key) or 0
            for key in ("lecture_count", "lecturer_count", "organization_count")
        }
        data["awarded_on"] = self.cleaned_data["awarded_on"]
        data["units"] = [
            {
                "organization": u.organization_id,
                "reason": self.cleaned_data.get(f"reason_{u.organization_id}", ""),
            }
            for u in self.units
            if self.cleaned_data.get(f"unit_{u.organization_id}")
        ]
        return data


class AwardPublishForm(forms.Form):
    """Publish the video of a 优秀党课 to the lecture library (播党课): the series it joins (the
    organiser's or one above it), the showing dates (展播) and the hours its study credits. The
    title, lecturer and honour come from the award."""

    series = forms.TypedChoiceField(label=_("所属系列"), required=False, coerce=int, empty_value=None)
    show_from = forms.DateField(label=_("展播开始"), required=False, widget=DateInput())
    show_until = forms.DateField(label=_("展播结束"), required=False, widget=DateInput())
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
        help_text=_("可不填：按视频的实际播放时长计；无法读取时长的视频（如 WebM）须填写"),
    )

    # Service field → form field (errors of other fields, e.g. the video's, go to the top).
    FIELD_MAP = {"duration_seconds": "duration_minutes"}

    def __init__(self, *args: Any, user: Viewer, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        series = library_series_for(user=user, organization=organization)
        field = cast(forms.TypedChoiceField, self.fields["series"])
        field.choices = [("", _("不加入系列"))] + [
            (s.pk, f"{s.title}（{s.organization.name}）") for s in series
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("show_from"), data.get("show_until")
        if start and end and end < start:
            self.add_error("show_until", _("展播结束日期不能早于开始日期"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``lectures.services.library_publish`` this form fills."""
        d = self.cleaned_data
        minutes = d.get("duration_minutes")
        seconds = (
            int((minutes * 60).to_integral_value(rounding=ROUND_HALF_UP)) if minutes is not None else None
        )
        return {
            "series": d.get("series"),
            "show_from": d.get("show_from"),
            "show_until": d.get("show_until"),
            "credit_hours": d["credit_hours"],
            "duration_seconds": seconds,
        }


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"), max_length=200, help_text=_("撤销后，查验页面将显示该证书已撤销")
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("证书编号"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).upper()
