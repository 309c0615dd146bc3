"""Serializers of the care area's API. The private notes of talks are written back only to those
who may read them (the two people and the branch committee); the notes of care records are never
written by the API (they are read on the audited pages only)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.service.choices import AidKind, FundSource, TalkKind
from partyedu.service.models import PRIVATE_NOTE_MAX

KIND_HELP = "、".join(f"{value} {label}" for value, label in TalkKind.choices)


class CarePersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CareOrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- 谈心谈话 -----------------------------------------------------------------------------------


class TalkInSerializer(serializers.Serializer):
    organization = IdField(help_text="党支部编号")
    parties = serializers.ListField(
        child=IdField(), help_text="谈话双方两名党员的编号：第一位是谈话人，第二位是谈话对象", max_length=10
    )
    date = serializers.DateField(help_text="谈话日期，不能晚于今天")
    kind = serializers.ChoiceField(choices=TalkKind.choices, help_text=KIND_HELP)
    note = serializers.CharField(
        max_length=PRIVATE_NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="谈话要点（不公开：只有谈话双方和支部委员会可见）",
    )


class TalkOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = CareOrganizationRefSerializer()
    parties = CarePersonSerializer(many=True, help_text="谈话人、谈话对象")
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=TalkKind.choices, help_text=KIND_HELP)
    kind_display = serializers.CharField()
    note = serializers.CharField(
        required=False,
        help_text="谈话要点：只返回给谈话双方和持关怀帮扶权限（支部委员会）的调用者，其他人没有此字段",
    )


class CoverageQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=YEAR_MIN, max_value=YEAR_MAX, label="年度", help_text="默认本年度"
    )


class CoverageBranchSerializer(serializers.Serializer):
    organization = CareOrganizationRefSerializer()
    member_pairs = serializers.BooleanField(help_text="是否统计党员与党员之间的谈话")
    members = serializers.IntegerField(help_text="在册党员（含预备党员）人数")
    pairs_required = serializers.IntegerField()
    pairs_held = serializers.IntegerField()
    members_not_talked = serializers.IntegerField(help_text="今年尚未谈话的党员人数")


class TalkCoverageSerializer(serializers.Serializer):
    organization = CareOrganizationRefSerializer()
    year = serializers.IntegerField()
    pairs_required = serializers.IntegerField(
        help_text="应谈对数：委员与委员、委员与党员两两之间（党支部设置时另加党员与党员之间）"
    )
    pairs_held = serializers.IntegerField(help_text="已谈对数：今年至少谈过一次的应谈对数")
    members_total = serializers.IntegerField(help_text="在册党员（含预备党员）人数")
    members_not_talked = CarePersonSerializer(
        many=True,
        help_text="今年还没有任何一次应谈谈话的党员（最多列出500名，人数见 members_not_talked_count）",
    )
    members_not_talked_count = serializers.IntegerField()
    branches = CoverageBranchSerializer(many=True, help_text="各党支部的情况")


# --- 关怀帮扶 -----------------------------------------------------------------------------------


class CareVisitQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=YEAR_MIN, max_value=YEAR_MAX, help_text="年度")
    pending = serializers.BooleanField(required=False, default=False, help_text="为 1 时只列待上级审批的")


class CareVisitInSerializer(serializers.Serializer):
    member = IdField(help_text="党员编号")
    date = serializers.DateField(help_text="走访日期，不能晚于今天")
    aid_kind = serializers.ChoiceField(choices=AidKind.choices)
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        default=Decimal("0"),
        help_text="金额（元）",
    )
    fund_source = serializers.ChoiceField(
        choices=FundSource.choices, required=False, allow_blank=True, default="", help_text="有金额时必填"
    )
    occasion = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", help_text="事由，如 春节走访"
    )
    visitors = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(
        max_length=PRIVATE_NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="情况（不公开，不在接口中返回）",
    )


class CareVisitRejectInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="不予批准的理由（必填）")


class CareVisitOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = CarePersonSerializer()
    organization = CareOrganizationRefSerializer()
    date = serializers.DateField()
    occasion = serializers.CharField()
    visitors = serializers.CharField()
    aid_kind = serializers.ChoiceField(choices=AidKind.choices)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    fund_source = serializers.CharField(help_text="资金来源代码；无资金为空")
    needs_approval = serializers.BooleanField(help_text="金额超过审批线，须上级党组织审批")
    approved = serializers.BooleanField()
    rejected = serializers.BooleanField(help_text="上级党组织不予批准（不计入发放总数）")
    rejection_reason = serializers.CharField(help_text="不予批准的理由；未被不予批准为空")
    counted = serializers.BooleanField(help_text="是否计入发放总数（未超过审批线，或已审批）")


class CareTotalsRowSerializer(serializers.Serializer):
    organization = CareOrganizationRefSerializer(allow_null=True, help_text="下级组织；本级直属党员为 null")
    visits = serializers.IntegerField(help_text="走访慰问人次")
    people = serializers.IntegerField(help_text="关怀党员人数")
    payments = serializers.IntegerField(help_text="发放帮扶（有金额的）人次")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    by_source = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2), help_text="按资金来源的金额"
    )


class CareTotalsSerializer(serializers.Serializer):
    organization = CareOrganizationRefSerializer()
    year = serializers.IntegerField()
    visits = serializers.IntegerField()
    people = serializers.IntegerField()
    payments = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    by_source = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    pending = serializers.IntegerField(help_text="待上级审批的笔数（不计入）")
    pending_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    children = CareTotalsRowSerializer(many=True)
