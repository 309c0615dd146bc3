from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.core.api.permissions import scope_action
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_choices
from partyedu.study.choices import AttendanceMethod
from partyedu.study.models import (
    Activity,
    Attendance,
    EducationBase,
    RequiredTopic,
    TeachingSite,
    TrainingClass,
)
from partyedu.study.selectors import (
    AttendanceCounts,
    activity_attendance_counts,
    education_base_choices,
    study_plan_list,
    teaching_site_choices,
)

MEMBER_IDS_HELP = "党员ID列表；须在调用者的管理范围内"


class AttendanceCountsSerializer(serializers.Serializer):
    expected = serializers.IntegerField(help_text="应到人数（不含列席）")
    invitees = serializers.IntegerField(help_text="列席人数")
    present = serializers.IntegerField(help_text="出席")
    late = serializers.IntegerField(help_text="迟到")
    leave = serializers.IntegerField(help_text="请假")
    absent = serializers.IntegerField(help_text="缺席")
    makeup = serializers.IntegerField(help_text="补学")
    unmarked = serializers.IntegerField(help_text="未登记")


class ActivitySerializer(serializers.ModelSerializer):
    """An activity (三会一课, 主题党日, 中心组学习, 培训班 session, 送学上门 …). Times are ISO 8601 with
    an offset. The roster defaults to the active members of the organisation's whole subtree (or
    a training class's enrolled members); ``roster`` replaces it, ``invitees`` adds 列席."""

    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(), label="组织", help_text="举办活动的党组织ID；创建后不能修改"
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True, label="组织名称")
    activity_type_display = serializers.CharField(
        source="get_activity_type_display", read_only=True, label="活动类型名称"
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=TeachingSite.objects.none(), allow_null=True, required=False, label="教学点"
    )
    education_base = serializers.PrimaryKeyRelatedField(
        queryset=EducationBase.objects.none(), allow_null=True, required=False, label="教育基地"
    )
    required_topic = serializers.PrimaryKeyRelatedField(
        queryset=RequiredTopic.objects.none(),
        allow_null=True,
        required=False,
        label="对应必修专题",
        help_text="本组织或上级组织下发的学习计划中的必修专题ID",
    )
    training_class = serializers.PrimaryKeyRelatedField(
        queryset=TrainingClass.objects.none(),
        allow_null=True,
        required=False,
        label="培训班",
        help_text="培训班课次时填写；应到名单默认为该班学员；创建后不能修改",
    )
    roster = serializers.ListField(
        child=IdField(),
        write_only=True,
        required=False,
        label="应到名单",
        help_text=f"{MEMBER_IDS_HELP}。创建时不填则为本组织及全部下级的在册党员（培训班课次为该班学员）；"
        "修改时填写即替换原名单",
    )
    invitees = serializers.ListField(
        child=IdField(),
        write_only=True,
        required=False,
        label="列席人员",
        help_text=f"{MEMBER_IDS_HELP}。修改时填写即替换原列席名单",
    )
    attendance = serializers.SerializerMethodField(label="出勤统计")

    class Meta:
        model = Activity
        fields = [
            "id",
            "organization",
            "organization_name",
            "activity_type",
            "activity_type_display",
            "teaching_format",
            "topic",
            "start",
            "end",
            "place",
            "site",
            "education_base",
            "host",
            "recorder",
            "minutes",
            "required_topic",
            "training_class",
            "credited_hours",
            "study_minutes",
            "checkin_opens_at",
            "checkin_closes_at",
            "roster",
            "invitees",
            "attendance",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "checkin_opens_at": {"help_text": "不填则为开始前30分钟"},
            "checkin_closes_at": {"help_text": "不填则为结束后30分钟"},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        user = request.user
        fields: Any = self.fields
        # Organisations where the caller may add (create) or change (update) activities; any
        # other id is answered as if it did not exist. The service checks the rest per field.
        fields["organization"].queryset = organization_choices(
            user=user, action=scope_action(request.method), app_label="study"
        )
        fields["site"].queryset = teaching_site_choices(user=user)
        fields["education_base"].queryset = education_base_choices(user=user)
        fields["required_topic"].queryset = RequiredTopic.objects.filter(
            plan__in=study_plan_list(user=user).values("pk")
        )
        fields["training_class"].queryset = TrainingClass.objects.restrict(user, "view")
        if isinstance(self.instance, Activity):
            # A PUT repeats the current values, even a site since deactivated.
            fields["organization"].queryset |= Organization.objects.filter(pk=self.instance.organization_id)
            for name, model in (("site", TeachingSite), ("education_base", EducationBase)):
                current = getattr(self.instance, f"{name}_id")
                if current:
                    fields[name].queryset |= model.objects.filter(pk=current)

    @extend_schema_field(AttendanceCountsSerializer)
    def get_attendance(self, obj: Activity) -> dict[str, int]:
        counts: dict[int, AttendanceCounts] | None = self.context.get("attendance_counts")
        if counts is None or obj.pk not in counts:
            counts = activity_attendance_counts(user=self.context["request"].user, activity_ids=[obj.pk])
        return counts[obj.pk].as_dict()


# Plain text rather than an enum in the schema: "status" is already the name of the member
# status enum, and two enums of one name make the generator warn.
STATUS_HELP = "出勤情况：present 出席 / late 迟到 / leave 请假 / absent 缺席 / makeup 补学 / 空字符串 未登记"


class AttendanceRowSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    # Declared: a read-only model field loses ``allow_blank``, and unmarked rows have no method.
    method = serializers.ChoiceField(
        choices=AttendanceMethod.choices, allow_blank=True, read_only=True, label="登记方式"
    )
    member_name = serializers.CharField(source="member.name", read_only=True, label="姓名")
    member_status = serializers.CharField(source="member.status", read_only=True, label="党员状态")
    organization = serializers.IntegerField(
        source="member.organization_id", read_only=True, label="所在党组织"
    )
    organization_name = serializers.CharField(
        source="member.organization.name", read_only=True, label="所在党组织名称"
    )

    class Meta:
        model = Attendance
        fields = [
            "id",
            "member",
            "member_name",
            "member_status",
            "organization",
            "organization_name",
            "is_invitee",
            "status",
            "method",
            "marked_at",
            "makeup_confirmed_at",
            "note",
        ]
        read_only_fields = fields


class QuorumSerializer(serializers.Serializer):
    voting_expected = serializers.IntegerField(help_text="有表决权的应到人数（正式党员，不含列席）")
    voting_present = serializers.IntegerField(help_text="有表决权的实到人数（出席、迟到）")
    quorum_met = serializers.BooleanField(help_text="实到是否超过应到的半数")


class AttendanceSheetSerializer(serializers.Serializer):
    activity = serializers.IntegerField(help_text="活动ID")
    count = serializers.IntegerField(help_text="名单人数（含列席）")
    summary = AttendanceCountsSerializer()
    quorum = QuorumSerializer(allow_null=True, help_text="仅支部党员大会：是否达到法定人数")
    results = AttendanceRowSerializer(many=True)
    changed = serializers.IntegerField(required=False, help_text="本次提交实际改变的人数（仅登记时）")


class AttendanceRecordSerializer(serializers.Serializer):
    member = IdField(help_text="党员ID")
    status = serializers.CharField(
        allow_blank=True,
        help_text="present 出席 / late 迟到 / leave 请假 / absent 缺席 / makeup 补学（登记即确认）/ 空字符串 未登记",
    )


class AttendanceMarkSerializer(serializers.Serializer):
    records = serializers.ListField(child=AttendanceRecordSerializer(), allow_empty=False)


class CheckinTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="签到二维码内容（签名令牌）")
    expires_in = serializers.IntegerField(
        help_text="距离换码的秒数（每30秒换一次码；换码后旧码仍可在30秒内使用）"
    )


class CheckinSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="扫描签到二维码得到的令牌")


class CheckinResultSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    topic = serializers.CharField(source="activity.topic", read_only=True, label="活动主题")

    class Meta:
        model = Attendance
        fields = ["id", "activity", "topic", "member", "status", "method", "marked_at"]
        read_only_fields = fields
