"""Forms of the question-bank pages: a bank, the bank's question filter, a question (one form for
every type: the page shows the fields of the chosen type), a key correction, and the choice of an
organisation for a new bank. Forms only parse; the services validate the content of a question
(``clean_question``) and put their messages back on these fields."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer
from partyedu.organizations.picker import OrganizationChoiceField

from .choices import CHOICE_TYPES, QuestionType
from .keys import JUDGE_OPTIONS, LETTERS
from .models import Question, QuestionBank

APP = "exams"
OPTION_NAMES = tuple(f"option_{letter.lower()}" for letter in LETTERS)
DIFFICULTY_CHOICES = [(n, f"{n}") for n in range(1, 6)]
JUDGE_CHOICES = [("true", JUDGE_OPTIONS[0]), ("false", JUDGE_OPTIONS[1])]
TAG_SPLIT = str.maketrans(dict.fromkeys("、,，;；", "\n"))
# A service's message for a field this form shows under another name.
QUESTION_FIELD_MAP = {"options": "option_a", "answer": "answer"}


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in (text or "").translate(TAG_SPLIT).split() if t.strip()]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class BankForm(forms.Form):
    organization = OrganizationChoiceField(label=_("所属组织"), queryset=None)
    title = forms.CharField(label=_("题库名称"), max_length=200)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    is_active = forms.BooleanField(
        label=_("启用"), required=False, initial=True, help_text=_("停用后题库不再用于新的随机抽题")
    )

    def __init__(self, *args: Any, user: BaseViewer, bank: QuestionBank | None = None, **kwargs: Any) -> None:
        if bank is not None:
            kwargs.setdefault(
                "initial",
                {
                    "organization": bank.organization,
                    "title": bank.title,
                    "description": bank.description,
                    "is_active": bank.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="add", app_label=APP
        )
        if bank is None:
            del self.fields["is_active"]
        else:
            self.fields["organization"].disabled = True


class QuestionFilterForm(forms.Form):
    """The bank's question filter (type, tag, difficulty, text)."""

    qtype = forms.ChoiceField(
        label=_("题型"), required=False, choices=[("", _("全部")), *QuestionType.choices]
    )
    tag = forms.CharField(
        label=_("标签"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"list": "bank-tag-list"}),
    )
    difficulty = forms.TypedChoiceField(
        label=_("难度"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("全部")), *DIFFICULTY_CHOICES],
    )
    q = forms.CharField(label=_("题干包含"), required=False, max_length=100)

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class AnswerFieldsMixin(forms.Form):
    """The key of a question, written the way its type asks: option letters, 正确/错误, or the
    accepted answers of a fill-in, one a line."""

    answer = forms.CharField(
        label=_("答案（选项字母）"),
        required=False,
        max_length=6,
        help_text=_("单选题如 B；多选题如 AC"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "data-qtypes": "single multiple"}),
    )
    judge = forms.ChoiceField(
        label=_("答案（对错）"),
        required=False,
        choices=JUDGE_CHOICES,
        widget=forms.RadioSelect(attrs={"data-qtypes": "judge"}),
    )
    fill_answers = forms.CharField(
        label=_("可接受的答案"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-qtypes": "fill"}),
        help_text=_("每行一个；比较时忽略全角半角、空格和标点"),
    )

    def answer_value(self, qtype: str) -> Any:
        data = self.cleaned_data
        if qtype in CHOICE_TYPES:
            return data.get("answer", "")
        if qtype == QuestionType.JUDGE:
            return {"true": True, "false": False}.get(data.get("judge") or "", "")
        if qtype == QuestionType.FILL:
            return split_lines(data.get("fill_answers", ""))
        return None

    @staticmethod
    def answer_initial(qtype: str, answer: Any) -> dict[str, Any]:
        if qtype in CHOICE_TYPES:
            return {"answer": answer or ""}
        if qtype == QuestionType.JUDGE and isinstance(answer, bool):
            return {"judge": "true" if answer else "false"}
        if qtype == QuestionType.FILL:
            return {"fill_answers": "\n".join(answer or [])}
        return {}


class QuestionForm(AnswerFieldsMixin):
    """One question. The page hides the fields another type does not use (``data-qtypes``);
    without JavaScript every field shows and those of other types are ignored."""

    qtype = forms.ChoiceField(label=_("题型"), choices=QuestionType.choices, initial=QuestionType.SINGLE)
    stem = forms.CharField(label=_("题干"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    option_a = forms.CharField(label=_("选项A"), required=False, max_length=500)
    option_b = forms.CharField(label=_("选项B"), required=False, max_length=500)
    option_c = forms.CharField(label=_("选项C"), required=False, max_length=500)
    option_d = forms.CharField(label=_("选项D"), required=False, max_length=500)
    option_e = forms.CharField(label=_("选项E"), required=False, max_length=500)
    option_f = forms.CharField(label=_("选项F"), required=False, max_length=500)
    reference_answer = forms.CharField(
        label=_("参考答案"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-qtypes": "essay"}),
        max_length=5000,
    )
    rubric = forms.CharField(
        label=_("评分要点"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-qtypes": "essay"}),
        max_length=5000,
        help_text=_("阅卷人评分时看到"),
    )
    explanation = forms.CharField(
        label=_("解析"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    difficulty = forms.TypedChoiceField(
        label=_("难度"),
        coerce=int,
        choices=DIFFICULTY_CHOICES,
        initial=3,
        help_text=_("1（最易）至5（最难）"),
    )
    tags = forms.CharField(
        label=_("标签"),
        required=False,
        max_length=600,
        help_text=_("多个标签用顿号分隔，如：党史、党章"),
        widget=forms.TextInput(attrs={"list": "question-tag-list"}),
    )

    field_order = [
        "qtype",
        "stem",
        *OPTION_NAMES,
        "answer",
        "judge",
        "fill_answers",
        "reference_answer",
        "rubric",
        "explanation",
        "difficulty",
        "tags",
    ]

    def __init__(
        self, *args: Any, question: Question | None = None, locked_type: bool = False, **kwargs: Any
    ):
        if question is not None:
            kwargs.setdefault("initial", self.question_initial(question))
        super().__init__(*args, **kwargs)
        for name in OPTION_NAMES:
            self.fields[name].widget.attrs["data-qtypes"] = "single multiple"
        if locked_type:
            self.fields["qtype"].disabled = True
            self.fields["qtype"].help_text = _("已被作答的试题不能更改题型")

    @classmethod
    def question_initial(cls, question: Question) -> dict[str, Any]:
        version = question.current_version
        assert version is not None
        options = list(version.options or [])
        initial: dict[str, Any] = {
            "qtype": question.qtype,
            "stem": version.stem,
            "explanation": version.explanation,
            "reference_answer": version.reference_answer,
            "rubric": version.rubric,
            "difficulty": question.difficulty,
            "tags": "、".join(t.name for t in question.tags.all()),
            **{name: options[i] if i < len(options) else "" for i, name in enumerate(OPTION_NAMES)},
        }
        initial.update(cls.answer_initial(question.qtype, version.answer))
        return initial

    def to_data(self) -> dict[str, Any]:
        """The service's ``data`` for the chosen type (fields of other types are dropped)."""
        data = self.cleaned_data
        qtype = data["qtype"]
        return {
            "qtype": qtype,
            "stem": data["stem"],
            "options": [data.get(name, "") for name in OPTION_NAMES] if qtype in CHOICE_TYPES else [],
            "answer": self.answer_value(qtype),
            "explanation": data.get("explanation", ""),
            "reference_answer": data.get("reference_answer", "") if qtype == QuestionType.ESSAY else "",
            "rubric": data.get("rubric", "") if qtype == QuestionType.ESSAY else "",
            "difficulty": data["difficulty"],
            "tags": split_tags(data.get("tags", "")),
        }

    def error_target(self, qtype: str) -> str:
        """Where the service's "answer" message goes for this type."""
        return {QuestionType.JUDGE: "judge", QuestionType.FILL: "fill_answers"}.get(qtype, "answer")  # type: ignore[call-overload]


class KeyCorrectForm(AnswerFieldsMixin):
    """The corrected key of a question's current version; only the field of its type shows."""

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        version = question.current_version
        assert version is not None
        kwargs.setdefault("initial", self.answer_initial(question.qtype, version.answer))
        super().__init__(*args, **kwargs)
        self.qtype = question.qtype
        keep = {QuestionType.JUDGE: "judge", QuestionType.FILL: "fill_answers"}.get(question.qtype, "answer")  # type: ignore[call-overload]
        for name in ("answer", "judge", "fill_answers"):
            if name != keep:
                del self.fields[name]
        self.fields[keep].label = _("更正后的答案")
        self.field_name = keep

    def value(self) -> Any:
        return self.answer_value(self.qtype)
