"""API of the guidance area: guidance teams, inspection visits and rectification items within the
caller's scope (read), and closing a rectification item with its evidence note (write)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet

from ..models.guidance import GuidanceTeam, Inspection, RectificationItem
from ..selectors import guidance as selectors
from ..services import guidance as services

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")


class GuidanceTeamSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True, label="组建单位名称"
    )
    leader_name = serializers.CharField(source="leader.__str__", read_only=True, default="", label="组长")
    member_count = serializers.IntegerField(read_only=True, label="组员数")
    coverage_count = serializers.IntegerField(read_only=True, label="联系组织数")

    class Meta:
        model = GuidanceTeam
        fields = [
            "id",
            "organization",
            "organization_name",
            "name",
            "year",
            "is_active",
            "leader",
            "leader_name",
            "member_count",
            "coverage_count",
        ]
        read_only_fields = fields


class InspectionSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True, label="被检查组织名称"
    )
    item_count = serializers.IntegerField(read_only=True, label="整改事项数")
    open_count = serializers.IntegerField(read_only=True, label="整改中事项数")

    class Meta:
        model = Inspection
        fields = [
            "id",
            "organization",
            "organization_name",
            "team",
            "kind",
            "visited_on",
            "findings",
            "item_count",
            "open_count",
        ]
        read_only_fields = fields


class RectificationItemSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True, label="整改组织名称"
    )

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "inspection",
            "organization",
            "organization_name",
            "description",
            "due_on",
            "status",
            "evidence_note",
            "closed_by",
            "closed_at",
        ]
        read_only_fields = fields


class RectificationCloseSerializer(serializers.Serializer):
    note = serializers.CharField(label="整改情况说明", allow_blank=True, required=False, default="")


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    @property
    def scope_action(self) -> str:
        return "view"


@extend_schema(tags=["督导考评"])
@extend_schema_view(
    list=extend_schema(
        summary="巡回指导组列表",
        description="调用者范围内组建的指导组，以及调用者所在的指导组。year 按年度过滤。",
    ),
    retrieve=extend_schema(summary="巡回指导组详情"),
)
class GuidanceTeamViewSet(_ReadOnly):
    scope_model = GuidanceTeam
    serializer_class = GuidanceTeamSerializer

    def get_queryset(self) -> QuerySet[GuidanceTeam]:
        return selectors.team_list(
            user=self.request.user, filters={"year": self.request.query_params.get("year")}
        )


@extend_schema(tags=["督导考评"])
@extend_schema_view(
    list=extend_schema(summary="调研督导列表", description="调用者范围内组织的调研督导记录，按日期倒序。"),
    retrieve=extend_schema(summary="调研督导详情"),
)
class InspectionViewSet(_ReadOnly):
    scope_model = Inspection
    serializer_class = InspectionSerializer

    def get_queryset(self) -> QuerySet[Inspection]:
        return selectors.inspection_list(
            user=self.request.user, filters={"year": self.request.query_params.get("year")}
        )


@extend_schema(tags=["督导考评"])
@extend_schema_view(
    list=extend_schema(
        summary="整改事项列表",
        description="调用者范围内组织的整改事项。status：open 整改中、overdue 已逾期、closed 已销号，不填为全部。",
    ),
    retrieve=extend_schema(summary="整改事项详情"),
)
class RectificationItemViewSet(_ReadOnly):
    scope_model = RectificationItem
    serializer_class = RectificationItemSerializer

    def get_queryset(self) -> QuerySet[RectificationItem]:
        return selectors.rectification_list(
            user=self.request.user, filters={"status": self.request.query_params.get("status")}
        )

    @extend_schema(
        summary="整改销号",
        description="整改组织（在该组织有督导考评修改权限者）填写整改情况说明后销号；已销号的事项不能再次销号。",
        request=RectificationCloseSerializer,
        responses={200: RectificationItemSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        item = selectors.rectification_get(user=request.user, pk=pk)
        data = RectificationCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.rectification_item_close(
            actor=request.user, item=item, note=data.validated_data["note"]
        )
        return Response(RectificationItemSerializer(item).data)


router = SimpleRouter()
router.register("guidance-teams", GuidanceTeamViewSet, basename="guidance-team")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("rectification-items", RectificationItemViewSet, basename="rectification-item")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
