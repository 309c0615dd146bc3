"""Forms of the learning pages: the completion view's organisation and year, the resource list's
filters, and the form an organisation department uses to publish a resource."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.core.forms import OrganizationChoiceField
from partyedu.study.forms import OrgYearForm, default_organization

from . import selectors
from .choices import ResourceKind


class SummaryFilterForm(OrgYearForm):
    """An organisation in the user's learning scope (default: the top of it) and a year."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, app_label="learning", **kwargs)


class ResourceFilterForm(forms.Form):
    column = forms.TypedChoiceField(label=_("栏目"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *ResourceKind.choices]
    )

    def __init__(self, *args: Any, columns: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [("", _("全部栏目")), *columns]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


class ResourceForm(forms.Form):
    """Publish a video, audio, courseware (PDF) or article to an organisation's subtree."""

    organization = OrganizationChoiceField(
        label=_("发布组织"), queryset=None, help_text=_("本组织及全部下级组织的党员可以学习")
    )
    kind = forms.ChoiceField(label=_("类型"), choices=ResourceKind.choices, initial=ResourceKind.VIDEO)
    title = forms.CharField(label=_("标题"), max_length=200)
    column = forms.ModelChoiceField(label=_("栏目"), queryset=None, required=False, empty_label=_("不分栏目"))
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
    duration_minutes = forms.DecimalField(
        label=_("时长（分钟）"),
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=1,
        help_text=_("音视频的播放时长；课件、文章为需要的阅读时间"),
    )
    credit_hours = forms.DecimalField(
        label=_("学完计入学时"),
        initial=Decimal("1"),
        min_value=Decimal("0.1"),
        max_value=Decimal("8"),
        max_digits=3,
        decimal_places=1,
        help_text=_("学完（实际播放或阅读达95%）后计入网络学习学时，每人一次"),
    )
    publish = forms.BooleanField(label=_("立即发布"), required=False, initial=True)

    FIELD_MAP = {"duration_seconds": "duration_minutes"}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.restrict_to(user=user, action="add", app_label="learning")
        if not self.is_bound:
            field.initial = default_organization(user, action="add", app_label="learning")
        self.fields["column"].queryset = selectors.column_list(user=user)
        self.fields["column"].label_from_instance = lambda c: f"{c.name}（{c.organization.display_name}）"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("column") and data.get("new_column"):
            self.add_error("new_column", _("已选择栏目时不用新建栏目"))
        minutes = data.get("duration_minutes")
        if minutes is not None:
            data["duration_seconds"] = int((minutes * 60).to_integral_value(rounding=ROUND_HALF_UP))
        return data
