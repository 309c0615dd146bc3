from __future__ import annotations

from rest_framework import serializers

from partyedu.points.choices import Audience, CapPeriod, ItemKind


class PointsItemInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="项目代码")
    name = serializers.CharField(max_length=100, help_text="项目名称")
    kind = serializers.ChoiceField(
        choices=ItemKind.choices, default=ItemKind.EARN, help_text="earn 加分，deduct 扣分"
    )
    # A plain string, checked by the service: a source rewarding online time or logins is
    # refused with its own message, not the generic choice error.
    source = serializers.CharField(
        max_length=40, help_text="attendance | makeup | lecture | exam_pass | resource | manual"
    )  # type: ignore[assignment]  # the contract's field name
    activity_types = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list
    )
    statuses = serializers.ListField(child=serializers.CharField(max_length=16), required=False, default=list)
    points = serializers.DecimalField(max_digits=6, decimal_places=1, help_text="每次分值")
    cap = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True, default=None
    )
    cap_period = serializers.ChoiceField(choices=CapPeriod.choices, default=CapPeriod.YEAR)
    locked = serializers.BooleanField(required=False, default=False, help_text="下级细化时不得改动")


class PointsSchemeInSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="制定组织编号", min_value=1, max_value=2**62)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    name = serializers.CharField(max_length=100, required=False, default="")
    base = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0)
    audience = serializers.ChoiceField(
        choices=Audience.choices,
        default=Audience.MEMBERS,
        help_text="members 党员；candidates 入党积极分子和发展对象（积分择优）",
    )
    allow_refine = serializers.BooleanField(required=False, default=True, help_text="允许下级细化")
    items = PointsItemInSerializer(many=True)


class PointsItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the contract's field name
    activity_types = serializers.ListField(child=serializers.CharField())
    points = serializers.DecimalField(max_digits=6, decimal_places=1)
    cap = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    cap_period = serializers.CharField()
    locked = serializers.BooleanField()


class PointsSchemeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    year = serializers.IntegerField()
    name = serializers.CharField()
    base = serializers.DecimalField(max_digits=6, decimal_places=1)
    audience = serializers.CharField()
    allow_refine = serializers.BooleanField()
    items = PointsItemOutSerializer(many=True, source="items.all")


class PointsByItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.DecimalField(max_digits=7, decimal_places=1)
    cap = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    cap_period = serializers.CharField()
    capped = serializers.BooleanField()


class PointsEntrySerializer(serializers.Serializer):
    points = serializers.DecimalField(max_digits=7, decimal_places=1)
    item = serializers.CharField(source="item.code")
    source = serializers.CharField(source="description", help_text="来源说明（日期、活动、上限）")  # type: ignore[assignment]  # the contract's field name
    source_type = serializers.CharField()
    source_date = serializers.DateField()
    created_at = serializers.DateTimeField()


class MemberPointsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=8, decimal_places=1)
    base = serializers.DecimalField(max_digits=6, decimal_places=1)
    earned = serializers.DecimalField(max_digits=8, decimal_places=1)
    deducted = serializers.DecimalField(max_digits=8, decimal_places=1)
    exempt = serializers.BooleanField()
    vetoed = serializers.BooleanField(help_text="一票否决：本年度积分计为0")
    veto_reason = serializers.CharField(help_text="一票否决的理由（未否决时为空）")
    by_item = PointsByItemSerializer(many=True)
    entries = PointsEntrySerializer(many=True)


class PointsManualInSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**62)
    item = serializers.CharField(max_length=40, help_text="积分项目的编号或代码")
    points = serializers.DecimalField(max_digits=6, decimal_places=1, help_text="正数；扣分项目按扣分计")
    reason = serializers.CharField(max_length=255, allow_blank=True, help_text="理由，必填")


class PointsManualOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="member_id")
    item = serializers.CharField(source="item.code")
    kind = serializers.CharField(source="item.kind")
    points = serializers.DecimalField(max_digits=6, decimal_places=1)
    reason = serializers.CharField()
    year = serializers.IntegerField()
