"""Guidance teams, their coverage and members, inspection visits with rectification items, and
党课巡听 scores (issue 12)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import partyedu.core.models


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0004_dispatch"),
        ("accounts", "0004_api_token"),
        ("lectures", "0004_lecture_types_lecture_and_dialogue"),
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="GuidanceRoleGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                (
                    "assignment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="guidance_grant",
                        to="accounts.roleassignment",
                        verbose_name="角色分配",
                    ),
                ),
            ],
            options={
                "verbose_name": "指导组授予的督导员角色",
                "verbose_name_plural": "指导组授予的督导员角色",
            },
        ),
        migrations.CreateModel(
            name="GuidanceTeam",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("name", models.CharField(max_length=100, verbose_name="指导组名称")),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                (
                    "is_active",
                    models.BooleanField(
                        default=True, help_text="撤销后组员不再获得督导员权限", verbose_name="在岗"
                    ),
                ),
                ("description", models.TextField(blank=True, verbose_name="职责说明")),
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
                    "leader",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="组长",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="组建单位",
                    ),
                ),
            ],
            options={
                "verbose_name": "巡回指导组",
                "verbose_name_plural": "巡回指导组",
                "ordering": ["-year", "name", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="GuidanceCoverage",
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
                    "contact",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="联系人",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="联系组织",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="coverage",
                        to="supervision.guidanceteam",
                        verbose_name="指导组",
                    ),
                ),
            ],
            options={
                "verbose_name": "指导组联系组织",
                "verbose_name_plural": "指导组联系组织",
                "ordering": ["team_id", "organization__path"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="GuidanceTeamMember",
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
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="supervision.guidanceteam",
                        verbose_name="指导组",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="督导员",
                    ),
                ),
            ],
            options={
                "verbose_name": "指导组成员",
                "verbose_name_plural": "指导组成员",
                "ordering": ["team_id", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Inspection",
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
                        choices=[("research", "调研"), ("supervision", "督导"), ("guidance", "巡回指导")],
                        max_length=16,
                        verbose_name="类型",
                    ),
                ),
                ("visited_on", models.DateField(verbose_name="日期")),
                ("findings", models.TextField(verbose_name="发现的问题和情况")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="记录人",
                    ),
                ),
                (
                    "inspectors",
                    models.ManyToManyField(
                        blank=True, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="督导人员"
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="被检查组织",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="inspections",
                        to="supervision.guidanceteam",
                        verbose_name="指导组",
                    ),
                ),
            ],
            options={
                "verbose_name": "调研督导",
                "verbose_name_plural": "调研督导",
                "ordering": ["-visited_on", "-id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="LectureInspection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("content_score", models.PositiveSmallIntegerField(verbose_name="内容准确")),
                ("relevance_score", models.PositiveSmallIntegerField(verbose_name="联系实际")),
                ("delivery_score", models.PositiveSmallIntegerField(verbose_name="讲授效果")),
                ("order_score", models.PositiveSmallIntegerField(verbose_name="时间与秩序")),
                ("comment", models.TextField(blank=True, verbose_name="巡听意见")),
                (
                    "inspector",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="巡听人",
                    ),
                ),
                (
                    "lecture",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="lectures.lecture",
                        verbose_name="党课",
                    ),
                ),
            ],
            options={
                "verbose_name": "党课巡听",
                "verbose_name_plural": "党课巡听",
                "ordering": ["lecture_id", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="RectificationItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("description", models.TextField(verbose_name="整改事项")),
                ("due_on", models.DateField(verbose_name="整改期限")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "整改中"), ("closed", "已销号")],
                        default="open",
                        max_length=16,
                        verbose_name="状态",
                    ),
                ),
                ("evidence_note", models.TextField(blank=True, verbose_name="整改情况说明")),
                (
                    "evidence_file",
                    models.FileField(
                        blank=True,
                        max_length=300,
                        upload_to="supervision/rectification/%Y/%m/",
                        verbose_name="佐证材料",
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="销号时间")),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="销号人",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="提出人",
                    ),
                ),
                (
                    "inspection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="supervision.inspection",
                        verbose_name="调研督导",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                        verbose_name="整改组织",
                    ),
                ),
            ],
            options={
                "verbose_name": "整改事项",
                "verbose_name_plural": "整改事项",
                "ordering": ["status", "due_on", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="RectificationEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("created", "提出"), ("closed", "整改销号"), ("reopened", "退回重新整改")],
                        max_length=16,
                        verbose_name="类型",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="说明")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="时间")),
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
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="supervision.rectificationitem",
                        verbose_name="整改事项",
                    ),
                ),
            ],
            options={
                "verbose_name": "整改记录",
                "verbose_name_plural": "整改记录",
                "ordering": ["item_id", "created_at", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="guidanceteam",
            constraint=models.UniqueConstraint(
                fields=("organization", "year", "name"), name="guidance_team_unique_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="guidancecoverage",
            constraint=models.UniqueConstraint(
                fields=("team", "organization"), name="guidance_coverage_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="guidanceteammember",
            constraint=models.UniqueConstraint(fields=("team", "user"), name="guidance_member_unique"),
        ),
        migrations.AddIndex(
            model_name="inspection",
            index=models.Index(fields=["visited_on", "id"], name="inspection_date_idx"),
        ),
        migrations.AddConstraint(
            model_name="lectureinspection",
            constraint=models.UniqueConstraint(
                fields=("lecture", "inspector"), name="lecture_inspection_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="lectureinspection",
            constraint=models.CheckConstraint(
                condition=models.Q(("content_score__gte", 1), ("content_score__lte", 5)),
                name="lecture_inspection_content_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="lectureinspection",
            constraint=models.CheckConstraint(
                condition=models.Q(("relevance_score__gte", 1), ("relevance_score__lte", 5)),
                name="lecture_inspection_relevance_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="lectureinspection",
            constraint=models.CheckConstraint(
                condition=models.Q(("delivery_score__gte", 1), ("delivery_score__lte", 5)),
                name="lecture_inspection_delivery_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="lectureinspection",
            constraint=models.CheckConstraint(
                condition=models.Q(("order_score__gte", 1), ("order_score__lte", 5)),
                name="lecture_inspection_order_score_range",
            ),
        ),
        migrations.AddIndex(
            model_name="rectificationitem",
            index=models.Index(fields=["status", "due_on"], name="rectification_status_due_idx"),
        ),
    ]
