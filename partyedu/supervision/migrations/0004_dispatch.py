import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import partyedu.core.models

STUDY_ACTIVITY_TYPES = [
    ("branch_assembly", "支部党员大会"),
    ("branch_committee", "支委会"),
    ("group_meeting", "党小组会"),
    ("party_lecture", "党课"),
    ("theme_day", "主题党日"),
    ("org_life_meeting", "组织生活会"),
    ("democratic_evaluation", "民主评议"),
    ("central_group_study", "中心组学习"),
    ("reading_class", "专题读书班"),
    ("training_session", "培训班"),
    ("site_visit", "现场教学"),
    ("home_delivery", "送学上门"),
    ("online_class", "网上班级"),
    ("other", "其他"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_assessment"),
        ("organizations", "0001_initial"),
        ("study", "0006_cadence_periods_and_levels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Dispatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("title", models.CharField(max_length=200, verbose_name="任务名称")),
                ("description", models.TextField(blank=True, verbose_name="任务说明")),
                ("due", models.DateField(verbose_name="反馈期限")),
                (
                    "target_level",
                    models.CharField(
                        choices=[
                            ("branch", "党支部"),
                            ("general_branch", "党总支"),
                            ("committee", "党委（党组、党工委）"),
                        ],
                        help_text="发给本组织下级中该层级的全部组织",
                        max_length=24,
                        verbose_name="下发层级",
                    ),
                ),
                (
                    "activity_type",
                    models.CharField(
                        blank=True,
                        choices=STUDY_ACTIVITY_TYPES,
                        help_text="填写后，接收组织在下发至期限之间开展的该类活动自动关联到反馈",
                        max_length=32,
                        verbose_name="对应活动类型",
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
                        verbose_name="下发人",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dispatches_issued",
                        to="organizations.organization",
                        verbose_name="下发组织",
                    ),
                ),
                (
                    "required_topic",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="study.requiredtopic",
                        verbose_name="对应必修专题",
                    ),
                ),
            ],
            options={
                "verbose_name": "调度任务",
                "verbose_name_plural": "调度任务",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["organization", "due"], name="dispatch_org_due_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "title", "due"), name="dispatch_unique_task"
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="DispatchRecipient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("feedback_at", models.DateTimeField(blank=True, null=True, verbose_name="反馈时间")),
                ("reminded_at", models.DateTimeField(blank=True, null=True, verbose_name="最近提醒时间")),
                (
                    "dispatch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recipients",
                        to="supervision.dispatch",
                        verbose_name="调度任务",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dispatches_received",
                        to="organizations.organization",
                        verbose_name="接收组织",
                    ),
                ),
            ],
            options={
                "verbose_name": "调度接收组织",
                "verbose_name_plural": "调度接收组织",
                "ordering": ["dispatch_id", "id"],
                "indexes": [
                    models.Index(fields=["organization", "feedback_at"], name="dispatch_rcpt_org_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dispatch", "organization"), name="dispatch_recipient_unique"
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="DispatchFeedback",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("text", models.TextField(max_length=5000, verbose_name="反馈内容")),
                (
                    "linked_activities",
                    models.ManyToManyField(
                        blank=True, related_name="+", to="study.activity", verbose_name="关联活动"
                    ),
                ),
                (
                    "recipient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="feedback",
                        to="supervision.dispatchrecipient",
                        verbose_name="接收组织",
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
                        verbose_name="反馈人",
                    ),
                ),
            ],
            options={
                "verbose_name": "调度反馈",
                "verbose_name_plural": "调度反馈",
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="DispatchAttachment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("file", models.FileField(max_length=300, upload_to="dispatch/%Y/%m/", verbose_name="文件")),
                ("name", models.CharField(max_length=200, verbose_name="文件名")),
                (
                    "feedback",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachments",
                        to="supervision.dispatchfeedback",
                        verbose_name="反馈",
                    ),
                ),
            ],
            options={
                "verbose_name": "反馈附件",
                "verbose_name_plural": "反馈附件",
                "ordering": ["feedback_id", "id"],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
        migrations.CreateModel(
            name="QuarterlyNote",
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
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "第1季度"), (2, "第2季度"), (3, "第3季度"), (4, "第4季度")],
                        verbose_name="季度",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="标题")),
                ("body", models.TextField(max_length=20000, verbose_name="反馈内容")),
                (
                    "figures",
                    models.JSONField(blank=True, default=dict, editable=False, verbose_name="季度数据"),
                ),
                ("published_at", models.DateTimeField(verbose_name="发布时间")),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="quarterly_notes",
                        to="organizations.organization",
                        verbose_name="发布组织",
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
            ],
            options={
                "verbose_name": "季度反馈",
                "verbose_name_plural": "季度反馈",
                "ordering": ["-year", "-quarter", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "year", "quarter"), name="quarterly_note_unique"
                    )
                ],
            },
            bases=(partyedu.core.models.CleanTextMixin, models.Model),
        ),
    ]
