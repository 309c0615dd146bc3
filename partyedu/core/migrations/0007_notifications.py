"""The notification centre: a user's notifications (one per user and key) and their outbound-channel preference."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_partitioned_by_month"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
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
                        help_text="如 dispatch.assigned、report.returned", max_length=64, verbose_name="类型"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="标题")),
                ("body", models.TextField(blank=True, default="", verbose_name="内容")),
                ("url", models.CharField(blank=True, default="", max_length=500, verbose_name="链接")),
                (
                    "key",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="同一用户同一键只通知一次",
                        max_length=200,
                        verbose_name="去重键",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="阅读时间")),
                (
                    "channel",
                    models.CharField(
                        choices=[("none", "仅站内"), ("email", "电子邮件"), ("sms", "短信")],
                        default="none",
                        max_length=16,
                        verbose_name="外发渠道",
                    ),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="外发时间")),
                (
                    "send_error",
                    models.CharField(blank=True, default="", max_length=500, verbose_name="外发失败原因"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="接收人",
                    ),
                ),
            ],
            options={
                "verbose_name": "通知",
                "verbose_name_plural": "通知",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("key", ""), _negated=True),
                        fields=("user", "key"),
                        name="notification_user_key_unique",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="NotificationPreference",
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
                        blank=True,
                        default="",
                        help_text="留空表示全部类型",
                        max_length=64,
                        verbose_name="通知类型",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("none", "仅站内"), ("email", "电子邮件"), ("sms", "短信")],
                        default="none",
                        max_length=16,
                        verbose_name="外发渠道",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "通知偏好",
                "verbose_name_plural": "通知偏好",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "kind"), name="notification_preference_user_kind_unique"
                    )
                ],
            },
        ),
    ]
