"""API: the monthly report (党建活动月报) — ``/api/v1/reports/``.

POST generates (or returns the existing) report of an organisation for a month; PATCH sets the
narrative (draft or returned only); POST ``submit/``, ``return/`` (with a reason), ``approve/``.
Same token/session auth, scoping (out of scope → 404) and error shape as the rest of the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.filters import ID_MAX
from partyedu.organizations.models import Organization

from ..models.reports import MonthlyReport
from ..reports_derive import parse_period
from ..selectors.reports import report_list
from ..services.reports import (
    report_approve,
    report_generate,
    report_narrative_update,
    report_return,
    report_submit,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")


class ReportSerializer(serializers.ModelSerializer):
    period = serializers.CharField(read_only=True, help_text="月份 YYYY-MM")
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    return_reason = serializers.CharField(read_only=True)

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "organization",
            "organization_name",
            "period",
            "status",
            "figures",
            "narrative",
            "problems",
            "next_plan",
            "details",
            "return_reason",
            "generated_at",
            "submitted_at",
            "reviewed_at",
        ]
        read_only_fields = fields


class ReportListQuerySerializer(serializers.Serializer):
    """The list's numeric filter: an id the database cannot hold (``1e30``, ``-1``) is a 400
    naming the field, as the other lists' ``IdFilter`` answers."""

    organization = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        error_messages={
            "invalid": "组织ID须为整数",
            "min_value": "组织ID超出范围",
            "max_value": "组织ID超出范围",
        },
    )


class ReportCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="组织ID", min_value=1, max_value=ID_MAX)
    period = serializers.CharField(help_text="月份 YYYY-MM")

    def validate_period(self, value: str) -> tuple[int, int]:
        parsed = parse_period(value)
        if parsed is None:
            raise serializers.ValidationError("月份格式应为 YYYY-MM，如 2026-03")
        return parsed


class NarrativeSerializer(serializers.Serializer):
    narrative = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="工作简述")
    problems = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="存在问题")
    next_plan = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="下月计划")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({key: ["统计数据由记录生成，不能修改"] for key in unknown})
        return attrs


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, required=False, default="", help_text="退回原因（必填）", max_length=2000
    )


@extend_schema(tags=["党建活动月报"])
@extend_schema_view(
    list=extend_schema(
        summary="月报列表",
        description="调用者范围内的月报。organization 为该组织及其下级；period 为 YYYY-MM。",
        parameters=[
            OpenApiParameter(
                "organization",
                {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                description="组织ID（含下级）",
            ),
            OpenApiParameter("period", str, description="月份 YYYY-MM"),
            OpenApiParameter("status", str, description="draft/submitted/returned/approved"),
        ],
    ),
    retrieve=extend_schema(summary="月报详情"),
    create=extend_schema(
        summary="生成月报",
        description="由记录生成该组织该月的月报；已存在时返回已有月报（200），不会重复生成。",
        request=ReportCreateSerializer,
        responses={201: ReportSerializer, 200: ReportSerializer, 400: BAD_INPUT},
    ),
    partial_update=extend_schema(
        summary="填写说明",
        description="只能填写工作简述、存在问题、下月计划；草稿或被退回时才能修改。",
        request=NarrativeSerializer,
        responses={200: ReportSerializer, 400: BAD_INPUT},
    ),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    scope_model = MonthlyReport
    serializer_class = ReportSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    request: AuthenticatedRequest

    @property
    def scope_action(self) -> str:
        # Reviewing reads the report in the reviewer's view scope; the service checks the rule.
        if getattr(self, "action", None) in ("review_return", "approve"):
            return "view"
        if getattr(self, "action", None) == "submit":
            return "change"
        return super().scope_action

    def get_queryset(self) -> QuerySet[MonthlyReport]:
        filters: dict[str, Any] = {}
        if self.action == "list":
            query = ReportListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            filters = {key: self.request.query_params.get(key) for key in ("period", "status")}
            filters["organization"] = query.validated_data.get("organization")
        return report_list(user=self.request.user, filters=filters, action=self.scope_action)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        org_id = serializer.validated_data["organization"]
        organization = (
            Organization.objects.restrict(request.user, "add", app_label="supervision")
            .filter(pk=org_id)
            .first()
        )
        if organization is None:
            raise serializers.ValidationError({"organization": ["组织不存在或不在您的管理范围内"]})
        year, month = serializer.validated_data["period"]
        report, created = report_generate(
            actor=self.request.user, organization=organization, year=year, month=month
        )
        return Response(
            ReportSerializer(report).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        serializer = NarrativeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_narrative_update(
            actor=self.request.user, report=report, data=dict(serializer.validated_data)
        )
        return Response(ReportSerializer(report).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(summary="报送月报", request=None, responses={200: ReportSerializer, 400: BAD_INPUT})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        report = report_submit(actor=self.request.user, report=self.get_object())
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="退回月报",
        description="上级组织管理员退回已报送的月报，须填写原因。",
        request=ReturnSerializer,
        responses={200: ReportSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def review_return(self, request: Request, pk: Any = None) -> Response:
        report = self.get_object()
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_return(
            actor=self.request.user, report=report, reason=serializer.validated_data["reason"]
        )
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="审核通过",
        description="上级组织管理员审核通过已报送的月报；不能审核本组织的月报。",
        request=None,
        responses={200: ReportSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        report = report_approve(actor=self.request.user, report=self.get_object())
        return Response(ReportSerializer(report).data)


router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")

urlpatterns = [*router.urls]
