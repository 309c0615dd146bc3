from __future__ import annotations

from rest_framework import serializers

from partyedu.competitions.choices import Aggregation
from partyedu.competitions.models import Competition, Criterion, Entry, Review, Round
from partyedu.core.api.fields import IdField


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


class CompetitionSerializer(serializers.ModelSerializer):
    """A competition with its rubric (weights sum to 100) and rounds."""

    criteria = CriterionSerializer(many=True)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, write_only=True, label="参赛组别"
    )
    rounds = RoundSerializer(many=True, read_only=True)
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
