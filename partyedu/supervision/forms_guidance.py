"""Forms of the guidance area: a team with its members and covered organisations, an inspection
visit, a rectification item, closing and reopening an item, and a 党课巡听 score."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.models import User
from partyedu.core.types import BaseViewer
from partyedu.organizations.models import Organization
from partyedu.organizations.picker import OrganizationChoiceField
from partyedu.organizations.selectors import organization_choices

from .models.guidance import InspectionKind

APP = "supervision"
SCORE_CHOICES = [(n, str(n)) for n in (5, 4, 3, 2, 1)]


def _users_by_name(text: str, field: str) -> list[User]:
    names = [n.strip() for n in text.replace("，", ",").replace(",", "\n").splitlines() if n.strip()]
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(
            _("%(field)s：找不到账号 %(names)s") % {"field": field, "names": "、".join(missing)}
        )
    return [found[n] for n in dict.fromkeys(names)]


class TeamForm(forms.Form):
    """A team: owner, name, year, leader and members by user name, covered organisations by code
    (one a line, optionally followed by the contact's user name)."""

    organization = OrganizationChoiceField(label=_("组建单位"), queryset=None)
    name = forms.CharField(label=_("指导组名称"), max_length=100)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    is_active = forms.BooleanField(label=_("在岗"), required=False, initial=True)
    leader = forms.CharField(label=_("组长账号"), max_length=150, required=False)
    members = forms.CharField(
        label=_("组员账号"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个用户名"),
    )
    coverage = forms.CharField(
        label=_("联系组织"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个组织代码，可在代码后空一格写联系人用户名；覆盖该组织及全部下级"),
    )
    description = forms.CharField(
        label=_("职责说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: BaseViewer, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="change", app_label=APP
        )
        if editing:
            self.fields["organization"].disabled = True
        self.user = user

    def clean_leader(self) -> User | None:
        text = self.cleaned_data.get("leader", "").strip()
        return _users_by_name(text, "组长账号")[0] if text else None

    def clean_members(self) -> list[User]:
        return _users_by_name(self.cleaned_data.get("members", ""), "组员账号")

    def clean_coverage(self) -> list[tuple[Organization, str]]:
        lines = [line.split() for line in self.cleaned_data.get("coverage", "").splitlines() if line.strip()]
        codes = [parts[0] for parts in lines]
        orgs = {
            o.code: o
            for o in organization_choices(user=self.user, action="view", app_label=APP).filter(code__in=codes)
        }
        missing = [c for c in codes if c not in orgs]
        if missing:
            raise ValidationError(
                _("找不到组织代码或不在您的权限范围内：%(codes)s") % {"codes": "、".join(missing)}
            )
        return [(orgs[parts[0]], parts[1] if len(parts) > 1 else "") for parts in lines]


class InspectionForm(forms.Form):
    organization = OrganizationChoiceField(label=_("被检查组织"), queryset=None)
    kind = forms.ChoiceField(label=_("类型"), choices=InspectionKind.choices)
    visited_on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    findings = forms.CharField(label=_("发现的问题和情况"), widget=forms.Textarea(attrs={"rows": 5}))
    items = forms.CharField(
        label=_("整改事项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一项：整改事项 | 整改期限（YYYY-MM-DD）"),
    )

    def __init__(self, *args: Any, user: BaseViewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label=APP
        )
        self.fields["visited_on"].initial = timezone.localdate()

    def clean_items(self) -> list[dict[str, Any]]:
        items = []
        for number, line in enumerate(self.cleaned_data.get("items", "").splitlines(), start=1):
            if not line.strip():
                continue
            text, _sep, due = line.rpartition("|")
            try:
                due_on = forms.DateField().clean(due.strip())
            except ValidationError:
                raise ValidationError(_("第%(n)d行：整改期限应为 YYYY-MM-DD") % {"n": number}) from None
            items.append({"description": text.strip(), "due_on": due_on})
        return items


class RectificationItemForm(forms.Form):
    description = forms.CharField(label=_("整改事项"), widget=forms.Textarea(attrs={"rows": 2}))
    due_on = forms.DateField(label=_("整改期限"), widget=forms.DateInput(attrs={"type": "date"}))


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("整改情况说明"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写整改情况说明")},
    )
    file = forms.FileField(label=_("佐证材料（可选）"), required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写退回原因")},
    )


class LectureInspectionForm(forms.Form):
    content_score = forms.TypedChoiceField(
        label=_("内容准确"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    relevance_score = forms.TypedChoiceField(
        label=_("联系实际"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    delivery_score = forms.TypedChoiceField(
        label=_("讲授效果"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    order_score = forms.TypedChoiceField(
        label=_("时间与秩序"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("巡听意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
