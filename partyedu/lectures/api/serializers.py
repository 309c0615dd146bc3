"""Serializers of the lectures API. Ratings appear only as aggregates: no rater, ever."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partyedu.lectures.models import Lecture, LectureFile, Lecturer, LectureSpeaker
from partyedu.lectures.selectors import RatingSummary, lecture_rating_summaries

# Plain text rather than enums in the schema: "category" and "kind" already name enums of other
# apps, and two enums of one name make the generator warn.
CATEGORY_HELP = (
    "讲师类别：member 普通党员 / secretary 党组织书记 / leader 领导干部 / party_school 党校教师 / "
    "university 高校教师 / model 先进模范 / veteran 老党员 / expert 业务骨干 / other 其他"
)
LECTURE_TYPE_HELP = (
    "党课类型：standard 常规党课 / micro 微党课 / rural 乡味党课 / field 田坎党课 / workshop 车间党课 / "
    "scenario 情景党课 / experience 体验党课 / walking 行走党课 / immersive 沉浸党课"
)


class LecturerSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True, label="师资库组织名称"
    )
    category = serializers.CharField(read_only=True, help_text=CATEGORY_HELP)
    category_display = serializers.CharField(
        source="get_category_display", read_only=True, label="讲师类别名称"
    )
    tags = serializers.SerializerMethodField(label="专长")
    lecture_count = serializers.IntegerField(read_only=True, label="讲党课次数（累计）")

    class Meta:
        model = Lecturer
        fields = [
            "id",
            "organization",
            "organization_name",
            "member",
            "name",
            "category",
            "category_display",
            "unit",
            "title",
            "tags",
            "bio",
            "is_active",
            "lecture_count",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, obj: Lecturer) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class SpeakerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="lecturer.name", read_only=True, label="姓名")
    category = serializers.CharField(source="lecturer.category", read_only=True, help_text=CATEGORY_HELP)

    class Meta:
        model = LectureSpeaker
        fields = ["lecturer", "name", "category", "is_cross"]
        read_only_fields = fields


class LectureFileSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="资料类型：slides 课件 / script 讲稿 / video 视频")
    url = serializers.SerializerMethodField(label="下载地址")

    class Meta:
        model = LectureFile
        fields = ["id", "kind", "name", "url"]
        read_only_fields = fields

    def get_url(self, obj: LectureFile) -> str:
        path = reverse("lectures:lecture_file", args=[obj.lecture_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RatingSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="评价人数")
    average = serializers.FloatField(allow_null=True, help_text="平均分（1–5），无评价时为空")
    distribution = serializers.DictField(child=serializers.IntegerField(), help_text="各分值的人数，键为 1–5")


class LectureSerializer(serializers.ModelSerializer):
    """A lecture given at a 党课 activity; its time, place and attendees are the activity's."""

    organization = serializers.IntegerField(source="activity.organization_id", read_only=True, label="组织")
    organization_name = serializers.CharField(
        source="activity.organization.name", read_only=True, label="组织名称"
    )
    start = serializers.DateTimeField(source="activity.start", read_only=True, label="开始时间")
    end = serializers.DateTimeField(source="activity.end", read_only=True, label="结束时间")
    lecture_type = serializers.CharField(read_only=True, help_text=LECTURE_TYPE_HELP)
    lecture_type_display = serializers.CharField(
        source="get_lecture_type_display", read_only=True, label="党课类型名称"
    )
    speakers = SpeakerSerializer(many=True, read_only=True)
    files = LectureFileSerializer(many=True, read_only=True)
    rating = serializers.SerializerMethodField(label="评价汇总")

    class Meta:
        model = Lecture
        fields = [
            "id",
            "activity",
            "organization",
            "organization_name",
            "start",
            "end",
            "title",
            "lecture_type",
            "lecture_type_display",
            "summary",
            "task",
            "speakers",
            "files",
            "rating",
        ]
        read_only_fields = fields

    @extend_schema_field(RatingSummarySerializer)
    def get_rating(self, obj: Lecture) -> dict[str, Any]:
        summaries: dict[int, RatingSummary] | None = self.context.get("rating_summaries")
        if summaries is None or obj.pk not in summaries:
            summaries = lecture_rating_summaries(user=self.context["request"].user, lecture_ids=[obj.pk])
        return summaries[obj.pk].as_dict()


class RatingInputSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="评分 1–5（5分最好）")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="评语（选填，匿名，最多500字）"
    )


class MyRatingSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    comment = serializers.CharField()


class RatingSerializer(serializers.Serializer):
    summary = RatingSummarySerializer(help_text="全部评价的汇总（不含评价人）")
    mine = MyRatingSerializer(allow_null=True, help_text="调用者本人的评价")
    can_rate = serializers.BooleanField(help_text="调用者能否评价（参加了本次党课的党员本人，主讲人除外）")
    reason = serializers.CharField(allow_blank=True, help_text="不能评价的原因")
