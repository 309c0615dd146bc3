"""Serializers of learning hours, completion summaries and online resources. Hours are numbers
(one decimal place) in every response."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.learning.models import OnlineResource, ResourceProgress


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=YEAR_MIN, max_value=YEAR_MAX, label="年度", help_text="默认本年度"
    )


class HourLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    hours = serializers.FloatField(read_only=True, help_text="学时；更正行为负数")
    kind = serializers.CharField(read_only=True, help_text="concentrated/collective/online/self")
    kind_display = serializers.CharField(read_only=True, help_text="集中培训、集体学习、网络学习、自学")
    source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source
        read_only=True, help_text="来源说明，如“2026-03-15 主题党日：……（出席）”"
    )
    source_type = serializers.CharField(read_only=True, help_text="attendance/resource/manual")
    created_at = serializers.DateTimeField(read_only=True)


class ByKindSerializer(serializers.Serializer):
    concentrated = serializers.FloatField(read_only=True, label="集中培训")
    collective = serializers.FloatField(read_only=True, label="集体学习")
    online = serializers.FloatField(read_only=True, label="网络学习")
    self = serializers.FloatField(read_only=True, label="自学")


class CountingSerializer(serializers.Serializer):
    """Which kinds besides 集中培训 and 集体学习 (which always count) count towards the requirement."""

    online = serializers.BooleanField(source="counts_online", read_only=True, help_text="网络学习是否计入")
    online_cap = serializers.FloatField(
        read_only=True, allow_null=True, help_text="网络学习每年最多计入的学时；null 为不设上限"
    )
    self = serializers.BooleanField(source="counts_self", read_only=True, help_text="自学是否计入")
    self_cap = serializers.FloatField(
        read_only=True, allow_null=True, help_text="自学每年最多计入的学时；null 为不设上限"
    )


class CompletedClassSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="培训班名称")
    end_date = serializers.DateField(read_only=True, help_text="结业日期")
    attended = serializers.IntegerField(read_only=True, help_text="出勤（出席、迟到、已确认补学）课次")
    sessions = serializers.IntegerField(read_only=True, help_text="全部课次")


class ConcentratedTrainingSerializer(serializers.Serializer):
    """The condition of one concentrated training a year (书记、班子成员)."""

    needed = serializers.BooleanField(
        source="requirement.needs_concentrated", read_only=True, help_text="是否须完成一次集中培训"
    )
    met = serializers.BooleanField(
        source="concentrated_ok", read_only=True, help_text="是否已完成（或不作要求）"
    )
    by = serializers.CharField(
        source="concentrated_by",
        read_only=True,
        help_text="完成方式：class（培训班结业）、hours（集中培训满规定学时）；未完成或不作要求为空",
    )
    min_hours = serializers.FloatField(
        source="requirement.concentrated_min_hours",
        read_only=True,
        help_text="未结业培训班时，本年集中培训须满的学时",
    )
    classes = CompletedClassSerializer(many=True, read_only=True, help_text="本年结业的培训班")


class CandidateTrainingSerializer(serializers.Serializer):
    """发展对象 training over the candidate period (细则: 短期集中培训, ≥ 3 天或 24 学时)."""

    start = serializers.DateField(
        read_only=True, help_text="计算起始日（确定为发展对象日期；未登记时为本年1月1日）"
    )
    end = serializers.DateField(read_only=True, help_text="计算截止日（接收为预备党员前一日，或今天）")
    start_registered = serializers.BooleanField(read_only=True, help_text="确定为发展对象日期是否已登记")
    hours = serializers.FloatField(read_only=True, help_text="期间集中培训学时")
    days = serializers.IntegerField(read_only=True, help_text="期间集中培训天数")
    required_hours = serializers.FloatField(read_only=True)
    required_days = serializers.IntegerField(read_only=True)
    met = serializers.BooleanField(read_only=True)


class MemberHoursSerializer(serializers.Serializer):
    """我的学时: the year's requirement, what was earned by kind (all of it) and what counts towards
    the requirement, every ledger line, what is missing."""

    member = serializers.IntegerField(source="member.pk", read_only=True)
    year = serializers.IntegerField(read_only=True)
    group = serializers.CharField(
        source="requirement.group", read_only=True, help_text="general/cadre/candidate/exempt/none"
    )
    required = serializers.FloatField(  # type: ignore[assignment]  # a field, not Field.required
        read_only=True,
        help_text="本年度应修学时（免于要求、不作要求时为0；发展对象为0，其培训按培训期间计算，见 candidate_training）",
    )
    earned = serializers.FloatField(read_only=True, help_text="本年各类学时合计（含不计入要求的）")
    counted = serializers.FloatField(
        read_only=True,
        help_text="计入要求的学时：集中培训、集体学习，以及所在组织规定计入的网络学习、自学（不超过上限）；"
        "发展对象只计集中培训",
    )
    missing = serializers.FloatField(read_only=True, help_text="还差学时")
    exempt = serializers.BooleanField(read_only=True, help_text="免于硬性要求（另行统计，不计为未达标）")
    concentrated_ok = serializers.BooleanField(
        read_only=True, help_text="须完成一次集中培训的，是否已完成（培训班结业或集中培训满规定学时）"
    )
    completed = serializers.BooleanField(read_only=True)
    by_kind = ByKindSerializer(read_only=True, help_text="各类已修学时")
    counted_by_kind = ByKindSerializer(read_only=True, help_text="各类计入要求的学时（已按上限）")
    counting = CountingSerializer(source="requirement", read_only=True, help_text="计入要求的学时类别")
    concentrated_training = ConcentratedTrainingSerializer(source="*", read_only=True)
    entries = HourLineSerializer(many=True, read_only=True)
    candidate_training = serializers.SerializerMethodField(
        help_text="发展对象（及一年内接收的预备党员）培训期间的集中培训情况；其他党员为 null"
    )

    @extend_schema_field(CandidateTrainingSerializer(allow_null=True))
    def get_candidate_training(self, obj: Any) -> dict[str, Any] | None:
        training = self.context.get("candidate_training")
        return None if training is None else dict(CandidateTrainingSerializer(training).data)


class GroupCountSerializer(serializers.Serializer):
    members = serializers.IntegerField(read_only=True)
    completed = serializers.IntegerField(read_only=True)


class LearningSummarySerializer(serializers.Serializer):
    """Completion of the annual requirement over an organisation's whole subtree."""

    organization = serializers.IntegerField(source="organization.pk", read_only=True)
    year = serializers.IntegerField(read_only=True)
    members = serializers.IntegerField(read_only=True, help_text="在册党员（含积极分子等）")
    required_members = serializers.IntegerField(read_only=True, help_text="有学时要求的人数")
    completed = serializers.IntegerField(read_only=True, help_text="已达标人数")
    completion_rate = serializers.FloatField(read_only=True, help_text="达标率 0–1")
    exempt = serializers.IntegerField(read_only=True, help_text="免于硬性要求人数（另行统计）")
    not_required = serializers.IntegerField(read_only=True, help_text="不作要求人数（积极分子、停止党籍等）")
    groups = serializers.DictField(child=GroupCountSerializer(), read_only=True, help_text="按要求类别")


class ProgressSerializer(serializers.Serializer):
    played_seconds = serializers.IntegerField(read_only=True)
    percent = serializers.FloatField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)


def progress_data(progress: ResourceProgress | None, duration: int) -> dict[str, Any] | None:
    if progress is None:
        return None
    return {
        "played_seconds": progress.played_seconds,
        "percent": round(min(100.0, 100.0 * progress.played_seconds / duration), 1) if duration else 0.0,
        "completed_at": serializers.DateTimeField().to_representation(progress.completed_at)
        if progress.completed_at
        else None,
    }


class ResourceSerializer(serializers.ModelSerializer):
    """An online study resource (视频、音频、课件、文章) and the caller's own progress on it."""

    column_name = serializers.CharField(source="column.name", read_only=True, default=None, allow_null=True)
    credit_hours = serializers.FloatField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="本人学习进度；非党员本人为 null")

    class Meta:
        model = OnlineResource
        fields = [
            "id",
            "title",
            "kind",
            "organization",
            "column",
            "column_name",
            "issue_no",
            "duration_seconds",
            "credit_hours",
            "is_published",
            "published_at",
            "file",
            "progress",
        ]
        read_only_fields = fields

    def get_progress(self, obj: OnlineResource) -> dict[str, Any] | None:
        progress = self.context.get("progress", {}).get(obj.pk)
        return progress_data(progress, obj.duration_seconds)


class ResourceDetailSerializer(ResourceSerializer):
    class Meta(ResourceSerializer.Meta):
        fields = [*ResourceSerializer.Meta.fields, "body"]
        read_only_fields = fields


class HeartbeatSerializer(serializers.Serializer):
    start = serializers.FloatField(label="开始位置（秒）", help_text="本次心跳期间实际播放/阅读的起点")
    end = serializers.FloatField(label="结束位置（秒）", help_text="本次心跳期间实际播放/阅读的终点")


class HeartbeatResultSerializer(serializers.Serializer):
    played_seconds = serializers.IntegerField(read_only=True, help_text="累计有效学习秒数")
    duration_seconds = serializers.IntegerField(read_only=True)
    percent = serializers.FloatField(read_only=True)
    completed = serializers.BooleanField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    credited_seconds = serializers.IntegerField(read_only=True, help_text="本次计入的秒数")
    daily_seconds = serializers.IntegerField(read_only=True, help_text="今日已计入网络学习秒数")
    daily_cap_seconds = serializers.IntegerField(read_only=True, help_text="每日计入上限（0为不限）")
