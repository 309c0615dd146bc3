"""A plain, slow reading of the item analysis — every answer read into Python — kept only as the
reference that the SQL version (``selectors.results.exam_results``) is checked against."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for, subtree_q
from partyedu.exams.models import AttemptQuestion, Exam
from partyedu.exams.selectors import APP, DISCRIMINATION_FLAG, NOBODY_RIGHT_FLAG_MIN
from partyedu.exams.targets import counted_attempts, exam_target_members


def _point_biserial(item: list[float], totals: list[float]) -> float | None:
    """Correlation between an item's marks (0–1) and the total scores; None when either is constant."""
    n = len(item)
    if n < 2:
        return None
    mean_i, mean_t = sum(item) / n, sum(totals) / n
    cov = sum((a - mean_i) * (b - mean_t) for a, b in zip(item, totals, strict=True))
    var_i = sum((a - mean_i) ** 2 for a in item)
    var_t = sum((b - mean_t) ** 2 for b in totals)
    if var_i == 0 or var_t == 0:
        return None
    return cov / math.sqrt(var_i * var_t)


def reference_exam_results(*, user: Viewer, exam: Exam) -> dict[str, Any]:
    """Participation and scores over the members of the exam's targets that lie in the viewer's
    subtrees, by organisation, and per question its difficulty (proportion of the points scored)
    and discrimination (point-biserial correlation of its marks with the total, excluding the
    item itself would be stricter; the plain form is the one Moodle reports)."""
    paths = scope_for(user, "view", APP).paths
    targets = exam_target_members(exam).filter(subtree_q("org_path", paths))
    counted = counted_attempts(exam).filter(member__in=targets.values("pk"))
    rows = list(counted.values_list("pk", "member_id", "member__organization_id", "score", "passed"))
    by_org: dict[int, dict[str, Any]] = {}
    for org_id, name, n in (
        targets.values("organization_id", "organization__name")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "organization__name", "n")
    ):
        by_org[org_id] = {"organization": org_id, "name": name, "targets": n, "attempted": 0, "passed": 0}
    scores: list[Decimal] = []
    for _pk, _member, org_id, score, passed in rows:
        scores.append(score or Decimal(0))
        entry = by_org.setdefault(
            org_id, {"organization": org_id, "name": "", "targets": 0, "attempted": 0, "passed": 0}
        )
        entry["attempted"] += 1
        entry["passed"] += 1 if passed else 0
    total_by_attempt = {pk: float(score or 0) for pk, _m, _o, score, _p in rows}
    marks: dict[int, dict[int, float]] = defaultdict(dict)
    for attempt_id, question_id, points, score in AttemptQuestion.objects.filter(
        attempt_id__in=list(total_by_attempt)
    ).values_list("attempt_id", "version__question_id", "answer__points", "score"):
        marks[question_id][attempt_id] = float(points or 0) / float(score) if score else 0.0
    items = []
    for question_id in sorted(marks):
        per_attempt = marks[question_id]
        values = list(per_attempt.values())
        discrimination = _point_biserial(values, [total_by_attempt[a] for a in per_attempt])
        items.append(
            {
                "question": question_id,
                "answered": len(values),
                "difficulty": round(sum(values) / len(values), 3),
                "discrimination": None if discrimination is None else round(discrimination, 3),
                "flagged": (discrimination is not None and discrimination < DISCRIMINATION_FLAG)
                or (discrimination is None and len(values) >= NOBODY_RIGHT_FLAG_MIN and sum(values) == 0),
            }
        )
    mean = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01")) if scores else None
    return {
        "targets": targets.count(),
        "attempted": len(rows),
        "passed": sum(1 for row in rows if row[4]),
        "mean_score": mean,
        "by_organization": sorted(by_org.values(), key=lambda e: e["organization"]),
        "items": items,
    }
