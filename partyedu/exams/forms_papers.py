"""Forms of the paper pages: a paper (organisation, title, how it is made, shuffling), its fixed
questions written one a line as "试题编号 分值", its drawing rules as rows (type, bank, tag,
difficulty range, count, points each), and the search of questions to pick from."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import PaperKind, QuestionType
from .forms_banks import DIFFICULTY_CHOICES, QuestionFilterForm
from .models import PaperRule, QuestionBank, QuestionTag
from .selectors.banks import banks_for_paper

APP = "exams"
MAX_RULES = 20
ITEM_LINE = re.compile(r"^\s*(\d+)\s*[\s,，:：×xX*]\s*(\d+(?:\.\d+)?)\s*$")


def bank_label(bank: QuestionBank) -> str:
    return f"{bank.title}（{bank.organization.name}）"


class PaperForm(forms.Form):
    organization = OrganizationChoiceField(label=_("所属组织"), queryset=None)
    title = forms.CharField(label=_("试卷名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("组卷方式"), choices=PaperKind.choices, initial=PaperKind.FIXED, widget=forms.RadioSelect
    )
    items = forms.CharField(
        label=_("试题及分值"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "data-kind": "fixed", "class": "font-monospace"}),
        help_text=_("固定组卷：每行一道，写“试题编号 分值”，如“1024 2”；可在下方查找试题后点“加入”"),
    )
    shuffle_questions = forms.BooleanField(label=_("题目乱序"), required=False)
    shuffle_options = forms.BooleanField(label=_("选项乱序"), required=False, initial=True)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )

    def clean_items(self) -> list[dict[str, Any]]:
        lines = [line for line in (self.cleaned_data.get("items") or "").splitlines() if line.strip()]
        items = []
        for number, line in enumerate(lines, start=1):
            match = ITEM_LINE.match(line)
            if match is None:
                raise ValidationError(
                    _("第%(n)d行“%(line)s”应写成“试题编号 分值”，如“1024 2”")
                    % {"n": number, "line": line.strip()}
                )
            items.append({"question": int(match.group(1)), "score": match.group(2)})
        return items


class RuleForm(forms.Form):
    """One drawing rule; a row left blank is skipped."""

    qtype = forms.ChoiceField(label=_("题型"), choices=[("", "—"), *QuestionType.choices])
    bank = forms.ModelChoiceField(
        label=_("题库"), required=False, queryset=QuestionBank.objects.none(), empty_label=_("全部可用题库")
    )
    tag = forms.CharField(
        label=_("标签"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"list": "question-tag-list"}),
    )
    difficulty_min = forms.TypedChoiceField(
        label=_("难度从"), coerce=int, choices=DIFFICULTY_CHOICES, initial=1
    )
    difficulty_max = forms.TypedChoiceField(
        label=_("难度到"), coerce=int, choices=DIFFICULTY_CHOICES, initial=5
    )
    count = forms.IntegerField(label=_("题数"), min_value=1, max_value=500)
    score = forms.DecimalField(label=_("每题分值"), min_value=0, max_digits=6, decimal_places=2)

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["bank"]).queryset = banks_for_paper(user=user)
        self.fields["bank"].label_from_instance = bank_label  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("difficulty_min"), data.get("difficulty_max")
        if low is not None and high is not None and low > high:
            self.add_error("difficulty_max", _("最高难度不能低于最低难度"))
        tag = (data.get("tag") or "").strip()
        if tag and not QuestionTag.objects.filter(name=tag).exists():
            self.add_error("tag", _("没有标签“%(tag)s”") % {"tag": tag})
        return data

    def to_rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        bank = data.get("bank")
        return {
            "qtype": data["qtype"],
            "bank": bank.pk if bank is not None else None,
            "tag": (data.get("tag") or "").strip() or None,
            "difficulty_min": data["difficulty_min"],
            "difficulty_max": data["difficulty_max"],
            "count": data["count"],
            "score": str(data["score"]),
        }

    def unsaved_rule(self) -> PaperRule:
        """The rule as a model row (not saved), for counting what it could draw."""
        data = self.cleaned_data
        tag = data.get("tag") and QuestionTag.objects.filter(name=data["tag"].strip()).first()
        return PaperRule(
            position=0,
            qtype=data["qtype"],
            bank=data.get("bank"),
            tag=tag or None,
            difficulty_min=data["difficulty_min"],
            difficulty_max=data["difficulty_max"],
            count=data["count"],
            score_each=data["score"],
        )


class BaseRuleFormSet(forms.BaseFormSet):
    def filled(self) -> list[RuleForm]:
        return [cast(RuleForm, f) for f in self.forms if f.has_changed() and f.is_valid()]


RuleFormSet = formset_factory(
    RuleForm, formset=BaseRuleFormSet, extra=3, max_num=MAX_RULES, validate_max=True, absolute_max=MAX_RULES
)


class PaperQuestionSearchForm(QuestionFilterForm):
    """The search of questions to pick for a fixed paper: the bank filter plus one bank."""

    bank = forms.ModelChoiceField(
        label=_("题库"), required=False, queryset=QuestionBank.objects.none(), empty_label=_("全部可用题库")
    )

    field_order = ["bank", "qtype", "tag", "difficulty", "q"]

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["bank"]).queryset = banks_for_paper(user=user)
        self.fields["bank"].label_from_instance = bank_label  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        filters = super().filters()
        if filters.get("bank") is not None:
            filters["bank"] = filters["bank"].pk
        return filters
