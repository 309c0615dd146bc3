from __future__ import annotations

from rest_framework import serializers

from partyedu.appraisal.choices import AppraisalStatus, FollowUpMeasure, Grade, StepCode

# A plain string: another app's "status" enum would collide with this one's name in the schema.
STATUS_HELP = "、".join(f"{value} {label}" for value, label in AppraisalStatus.choices)

# --- input ---------------------------------------------------------------------------------------


class StepPlanInSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=StepCode.choices, help_text="环节代码")
    planned_start = serializers.DateField(required=False, allow_null=True, default=None)
    planned_end = serializers.DateField(required=False, allow_null=True, default=None)


class AppraisalInSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="党支部编号", min_value=1, max_value=2**62)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    excellent_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=0,
        max_value=1,
        required=False,
        default=None,
        allow_null=True,
        help_text="优秀比例上限（0到1之间，默认0.3333即三分之一）",
    )
    steps = StepPlanInSerializer(many=True, required=False, default=list, help_text="各环节计划日期（可选）")
    meeting = serializers.IntegerField(
        min_value=1,
        max_value=2**62,
        required=False,
        allow_null=True,
        default=None,
        help_text="民主测评会议（本支部的活动编号，可选）",
    )


class VoteInSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**62, help_text="被测评党员编号")
    grade = serializers.ChoiceField(choices=Grade.choices)


class BallotInSerializer(serializers.Serializer):
    votes = VoteInSerializer(many=True, help_text="每名其他参评党员一个等次，不含本人")


class GradeInSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**62, help_text="参评党员编号")
    grade = serializers.ChoiceField(choices=Grade.choices)
    measure = serializers.ChoiceField(
        choices=FollowUpMeasure.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="不合格时必填：处置措施",
    )
    deadline = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="限期改正时必填：整改期限"
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DecideInSerializer(serializers.Serializer):
    grades = GradeInSerializer(many=True)
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="优秀人数超过比例时必填，报上级党组织；不传则保留原理由",
    )


# --- output --------------------------------------------------------------------------------------


class StepOutSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=StepCode.choices)
    name = serializers.CharField()
    planned_start = serializers.DateField(allow_null=True)
    planned_end = serializers.DateField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class ParticipantOutSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    name = serializers.CharField()
    is_voter = serializers.BooleanField(help_text="正式党员投票，预备党员不投票")
    exempt = serializers.BooleanField(help_text="免于硬性要求（年老体弱等）")
    evidence = serializers.ListField(child=serializers.CharField(), help_text="本年度记录摘要")


class TallyOutSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    excellent = serializers.IntegerField()
    qualified = serializers.IntegerField()
    basically_qualified = serializers.IntegerField()
    unqualified = serializers.IntegerField()


class DecisionOutSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    grade = serializers.ChoiceField(choices=Grade.choices)
    decided_at = serializers.DateTimeField(allow_null=True)


class AppraisalOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField()
    year = serializers.IntegerField()
    status = serializers.CharField(help_text=STATUS_HELP)
    current_step = serializers.CharField(allow_null=True, help_text="进行中或待开启的环节；全部结束为 null")
    excellent_share = serializers.DecimalField(max_digits=5, decimal_places=4)
    steps = StepOutSerializer(many=True)
    participants = ParticipantOutSerializer(many=True)
    voters = serializers.IntegerField(help_text="有表决权的参评党员数")
    turnout = serializers.IntegerField(help_text="已投票人数（不含投票内容）")
    tallies = TallyOutSerializer(many=True, allow_null=True, help_text="投票结束后可见，之前为 null")
    decisions = DecisionOutSerializer(many=True, help_text="支部委员会评定的等次")
    reason = serializers.CharField(allow_blank=True, help_text="优秀超比例的理由")


class AppraisalListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    year = serializers.IntegerField()
    status = serializers.CharField(help_text=STATUS_HELP)


class BallotOutSerializer(serializers.Serializer):
    appraisal = serializers.IntegerField()
    voted = serializers.BooleanField()
    replaced = serializers.BooleanField(help_text="true：替换了此前的选票")
    submitted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
