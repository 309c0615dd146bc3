"""Serializers of the community area's API: pledges, bookings, centres and the service summary.
Input serializers only shape the request; the services check every rule and name the field."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.service.choices import BookingStatus, PledgeStatus

PLEDGE_STATUS_HELP = "、".join(f"{value} {label}" for value, label in PledgeStatus.choices)
BOOKING_STATUS_HELP = "、".join(f"{value} {label}" for value, label in BookingStatus.choices)

# --- input ----------------------------------------------------------------------------------------------


class PledgeInSerializer(serializers.Serializer):
    organization = IdField(
        required=False, allow_null=True, default=None, help_text="组织承诺：承诺的党组织编号"
    )
    member = IdField(
        required=False, allow_null=True, default=None, help_text="党员承诺：承诺党员编号（本人或管理范围内）"
    )
    title = serializers.CharField(max_length=200, help_text="实事内容")
    beneficiary = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="服务对象"
    )
    community = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="受益社区党组织编号（可选）：该社区也可确认办结",
    )
    due = serializers.DateField(help_text="承诺完成时间")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("organization") is None) == (attrs.get("member") is None):
            raise serializers.ValidationError(
                {"organization": ["请指明承诺的党组织（organization）或党员（member），二者选一"]}
            )
        return attrs


class PledgeCompleteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, help_text="办结说明")
    completed_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="办结日期，默认今天"
    )
    photos = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        default=list,
        max_length=3,
        help_text="照片（multipart 上传，最多3张，可选）",
    )


class PledgeProgressInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, help_text="最新进展")


class BookingInSerializer(serializers.Serializer):
    room = IdField(help_text="活动室编号")
    organization = IdField(help_text="预约单位（党组织编号）")
    start = serializers.DateTimeField(help_text="开始时间")
    end = serializers.DateTimeField(help_text="结束时间（同一天内）")
    attendees = serializers.IntegerField(
        min_value=1, max_value=100_000, default=1, help_text="人数，不超过容纳人数"
    )
    purpose = serializers.CharField(max_length=200, default="党群活动", help_text="用途")


class BookingDecideInSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true 通过，false 不通过")
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="不通过时必填"
    )


class BookingCancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=2000,
        max_value=2100,
        required=False,
        error_messages={"invalid": "年度须为整数", "min_value": "年度超出范围", "max_value": "年度超出范围"},
    )


class DayQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False, help_text="日期，默认今天")


# --- output ---------------------------------------------------------------------------------------------


class PledgeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    member = serializers.IntegerField(source="member_id", allow_null=True)
    member_name = serializers.SerializerMethodField()
    title = serializers.CharField()
    beneficiary = serializers.CharField()
    community = serializers.IntegerField(source="community_id", allow_null=True)
    due = serializers.DateField()
    year = serializers.IntegerField()
    status = serializers.CharField(help_text=PLEDGE_STATUS_HELP)
    progress = serializers.CharField()
    completed_on = serializers.DateField(allow_null=True)
    completion_note = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    photos = serializers.SerializerMethodField()

    def get_member_name(self, obj: Any) -> str | None:
        return obj.member.name if obj.member_id else None

    def get_photos(self, obj: Any) -> int:
        """Number of completion photos."""
        count = getattr(obj, "photo_count", None)
        return int(count) if count is not None else obj.photos.count()


class BookingOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    room = serializers.IntegerField(source="room_id")
    room_name = serializers.CharField(source="room.name")
    centre = serializers.IntegerField(source="room.centre_id")
    centre_name = serializers.CharField(source="room.centre.name")
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    attendees = serializers.IntegerField()
    purpose = serializers.CharField()
    status = serializers.CharField(help_text=BOOKING_STATUS_HELP)
    reason = serializers.CharField()
    activity = serializers.IntegerField(source="activity_id", allow_null=True)


class RoomOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    capacity = serializers.IntegerField()
    is_active = serializers.BooleanField()


class CentreOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    requires_approval = serializers.BooleanField()
    is_active = serializers.BooleanField()
    rooms = serializers.SerializerMethodField()

    def get_rooms(self, obj: Any) -> list[dict[str, Any]]:
        rooms = [r for r in obj.rooms.all() if r.is_active]
        return [dict(RoomOutSerializer(r).data) for r in rooms]


class TakenSlotSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    unit = serializers.CharField(help_text="预约单位")
    status = serializers.CharField(help_text="pending 待审核、approved 已确认")


class ServiceSummarySerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    year = serializers.IntegerField()
    units_registered = serializers.IntegerField(
        help_text="已报到单位：应报到单位中年度内有共驻共建协议在效的"
    )
    units_total = serializers.IntegerField(
        help_text="应报到单位：机关、事业单位、国有企业的党组织（党小组除外）"
    )
    members_registered = serializers.IntegerField(help_text="已报到在职党员：年度内有报到在效的")
    members_expected = serializers.IntegerField(help_text="应报到在职党员：在册的在职预备党员和正式党员")
    services = serializers.IntegerField(help_text="服务次数：社区确认的服务记录 + 志愿服务活动参加人次")
    service_hours = serializers.DecimalField(max_digits=12, decimal_places=1, help_text="服务时长（小时）")
    pledges_planned = serializers.IntegerField(help_text="承诺实事：年度内承诺完成的（组织和党员）")
    pledges_done = serializers.IntegerField(help_text="其中已办结（含待确认）")
    pledges_confirmed = serializers.IntegerField(help_text="其中已确认办结")
    requests_solved = serializers.IntegerField(help_text="联户网格解决的群众诉求")
    households_benefited = serializers.IntegerField(help_text="受益户数")
