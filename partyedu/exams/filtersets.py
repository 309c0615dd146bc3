"""Query-string filters of the question and exam lists. They narrow the caller's scope (the
selector restricts first), never widen it. Tags filter through the question–tag join table."""

from __future__ import annotations

import django_filters

from partyedu.core.filters import IdFilter

from .choices import ExamKind, QuestionType
from .models import Exam, Question


class QuestionFilterSet(django_filters.FilterSet):
    bank = IdFilter(field_name="bank", label="题库ID")
    qtype = django_filters.ChoiceFilter(choices=QuestionType.choices, label="题型")
    tag = django_filters.CharFilter(field_name="tags__name", max_length=50, label="标签")
    difficulty = django_filters.ChoiceFilter(
        field_name="difficulty", choices=[(str(n), str(n)) for n in range(1, 6)], label="难度"
    )
    search = django_filters.CharFilter(
        field_name="current_version__stem", lookup_expr="contains", max_length=100, label="题干包含"
    )

    class Meta:
        model = Question
        fields = ["bank", "qtype", "tag", "difficulty", "search"]


class ExamFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ExamKind.choices, label="类型")
    search = django_filters.CharFilter(
        field_name="title", lookup_expr="contains", max_length=100, label="名称包含"
    )

    class Meta:
        model = Exam
        fields = ["kind", "search"]
