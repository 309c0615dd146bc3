"""Reads of the organiser's question-bank and paper pages: which banks a user may change (a bank
shared from above is read-only below), a question's versions with how many attempts saw each,
papers with their full marks, and how many questions each drawing rule could find. Everything
starts from ``restrict(user, action)`` or the selectors of ``exams.selectors``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for
from partyedu.organizations.models import Organization

from .. import keys
from ..choices import QuestionType
from ..drawing import banks_usable_at, rule_candidates
from ..models import Paper, PaperItem, PaperRule, Question, QuestionBank, QuestionTag, QuestionVersion
from . import _filter_questions, bank_list, question_list

APP = "exams"
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=9, decimal_places=2))


def bank_rows(*, user: Viewer) -> list[QuestionBank]:
    """The banks the user sees (their own subtree's and those shared from above), each with
    ``question_count`` and ``editable`` (False for a bank shared from above)."""
    change = scope_for(user, "change", APP)
    banks = list(bank_list(user=user).order_by("organization__path", "title", "pk"))
    for bank in banks:
        bank.editable = change.covers(bank.organization.path)  # type: ignore[attr-defined]
    return banks


def bank_editable(*, user: Viewer, bank: QuestionBank, action: str = "change") -> bool:
    """Whether the user may ``action`` the bank: it lies in a subtree where they hold the action
    (a bank of an organisation above them is shared read-only)."""
    return scope_for(user, action, APP).covers(bank.organization.path)


def _visible_questions(user: Viewer) -> QuerySet[Question, Any]:
    """The questions of the banks the user sees (``question_list``), as a subquery."""
    return question_list(user=user).values("pk")


def bank_tags(*, user: Viewer, bank: QuestionBank) -> list[str]:
    """The tags used by the bank's questions, for the filter's suggestions (none for a bank the
    user does not see)."""
    return list(
        QuestionTag.objects.filter(questions__bank=bank, questions__in=_visible_questions(user))
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")
    )


def tag_names(*, user: Viewer, limit: int = 300) -> list[str]:
    """The tag vocabulary of the banks the user sees (suggestions for forms): another subtree's
    tags are not shown."""
    return list(
        QuestionTag.objects.filter(questions__in=_visible_questions(user))
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")[:limit]
    )


def key_text(qtype: str, version: QuestionVersion) -> str:
    """The key as an organiser reads it: letters, 正确/错误, accepted answers, or for a short
    answer its reference answer."""
    if qtype == QuestionType.ESSAY:
        return version.reference_answer or "—"
    return keys.key_display(qtype, version.answer)


def key_options(version: QuestionVersion) -> list[tuple[str, str, bool]]:
    """(letter, option, is it in the key) for a choice question's options."""
    answer = version.answer if isinstance(version.answer, str) else ""
    return [
        (keys.LETTERS[i], text, keys.LETTERS[i] in answer) for i, text in enumerate(version.options or [])
    ]


@dataclass
class VersionRow:
    version: QuestionVersion
    attempts: int
    is_current: bool
    key_text: str


def question_versions(*, user: Viewer, question: Question) -> list[VersionRow]:
    """Every version of the question, newest first, with how many attempts drew it (none for a
    question the user does not see)."""
    versions = (
        QuestionVersion.objects.filter(question=question, question__in=_visible_questions(user))
        .annotate(attempts=Count("attempt_questions__attempt", distinct=True))
        .order_by("-number")
    )
    return [
        VersionRow(
            version=v,
            attempts=v.attempts,
            is_current=v.pk == question.current_version_id,
            key_text=key_text(question.qtype, v),
        )
        for v in versions
    ]


# --- papers --------------------------------------------------------------------------------------------


def paper_list(*, user: Viewer, action: str = "view") -> QuerySet[Paper]:
    """Papers of the organisations in the user's subtrees, with the number of items or rules and
    the full marks (items' points, or each rule's count × points) computed in SQL."""
    items_total = (
        PaperItem.objects.filter(paper=OuterRef("pk"))
        .values("paper")
        .annotate(total=Sum("score"))
        .values("total")
    )
    rules_total = (
        PaperRule.objects.filter(paper=OuterRef("pk"))
        .values("paper")
        .annotate(total=Sum(F("count") * F("score_each")))
        .values("total")
    )
    item_count = (
        PaperItem.objects.filter(paper=OuterRef("pk")).values("paper").annotate(n=Count("pk")).values("n")
    )
    rule_questions = (
        PaperRule.objects.filter(paper=OuterRef("pk")).values("paper").annotate(n=Sum("count")).values("n")
    )
    return (
        Paper.objects.restrict(user, action)
        .select_related("organization")
        .annotate(
            items_score=Coalesce(Subquery(items_total), ZERO),
            rules_score=Coalesce(Subquery(rules_total), ZERO),
            item_count=Coalesce(Subquery(item_count), 0),
            rule_question_count=Coalesce(Subquery(rule_questions), 0),
        )
        .order_by("-pk")
    )


def paper_get(*, user: Viewer, pk: Any, action: str = "view") -> Paper:
    paper = paper_list(user=user, action=action).filter(pk=pk).first()
    if paper is None:
        raise Http404("试卷不存在")
    return paper


def paper_items(*, user: Viewer, paper: Paper) -> list[PaperItem]:
    """A fixed paper's questions in order (none for a paper outside the user's scope)."""
    return list(
        PaperItem.objects.filter(paper=paper, paper__in=Paper.objects.restrict(user, "view").values("pk"))
        .select_related("question__current_version", "question__bank")
        .order_by("position")
    )


def paper_rules(*, user: Viewer, paper: Paper) -> list[PaperRule]:
    """A rule paper's drawing rules in order (none for a paper outside the user's scope)."""
    return list(
        PaperRule.objects.filter(paper=paper, paper__in=Paper.objects.restrict(user, "view").values("pk"))
        .select_related("bank", "tag")
        .order_by("position")
    )


def versions_by_id(*, user: Viewer, ids: list[int]) -> dict[int, QuestionVersion]:
    """The versions a preview drew, of questions the user sees (one query)."""
    return (
        QuestionVersion.objects.filter(question__in=_visible_questions(user))
        .select_related("question")
        .in_bulk(ids)
    )


@dataclass
class RuleAvailability:
    position: int
    rule: PaperRule
    available: int

    @property
    def short(self) -> bool:
        return self.available < self.rule.count


def rule_availability(
    *, user: Viewer, organization: Organization, rules: list[PaperRule]
) -> list[RuleAvailability]:
    """For rules not yet saved: how many questions each could draw at the organisation (a question
    taken by an earlier rule is not counted again, as in a real draw). Nothing for an organisation
    outside the user's scope."""
    if not scope_for(user, "view", APP).covers(organization.path):
        return []
    taken: set[int] = set()
    rows = []
    for position, rule in enumerate(rules, start=1):
        ids = [
            pk
            for pk in rule_candidates(rule, organization.path).values_list("pk", flat=True)
            if pk not in taken
        ]
        taken.update(ids[: rule.count])
        rows.append(RuleAvailability(position=position, rule=rule, available=len(ids)))
    return rows


def banks_for_paper(*, user: Viewer) -> QuerySet[QuestionBank]:
    """Banks a paper made by the user may draw from: those usable at some organisation where the
    user may add papers (their own subtree's, and those above it)."""
    return (
        banks_usable_at(scope_for(user, "add", APP).paths)
        .select_related("organization")
        .order_by("organization__path", "title")
    )


def questions_for_paper(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Question]:
    """Questions the user may put into a fixed paper (from banks usable where they may add
    papers), filtered like the bank's list; the paper's own organisation is checked on save."""
    filters = filters or {}
    paths = scope_for(user, "add", APP).paths
    if not paths:
        return Question.objects.none()
    questions = _filter_questions(
        Question.objects.filter(
            bank__in=banks_usable_at(paths).values("pk"), is_active=True, current_version__isnull=False
        ),
        filters,
    )
    return questions.select_related("current_version", "bank").order_by("bank_id", "pk")


__all__ = [
    "bank_editable",
    "bank_rows",
    "bank_tags",
    "banks_for_paper",
    "key_options",
    "key_text",
    "paper_get",
    "paper_items",
    "paper_list",
    "paper_rules",
    "question_versions",
    "questions_for_paper",
    "rule_availability",
    "tag_names",
    "versions_by_id",
]
