"""API of online study resources, and the learning actions that hang under members
(``/members/{id}/learning-hours/``) and organisations (``/organizations/{id}/learning-summary/``).
Those two are learning's business on the addresses of lower apps: learning registers them on its
own router (``urls.py``), so members and organizations import nothing above them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import has_action
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.learning.candidates import candidate_training_get
from partyedu.learning.filtersets import ResourceFilterSet
from partyedu.learning.models import OnlineResource
from partyedu.learning.selectors import (
    current_year,
    learning_summary,
    member_learning_hours,
    resource_list,
    resource_progress_for,
)
from partyedu.learning.services import resource_heartbeat
from partyedu.members.models import Member
from partyedu.members.selectors import member_list, member_of_user
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_list

from .serializers import (
    HeartbeatResultSerializer,
    HeartbeatSerializer,
    LearningSummarySerializer,
    MemberHoursSerializer,
    ResourceDetailSerializer,
    ResourceSerializer,
    YearQuerySerializer,
    progress_data,
)

YEAR_PARAMETER = OpenApiParameter(
    "year", {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX}, description="年度，默认本年度"
)


def query_year(request: Request) -> int:
    """``?year=`` (default: this year); anything else is a 400 in the usual error shape."""
    serializer = YearQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data.get("year") or current_year()


def member_learning_hours_response(request: Request, member: Member) -> Response:
    result = member_learning_hours(user=request.user, member=member, year=query_year(request))
    training = candidate_training_get(user=request.user, member=member)
    return Response(MemberHoursSerializer(result, context={"candidate_training": training}).data)


def learning_summary_response(request: Request, organization: Organization) -> Response:
    summary = learning_summary(user=request.user, organization=organization, year=query_year(request))
    return Response(LearningSummarySerializer(summary).data)


MEMBER_HOURS_SCHEMA = extend_schema(
    summary="党员学时（我的学时）",
    description="某年度的学时要求、已修学时（按类别）、每条学时记录及其来源、还差学时。"
    "党员本人可查看自己的；管理员可查看其学时管理范围内的党员；其他情况返回404。",
    parameters=[YEAR_PARAMETER],
    responses={200: MemberHoursSerializer, 404: OpenApiResponse(ErrorSerializer)},
)
SUMMARY_SCHEMA = extend_schema(
    summary="学时完成情况汇总",
    description="本组织及全部下级的在册党员、有学时要求的人数、已达标人数、达标率和免于要求人数。"
    "免于要求的党员另行统计，不计为未达标。",
    parameters=[YEAR_PARAMETER],
    responses={200: LearningSummarySerializer, 404: OpenApiResponse(ErrorSerializer)},
)


@extend_schema(tags=["党员"])
class MemberLearningViewSet(ScopedViewSet):
    """``/members/{id}/learning-hours/``: the member is found as the members API finds it (the
    ``members`` scope of the request's action, members who have left the roll included)."""

    scope_model = Member

    def get_queryset(self) -> QuerySet[Member]:
        return member_list(
            user=self.request.user, filters={"include_inactive": True}, action=self.scope_action
        )

    @MEMBER_HOURS_SCHEMA
    @action(detail=True, methods=["get"], url_path="learning-hours")
    def learning_hours(self, request: Request, pk: str | None = None) -> Response:
        return member_learning_hours_response(request, self.get_object())


@extend_schema(tags=["党组织"])
class OrganizationLearningViewSet(ScopedViewSet):
    """``/organizations/{id}/learning-summary/``: the organisation is found as the organisations
    API finds it (the ``organizations`` scope of the request's action, dissolved ones included)."""

    scope_model = Organization

    def get_queryset(self) -> QuerySet[Organization]:
        return organization_list(
            user=self.request.user, filters={"include_inactive": True}, action=self.scope_action
        )

    @SUMMARY_SCHEMA
    @action(detail=True, methods=["get"], url_path="learning-summary")
    def learning_summary(self, request: Request, pk: str | None = None) -> Response:
        return learning_summary_response(request, self.get_object())


class LearnerPermission(IsAuthenticated):
    """Members (their own record) and anyone with the learning ``view`` action somewhere."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, "view", "learning") or member_of_user(user=request.user) is not None


@extend_schema(tags=["网上学习"])
@extend_schema_view(
    list=extend_schema(
        summary="学习资源列表",
        description="调用者可学习的资源：本人所在组织及各级上级组织发布的资源；管理员另可见其管理范围内的全部资源（含未发布）。"
        "progress 为调用者本人的学习进度。",
    ),
    retrieve=extend_schema(summary="学习资源详情"),
)
class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [LearnerPermission]
    filterset_class = ResourceFilterSet
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[OnlineResource]:
        return resource_list(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ResourceDetailSerializer if self.action == "retrieve" else ResourceSerializer

    def _with_progress(self, resources: list[OnlineResource]) -> dict[str, Any]:
        member = member_of_user(user=self.request.user)
        return {
            **self.get_serializer_context(),
            "progress": resource_progress_for(
                user=self.request.user, member=member, resource_ids=[r.pk for r in resources]
            ),
        }

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        resources = list(page if page is not None else [])
        data = ResourceSerializer(resources, many=True, context=self._with_progress(resources)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        resource = self.get_object()
        return Response(ResourceDetailSerializer(resource, context=self._with_progress([resource])).data)

    @extend_schema(
        summary="学习进度心跳",
        description="播放或阅读期间每隔约15秒提交一次本段实际播放的区间 [start, end]（秒）。服务器只计入："
        "以前未计入的部分、资源时长以内的部分、不超过距上次心跳的实际时间（拖动进度条或挂机不计）、"
        "且不超过所在组织设定的每日上限。累计达到时长的95%即为学完，计入网络学习学时一次。"
        "开始播放时先提交一次 start=end 的心跳以开始计时。",
        request=HeartbeatSerializer,
        responses={
            200: HeartbeatResultSerializer,
            400: OpenApiResponse(ErrorSerializer),
            403: OpenApiResponse(ErrorSerializer, description="不是党员本人"),
            404: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        resource = self.get_object()
        serializer = HeartbeatSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = resource_heartbeat(
            user=request.user,
            resource=resource,
            start=serializer.validated_data["start"],
            end=serializer.validated_data["end"],
        )
        progress = result.progress
        data = {
            **(progress_data(progress, resource.duration_seconds) or {}),
            "duration_seconds": resource.duration_seconds,
            "completed": progress.completed_at is not None,
            "credited_seconds": result.credited_seconds,
            "daily_seconds": result.daily_seconds,
            "daily_cap_seconds": result.daily_cap_seconds,
        }
        return Response(HeartbeatResultSerializer(data).data)
