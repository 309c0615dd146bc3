from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import ScopedActionPermission
from partyedu.core.api.serializers import ErrorSerializer, plain_data
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import can
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.points import selectors, services
from partyedu.points.models import ManualPoints, PointsScheme

from .serializers import (
    MemberPointsSerializer,
    PointsManualInSerializer,
    PointsManualOutSerializer,
    PointsSchemeInSerializer,
    PointsSchemeOutSerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
TAG = "积分"
APP = "points"
YEAR_PARAMETER = OpenApiParameter(
    "year",
    {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX},
    description="年度，默认本年度",
    required=False,
)


def _validation(exc: DjangoValidationError) -> serializers.ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="积分方案列表", description="调用者管理范围内制定的积分方案。"),
    retrieve=extend_schema(
        summary="积分方案详情", responses={200: PointsSchemeOutSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="制定积分方案",
        description="为组织及其下级某一年度制定积分方案：基础分和加分、扣分项目（来源、每次分值、每月/季度/年上限）。"
        "奖励在线时长、登录、连续签到打卡的来源一律拒绝（400）。下级组织的方案替代上级方案。",
        request=PointsSchemeInSerializer,
        responses={201: PointsSchemeOutSerializer, 400: BAD_INPUT},
    ),
)
class SchemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    scope_model = PointsScheme
    serializer_class = PointsSchemeOutSerializer

    def get_queryset(self) -> QuerySet[PointsScheme]:
        return (
            selectors.scheme_list(user=self.request.user, action=self.scope_action)
            .prefetch_related("items")
            .order_by("id")
        )

    def create(
        self,
        request: AuthenticatedRequest,  # type: ignore[override]
        *args: Any,
        **kwargs: Any,
    ) -> Response:
        data_in = PointsSchemeInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
        if organization is None or not can(request.user, "add", organization, app_label=APP):
            raise serializers.ValidationError({"organization": ["所选组织不存在或不在您的权限范围内"]})
        try:
            scheme = services.scheme_create(
                actor=request.user,
                organization=organization,
                year=data["year"],
                base=data["base"],
                items=[dict(i) for i in data["items"]],
                name=data.get("name", ""),
                audience=data["audience"],
                allow_refine=data["allow_refine"],
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(PointsSchemeOutSerializer(scheme).data, status=status.HTTP_201_CREATED)


def _query_year(request: Request) -> int:
    raw = request.query_params.get("year")
    if not raw:
        from django.utils import timezone

        return timezone.localdate().year
    if not raw.isdigit() or not YEAR_MIN <= int(raw) <= YEAR_MAX:
        raise serializers.ValidationError({"year": [f"年度须为{YEAR_MIN}到{YEAR_MAX}之间的整数"]})
    return int(raw)


@extend_schema(tags=["党员"])
class MemberPointsViewSet(ScopedViewSet):
    """``/members/{id}/points/``: the member found within the points view scope (a 党员: themself)."""

    scope_model = PointsScheme  # the app whose actions decide 403: points

    def get_queryset(self) -> QuerySet[Member]:
        return Member.objects.restrict(self.request.user, self.scope_action, app_label=APP)

    @extend_schema(
        summary="党员积分",
        description="某年度的积分：合计（基础分＋加分－扣分）、按项目的得分及上限、每条积分记录及其来源。"
        "党员本人可查看自己的；管理员可查看其积分管理范围内的党员；其他情况返回404。",
        parameters=[YEAR_PARAMETER],
        responses={200: MemberPointsSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="points")
    def points(self, request: Request, pk: str | None = None) -> Response:
        year = _query_year(request)
        if not pk or not pk.isdigit():
            raise Http404("党员不存在")
        # The selector looks the member up in the same scope as get_queryset, once.
        result = selectors.member_points_brief(user=request.user, member=int(pk), year=year)
        return Response(plain_data(MemberPointsSerializer, result))


class ManualPointsView(APIView):
    """``POST /points/manual/``: a secretary's manual award or deduction."""

    permission_classes = [ScopedActionPermission]
    scope_model = ManualPoints
    scope_app_label = APP

    @extend_schema(
        tags=[TAG],
        summary="手工加分/扣分",
        description="书记（积分管理范围内）为党员手工加分或扣分，理由必填，党员本人可见；扣分只能用扣分项目，"
        "年老体弱等免于硬性要求的党员不扣分。item 为积分项目的编号或代码（该党员本年度适用方案中的手工项目）。",
        request=PointsManualInSerializer,
        responses={201: PointsManualOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data_in = PointsManualInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        member = selectors.member_get(user=request.user, pk=data["member"], action="change")
        try:
            record = services.points_manual_record(
                actor=request.user,
                member=member,
                item=data["item"],
                points=data["points"],
                reason=data["reason"],
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(PointsManualOutSerializer(record).data, status=status.HTTP_201_CREATED)
