"""Writes of the annual assessment (年度考评): schemes and their indicators, manual scores,
scoring (inline, or a background job when many organisations are assessed), publishing and the
xlsx export.

Rules (issue 12, "Bad input"): the weights of a scheme's indicators sum to exactly 100, else
nothing is written; a manual score lies within 0..the indicator's weight and carries a reason;
scoring is idempotent — it replaces the results of a draft or scored scheme in one transaction,
under a lock on the scheme — and a published scheme is frozen (no edit, score or manual score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import User
from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.jobs import Progress, job_enqueue, job_kind
from partyedu.core.models import Job
from partyedu.core.notifications import notify
from partyedu.core.scope import require
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..models.assessment import (
    AssessmentIndicator,
    AssessmentManualScore,
    AssessmentMetric,
    AssessmentResult,
    AssessmentRule,
    AssessmentScheme,
    IndicatorKind,
    SchemeStatus,
)
from ..selectors.assessment import (
    MetricValue,
    assessment_figures,
    assessment_metric_values,
    assessment_result_table,
)

APP = "supervision"
TOTAL_WEIGHT = Decimal("100")
ONE_PLACE = Decimal("0.1")
# More assessed organisations than this are scored by a background job with a progress page.
SCORE_INLINE_MAX = 30
SCORE_JOB_KIND = "supervision.assessment_score"


# --- formatting of the explanations -----------------------------------------------------------------


def points_text(value: Decimal | None) -> str:
    """18.5 → "18.5", 20.0 → "20"."""
    if value is None:
        return "-"
    value = Decimal(value).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)
    return f"{value:f}".removesuffix(".0")


def _number(value: Decimal | None) -> str:
    value = Decimal(value or 0)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def metric_points(indicator: AssessmentIndicator, value: MetricValue) -> Decimal:
    """Linear: weight × rate; threshold: the weight when the rate reaches the threshold (a
    percentage), else 0. Nothing required of the organisation (no item due, nobody on the duty
    list) scores the weight; missing data scores 0. Rounded half up to one decimal."""
    rate = value.rate
    if rate is None:
        return Decimal(indicator.weight) if value.not_applicable else Decimal("0.0")
    if indicator.rule == AssessmentRule.THRESHOLD:
        met = rate * 100 >= Decimal(indicator.threshold or 0)
        return Decimal(indicator.weight) if met else Decimal("0.0")
    points = Decimal(indicator.weight) * min(rate, Decimal(1))
    return points.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def metric_explanation(indicator: AssessmentIndicator, value: MetricValue, points: Decimal) -> str:
    """ "学时完成率 92.3%（1,204/1,304人）→ 18.5/20"; the threshold rule adds "（≥90%满分）"."""
    label = AssessmentMetric(indicator.metric).label if indicator.metric else indicator.name
    weight = points_text(indicator.weight)
    if value.rate is None:
        if value.not_applicable:
            return f"{label} 不适用（{value.note}，按满分计）→ {points_text(points)}/{weight}"
        return f"{label} 暂无数据（{value.note or '无记录'}）→ {points_text(points)}/{weight}"
    percent = (value.rate * 100).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)
    parts = f"{_number(value.numerator)}/{_number(value.denominator)}{value.unit}"
    rule = ""
    if indicator.rule == AssessmentRule.THRESHOLD:
        rule = f"，≥{points_text(indicator.threshold)}%满分"
    return f"{label} {percent}%（{parts}{rule}）→ {points_text(points)}/{weight}"


def manual_explanation(indicator: AssessmentIndicator, score: AssessmentManualScore | None) -> str:
    weight = points_text(indicator.weight)
    if score is None:
        return f"{indicator.name} 尚未评分 → 0/{weight}"
    return f"{indicator.name} 人工评分：{score.reason} → {points_text(score.points)}/{weight}"


# --- schemes ------------------------------------------------------------------------------------------


@dataclass
class IndicatorData:
    """One indicator as entered on the scheme editor (``pk`` for an existing one)."""

    name: str
    kind: str
    weight: Any
    metric: str = ""
    rule: str = AssessmentRule.LINEAR
    threshold: Any = None
    description: str = ""
    pk: int | None = None


def _decimal(value: Any, field: str, errors: dict[str, list[str]], label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(f"{label}须为数字")
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(f"{label}须为数字")
        return None
    return number


def _clean_indicators(rows: Sequence[IndicatorData]) -> list[IndicatorData]:
    """Validate the indicators as a whole: each complete and consistent, the weights summing to
    exactly 100. Every problem is reported with the row (第N项) and the field named."""
    errors: dict[str, list[str]] = {}
    cleaned: list[IndicatorData] = []
    if not rows:
        raise ValidationError({"indicators": ["请至少设置一项考评指标"]})
    total = Decimal("0")
    for number, row in enumerate(rows, start=1):
        where = f"第{number}项指标"
        name = (row.name or "").strip()
        if not name:
            errors.setdefault("indicators", []).append(f"{where}：请填写指标名称")
        if row.kind not in IndicatorKind.values:
            errors.setdefault("indicators", []).append(f"{where}：请选择指标类型")
        weight = _decimal(row.weight, "indicators", errors, f"{where}的分值")
        if weight is None:
            if row.weight in (None, ""):
                errors.setdefault("indicators", []).append(f"{where}：请填写分值")
        elif weight <= 0 or weight > TOTAL_WEIGHT:
            errors.setdefault("indicators", []).append(f"{where}：分值须大于0且不超过100")
        elif weight != weight.quantize(ONE_PLACE):
            errors.setdefault("indicators", []).append(f"{where}：分值最多保留一位小数")
        else:
            total += weight
        metric = row.metric or ""
        rule = row.rule or AssessmentRule.LINEAR
        threshold = None
        if row.kind == IndicatorKind.DERIVED:
            if metric not in AssessmentMetric.values:
                errors.setdefault("indicators", []).append(f"{where}：数据指标须选择所依据的数据")
            if rule not in AssessmentRule.values:
                errors.setdefault("indicators", []).append(f"{where}：请选择计分规则")
            threshold = _decimal(row.threshold, "indicators", errors, f"{where}的达标线")
            if rule == AssessmentRule.THRESHOLD:
                if threshold is None:
                    if row.threshold in (None, ""):
                        errors.setdefault("indicators", []).append(f"{where}：达标满分规则须填写达标线(%)")
                elif not 0 <= threshold <= 100:
                    errors.setdefault("indicators", []).append(f"{where}：达标线须在0到100之间")
            else:
                threshold = None
        else:
            metric, rule = "", AssessmentRule.LINEAR
        cleaned.append(
            IndicatorData(
                name=name,
                kind=row.kind,
                weight=weight,
                metric=metric,
                rule=rule,
                threshold=threshold,
                description=(row.description or "").strip(),
                pk=row.pk,
            )
        )
    if not errors and total != TOTAL_WEIGHT:
        errors.setdefault("indicators", []).append(
            f"各项指标分值之和须为100分，当前合计{points_text(total)}分"
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_scheme_fields(scheme: AssessmentScheme) -> None:
    errors: dict[str, list[str]] = {}
    if not (scheme.title or "").strip():
        errors["title"] = ["请填写方案名称"]
    if not isinstance(scheme.year, int) or not YEAR_MIN <= scheme.year <= YEAR_MAX:
        errors["year"] = [f"年度须在{YEAR_MIN}到{YEAR_MAX}之间"]
    if scheme.target_level and scheme.target_level not in OrgLevel.values:
        errors["target_level"] = ["考评对象层级无效"]
    if errors:
        raise ValidationError(errors)
    try:
        scheme.full_clean(exclude=["organization", "created_by", "published_by", "scoring_job"])
    except ValidationError as exc:
        messages = exc.message_dict
        if "__all__" in messages:
            messages = {**messages, "title": ["该组织本年度已有同名考评方案"]}
            del messages["__all__"]
        raise ValidationError(messages) from None


def _write_indicators(scheme: AssessmentScheme, rows: list[IndicatorData]) -> None:
    existing = {ind.pk: ind for ind in scheme.indicators.all()}
    keep: set[int] = set()
    for order, row in enumerate(rows):
        indicator = existing.get(row.pk) if row.pk is not None else None
        if indicator is None:
            indicator = AssessmentIndicator(scheme=scheme)
        indicator.name = row.name
        indicator.kind = row.kind
        indicator.metric = row.metric
        indicator.weight = row.weight
        indicator.rule = row.rule
        indicator.threshold = row.threshold
        indicator.description = row.description
        indicator.sort_order = order
        indicator.full_clean(exclude=["scheme"])
        indicator.save()
        keep.add(indicator.pk)
    # A removed indicator takes its manual scores and results with it (cascade).
    scheme.indicators.exclude(pk__in=keep).delete()


def _refuse_frozen(scheme: AssessmentScheme) -> None:
    if scheme.status == SchemeStatus.PUBLISHED:
        raise ValidationError({"status": ["考评结果已发布，方案及结果不能再修改"]})


@transaction.atomic
def assessment_scheme_create(
    *,
    actor: Actor,
    organization: Organization,
    year: int,
    title: str,
    indicators: Sequence[IndicatorData],
    target_level: str = "",
    description: str = "",
) -> AssessmentScheme:
    """A draft scheme of ``organization`` for ``year`` with its indicators (weights summing to
    100), all or nothing."""
    require(actor, "add", organization, app_label=APP, message="您无权为该组织制定考评方案")
    scheme = AssessmentScheme(
        organization=organization,
        year=year,
        title=(title or "").strip(),
        target_level=target_level or "",
        description=(description or "").strip(),
        created_by=actor,
    )
    _check_scheme_fields(scheme)
    rows = _clean_indicators(indicators)
    try:
        with transaction.atomic():
            scheme.save()
    except IntegrityError:
        raise ValidationError({"title": ["该组织本年度已有同名考评方案"]}) from None
    _write_indicators(scheme, rows)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=scheme,
        changes={
            "organization": organization.pk,
            "year": year,
            "indicators": [(r.name, str(r.weight)) for r in rows],
        },
    )
    return scheme


@transaction.atomic
def assessment_scheme_update(
    *,
    actor: Actor,
    scheme: AssessmentScheme,
    title: str,
    indicators: Sequence[IndicatorData],
    target_level: str = "",
    description: str = "",
    year: int | None = None,
) -> AssessmentScheme:
    """Change a draft or scored scheme: its fields and indicators (matched by id; a missing one
    is removed with its manual scores). Its results are cleared and it returns to draft, to be
    scored again."""
    scheme = AssessmentScheme.objects.select_for_update().select_related("organization").get(pk=scheme.pk)
    require(actor, "change", scheme.organization, app_label=APP, message="您无权修改该考评方案")
    _refuse_frozen(scheme)
    scheme.title = (title or "").strip()
    scheme.target_level = target_level or ""
    scheme.description = (description or "").strip()
    if year is not None:
        scheme.year = year
    _check_scheme_fields(scheme)
    rows = _clean_indicators(indicators)
    known = set(scheme.indicators.values_list("pk", flat=True))
    for row in rows:
        if row.pk is not None and row.pk not in known:
            raise ValidationError({"indicators": ["指标不属于该方案，请刷新页面后重试"]})
    try:
        with transaction.atomic():
            scheme.status = SchemeStatus.DRAFT
            scheme.scored_at = None
            scheme.save()
    except IntegrityError:
        raise ValidationError({"title": ["该组织本年度已有同名考评方案"]}) from None
    scheme.results.all().delete()
    _write_indicators(scheme, rows)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=scheme,
        changes={"indicators": [(r.name, str(r.weight)) for r in rows], "target_level": scheme.target_level},
    )
    return scheme


@transaction.atomic
def assessment_scheme_delete(*, actor: Actor, scheme: AssessmentScheme) -> None:
    scheme = AssessmentScheme.objects.select_for_update().select_related("organization").get(pk=scheme.pk)
    require(actor, "delete", scheme.organization, app_label=APP, message="您无权删除该考评方案")
    _refuse_frozen(scheme)
    audit_record(actor=actor, action=AuditAction.DELETE, obj=scheme)
    scheme.delete()


# --- manual scores ----------------------------------------------------------------------------------


@transaction.atomic
def assessment_manual_score_set(
    *,
    actor: Actor,
    indicator: AssessmentIndicator,
    organization: Organization,
    points: Any,
    reason: str,
) -> AssessmentManualScore:
    """Give (or change) the manual points of one assessed organisation on one manual indicator:
    within 0..weight, with a reason. A scored scheme's result cell is updated at once."""
    scheme = (
        AssessmentScheme.objects.select_for_update()
        .select_related("organization")
        .get(pk=indicator.scheme_id)
    )
    require(actor, "change", scheme.organization, app_label=APP, message="您无权为该方案评分")
    _refuse_frozen(scheme)
    errors: dict[str, list[str]] = {}
    if indicator.kind != IndicatorKind.MANUAL:
        errors["indicator"] = ["该指标由数据自动计分，不能人工评分"]
    if not scheme.assessed_organizations().filter(pk=organization.pk).exists():
        errors["organization"] = ["该组织不是本方案的考评对象"]
    value = _decimal(points, "points", errors, "得分")
    if value is None and "points" not in errors:
        errors["points"] = ["请填写得分"]
    elif value is not None and not Decimal(0) <= value <= Decimal(indicator.weight):
        errors["points"] = [f"得分须在0到{points_text(indicator.weight)}分之间"]
    elif value is not None and value != value.quantize(ONE_PLACE):
        errors["points"] = ["得分最多保留一位小数"]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["请填写评分理由"]
    if errors:
        raise ValidationError(errors)
    assert value is not None
    score, created = AssessmentManualScore.objects.select_for_update().get_or_create(
        indicator=indicator,
        organization=organization,
        defaults={"points": value, "reason": reason, "scored_by": actor, "scored_at": timezone.now()},
    )
    before = None if created else {"points": str(score.points), "reason": score.reason}
    if not created:
        score.points, score.reason, score.scored_by, score.scored_at = value, reason, actor, timezone.now()
    score.full_clean()
    score.save()
    if scheme.status == SchemeStatus.SCORED:
        AssessmentResult.objects.update_or_create(
            scheme=scheme,
            organization=organization,
            indicator=indicator,
            defaults={
                "points": value,
                "has_data": True,
                "explanation": manual_explanation(indicator, score)[:500],
                "numerator": None,
                "denominator": None,
                "rate": None,
            },
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=score,
        object_repr=f"{scheme.title} · {indicator.name} · {organization.name}",
        changes={"points": str(value), "reason": reason, "before": before},
    )
    return score


# --- scoring --------------------------------------------------------------------------------------


def _score_rows(
    scheme: AssessmentScheme, targets: list[Organization], progress: Progress | None
) -> list[AssessmentResult]:
    """Every (assessed organisation, indicator) result, read from the records as the system
    (the caller checked the right to score): the shared figures once for all organisations, then
    each indicator for all of them."""
    indicators = list(scheme.indicators.order_by("sort_order", "id"))
    manual = {
        (s.indicator_id, s.organization_id): s
        for s in AssessmentManualScore.objects.filter(indicator__scheme=scheme)
    }
    as_of = timezone.localdate()
    needs_figures = any(
        ind.metric in (AssessmentMetric.HOURS_COMPLETION, AssessmentMetric.CADENCE_COMPLIANCE)
        for ind in indicators
    )
    figures = (
        assessment_figures(user=None, organizations=targets, year=scheme.year, as_of=as_of)
        if needs_figures
        else {}
    )
    rows: list[AssessmentResult] = []
    for number, indicator in enumerate(indicators, start=1):
        if progress is not None:
            progress(number - 1, len(indicators), f"正在计算{indicator.name}")
        if indicator.kind == IndicatorKind.MANUAL:
            for org in targets:
                score = manual.get((indicator.pk, org.pk))
                rows.append(
                    AssessmentResult(
                        scheme=scheme,
                        organization=org,
                        indicator=indicator,
                        points=score.points if score else Decimal("0.0"),
                        has_data=score is not None,
                        explanation=manual_explanation(indicator, score)[:500],
                    )
                )
            continue
        values = assessment_metric_values(
            user=None,
            metric=indicator.metric,
            organizations=targets,
            year=scheme.year,
            as_of=as_of,
            figures=figures,
        )
        for org in targets:
            value = values[org.pk]
            points = metric_points(indicator, value)
            rows.append(
                AssessmentResult(
                    scheme=scheme,
                    organization=org,
                    indicator=indicator,
                    numerator=value.numerator,
                    denominator=value.denominator,
                    rate=value.rate,
                    points=points,
                    has_data=value.rate is not None,
                    explanation=metric_explanation(indicator, value, points)[:500],
                )
            )
    if progress is not None:
        progress(len(indicators), len(indicators), "计分完成")
    return rows


def _score_now(scheme_id: int, actor: Actor, progress: Progress | None = None) -> AssessmentScheme:
    """Compute every result of the scheme and replace the stored ones, under a lock on the
    scheme (a concurrent scoring waits, then replaces again: never doubled rows)."""
    with transaction.atomic():
        scheme = AssessmentScheme.objects.select_for_update().select_related("organization").get(pk=scheme_id)
        _refuse_frozen(scheme)
        targets = list(scheme.assessed_organizations())
        rows = _score_rows(scheme, targets, progress)
        scheme.results.all().delete()
        AssessmentResult.objects.bulk_create(rows)
        scheme.status = SchemeStatus.SCORED
        scheme.scored_at = timezone.now()
        scheme.save(update_fields=["status", "scored_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=scheme,
            changes={"scored": len(targets), "results": len(rows)},
            message="年度考评计分",
        )
    return scheme


def assessment_score(*, actor: Actor, scheme: AssessmentScheme, inline: bool = False) -> Job | None:
    """Score every assessed organisation from the records. Inline for up to SCORE_INLINE_MAX
    organisations (returns None, the results are stored); beyond, a background job (the same one
    while unfinished) that the caller's page follows. The records of the assessed subtrees are
    read whole (the actor's right to score the scheme was checked), so the result does not depend
    on who pressed "计分". ``inline`` scores in the caller whatever the number (commands, demo)."""
    require(actor, "change", scheme.organization, app_label=APP, message="您无权为该方案评分")
    _refuse_frozen(scheme)
    if not scheme.indicators.exists():
        raise ValidationError({"indicators": ["方案尚未设置考评指标"]})
    count = scheme.assessed_organizations().count()
    if count > SCORE_INLINE_MAX and not inline:
        with transaction.atomic():
            job = job_enqueue(
                actor=actor,
                kind=SCORE_JOB_KIND,
                label=f"年度考评计分：{scheme.title}",
                params={"scheme": scheme.pk},
                key=f"{SCORE_JOB_KIND}:{scheme.pk}",
            )
            AssessmentScheme.objects.filter(pk=scheme.pk).update(scoring_job=job)
        return job
    _score_now(scheme.pk, actor)
    return None


@job_kind(SCORE_JOB_KIND, "年度考评计分")
def assessment_score_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    """The background scoring: idempotent (replaces the results); reads as the person who
    started it, whose right to score is checked again."""
    scheme = AssessmentScheme.objects.select_related("organization").get(pk=job.params["scheme"])
    reader = job.created_by
    if reader is not None:
        require(reader, "change", scheme.organization, app_label=APP, message="您无权为该方案评分")
    scheme = _score_now(scheme.pk, reader, progress)
    return {
        "scheme": scheme.pk,
        "results": scheme.results.count(),
        "url": reverse("supervision:assessment_detail", args=[scheme.pk]),
    }


# --- publishing --------------------------------------------------------------------------------------


def _assessed_contacts(scheme: AssessmentScheme) -> list[User]:
    """The org_admins and secretaries who hold a role exactly at an assessed organisation."""
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__organization__in=scheme.assessed_organizations(),
            role_assignments__role__code__in=[RoleCode.ORG_ADMIN, RoleCode.BRANCH_ADMIN],
        ).distinct()
    )


@transaction.atomic
def assessment_publish(*, actor: Actor, scheme: AssessmentScheme) -> AssessmentScheme:
    """Publish a scored scheme: its results freeze, and each assessed organisation may see its
    own (never another's); their secretaries and admins are notified."""
    scheme = AssessmentScheme.objects.select_for_update().select_related("organization").get(pk=scheme.pk)
    require(actor, "change", scheme.organization, app_label=APP, message="您无权发布该考评结果")
    if scheme.status == SchemeStatus.PUBLISHED:
        raise ValidationError({"status": ["考评结果已发布"]})
    if scheme.status != SchemeStatus.SCORED or not scheme.results.exists():
        raise ValidationError({"status": ["请先完成评分，再发布考评结果"]})
    scheme.status = SchemeStatus.PUBLISHED
    scheme.published_at = timezone.now()
    scheme.published_by = actor
    scheme.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=scheme,
        changes={"status": "published"},
        message="发布年度考评结果",
    )
    notify(
        users=_assessed_contacts(scheme),
        kind="assessment.published",
        title=f"{scheme.organization.name}发布了{scheme.title}结果",
        url=reverse("supervision:assessment_detail", args=[scheme.pk]),
        key=f"assessment_published:{scheme.pk}",
    )
    return scheme


# --- export ----------------------------------------------------------------------------------------


def assessment_export(*, actor: User, scheme: AssessmentScheme) -> bytes:
    """The result table as xlsx (one sheet of points, one of explanations); the assessing level
    only (the export action at the scheme's organisation). One audit row."""
    require(actor, "export", scheme.organization, app_label=APP, message="您无权导出该考评结果")
    table = assessment_result_table(user=actor, scheme=scheme)
    book = XlsxExport()
    headers = [ExportColumn("被考评组织", 28)] + [
        ExportColumn(f"{ind.name}（{points_text(ind.weight)}分）", 16) for ind in table.indicators
    ]
    scores = book.sheet("得分", [*headers, ExportColumn("总分", 10)])
    notes = book.sheet("得分说明", headers)
    for row in table.rows:
        cells = [float(c.points) if c is not None else "" for c in row.cells]
        scores.append([row.organization.name, *cells, float(row.total)])
        notes.append([row.organization.name, *[c.explanation if c is not None else "" for c in row.cells]])
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=scheme,
        changes={"rows": len(table.rows)},
        message=f"导出年度考评结果{len(table.rows)}个组织",
    )
    return book.to_bytes()


__all__ = [
    "SCORE_INLINE_MAX",
    "IndicatorData",
    "assessment_export",
    "assessment_manual_score_set",
    "assessment_publish",
    "assessment_scheme_create",
    "assessment_scheme_delete",
    "assessment_scheme_update",
    "assessment_score",
    "metric_explanation",
    "metric_points",
    "points_text",
]
