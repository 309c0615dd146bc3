"""API: the annual assessment (年度考评) — ``/api/v1/assessments/``, read-only.

``GET /api/v1/assessments/`` lists the schemes of the caller's supervision scope (the assessing
level); ``GET /api/v1/assessments/{id}/`` one scheme with its indicators;
``GET /api/v1/assessments/{id}/results/`` its results, one row per assessed organisation with
each indicator's points and explanation. An assessed organisation's user reaches a published
scheme's results for their own organisation only; anything else is 404. Same auth and error
shape as the rest of the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.viewsets import ScopedViewSet

from ..models.assessment import AssessmentIndicator, AssessmentScheme
from ..selectors.assessment import (
    assessment_result_table,
    assessment_scheme_list,
    assessment_visible_get,
)


class AssessmentIndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentIndicator
        fields = ["id", "name", "kind", "metric", "weight", "rule", "threshold", "description"]


class AssessmentSchemeSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    indicators = AssessmentIndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = AssessmentScheme
        fields = [
            "id",
            "organization",
            "organization_name",
            "year",
            "title",
            "description",
            "status",
            "target_level",
            "scored_at",
            "published_at",
            "indicators",
        ]


class AssessmentResultCellSerializer(serializers.Serializer):
    indicator = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=5, decimal_places=1)
    rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, allow_null=True, help_text="完成率 0–1；人工评分为空"
    )
    numerator = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    denominator = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    has_data = serializers.BooleanField()
    explanation = serializers.CharField(help_text="得分说明，如“学时完成率 92.3%（1,204/1,304人）→ 18.5/20”")


class AssessmentResultRowSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.DecimalField(max_digits=6, decimal_places=1)
    indicators = AssessmentResultCellSerializer(many=True)


class AssessmentResultsSerializer(serializers.Serializer):
    scheme = serializers.IntegerField()
    status = serializers.CharField()
    full = serializers.BooleanField(help_text="true：考评组织视角（全部被考评组织）；false：仅本组织")
    results = AssessmentResultRowSerializer(many=True)


@extend_schema(tags=["督导考评"])
@extend_schema_view(
    list=extend_schema(
        summary="年度考评方案列表", description="调用者作为考评组织可见的考评方案。year 按年度过滤。"
    ),
    retrieve=extend_schema(summary="年度考评方案详情"),
)
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = AssessmentScheme
    serializer_class = AssessmentSchemeSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[AssessmentScheme]:
        filters: dict[str, Any] = {}
        year = self.request.query_params.get("year")
        if year and year.isdigit():
            filters["year"] = int(year)
        return assessment_scheme_list(user=self.request.user, filters=filters).prefetch_related("indicators")

    @extend_schema(summary="年度考评结果", responses={200: AssessmentResultsSerializer})
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        scheme, _assessor = assessment_visible_get(user=self.request.user, pk=pk)
        table = assessment_result_table(user=self.request.user, scheme=scheme)
        rows = [
            {
                "organization": row.organization.pk,
                "name": row.organization.name,
                "total": row.total,
                "indicators": [
                    {
                        "indicator": cell.indicator_id,
                        "points": cell.points,
                        "rate": cell.rate,
                        "numerator": cell.numerator,
                        "denominator": cell.denominator,
                        "has_data": cell.has_data,
                        "explanation": cell.explanation,
                    }
                    for cell in row.cells
                    if cell is not None
                ],
            }
            for row in table.rows
        ]
        data = {"scheme": scheme.pk, "status": scheme.status, "full": table.full, "results": rows}
        return Response(AssessmentResultsSerializer(data).data)


router = SimpleRouter()
router.register("assessments", AssessmentViewSet, basename="assessment")

urlpatterns = [*router.urls]
