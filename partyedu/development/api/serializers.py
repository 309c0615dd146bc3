from __future__ import annotations

from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.development.choices import ConversionOutcome, Recommendation, Stage, Step
from partyedu.development.models import NOTE_MAX
from partyedu.members.choices import Gender

# Plain strings in the output (another app's "stage"/"step"/"outcome" enum would collide with these
# names in the schema); the input fields take the codes as choices.
STAGE_HELP = "、".join(f"{value} {label}" for value, label in Stage.choices)
STEP_HELP = "、".join(f"{value} {label}" for value, label in Step.choices)
OUTCOME_HELP = "、".join(f"{value} {label}" for value, label in ConversionOutcome.choices)
RECOMMENDATION_HELP = "、".join(f"{value} {label}" for value, label in Recommendation.choices)
GENDER_HELP = "、".join(f"{value} {label}" for value, label in Gender.choices)
PEOPLE_MAX = 10

# --- input ---------------------------------------------------------------------------------------


class CaseInSerializer(serializers.Serializer):
    organization = IdField(help_text="受理申请的党支部编号")
    name = serializers.CharField(max_length=50, help_text="申请人姓名")
    id_number = serializers.CharField(max_length=32, help_text="申请人身份证号（18位）")
    applied_on = serializers.DateField(help_text="收到入党申请书的日期；申请人须在当日年满18周岁")


class CaseStepInSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=Step.choices, help_text="要确认的步骤")
    date = serializers.DateField(help_text="步骤的日期（支部党员大会为会议日期，公示为公示结束日期）")
    meeting = IdField(
        required=False, allow_null=True, help_text="支部党员大会讨论时必填：本支部支部党员大会的活动编号"
    )
    yes_votes = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100000, help_text="支部党员大会的赞成票数"
    )
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices,
        required=False,
        allow_blank=True,
        help_text="确定入党积极分子时必填：推荐方式（members 党员推荐、mass_org 群团组织推优）",
    )
    mentors = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        max_length=PEOPLE_MAX,
        help_text="确定入党积极分子时必填：培养联系人（正式党员编号，1至2名）",
    )
    sponsors = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        max_length=PEOPLE_MAX,
        help_text="入党介绍人（正式党员编号，2名）：确定发展对象或支委会审查时确定",
    )
    outcome = serializers.ChoiceField(
        choices=ConversionOutcome.choices,
        required=False,
        allow_blank=True,
        help_text="讨论转正的结果（默认按期转正）：convert 按期转正、extend 延长预备期、cancel 取消预备党员资格",
    )
    extension_months = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120, help_text="延长预备期的月数（6至12个月）"
    )
    start_on = serializers.DateField(required=False, allow_null=True, help_text="公示时必填：公示开始日期")
    people = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="相关人员：谈话人、审批谈话人等"
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX,
        help_text="情况记录；支委会审查时填写政治审查结论",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="破例说明：时限规则未满足时，由上级党组织的组织部门管理员写明理由后确认（记入审计日志）",
    )


class CaseCloseInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="终止原因")
    date = serializers.DateField(required=False, allow_null=True, help_text="终止日期（默认今天）")


class CasePeopleInSerializer(serializers.Serializer):
    mentors = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        max_length=PEOPLE_MAX,
        help_text="培养联系人（正式党员编号）；不传则不变",
    )
    sponsors = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        max_length=PEOPLE_MAX,
        help_text="入党介绍人（正式党员编号）；不传则不变",
    )


# --- output --------------------------------------------------------------------------------------


class CasePersonOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseStepOutSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="序号")
    step = serializers.CharField(help_text=STEP_HELP)
    step_display = serializers.CharField(source="get_step_display")
    date = serializers.DateField()
    confirmed_by = serializers.CharField(
        source="confirmed_by.username",
        allow_null=True,
        default=None,
        help_text="确认人的用户名；系统确认为 null",
    )
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True, help_text="会议（活动编号）")
    voting_expected = serializers.IntegerField(
        allow_null=True, help_text="应到会有表决权党员（取自会议记录）"
    )
    voting_present = serializers.IntegerField(allow_null=True, help_text="实到会有表决权党员（取自会议记录）")
    yes_votes = serializers.IntegerField(allow_null=True)
    recommendation = serializers.CharField(allow_blank=True, help_text=RECOMMENDATION_HELP)
    outcome = serializers.CharField(allow_blank=True, help_text=OUTCOME_HELP)
    extension_months = serializers.IntegerField(allow_null=True)
    start_on = serializers.DateField(allow_null=True)
    people = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    override_reason = serializers.CharField(allow_blank=True, help_text="破例说明")
    overridden = serializers.ListField(child=serializers.CharField(), help_text="破例的时限规则代码")


class CaseNextOutSerializer(serializers.Serializer):
    step = serializers.CharField(help_text=STEP_HELP)
    step_display = serializers.CharField(source="label")
    due = serializers.DateField(allow_null=True, help_text="应在此日期前确认；null 为无期限")
    earliest = serializers.DateField(allow_null=True, help_text="最早可确认的日期；null 为现在即可")


class CaseDocumentOutSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="材料类型")
    kind_display = serializers.CharField()
    filed = serializers.BooleanField(help_text="是否已归档")


class CaseChecklistOutSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="步骤代码；application 为申请入党")
    step_display = serializers.CharField()
    confirmed_on = serializers.DateField(allow_null=True)
    complete = serializers.BooleanField(help_text="已确认且材料齐全")
    documents = CaseDocumentOutSerializer(many=True)


class CaseListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    name = serializers.CharField()
    gender = serializers.CharField(help_text=GENDER_HELP)
    id_number_masked = serializers.CharField(help_text="身份证号（脱敏）")
    applied_on = serializers.DateField()
    stage = serializers.CharField(help_text=STAGE_HELP)
    stage_display = serializers.CharField(source="get_stage_display")
    next_due = serializers.DateField(allow_null=True, help_text="下一步期限")
    last_step_on = serializers.DateField(help_text="最近步骤日期")


class CaseClosedSerializer(CaseListSerializer):
    closed_on = serializers.DateField(allow_null=True)
    closed_reason = serializers.CharField(allow_blank=True)


class CaseOutSerializer(serializers.Serializer):
    """The dossier of one case (fed a dict built by the view from the selectors' answers)."""

    id = serializers.IntegerField()
    organization = serializers.IntegerField()
    organization_name = serializers.CharField()
    member = serializers.IntegerField(allow_null=True, help_text="党员档案编号（确定为入党积极分子后）")
    name = serializers.CharField()
    gender = serializers.CharField(help_text=GENDER_HELP)
    id_number_masked = serializers.CharField(help_text="身份证号（脱敏）")
    stage = serializers.CharField(help_text=STAGE_HELP)
    stage_display = serializers.CharField()
    applied_on = serializers.DateField()
    activist_on = serializers.DateField(allow_null=True)
    candidate_on = serializers.DateField(allow_null=True)
    admitted_on = serializers.DateField(allow_null=True)
    probation_end = serializers.DateField(allow_null=True)
    full_member_on = serializers.DateField(allow_null=True)
    extension_months = serializers.IntegerField()
    closed_on = serializers.DateField(allow_null=True)
    closed_reason = serializers.CharField(allow_blank=True)
    next_due = serializers.DateField(allow_null=True)
    last_step_on = serializers.DateField()
    mentors = CasePersonOutSerializer(many=True, help_text="培养联系人")
    sponsors = CasePersonOutSerializer(many=True, help_text="入党介绍人")
    steps = CaseStepOutSerializer(many=True, help_text="已确认的步骤，按先后")
    next = CaseNextOutSerializer(many=True, help_text="接下来可确认的步骤")
    checklist = CaseChecklistOutSerializer(many=True, help_text="档案材料清单")


class CaseStepConfirmedSerializer(CaseStepOutSerializer):
    case = serializers.IntegerField(source="case_id")
    stage = serializers.CharField(source="case.stage", help_text=f"确认后的发展阶段：{STAGE_HELP}")
    stage_display = serializers.CharField(source="case.get_stage_display")
    next = CaseNextOutSerializer(many=True, source="next_steps", help_text="接下来可确认的步骤")


class CasePeopleOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    mentors = CasePersonOutSerializer(many=True)
    sponsors = CasePersonOutSerializer(many=True)
