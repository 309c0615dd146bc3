import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import partyedu.core.models


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0001_initial"),
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                ("month", models.PositiveSmallIntegerField(verbose_name="月份")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "草稿"),
                            ("submitted", "已报送"),
                            ("returned", "已退回"),
                            ("approved", "已审核"),
                        ],
                        db_index=True,
                        default="draft",
                        max_length=16,
                        verbose_name="状态",
                    ),
                ),
                (
                    "figures",
                    models.JSONField(
                        blank=True, default=dict, help_text="由记录生成，报送后冻结", verbose_name="统计数据"
                    ),
                ),
                (
                    "details",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="活动、缺勤与补学、必修专题、频次缺口、党课等明细",
                        verbose_name="明细",
                    ),
                ),
                ("narrative", models.TextField(blank=True, max_length=2000, verbose_name="工作简述")),
                ("problems", models.TextField(blank=True, max_length=2000, verbose_name="存在问题")),
                ("next_plan", models.TextField(blank=True, max_length=2000, verbose_name="下月计划")),
                ("generated_at", models.DateTimeField(blank=True, null=True, verbose_name="生成时间")),
                ("submitted_at", models.DateTimeField(blank=True, null=True, verbose_name="报送时间")),
                ("reviewed_at", models.DateTimeField(blank=True, null=True, verbose_name="审核时间")),
                ("return_reason", models.TextField(blank=True, verbose_name="退回原因")),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="monthly_reports",
                        to="organizations.organization",
                        verbose_name="组织",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审核人",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="报送人",
                    ),
                ),
            ],
            options={
                "verbose_name": "党建活动月报",
                "verbose_name_plural": "党建活动月报",
                "ordering": ["-year", "-month", "organization_id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="ReportEvent",
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
                    "kind",
                    models.CharField(
                        choices=[
                            ("generated", "生成"),
                            ("regenerated", "重新生成"),
                            ("submitted", "报送"),
                            ("returned", "退回"),
                            ("approved", "审核通过"),
                        ],
                        max_length=16,
                        verbose_name="事件",
                    ),
                ),
                ("reason", models.TextField(blank=True, verbose_name="原因")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="操作人",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="supervision.monthlyreport",
                        verbose_name="月报",
                    ),
                ),
            ],
            options={
                "verbose_name": "月报记录",
                "verbose_name_plural": "月报记录",
                "ordering": ["report_id", "created_at", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.AddIndex(
            model_name="monthlyreport",
            index=models.Index(fields=["year", "month", "status"], name="monthly_report_period_idx"),
        ),
        migrations.AddConstraint(
            model_name="monthlyreport",
            constraint=models.UniqueConstraint(
                fields=("organization", "year", "month"), name="monthly_report_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="monthlyreport",
            constraint=models.CheckConstraint(
                condition=models.Q(("month__gte", 1), ("month__lte", 12)), name="monthly_report_month_valid"
            ),
        ),
    ]
