"""Forms of the dispatch area: a dispatch, a recipient's feedback (phone-first), a quarterly note.
They only collect and label input; the services validate and write."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.study.choices import ActivityType

from .models.dispatch import DispatchTarget
from .selectors.dispatch import dispatch_issuer_choices, dispatch_topic_choices
from .services.dispatch import ATTACHMENT_FORMATS, MAX_ATTACHMENTS


def _issuer_field(form: forms.Form, user: Viewer) -> None:
    field = cast(OrganizationChoiceField, form.fields["organization"])
    field.restrict_to(user=user, action="add", app_label="supervision")
    # Only where the user is an organisation department's administrator (org_admin).
    field.queryset = dispatch_issuer_choices(user=user)


class DispatchForm(forms.Form):
    organization = OrganizationChoiceField(label=_("下发组织"), queryset=None)
    title = forms.CharField(
        label=_("任务名称"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：本月主题党日学习四中全会精神")}),
    )
    description = forms.CharField(
        label=_("任务说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    due = forms.DateField(label=_("反馈期限"), widget=forms.DateInput(attrs={"type": "date"}))
    target_level = forms.ChoiceField(
        label=_("下发层级"),
        choices=DispatchTarget.choices,
        initial=DispatchTarget.BRANCH,
        help_text=_("发给下发组织下级中该层级的全部组织；接收组织在下发时确定"),
    )
    activity_type = forms.ChoiceField(
        label=_("对应活动类型"),
        required=False,
        choices=[("", _("不指定")), *ActivityType.choices],
        help_text=_("指定后，接收组织在下发之日至反馈期限之间开展的该类活动自动关联到反馈"),
    )
    required_topic = forms.TypedChoiceField(
        label=_("对应必修专题"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _issuer_field(self, user)
        year = timezone.localdate().year
        topics = dispatch_topic_choices(user=user, year=year)[:300]
        cast(forms.TypedChoiceField, self.fields["required_topic"]).choices = [
            ("", _("不指定")),
            *[(t.pk, f"{t.plan.year}年 {t.plan.title} · {t.title}") for t in topics],
        ]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "organization": d["organization"],
            "title": d["title"],
            "description": d.get("description", ""),
            "due": d["due"],
            "target_level": d["target_level"],
            "activity_type": d.get("activity_type") or "",
            "required_topic": d.get("required_topic"),
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service (format, content, size)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class FeedbackForm(forms.Form):
    text = forms.CharField(
        label=_("反馈内容"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": _("简要说明完成情况、做法和存在的问题")}),
    )
    new_files = MultipleFileField(
        label=_("附件"),
        required=False,
        help_text=_("可选，最多%(n)d个，支持%(formats)s，每个不超过20MB")
        % {"n": MAX_ATTACHMENTS, "formats": ATTACHMENT_FORMATS},
    )
    remove_files = forms.TypedMultipleChoiceField(
        label=_("删除附件"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, attachments: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if attachments:
            cast(forms.TypedMultipleChoiceField, self.fields["remove_files"]).choices = [
                (a.pk, a.name) for a in attachments
            ]
        else:
            del self.fields["remove_files"]


def _quarter_choices() -> list[tuple[int, str]]:
    return [(q, f"第{q}季度") for q in range(1, 5)]


class QuarterlyNoteForm(forms.Form):
    organization = OrganizationChoiceField(label=_("发布组织"), queryset=None)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int, choices=_quarter_choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(
        label=_("反馈内容"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("发布时自动附上本季度的统计数据（发布后固定，不再随记录变化）"),
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        today = timezone.localdate()
        last = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        kwargs.setdefault("initial", {"year": today.year, "quarter": (last.month - 1) // 3 + 1})
        super().__init__(*args, **kwargs)
        _issuer_field(self, user)
        cast(forms.TypedChoiceField, self.fields["year"]).choices = [
            (y, f"{y}年") for y in range(today.year, today.year - 3, -1)
        ]
