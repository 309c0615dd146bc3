"""API: ``GET /api/v1/organizations/{id}/dashboard/?year=<y>[&month=<m>]`` — the figures of an
organisation's subtree and of each child in the caller's supervision scope (``supervision.figures``).
Registered on the supervision router under the organisations' address, as the learning summary is."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import scope_for
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.models import Organization

from ..selectors.dashboard import dashboard_get


class DashboardQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        required=False,
        error_messages={"invalid": "年度须为整数", "min_value": "年度超出范围", "max_value": "年度超出范围"},
    )
    month = serializers.IntegerField(
        min_value=1,
        max_value=12,
        required=False,
        error_messages={"invalid": "月份须为整数", "min_value": "月份须为1–12", "max_value": "月份须为1–12"},
    )


class IndicatorsSerializer(serializers.Serializer):
    members = serializers.IntegerField(help_text="在册党员（含下级）")
    hours_required = serializers.IntegerField(help_text="有学时要求的党员")
    hours_completed = serializers.IntegerField(help_text="学时已达标的党员")
    members_short = serializers.IntegerField(help_text="学时未达标的党员")
    hours_completion_rate = serializers.FloatField(help_text="学时达标率 0–1")
    theme_day_months = serializers.IntegerField(help_text="期内开展了主题党日的月数")
    months_elapsed = serializers.IntegerField(help_text="期内已开始的月数")
    cadence_branches = serializers.IntegerField(help_text="党支部数")
    cadence_compliant = serializers.IntegerField(help_text="组织生活频次全部达标的党支部数")
    cadence_compliance_rate = serializers.FloatField(help_text="支部组织生活达标率 0–1")
    activities = serializers.IntegerField(help_text="期内已开展的学习活动")
    activities_by_type = serializers.DictField(
        child=serializers.IntegerField(), help_text="活动类型代码 → 次数"
    )
    attendance_person_times = serializers.IntegerField(help_text="参加人次（出席、迟到）")
    lectures = serializers.IntegerField(help_text="党课")
    lectures_by_secretaries = serializers.IntegerField(help_text="其中党组织书记讲党课")
    cross_lectures = serializers.IntegerField(help_text="其中交叉讲党课")
    online_hours = serializers.FloatField(help_text="网络学习学时")
    competition_entries = serializers.IntegerField(help_text="评选报送作品（年度）")
    awards = serializers.IntegerField(help_text="获奖（年度）")
    service_units_total = serializers.IntegerField(help_text="应报到单位（双报到）")
    service_units_registered = serializers.IntegerField(help_text="已报到单位：期内有共驻共建协议在效")
    service_members_expected = serializers.IntegerField(help_text="应报到在职党员")
    service_members_registered = serializers.IntegerField(help_text="已报到在职党员：期内有报到在效")
    services = serializers.IntegerField(help_text="服务次数：社区确认的服务记录和志愿服务活动参加人次")
    service_hours = serializers.FloatField(help_text="服务时长（小时）")
    pledges_planned = serializers.IntegerField(help_text="为群众办实事：期内承诺完成的")
    pledges_done = serializers.IntegerField(help_text="其中已办结")
    requests_solved = serializers.IntegerField(help_text="联户网格解决的群众诉求")
    households_benefited = serializers.IntegerField(help_text="受益户数")


class ChildSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    name = serializers.CharField()
    indicators = IndicatorsSerializer()


class DashboardSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    year = serializers.IntegerField()
    month = serializers.IntegerField(allow_null=True)
    indicators = IndicatorsSerializer()
    children = ChildSerializer(many=True)


@extend_schema(tags=["党组织"])
class OrganizationDashboardViewSet(ScopedViewSet):
    """The organisation is looked up in the caller's supervision view scope (else 404); callers
    without the supervision view action anywhere get 403."""

    scope_model = Organization
    scope_app_label = "supervision"

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.filter(
            scope_for(self.request.user, self.scope_action, "supervision").q("path")
        )

    @extend_schema(
        summary="统计分析（含下级组织对比）",
        description="本组织及全部下级在某年度（或某月）的指标，以及调用者权限范围内每个直接下级组织的同一组指标。"
        "范围外的下级组织不列出；范围外的组织返回404。各指标的计算方法见 docs/supervision.md。",
        parameters=[
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX},
                description="年度，默认本年度",
            ),
            OpenApiParameter(
                "month", {"type": "integer", "minimum": 1, "maximum": 12}, description="月份 1–12，不填为全年"
            ),
        ],
        responses={
            200: DashboardSerializer,
            400: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=True, methods=["get"], url_path="dashboard")
    def dashboard(self, request: Request, pk: str | None = None) -> Response:
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        month = query.validated_data.get("month")
        board = dashboard_get(
            user=request.user, organization=self.get_object(), year=year, month=month, with_series=False
        )
        data: dict[str, Any] = {
            "organization": board.organization.pk,
            "year": year,
            "month": month,
            "indicators": board.figures.indicators(),
            "children": [
                {
                    "organization": row.organization.pk,
                    "name": row.organization.name,
                    "indicators": row.figures.indicators(),
                }
                for row in board.children
            ],
        }
        return Response(data)


router = SimpleRouter()
router.register("organizations", OrganizationDashboardViewSet, basename="organization")

urlpatterns = router.urls
