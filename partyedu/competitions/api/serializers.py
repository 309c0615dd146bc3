from __future__ import annotations

from typing import Any

from rest_framework import serializers

from partyedu.competitions.choices import Aggregation, ConflictRule, GradeSet
from partyedu.competitions.models import Award, Competition, Criterion, Entry, Review, Round
from partyedu.competitions.services import MAX_AWARD_CATEGORIES, MAX_GRADE_COUNT, MAX_GRADES
from partyedu.core.api.fields import IdField
from partyedu.lectures.choices import LectureType


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["name", "weight", "description"]
        extra_kwargs = {"description": {"required": False}}


class RoundSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Round
        fields = [
            "id",
            "competition",
            "sequence",
            "name",
            "reviews_per_entry",
            "aggregation",
            "advance_count",
            "advance_min_score",
            "spread_threshold",
            "status",
            "status_display",
        ]
        read_only_fields = ["id", "competition", "sequence", "status"]


class RoundWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, label="轮次名称")
    reviews_per_entry = serializers.IntegerField(
        min_value=1, max_value=50, default=3, label="每件作品评审人数"
    )
    aggregation = serializers.ChoiceField(
        choices=Aggregation.choices, default=Aggregation.MEAN, label="计分方法"
    )
    # The column is a PositiveIntegerField: 32 bits in PostgreSQL.
    advance_count = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True, label="晋级名额"
    )
    advance_min_score = serializers.DecimalField(
        max_digits=7, decimal_places=3, required=False, allow_null=True, label="晋级分数线"
    )
    spread_threshold = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, label="分歧提示阈值"
    )


class AwardCategorySerializer(serializers.Serializer):
    """An award category of the award plan, e.g. 微党课 with {"精品": 1, "优秀": 2}."""

    name = serializers.CharField(max_length=50, label="评奖类别")
    entry_category = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        allow_null=True,
        label="限参赛组别",
        help_text="本次评选的参赛组别名称（或ID）；不限则留空",
    )
    lecture_type = serializers.ChoiceField(
        choices=LectureType.choices, required=False, allow_blank=True, label="限党课类型"
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_GRADE_COUNT),
        label="各等次名额",
        help_text='等次名称 → 名额，如 {"精品": 1, "优秀": 2}',
    )


class CompetitionSerializer(serializers.ModelSerializer):
    """A competition with its rubric (weights sum to 100) and rounds."""

    criteria = CriterionSerializer(many=True)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, write_only=True, label="参赛组别"
    )
    rounds = RoundSerializer(many=True, read_only=True)
    conflict_rule = serializers.ChoiceField(
        choices=ConflictRule.choices,
        default=ConflictRule.SUBTREE,
        label="回避规则",
        help_text="subtree：评委回避本人所在组织及下级的作品；unit：回避本人所在单位（主办组织的下一级）的全部作品",
    )
    grade_set = serializers.ChoiceField(choices=GradeSet.choices, default=GradeSet.SINGLE, label="奖项等次")
    grades = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=MAX_GRADES,
        label="等次（从高到低）",
        help_text="grade_set 为 custom 时填写；其他情况按所选等次",
    )
    award_categories = AwardCategorySerializer(
        many=True,
        required=False,
        max_length=MAX_AWARD_CATEGORIES,  # type: ignore[call-arg]  # ListSerializer takes it
        label="评奖类别",
    )
    organization = IdField(source="organization_id", label="主办组织ID")
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Competition
        fields = [
            "id",
            "title",
            "organization",
            "organization_name",
            "year",
            "description",
            "status",
            "status_display",
            "criteria",
            "categories",
            "rounds",
            "conflict_rule",
            "grade_set",
            "grades",
            "award_categories",
        ]
        read_only_fields = ["id", "status"]
        extra_kwargs = {"year": {"required": False}}


class EntrySerializer(serializers.ModelSerializer):
    lecturer_name = serializers.CharField(source="lecturer.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    lecturer = IdField(source="lecturer_id", label="主讲人（党员ID）")
    organization = IdField(source="organization_id", label="报送组织ID")
    category = IdField(source="category_id", required=False, allow_null=True, label="组别ID")

    class Meta:
        model = Entry
        fields = [
            "id",
            "competition",
            "title",
            "lecturer",
            "lecturer_name",
            "organization",
            "organization_name",
            "category",
            "source",
            "summary",
            "withdrawn",
        ]
        read_only_fields = ["id", "competition", "source", "withdrawn"]


class ReviewerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    organization = serializers.IntegerField()
    organization_name = serializers.CharField()


class PanelMemberSerializer(serializers.Serializer):
    """A judge on a round's panel, as the panel is set."""

    id = serializers.IntegerField()
    username = serializers.CharField()


class ReviewersSetSerializer(serializers.Serializer):
    users = serializers.ListField(child=IdField(), allow_empty=False, label="评委用户ID")


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entry = serializers.IntegerField()
    entry_title = serializers.CharField()
    reviewer = serializers.IntegerField()
    reviewer_username = serializers.CharField()
    manual = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class ReviewSerializer(serializers.ModelSerializer):
    """The caller's own review. ``scores`` maps each criterion name to 0–100."""

    entry = serializers.IntegerField(source="round_entry.entry_id", read_only=True)
    entry_title = serializers.CharField(source="round_entry.entry.title", read_only=True)
    round = serializers.IntegerField(source="round_entry.round_id", read_only=True)
    competition = serializers.CharField(source="round_entry.round.competition.title", read_only=True)
    scores = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=1))

    class Meta:
        model = Review
        fields = [
            "id",
            "round",
            "competition",
            "entry",
            "entry_title",
            "scores",
            "total",
            "comment",
            "submitted_at",
        ]
        read_only_fields = ["id", "total", "submitted_at"]
        extra_kwargs = {"comment": {"required": False}}


class ReviewSubmitSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.JSONField(), label="各项得分")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, label="评语")


class ResultRowSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    title = serializers.CharField()
    lecturer = serializers.CharField()
    organization = serializers.CharField()
    assigned = serializers.IntegerField()
    submitted = serializers.IntegerField()
    totals = serializers.ListField(child=serializers.DecimalField(max_digits=7, decimal_places=3))
    score = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    tied = serializers.BooleanField()
    spread = serializers.DecimalField(max_digits=7, decimal_places=3, allow_null=True)
    flagged = serializers.BooleanField()
    advanced = serializers.BooleanField()


class ResultsSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    aggregation = serializers.CharField()
    complete = serializers.BooleanField()
    results = ResultRowSerializer(many=True)


class AdvanceSerializer(serializers.Serializer):
    override = serializers.BooleanField(default=False, label="强制执行")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, label="原因")


# --- 回避, award plan, closing, awards -------------------------------------------------------------


class AwardPlanSerializer(serializers.Serializer):
    grade_set = serializers.ChoiceField(choices=GradeSet.choices, label="奖项等次")
    grades = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=MAX_GRADES,
        label="自定义等次",
        help_text="grade_set 为 custom 时填写，从高到低",
    )
    award_categories = AwardCategorySerializer(
        many=True,
        max_length=MAX_AWARD_CATEGORIES,  # type: ignore[call-arg]  # ListSerializer takes it
        label="评奖类别",
    )


class CloseSerializer(serializers.Serializer):
    override = serializers.BooleanField(default=False, label="强制执行")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, label="原因")


class AwardSerializer(serializers.ModelSerializer):
    """An award with its certificate code (the code printed on the certificate and checked at
    /verify/<code>/)."""

    # A plain string in the schema: an enum named "kind" would collide with the other "kind" fields.
    kind = serializers.CharField(
        read_only=True, help_text="lecture 党课奖项；lecturer 优秀主讲人；organization 优秀组织单位"
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    title = serializers.CharField(
        source="label", read_only=True, help_text="奖项名称，如“精品微党课”“优秀主讲人”"
    )
    award_category = serializers.CharField(
        source="award_category.name", read_only=True, allow_null=True, default=None
    )
    certificate_code = serializers.CharField(source="certificate.code", read_only=True)
    certificate_revoked_at = serializers.DateTimeField(
        source="certificate.revoked_at", read_only=True, allow_null=True
    )

    class Meta:
        model = Award
        fields = [
            "id",
            "competition",
            "kind",
            "kind_display",
            "title",
            "grade",
            "award_category",
            "rank",
            "entry",
            "organization",
            "recipient",
            "basis",
            "reason",
            "awarded_on",
            "certificate_code",
            "certificate_revoked_at",
        ]
        read_only_fields = fields


class UnitChoiceSerializer(serializers.Serializer):
    organization = IdField(label="单位ID", help_text="主办组织的下一级单位")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        label="评定理由",
        help_text="该单位没有获奖作品时必填",
    )


class AwardGrantSerializer(serializers.Serializer):
    lecture_count = serializers.IntegerField(
        min_value=0,
        max_value=MAX_GRADE_COUNT,
        default=0,
        label="优秀党课名额",
        help_text="仅用于未设置评奖方案的评选",
    )
    lecturer_count = serializers.IntegerField(
        min_value=0, max_value=MAX_GRADE_COUNT, default=0, label="优秀主讲人名额"
    )
    organization_count = serializers.IntegerField(
        min_value=0, max_value=MAX_GRADE_COUNT, default=0, label="优秀组织单位名额（按获奖作品自动评出）"
    )
    units = UnitChoiceSerializer(
        many=True,
        required=False,
        max_length=100,  # type: ignore[call-arg]  # ListSerializer takes it
        label="选定的优秀组织单位",
    )
    awarded_on = serializers.DateField(required=False, label="授予日期")


class SuggestionQuerySerializer(serializers.Serializer):
    lecture_count = serializers.IntegerField(min_value=0, max_value=MAX_GRADE_COUNT, default=0)
    lecturer_count = serializers.IntegerField(min_value=0, max_value=MAX_GRADE_COUNT, default=0)
    organization_count = serializers.IntegerField(min_value=0, max_value=MAX_GRADE_COUNT, default=0)


class SuggestedEntrySerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="candidate.entry_id")
    title = serializers.CharField(source="candidate.title")
    lecturer = serializers.CharField(source="candidate.lecturer")
    organization = serializers.CharField(source="candidate.organization")
    score = serializers.DecimalField(
        source="candidate.score", max_digits=9, decimal_places=4, allow_null=True
    )
    rank = serializers.IntegerField(source="candidate.rank", help_text="最后一轮名次")
    category_rank = serializers.IntegerField(help_text="评奖类别内名次")
    tied = serializers.BooleanField()
    grade = serializers.CharField(help_text="建议等次；空为不获奖")


class CategorySuggestionSerializer(serializers.Serializer):
    name = serializers.CharField(source="category.name")
    counts = serializers.SerializerMethodField()
    entries = SuggestedEntrySerializer(source="rows", many=True)

    def get_counts(self, obj: Any) -> dict[str, int]:
        return dict(obj.counts)


class SuggestedLecturerSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    lecturer = serializers.CharField()
    rank = serializers.IntegerField()


class UnitSuggestionSerializer(serializers.Serializer):
    organization = serializers.IntegerField(source="organization_id")
    name = serializers.CharField()
    entries = serializers.IntegerField(help_text="报送作品数")
    lectures = serializers.IntegerField(allow_null=True, help_text="当年开展党课场次；无权查看时为空")
    awards = serializers.IntegerField(help_text="建议获奖作品数")
    best_rank = serializers.IntegerField(allow_null=True)
    automatic = serializers.BooleanField(help_text="按 organization_count 自动评出")


class AwardSuggestionSerializer(serializers.Serializer):
    ready = serializers.BooleanField(help_text="最后一轮已结束，可以评定")
    grades = serializers.ListField(child=serializers.CharField())
    categories = CategorySuggestionSerializer(many=True)
    lecturers = SuggestedLecturerSerializer(many=True)
    units = UnitSuggestionSerializer(many=True)
