# The annual assessment (年度考评): schemes, indicators, manual scores and stored results.

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import partyedu.core.models


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0002_reports"),
        ("core", "0005_jobs"),
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AssessmentScheme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                (
                    "year",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(2000),
                            django.core.validators.MaxValueValidator(2100),
                        ],
                        verbose_name="年度",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="方案名称")),
                ("description", models.TextField(blank=True, verbose_name="说明")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "草稿"), ("scored", "已评分"), ("published", "已发布")],
                        default="draft",
                        max_length=16,
                        verbose_name="状态",
                    ),
                ),
                (
                    "target_level",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("committee", "党委"),
                            ("working_committee", "党工委"),
                            ("leading_group", "党组"),
                            ("general_branch", "党总支"),
                            ("branch", "党支部"),
                            ("group", "党小组"),
                        ],
                        help_text="留空为直属下级组织；选择层级则考评本组织下该层级的全部组织",
                        max_length=24,
                        verbose_name="考评对象层级",
                    ),
                ),
                ("scored_at", models.DateTimeField(blank=True, null=True, verbose_name="评分时间")),
                ("published_at", models.DateTimeField(blank=True, null=True, verbose_name="发布时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="创建人",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessment_schemes",
                        to="organizations.organization",
                        verbose_name="考评组织",
                    ),
                ),
                (
                    "published_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
                (
                    "scoring_job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="core.job",
                        verbose_name="评分任务",
                    ),
                ),
            ],
            options={
                "verbose_name": "年度考评方案",
                "verbose_name_plural": "年度考评方案",
                "ordering": ["-year", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "year", "title"),
                        name="supervision_scheme_org_year_title_uniq",
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AssessmentIndicator",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("name", models.CharField(max_length=100, verbose_name="指标名称")),
                (
                    "kind",
                    models.CharField(
                        choices=[("derived", "数据指标"), ("manual", "人工评分")],
                        max_length=16,
                        verbose_name="指标类型",
                    ),
                ),
                (
                    "metric",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("hours_completion", "学时完成率"),
                            ("cadence_compliance", "组织生活规范率"),
                            ("report_timeliness", "月报按时报送率"),
                            ("rectification_closure", "整改事项销号率"),
                            ("lecture_duty", "书记讲党课完成率"),
                        ],
                        max_length=32,
                        verbose_name="数据指标",
                    ),
                ),
                (
                    "weight",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=5,
                        validators=[django.core.validators.MinValueValidator(Decimal("0.1"))],
                        verbose_name="分值",
                    ),
                ),
                (
                    "rule",
                    models.CharField(
                        choices=[("linear", "按比例计分"), ("threshold", "达标满分")],
                        default="linear",
                        max_length=16,
                        verbose_name="计分规则",
                    ),
                ),
                (
                    "threshold",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        help_text="达标满分规则：完成率不低于此百分比得满分，否则不得分",
                        max_digits=5,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0")),
                            django.core.validators.MaxValueValidator(Decimal("100")),
                        ],
                        verbose_name="达标线(%)",
                    ),
                ),
                ("description", models.CharField(blank=True, max_length=300, verbose_name="评分说明")),
                ("sort_order", models.PositiveIntegerField(default=0, verbose_name="排序")),
                (
                    "scheme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="indicators",
                        to="supervision.assessmentscheme",
                        verbose_name="考评方案",
                    ),
                ),
            ],
            options={
                "verbose_name": "考评指标",
                "verbose_name_plural": "考评指标",
                "ordering": ["scheme_id", "sort_order", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AssessmentManualScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("points", models.DecimalField(decimal_places=1, max_digits=5, verbose_name="得分")),
                ("reason", models.TextField(verbose_name="评分理由")),
                ("scored_at", models.DateTimeField(verbose_name="评分时间")),
                (
                    "indicator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="manual_scores",
                        to="supervision.assessmentindicator",
                        verbose_name="考评指标",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="被考评组织",
                    ),
                ),
                (
                    "scored_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="评分人",
                    ),
                ),
            ],
            options={
                "verbose_name": "人工评分",
                "verbose_name_plural": "人工评分",
                "ordering": ["indicator_id", "organization_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("indicator", "organization"), name="supervision_manual_score_uniq"
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AssessmentResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                (
                    "numerator",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="分子"
                    ),
                ),
                (
                    "denominator",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="分母"
                    ),
                ),
                (
                    "rate",
                    models.DecimalField(
                        blank=True, decimal_places=4, max_digits=7, null=True, verbose_name="完成率"
                    ),
                ),
                ("points", models.DecimalField(decimal_places=1, max_digits=5, verbose_name="得分")),
                ("has_data", models.BooleanField(default=True, verbose_name="有数据")),
                ("explanation", models.CharField(max_length=500, verbose_name="得分说明")),
                (
                    "indicator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="results",
                        to="supervision.assessmentindicator",
                        verbose_name="考评指标",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="被考评组织",
                    ),
                ),
                (
                    "scheme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="results",
                        to="supervision.assessmentscheme",
                        verbose_name="考评方案",
                    ),
                ),
            ],
            options={
                "verbose_name": "考评结果",
                "verbose_name_plural": "考评结果",
                "ordering": ["scheme_id", "organization_id", "indicator_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scheme", "organization", "indicator"), name="supervision_result_uniq"
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
    ]
