from __future__ import annotations

from rest_framework import serializers

from partyedu.points.choices import (
    PUBLICATION_DAYS_DEFAULT,
    PUBLICATION_DAYS_MAX,
    PUBLICATION_DAYS_MIN,
    ObjectionStatus,
    PublicationPeriod,
    VetoCategory,
)


class PublicationInSerializer(serializers.Serializer):
    organization = serializers.IntegerField(
        min_value=1, max_value=2**62, help_text="公示组织（党支部或党总支）编号"
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    period = serializers.ChoiceField(choices=PublicationPeriod.choices, help_text="h1 上半年，year 全年")
    days = serializers.IntegerField(
        min_value=PUBLICATION_DAYS_MIN,
        max_value=PUBLICATION_DAYS_MAX,
        default=PUBLICATION_DAYS_DEFAULT,
        help_text="公示天数，1到30，默认7",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PublicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    year = serializers.IntegerField()
    period = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    note = serializers.CharField()
    published_at = serializers.DateTimeField()
    withdrawn = serializers.SerializerMethodField()
    withdraw_reason = serializers.CharField()

    def get_withdrawn(self, obj: object) -> bool:
        return getattr(obj, "withdrawn_at", None) is not None


class PublishedItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.CharField()


class PublishedRowSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="row.member_id")
    name = serializers.CharField(source="row.name")
    base = serializers.DecimalField(max_digits=6, decimal_places=1, source="row.base")
    earned = serializers.DecimalField(max_digits=8, decimal_places=1, source="row.earned")
    deducted = serializers.DecimalField(max_digits=8, decimal_places=1, source="row.deducted")
    total = serializers.DecimalField(
        max_digits=8, decimal_places=1, source="row.total", help_text="公示时的合计"
    )
    vetoed = serializers.BooleanField(source="row.vetoed")
    veto_reason = serializers.CharField(source="row.veto_reason")
    by_item = PublishedItemSerializer(many=True, source="row.items")
    corrected = serializers.BooleanField(help_text="公示后分值已更正（已更正）")
    current_total = serializers.DecimalField(
        max_digits=8, decimal_places=1, source="current.total", allow_null=True, help_text="现在的合计"
    )
    rank = serializers.IntegerField(allow_null=True, help_text="支部内名次（仅开启支部内排名时）")


class PublicationDetailSerializer(serializers.Serializer):
    publication = PublicationSerializer()
    running = serializers.BooleanField()
    ranking = serializers.BooleanField()
    rows = PublishedRowSerializer(many=True)


class WithdrawInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, allow_blank=True, help_text="撤回原因，必填")


class ObjectionInSerializer(serializers.Serializer):
    publication = serializers.IntegerField(min_value=1, max_value=2**62)
    entry = serializers.IntegerField(
        min_value=1,
        max_value=2**62,
        required=False,
        allow_null=True,
        help_text="有异议的积分记录（本人的）；漏记可不填",
    )
    item = serializers.CharField(max_length=40, help_text="积分项目的编号或代码，必填")
    reason = serializers.CharField(max_length=500, allow_blank=True, help_text="异议理由，必填，最多500字")


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    publication = serializers.IntegerField(source="publication_id")
    member = serializers.IntegerField(source="member_id")
    member_name = serializers.CharField(source="member.name")
    entry = serializers.IntegerField(source="entry_id", allow_null=True)
    item = serializers.CharField(source="item.code")
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=ObjectionStatus.choices)
    answer = serializers.CharField()
    points = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class AnswerInSerializer(serializers.Serializer):
    decision = serializers.CharField(
        max_length=16, help_text="upheld 异议成立（追加更正记录），rejected 异议不成立"
    )
    answer = serializers.CharField(max_length=500, allow_blank=True, help_text="答复；不成立时即理由，必填")
    points = serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        required=False,
        allow_null=True,
        help_text="异议成立时的更正分值，正数加分，负数减分",
    )


class VetoInSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**62)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    category = serializers.CharField(max_length=16, help_text="discipline 违纪，crime 违法，other 其他")
    reason = serializers.CharField(max_length=255, allow_blank=True, help_text="否决理由，必填")


class VetoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="member_id")
    year = serializers.IntegerField()
    category = serializers.ChoiceField(choices=VetoCategory.choices)
    reason = serializers.CharField()
    in_force = serializers.SerializerMethodField()
    lift_reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_in_force(self, obj: object) -> bool:
        return getattr(obj, "lifted_at", None) is None


class LiftInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, allow_blank=True, help_text="撤销理由，必填")
