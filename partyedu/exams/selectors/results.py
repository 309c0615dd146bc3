"""Reads of the organiser's exam pages: the list with its counts, the grading queue and the
results with their item analysis, all aggregated in SQL.

``exam_results`` here has the shape of ``selectors.exam_results`` (the API's contract) but never
loads answers into Python: an exam of 100,000 attempts × 20 questions is one GROUP BY over its
answers. Difficulty is the mean mark (points / item score, 0–1); discrimination is the
point-biserial (Pearson) correlation of an item's marks with the attempt totals, computed from
per-item sums (n, Σx, Σx², Σy, Σy², Σxy):

    r = (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²))

which is the same figure as the two-pass formula of ``selectors._point_biserial``.

Scope: everything starts from the viewer's "view" (or, for grading, "change") scope in the exams
app; members outside it are neither counted nor listed. An exam of a level above the viewer whose
targets include members in their scope "reaches" them (``exams_reaching``): they see its results
read-only, for those members only, without the item analysis. Nothing here ranks members against each
other across organisations (DESIGN §3.5): lists are by organisation and by name.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import can, scope_for, subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths
from partyedu.study.models import ClassEnrollment

from ..choices import MANUAL_TYPES, ExamKind, TargetKind
from ..models import Answer, Attempt, AttemptQuestion, Exam, ExamTarget, Question, QuestionVersion
from ..targets import EXAMINABLE_STATUSES, counted_attempts, exam_target_members
from . import DISCRIMINATION_FLAG, NOBODY_RIGHT_FLAG_MIN, exam_list

APP = "exams"
HISTOGRAM_BINS = 10
# Below this relative spread a variance is rounding noise, not a real spread (all marks equal).
VARIANCE_EPSILON = 1e-9


# --- the list ----------------------------------------------------------------------------------


class ExamStatus:
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"
    CHOICES = ((UPCOMING, "未开始"), (OPEN, "进行中"), (CLOSED, "已结束"))
    LABELS = dict(CHOICES)


def exam_status(exam: Exam, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if now < exam.opens_at:
        return ExamStatus.UPCOMING
    if now < exam.closes_at:
        return ExamStatus.OPEN
    return ExamStatus.CLOSED


class _Count(Func):
    """COUNT(*) of a correlated subquery, without a GROUP BY on the outer row."""

    template = "COUNT(*)"
    output_field = IntegerField()


def _count(queryset: QuerySet[Any]) -> Subquery:
    return Subquery(queryset.order_by().annotate(n=_Count()).values("n")[:1], output_field=IntegerField())


def _target_count(paths: tuple[str, ...] | None = None) -> Any:
    """The number of an exam's target members, as ``targets.exam_target_members`` defines them, as
    one SQL expression over the outer exam row (so a list page counts them all in one query);
    only those whose organisation lies in ``paths`` when given."""
    members = Member.objects.filter(is_active=True, status__in=EXAMINABLE_STATUSES)
    if paths is not None:
        members = members.filter(subtree_q("org_path", paths))
    named = members.filter(exam_targets__exam=OuterRef("pk"))
    in_subtree = Q(org_path__startswith=OuterRef("organization__path"))
    enrolled = Q(
        pk__in=ClassEnrollment.objects.filter(
            training_class_id=OuterRef(OuterRef("training_class_id"))
        ).values("member_id")
    )
    subtree_body = members.filter(in_subtree, is_exempt=False)
    class_body = members.filter(enrolled, is_exempt=False)
    return Case(
        When(target_kind=TargetKind.MEMBERS, then=_count(named)),
        When(
            target_kind=TargetKind.TRAINING_CLASS,
            then=_count(class_body) + _count(named.filter(Q(is_exempt=True) | ~enrolled)),
        ),
        default=_count(subtree_body) + _count(named.filter(Q(is_exempt=True) | ~in_subtree)),
        output_field=IntegerField(),
    )


def _filtered(exams: QuerySet[Exam], filters: dict[str, Any], now: datetime) -> QuerySet[Exam]:
    """The list filters: status (未开始/进行中/已结束), kind and title."""
    status = filters.get("status")
    if status == ExamStatus.UPCOMING:
        exams = exams.filter(opens_at__gt=now)
    elif status == ExamStatus.OPEN:
        exams = exams.filter(opens_at__lte=now, closes_at__gt=now)
    elif status == ExamStatus.CLOSED:
        exams = exams.filter(closes_at__lte=now)
    if filters.get("kind") in ExamKind.values:
        exams = exams.filter(kind=filters["kind"])
    if filters.get("q"):
        exams = exams.filter(title__contains=filters["q"])
    return exams


def exam_list_filtered(
    *, user: Viewer, filters: dict[str, Any] | None = None, now: datetime | None = None
) -> QuerySet[Exam]:
    """Exams and practice sets in the viewer's scope, by status (未开始/进行中/已结束), kind and
    title, each with its target count and the number of members who have submitted an attempt."""
    exams = _filtered(exam_list(user=user), filters or {}, now or timezone.now())
    attempted = (
        Attempt.objects.filter(exam=OuterRef("pk"), submitted_at__isnull=False)
        .order_by()
        .values("exam")
        .annotate(n=Count("member", distinct=True))
        .values("n")[:1]
    )
    return exams.annotate(
        target_total=_target_count(),
        attempted_total=Coalesce(Subquery(attempted, output_field=IntegerField()), 0),
    ).order_by("-opens_at", "-id")


# --- exams of the levels above that reach the viewer's members ------------------------------------
#
# Results are seen by the member and by the levels above them (DESIGN §3.5): a city's exam of its
# whole subtree is also the district's and the branch's business, for their own members. Such an
# exam is "reached": its organisation lies outside the viewer's scope, so ``exam_list`` (and every
# page that edits, corrects keys or grades) never finds it, but its results page, exports and the
# API's results answer for it over the viewer's members only. Only exams of kind 考试 reach down:
# practice stays the member's own and a contest's tables are its organiser's until published.


def exams_reaching(*, user: Viewer) -> QuerySet[Exam]:
    """Exams (kind 考试) whose organisation lies outside the viewer's "view" scope but whose
    targets include members inside it: subtree exams of an organisation above one of the viewer's
    subtrees, class exams whose class enrols members in scope, and exams naming members in scope.
    Decided in SQL by index lookups and ``EXISTS``; no target list is loaded."""
    paths = scope_for(user, "view", APP).paths
    if not paths:
        return Exam.objects.none()
    above = {ancestor for p in paths for ancestor in ancestor_paths(p) if ancestor != p}
    in_scope = Member.objects.filter(
        subtree_q("org_path", paths), is_active=True, status__in=EXAMINABLE_STATUSES
    ).values("pk")
    named = Exists(ExamTarget.objects.filter(exam=OuterRef("pk"), member__in=in_scope))
    enrolled = Exists(
        ClassEnrollment.objects.filter(
            training_class_id=OuterRef("training_class_id"),
            member__in=in_scope.filter(is_exempt=False),
        )
    )
    reaches = (
        Q(target_kind=TargetKind.SUBTREE, organization__path__in=sorted(above))
        | (Q(target_kind=TargetKind.TRAINING_CLASS, training_class__isnull=False) & enrolled)
        | named
    )
    return (
        Exam.objects.filter(reaches, kind=ExamKind.EXAM)
        .exclude(subtree_q("organization__path", paths))
        .select_related("organization", "paper")
    )


def exam_reached_list_filtered(
    *, user: Viewer, filters: dict[str, Any] | None = None, now: datetime | None = None
) -> QuerySet[Exam]:
    """``exams_reaching`` with the list filters, each with its targets and the members who have
    submitted an attempt, both counted over the viewer's scope only."""
    paths = scope_for(user, "view", APP).paths
    exams = _filtered(exams_reaching(user=user), filters or {}, now or timezone.now())
    attempted = (
        Attempt.objects.filter(exam=OuterRef("pk"), submitted_at__isnull=False)
        .filter(subtree_q("member__org_path", paths))
        .order_by()
        .values("exam")
        .annotate(n=Count("member", distinct=True))
        .values("n")[:1]
    )
    return exams.annotate(
        target_total=_target_count(paths),
        attempted_total=Coalesce(Subquery(attempted, output_field=IntegerField()), 0),
    ).order_by("-opens_at", "-id")


def exam_reached(*, user: Viewer, exam: Exam) -> bool:
    """Whether the viewer sees ``exam`` as a reached exam (read-only, their members only) rather
    than as one of their own scope."""
    return not can(user, "view", exam.organization, app_label=APP)


def exam_get_for_results(*, user: Viewer, pk: Any) -> Exam:
    """The exam ``pk`` for its results: one in the viewer's "view" scope, or one reaching members
    in it (``exams_reaching``); 404 otherwise."""
    exam = exam_list(user=user).filter(pk=pk).first()
    if exam is None:
        exam = exams_reaching(user=user).filter(pk=pk).first()
    if exam is None:
        raise Http404("考试不存在")
    return exam


def exam_target_count(*, user: Viewer, exam: Exam) -> int:
    """The exam's targets, counted as the list counts them (0 for an exam outside the user's
    scope)."""
    row = (
        Exam.objects.restrict(user, "view")
        .filter(pk=exam.pk)
        .annotate(n=_target_count())
        .values_list("n", flat=True)
        .first()
    )
    return int(row or 0)


def exam_named_count(*, user: Viewer, exam: Exam) -> int:
    """How many members the exam names (0 for an exam outside the user's scope)."""
    return ExamTarget.objects.filter(
        exam=exam, exam__in=Exam.objects.restrict(user, "view").values("pk")
    ).count()


# --- counted attempts and scope ---------------------------------------------------------------------


def _targets_in_scope(user: Viewer, exam: Exam) -> QuerySet[Member]:
    paths = scope_for(user, "view", APP).paths
    return exam_target_members(exam).filter(subtree_q("org_path", paths))


def _counted_in_scope(user: Viewer, exam: Exam, targets: QuerySet[Member]) -> QuerySet[Attempt]:
    return counted_attempts(exam).filter(member__in=targets.values("pk"))


# --- results -------------------------------------------------------------------------------------------


def pearson(*, n: int, sx: float, sxx: float, sy: float, syy: float, sxy: float) -> float | None:
    """The correlation of x and y from their sums; None when either does not vary."""
    if n < 2:
        return None
    var_x = n * sxx - sx * sx
    var_y = n * syy - sy * sy
    if var_x <= VARIANCE_EPSILON * max(n * sxx, 1.0) or var_y <= VARIANCE_EPSILON * max(n * syy, 1.0):
        return None
    r = (n * sxy - sx * sy) / math.sqrt(var_x * var_y)
    return max(-1.0, min(1.0, r))


def _item_analysis(counted: QuerySet[Attempt]) -> list[dict[str, Any]]:
    """Per question of the counted attempts: how many attempts saw it, its difficulty and its
    discrimination.

    One GROUP BY over (version, points, item score): a question's marks take few distinct values
    (two for an objective question), so the database only counts and sums the totals (Σy, Σy²)
    per group and the item sums (Σx, Σx², Σxy) follow here from each group's mark. That keeps
    the work per answer row to a join and two additions, which is what lets 2,000,000 answers be
    analysed in seconds."""
    attempt_score = F("attempt__score")
    groups = (
        AttemptQuestion.objects.filter(attempt__in=counted.values("pk"))
        .values("version_id", "score", p=Coalesce("answer__points", Value(Decimal(0))))
        .annotate(n=Count("pk"), sy=Sum(attempt_score), syy=Sum(attempt_score * attempt_score))
        .order_by()
    )
    sums: dict[int, list[float]] = {}
    for row in groups:
        score = float(row["score"] or 0)
        x = float(row["p"]) / score if score else 0.0
        n, sy, syy = row["n"], float(row["sy"] or 0), float(row["syy"] or 0)
        acc = sums.setdefault(row["version_id"], [0, 0.0, 0.0, 0.0, 0.0, 0.0])
        acc[0] += n
        acc[1] += n * x
        acc[2] += n * x * x
        acc[3] += sy
        acc[4] += syy
        acc[5] += x * sy
    # Versions of one question (an edit after some attempts) are analysed together, as one item.
    questions = dict(QuestionVersion.objects.filter(pk__in=list(sums)).values_list("pk", "question_id"))
    by_question: dict[int, list[float]] = {}
    for version_id, acc in sums.items():
        total = by_question.setdefault(questions[version_id], [0, 0.0, 0.0, 0.0, 0.0, 0.0])
        for i, value in enumerate(acc):
            total[i] += value
    items = []
    for question_id in sorted(by_question):
        n_f, sx, sxx, sy, syy, sxy = by_question[question_id]
        n = int(n_f)
        r = pearson(n=n, sx=sx, sxx=sxx, sy=sy, syy=syy, sxy=sxy)
        items.append(
            {
                "question": question_id,
                "answered": n,
                "difficulty": round(sx / n, 3) if n else 0.0,
                "discrimination": None if r is None else round(r, 3),
                "flagged": (r is not None and r < DISCRIMINATION_FLAG)
                or (r is None and n >= NOBODY_RIGHT_FLAG_MIN and sx == 0),
            }
        )
    return items


def item_stems(*, user: Viewer, exam: Exam, items: list[dict[str, Any]]) -> dict[int, str]:
    """The current stem of each analysed question of the exam's results (``exam_results``);
    nothing for an exam outside the user's scope."""
    if not can(user, "view", exam.organization, app_label=APP):
        return {}
    ids = [item["question"] for item in items]
    return dict(Question.objects.filter(pk__in=ids).values_list("pk", "current_version__stem"))


def exam_results(*, user: Viewer, exam: Exam) -> dict[str, Any]:
    """``selectors.exam_results`` in SQL aggregates, with the same return shape: participation and
    scores over the exam's targets in the viewer's subtrees, by organisation (the member's own),
    and per question its difficulty and discrimination.

    The item analysis is the exam's owner's: for a reached exam (``exam_reached``) ``items`` is
    empty. Over a district's or a branch's few members the figures are noise that would flag
    sound questions, their keys can only be corrected by the owner (who sees every member), and
    per-item marks over a handful of named members come close to showing each one's answers."""
    targets = _targets_in_scope(user, exam)
    counted = _counted_in_scope(user, exam, targets)
    by_org: dict[int, dict[str, Any]] = {}
    for org_id, name, n in (
        targets.order_by()
        .values("organization_id", "organization__name")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "organization__name", "n")
    ):
        by_org[org_id] = {"organization": org_id, "name": name, "targets": n, "attempted": 0, "passed": 0}
    for org_id, n, passed in (
        counted.order_by()
        .values("member__organization_id")
        .annotate(n=Count("pk"), p=Count("pk", filter=Q(passed=True)))
        .values_list("member__organization_id", "n", "p")
    ):
        entry = by_org.setdefault(
            org_id, {"organization": org_id, "name": "", "targets": 0, "attempted": 0, "passed": 0}
        )
        entry["attempted"] += n
        entry["passed"] += passed
    summary = counted.order_by().aggregate(
        n=Count("pk"),
        passed=Count("pk", filter=Q(passed=True)),
        total=Sum(Coalesce("score", Value(Decimal(0)))),
    )
    attempted = summary["n"] or 0
    mean = (Decimal(summary["total"]) / attempted).quantize(Decimal("0.01")) if attempted else None
    if exam.kind == ExamKind.PRACTICE:
        # A practice set reports upward only who has practised: no scores, passes or items.
        for entry in by_org.values():
            entry["passed"] = 0
        return {
            "targets": sum(e["targets"] for e in by_org.values()),
            "attempted": attempted,
            "passed": 0,
            "mean_score": None,
            "by_organization": sorted(by_org.values(), key=lambda e: e["organization"]),
            "items": [],
        }
    return {
        "targets": sum(e["targets"] for e in by_org.values()),
        "attempted": attempted,
        "passed": summary["passed"] or 0,
        "mean_score": mean,
        "by_organization": sorted(by_org.values(), key=lambda e: e["organization"]),
        "items": [] if exam_reached(user=user, exam=exam) else _item_analysis(counted),
    }


# How long a computed analysis is reused while no attempt of the exam changes (members moving
# between organisations do not touch the attempts, so the figures also age out).
RESULTS_CACHE_SECONDS = 600


def exam_results_cached(*, user: Viewer, exam: Exam) -> dict[str, Any]:
    """``exam_results`` computed once per state of the exam's attempts and viewer's scope: the key
    holds the number of attempts and their latest change (a submission, a grade and a key
    correction's re-scoring all save the attempt), so a page reload of a 100,000-attempt exam
    costs one small aggregate instead of the whole analysis."""
    paths = scope_for(user, "view", APP).paths
    stamp = Attempt.objects.filter(exam=exam).aggregate(n=Count("pk"), changed=Max("updated_at"))
    raw = f"{exam.pk}|{exam.updated_at.isoformat()}|{stamp['n']}|{stamp['changed']}|{','.join(paths)}"
    key = "exams.results:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = exam_results(user=user, exam=exam)
        cache.set(key, value, RESULTS_CACHE_SECONDS)
    return value


def score_histogram(*, user: Viewer, exam: Exam, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """The counted scores in ``bins`` equal bands of the full mark (the last band includes the full
    mark), counted in SQL: ``{"labels": ["0–10", …], "counts": […], "max_score": …}``."""
    targets = _targets_in_scope(user, exam)
    counted = _counted_in_scope(user, exam, targets)
    if exam.kind == ExamKind.PRACTICE:  # practice scores are the member's own
        counted = counted.none()
    top = counted.order_by().aggregate(top=Max("max_score"))["top"]
    max_score = Decimal(top or 0)
    if max_score <= 0:
        max_score = Decimal(100)
    width = max_score / bins
    whens = [When(score__lt=width * (i + 1), then=Value(i)) for i in range(bins - 1)]
    band = Case(*whens, default=Value(bins - 1), output_field=IntegerField())
    counts = [0] * bins
    for index, n in (
        counted.order_by().annotate(band=band).values("band").annotate(n=Count("pk")).values_list("band", "n")
    ):
        counts[int(index)] = n
    labels = [f"{_fmt(width * i)}–{_fmt(width * (i + 1))}" for i in range(bins)]
    return {"labels": labels, "counts": counts, "max_score": max_score}


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.1f}"


# --- drill down by organisation ---------------------------------------------------------------------


@dataclass
class OrgRow:
    organization: Organization
    targets: int
    attempted: int
    passed: int
    has_children: bool

    @property
    def not_attempted(self) -> int:
        return max(self.targets - self.attempted, 0)

    @property
    def rate(self) -> float | None:
        return round(100 * self.attempted / self.targets, 1) if self.targets else None

    @property
    def pass_rate(self) -> float | None:
        return round(100 * self.passed / self.attempted, 1) if self.attempted else None


def results_focus(*, user: Viewer, exam: Exam, organization_pk: Any = None) -> Organization:
    """The organisation the results page is looking at: ``organization_pk`` when it lies in the
    viewer's scope (404 otherwise), else the exam's organisation if in scope, else the top of the
    viewer's scope."""
    scope = scope_for(user, "view", APP)
    if organization_pk not in (None, ""):
        try:
            org = Organization.objects.get(pk=int(organization_pk))
        except (TypeError, ValueError, Organization.DoesNotExist):
            raise Http404("组织不存在") from None
        if not scope.covers(org.path):
            raise Http404("组织不存在")
        return org
    if scope.covers(exam.organization.path):
        return exam.organization
    top = Organization.objects.filter(path__in=scope.paths).order_by("path").first()
    if top is None:
        raise Http404("组织不存在")
    return top


def participation_by_child(*, user: Viewer, exam: Exam, organization: Organization) -> dict[str, Any]:
    """Participation under ``organization``: one row per child organisation (its whole subtree
    rolled up) and one for the members attached directly to it, grouped in SQL by the child's
    path prefix."""
    targets = _targets_in_scope(user, exam).filter(org_path__startswith=organization.path)
    counted = _counted_in_scope(user, exam, targets)
    width = len(organization.path) + SEGMENT_WIDTH
    prefix = Substr("org_path", 1, width, output_field=CharField())
    target_counts = dict(
        targets.order_by().annotate(p=prefix).values("p").annotate(n=Count("pk")).values_list("p", "n")
    )
    attempt_counts = {
        p: (n, ok)
        for p, n, ok in counted.order_by()
        .annotate(p=Substr("member__org_path", 1, width, output_field=CharField()))
        .values("p")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(passed=True)))
        .values_list("p", "n", "ok")
    }
    children = list(
        Organization.objects.filter(path__startswith=organization.path, depth=organization.depth + 1)
        .annotate(
            has_kids=Exists(
                Organization.objects.filter(path__startswith=OuterRef("path")).exclude(pk=OuterRef("pk"))
            )
        )
        .order_by("path")
    )
    rows = []
    for child in children:
        targets_n = target_counts.get(child.path, 0)
        done, ok = attempt_counts.get(child.path, (0, 0))
        if targets_n or done:
            rows.append(OrgRow(child, targets_n, done, ok, bool(child.has_kids)))
    own_targets = target_counts.get(organization.path, 0)
    own_done, own_ok = attempt_counts.get(organization.path, (0, 0))
    own = OrgRow(organization, own_targets, own_done, own_ok, False) if own_targets or own_done else None
    total = OrgRow(
        organization,
        sum(target_counts.values()),
        sum(v[0] for v in attempt_counts.values()),
        sum(v[1] for v in attempt_counts.values()),
        bool(rows),
    )
    return {"rows": rows, "own": own, "total": total}


def results_breadcrumb(*, user: Viewer, organization: Organization) -> list[Organization]:
    """The ancestors of ``organization`` that lie in the viewer's scope, top first."""
    scope = scope_for(user, "view", APP)
    paths = [organization.path[:i] for i in range(SEGMENT_WIDTH, len(organization.path), SEGMENT_WIDTH)]
    return [o for o in Organization.objects.filter(path__in=paths).order_by("path") if scope.covers(o.path)]


def member_results(*, user: Viewer, exam: Exam, organization: Organization) -> QuerySet[Member]:
    """The target members attached directly to ``organization`` with their counted attempt's score
    (None when they have not submitted one), by name: an organiser's drill-down, never a ranking."""
    targets = _targets_in_scope(user, exam).filter(organization=organization)
    counted = counted_attempts(exam).filter(member_id=OuterRef("pk"))
    if exam.kind == ExamKind.PRACTICE:
        # Only whether each member has practised goes upward (submitted_at), never a score.
        return (
            targets.annotate(
                score=Value(None, output_field=DecimalField()),
                passed=Value(None, output_field=BooleanField()),
                submitted_at=Subquery(counted.values("submitted_at")[:1]),
                attempt_id=Value(None, output_field=IntegerField()),
            )
            .select_related("organization")
            .order_by("name", "pk")
        )
    return (
        targets.annotate(
            score=Subquery(counted.values("score")[:1]),
            passed=Subquery(counted.values("passed")[:1]),
            submitted_at=Subquery(counted.values("submitted_at")[:1]),
            attempt_id=Subquery(counted.values("pk")[:1]),
        )
        .select_related("organization")
        .order_by("name", "pk")
    )


def nonparticipants(*, user: Viewer, exam: Exam) -> QuerySet[Member]:
    """Target members in the viewer's scope without a submitted attempt, by organisation path
    and name (the export's rows)."""
    submitted = Attempt.objects.filter(exam=exam, member_id=OuterRef("pk"), submitted_at__isnull=False)
    return (
        _targets_in_scope(user, exam)
        .filter(~Exists(submitted))
        .select_related("organization")
        .order_by("org_path", "name", "pk")
    )


def result_rows(*, user: Viewer, exam: Exam) -> QuerySet[Attempt]:
    """The counted attempts in the viewer's scope, with the member and organisation, for the
    scores export (by organisation path and name, not by score)."""
    targets = _targets_in_scope(user, exam)
    if exam.kind == ExamKind.PRACTICE:  # practice scores are the member's own
        return Attempt.objects.none()
    return (
        _counted_in_scope(user, exam, targets)
        .select_related("member__organization")
        .order_by("member__org_path", "member__name", "pk")
    )


# --- grading ----------------------------------------------------------------------------------------


def anonymous_code(attempt_id: int) -> str:
    """A short code for an attempt that a grader cannot turn back into a member: a keyed digest of
    the attempt's id (stable, so the same answer sheet keeps its code)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"exams.grading:{attempt_id}".encode(), hashlib.sha256)
    return "卷" + digest.hexdigest()[:8].upper()


def grading_queue(*, user: Viewer, exam: Any = None) -> QuerySet[Answer]:
    """Short answers of submitted attempts awaiting a grade, of members within the grader's
    "change" scope (the scope ``answer_grade`` checks) in exams of that scope too, oldest first
    within each exam and question: an exam of a level above that reaches the grader's members is
    graded by its owner, who grades all its members alike. The rows carry no member: the page
    shows an anonymous code per attempt."""
    attempts = Attempt.objects.restrict(user, "change").filter(
        submitted_at__isnull=False, exam__in=Exam.objects.restrict(user, "change").values("pk")
    )
    if exam not in (None, ""):
        attempts = attempts.filter(exam_id=exam)
    return (
        Answer.objects.filter(
            attempt_question__attempt__in=attempts.values("pk"),
            attempt_question__version__question__qtype__in=list(MANUAL_TYPES),
            points__isnull=True,
        )
        .select_related(
            "attempt_question__version", "attempt_question__attempt__exam", "attempt_question__attempt"
        )
        .order_by("attempt_question__attempt__exam_id", "attempt_question__version__question_id", "pk")
    )


def grading_answer_get(*, user: Viewer, pk: Any) -> Answer:
    answer = grading_queue(user=user).filter(pk=pk).first()
    if answer is None:
        raise Http404("该答题不存在或已评分")
    return answer


def grading_exams(*, user: Viewer) -> list[tuple[int, str, int]]:
    """Exams with short answers waiting for this grader: (id, title, count)."""
    return list(
        grading_queue(user=user)
        .order_by()
        .values("attempt_question__attempt__exam_id", "attempt_question__attempt__exam__title")
        .annotate(n=Count("pk"))
        .values_list("attempt_question__attempt__exam_id", "attempt_question__attempt__exam__title", "n")
        .order_by("attempt_question__attempt__exam_id")
    )
