"""Serializers of the registration area's API (双报到 and service records)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.core.filters import ID_MAX

from ..choices import RecordStatus, ServiceKind

# Plain strings, not enums: other apps' "kind" and "status" enums would collide in the schema.
KIND_HELP = "服务类型：" + "、".join(f"{value} {label}" for value, label in ServiceKind.choices)
STATUS_HELP = "确认状态：" + "、".join(f"{value} {label}" for value, label in RecordStatus.choices)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": ID_MAX, "description": "社区党组织编号"},
            {
                "type": "object",
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}},
                "required": ["name"],
                "additionalProperties": False,
                "description": "不在本系统组织树中的社区：社区名称",
            },
        ]
    }
)
class CommunityField(serializers.Field):
    """A community in the tree by id, or one outside it as ``{"name": "…"}``: (id, name)."""

    # ``fail`` formats the message: the braces of the JSON example are doubled.
    default_error_messages = {"invalid": '须为社区党组织编号，或 {{"name": "社区名称"}}'}

    def to_internal_value(self, data: Any) -> tuple[int | None, str]:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 0 < data <= ID_MAX:
                self.fail("invalid")
            return data, ""
        if isinstance(data, dict) and set(data) == {"name"} and isinstance(data["name"], str):
            name = data["name"].strip()
            if not name or len(name) > 100:
                raise serializers.ValidationError("社区名称须为1到100个字")
            return None, name
        self.fail("invalid")
        raise AssertionError  # pragma: no cover - fail() raises

    def to_representation(self, value: Any) -> Any:
        return value


class RegistrationInSerializer(serializers.Serializer):
    member = IdField(required=False, allow_null=True, default=None, help_text="党员编号；不传为本人")
    community = CommunityField(
        required=False,
        allow_null=True,
        default=None,
        help_text='居住地社区：社区党组织编号，或 {"name": "社区名称"}',
    )
    post = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="服务岗位"
    )
    agreement_item = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="认领的本单位共驻共建项目（项目清单事项编号）",
    )
    registered_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="报到日期，默认今天"
    )
    replace = serializers.BooleanField(
        required=False, default=False, help_text="已有报到时变更报到：结束原报到（不传则已有报到时报错）"
    )


class RegistrationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="member_id")
    member_name = serializers.CharField(source="member.name")
    community = serializers.IntegerField(
        source="community_id", allow_null=True, help_text="社区党组织编号（系统外社区为 null）"
    )
    community_name = serializers.CharField(source="community_label", help_text="社区名称")
    post = serializers.CharField()
    agreement_item = serializers.IntegerField(source="agreement_item_id", allow_null=True)
    registered_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)


class RecordInSerializer(serializers.Serializer):
    member = IdField(required=False, allow_null=True, default=None, help_text="党员编号；不传为本人")
    date = serializers.DateField(help_text="服务日期，不能晚于今天")
    hours = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=0,
        max_value=24,
        help_text="服务时长（小时，以半小时计）；每人每天合计不超过24小时",
    )
    kind = serializers.CharField(max_length=16, help_text=KIND_HELP)
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="服务内容"
    )
    registration = IdField(required=False, allow_null=True, default=None, help_text="社区报到编号（可选）")


class RecordOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="member_id")
    member_name = serializers.CharField(source="member.name")
    registration = serializers.IntegerField(source="registration_id", allow_null=True)
    date = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1)
    kind = serializers.CharField(help_text=KIND_HELP)
    description = serializers.CharField()
    status = serializers.CharField(help_text=STATUS_HELP)
    reject_reason = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)


class RejectInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="未确认原因（党员会看到）")
