"""Supervision models: the annual assessment (年度考评) of child organisations.

An organisation department defines a scheme for a year — indicators with weights summing to 100,
each either derived from the records (hours completion, cadence, report timeliness, rectification
closure, lecture duty) or scored by hand with a reason — and the system scores every assessed
child organisation, storing per child and indicator the points and the sentence that explains
them. Results belong to the assessing level; publishing lets each child see its own row only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

__all__ = [
    "AssessmentIndicator",
    "AssessmentManualScore",
    "AssessmentMetric",
    "AssessmentResult",
    "AssessmentRule",
    "AssessmentScheme",
    "IndicatorKind",
    "SchemeStatus",
]


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SCORED = "scored", _("已评分")
    PUBLISHED = "published", _("已发布")


class IndicatorKind(models.TextChoices):
    DERIVED = "derived", _("数据指标")
    MANUAL = "manual", _("人工评分")


class AssessmentMetric(models.TextChoices):
    """The derived indicators: each a rate in 0..1 computed from the records of the child's subtree."""

    HOURS_COMPLETION = "hours_completion", _("学时完成率")
    CADENCE_COMPLIANCE = "cadence_compliance", _("组织生活规范率")
    REPORT_TIMELINESS = "report_timeliness", _("月报按时报送率")
    RECTIFICATION_CLOSURE = "rectification_closure", _("整改事项销号率")
    LECTURE_DUTY = "lecture_duty", _("书记讲党课完成率")


class AssessmentRule(models.TextChoices):
    LINEAR = "linear", _("按比例计分")
    THRESHOLD = "threshold", _("达标满分")


class AssessmentScheme(TimeStampedModel, ScopedModel):
    """An annual assessment scheme (年度考评方案) of an organisation over its children: the children
    assessed are the direct children, or the organisations at a chosen level in its subtree.
    Draft and scored schemes can be re-scored (results replaced); a published one is frozen."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("考评组织"),
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
    )
    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    title = models.CharField(_("方案名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    target_level = models.CharField(
        _("考评对象层级"),
        max_length=24,
        choices=OrgLevel.choices,
        blank=True,
        help_text=_("留空为直属下级组织；选择层级则考评本组织下该层级的全部组织"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scoring_job = models.ForeignKey(
        "core.Job",
        verbose_name=_("评分任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("年度考评方案")
        verbose_name_plural = _("年度考评方案")
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "title"], name="supervision_scheme_org_year_title_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_frozen(self) -> bool:
        return self.status == SchemeStatus.PUBLISHED

    def assessed_organizations(self) -> models.QuerySet[Organization]:
        """The organisations the scheme assesses (tree geometry, not scope): the assessing
        organisation's active direct children, or, with ``target_level``, the active organisations
        of that level in its subtree, in tree order."""
        org = self.organization
        if self.target_level:
            qs = Organization.objects.filter(
                org.subtree_q(), level=self.target_level, is_active=True
            ).exclude(pk=org.pk)
        else:
            qs = Organization.objects.filter(parent=org, is_active=True)
        return qs.order_by("path")


class AssessmentIndicator(TimeStampedModel):
    """One indicator of a scheme, worth ``weight`` points: derived (a rate read from the records,
    turned into points linearly or as full marks at or above a threshold) or manual (points given
    per child by the assessing level, each with its reason)."""

    scheme = models.ForeignKey(
        AssessmentScheme, verbose_name=_("考评方案"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(_("指标名称"), max_length=100)
    kind = models.CharField(_("指标类型"), max_length=16, choices=IndicatorKind.choices)
    metric = models.CharField(_("数据指标"), max_length=32, choices=AssessmentMetric.choices, blank=True)
    weight = models.DecimalField(
        _("分值"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))]
    )
    rule = models.CharField(
        _("计分规则"), max_length=16, choices=AssessmentRule.choices, default=AssessmentRule.LINEAR
    )
    threshold = models.DecimalField(
        _("达标线(%)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("达标满分规则：完成率不低于此百分比得满分，否则不得分"),
    )
    description = models.CharField(_("评分说明"), max_length=300, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("考评指标")
        verbose_name_plural = _("考评指标")
        ordering = ["scheme_id", "sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class AssessmentManualScore(TimeStampedModel, ScopedModel):
    """The points a manual indicator gives one assessed organisation, with the required reason;
    one row per (indicator, organisation), replaced when the assessor changes it."""

    # Belongs to the assessing level, like the results.
    scope_path = "indicator__scheme__organization__path"

    indicator = models.ForeignKey(
        AssessmentIndicator,
        verbose_name=_("考评指标"),
        on_delete=models.CASCADE,
        related_name="manual_scores",
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("被考评组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)
    reason = models.TextField(_("评分理由"))
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评分人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scored_at = models.DateTimeField(_("评分时间"))

    class Meta:
        verbose_name = _("人工评分")
        verbose_name_plural = _("人工评分")
        ordering = ["indicator_id", "organization_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "organization"], name="supervision_manual_score_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.points}"


class AssessmentResult(TimeStampedModel, ScopedModel):
    """The stored score of one assessed organisation on one indicator, with the figures behind it
    and the sentence that explains it ("学时完成率 92.3%（1,204/1,304）→ 18.5/20"). Written only by
    scoring, which replaces a draft or scored scheme's rows; a published scheme's rows are frozen."""

    scope_path = "scheme__organization__path"

    scheme = models.ForeignKey(
        AssessmentScheme, verbose_name=_("考评方案"), on_delete=models.CASCADE, related_name="results"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("被考评组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    indicator = models.ForeignKey(
        AssessmentIndicator, verbose_name=_("考评指标"), on_delete=models.CASCADE, related_name="results"
    )
    numerator = models.DecimalField(_("分子"), max_digits=14, decimal_places=2, null=True, blank=True)
    denominator = models.DecimalField(_("分母"), max_digits=14, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(_("完成率"), max_digits=7, decimal_places=4, null=True, blank=True)
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)
    has_data = models.BooleanField(_("有数据"), default=True)
    explanation = models.CharField(_("得分说明"), max_length=500)

    class Meta:
        verbose_name = _("考评结果")
        verbose_name_plural = _("考评结果")
        ordering = ["scheme_id", "organization_id", "indicator_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "organization", "indicator"], name="supervision_result_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.explanation
