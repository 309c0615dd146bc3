"""Which questions an attempt gets: the fixed items of a paper, or a fresh draw by its rules, and
the order of each question's options. Everything random comes from one ``random.Random(seed)``,
so the same seed over the same bank gives the same attempt; the attempt keeps what it drew
(versions and option orders), so it can always be shown again as it was."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from partyedu.core.scope import subtree_q

from .choices import CHOICE_TYPES, PaperKind
from .models import Paper, PaperRule, Question, QuestionBank, QuestionVersion

# A seed fits a signed 64-bit column.
SEED_BITS = 63


def ancestor_paths(path: str) -> list[str]:
    """Every prefix of a materialised path (the organisation's own path and its ancestors' are
    among them; the other prefixes match no organisation)."""
    return [path[:i] for i in range(1, len(path) + 1)]


def banks_usable_at(paths: Iterable[str]) -> QuerySet[QuestionBank]:
    """Active banks an organisation at one of ``paths`` may draw from: its own subtree's banks and
    those of the organisations above it (banks are shared down the tree)."""
    paths = list(paths)
    if not paths:
        return QuestionBank.objects.none()
    above = {prefix for path in paths for prefix in ancestor_paths(path)}
    return QuestionBank.objects.filter(
        Q(organization__path__in=above) | subtree_q("organization__path", paths), is_active=True
    )


def rule_candidates(rule: PaperRule, org_path: str) -> QuerySet[Question]:
    questions = Question.objects.filter(
        bank__in=banks_usable_at([org_path]),
        is_active=True,
        current_version__isnull=False,
        qtype=rule.qtype,
        difficulty__gte=rule.difficulty_min,
        difficulty__lte=rule.difficulty_max,
    )
    if rule.bank_id:
        questions = questions.filter(bank_id=rule.bank_id)
    if rule.tag_id:
        questions = questions.filter(tags=rule.tag_id)
    return questions.order_by("pk")


@dataclass
class Drawn:
    question_id: int
    version_id: int
    qtype: str
    score: Decimal
    option_order: list[int]


@dataclass
class Draw:
    items: list[Drawn] = field(default_factory=list)
    # 第N条规则: 只有M道符合条件的试题，需要K道
    warnings: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> Decimal:
        return sum((item.score for item in self.items), Decimal(0))


def new_seed() -> int:
    return random.SystemRandom().getrandbits(SEED_BITS)


def draw(paper: Paper, seed: int) -> Draw:
    """The questions of one attempt at ``paper`` for ``seed``."""
    rng = random.Random(seed)
    result = Draw()
    picked: list[tuple[int, int, str, Decimal]] = []
    if paper.kind == PaperKind.FIXED:
        for item in paper.items.select_related("question").order_by("position"):
            question = item.question
            if question.current_version_id is None:
                continue
            picked.append((question.pk, question.current_version_id, question.qtype, item.score))
        if paper.shuffle_questions:
            rng.shuffle(picked)
    else:
        taken: set[int] = set()
        org_path = paper.organization.path
        for index, rule in enumerate(paper.rules.order_by("position"), start=1):
            rows = [
                row
                for row in rule_candidates(rule, org_path).values_list("pk", "current_version_id")
                if row[0] not in taken
            ]
            if len(rows) < rule.count:
                result.warnings.append(
                    f"第{index}条规则（{rule.get_qtype_display()}）只有{len(rows)}道符合条件的试题，需要{rule.count}道"
                )
            chosen = rng.sample(rows, min(rule.count, len(rows)))
            for pk, version_id in chosen:
                taken.add(pk)
                picked.append((pk, version_id, rule.qtype, rule.score_each))
    versions = {
        v["pk"]: len(v["options"] or [])
        for v in QuestionVersion.objects.filter(pk__in=[p[1] for p in picked]).values("pk", "options")
    }
    for pk, version_id, qtype, score in picked:
        order = list(range(versions.get(version_id, 0)))
        if qtype in CHOICE_TYPES and paper.shuffle_options:
            rng.shuffle(order)
        result.items.append(Drawn(pk, version_id, qtype, score, order if qtype in CHOICE_TYPES else []))
    return result


def questions_usable_at(*, path: str) -> QuerySet[Question]:
    """Questions a paper of the organisation at ``path`` may use."""
    return Question.objects.filter(
        bank__in=banks_usable_at([path]), is_active=True, current_version__isnull=False
    )


def paper_max_score(paper: Paper) -> Decimal | None:
    """The full marks of a paper: its items' points, or each rule's count × points."""
    if paper.kind == PaperKind.FIXED:
        total: Decimal | None = paper.items.aggregate(total=Sum("score"))["total"]
        return total
    total = Decimal(0)
    for count, score in paper.rules.values_list("count", "score_each"):
        total += count * score
    return total
