from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated, ScopedActionPermission
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import has_action
from partyedu.study.checkin import checkin_token, checkin_with_token, scan_time
from partyedu.study.choices import ActivityType, AttendanceMethod
from partyedu.study.filtersets import ActivityFilterSet
from partyedu.study.models import Activity
from partyedu.study.selectors import (
    activity_attendance_counts,
    activity_list,
    activity_quorum,
    attendance_list,
)
from partyedu.study.services import activity_delete, activity_record, activity_update, attendance_mark

from .serializers import (
    ActivitySerializer,
    AttendanceMarkSerializer,
    AttendanceRowSerializer,
    AttendanceSheetSerializer,
    CheckinResultSerializer,
    CheckinSerializer,
    CheckinTokenSerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")


class StudyActionPermission(ScopedActionPermission):
    """As ``ScopedActionPermission``, but with the view's own action: marking attendance (a POST)
    and showing the check-in code (a GET) both change the activity."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not IsAuthenticated.has_permission(self, request, view):
            return False
        return has_action(request.user, view.scope_action, "study")


@extend_schema(tags=["学习活动"])
@extend_schema_view(
    list=extend_schema(
        summary="活动列表",
        description="调用者有权查看的活动，按开始时间倒序。organization 过滤包含该组织的全部下级；"
        "不在调用者范围内的组织ID返回空列表。year 按开始时间的年度过滤。",
    ),
    retrieve=extend_schema(summary="活动详情"),
    create=extend_schema(
        summary="登记活动",
        description="登记一次活动并生成应到名单（出勤均为未登记）。不填 roster 时应到名单为本组织及全部下级的"
        "在册党员，培训班课次为该班学员；invitees 为列席人员。",
        responses={201: ActivitySerializer, 400: BAD_INPUT},
    ),
    update=extend_schema(
        summary="修改活动", description="组织和培训班不能修改；修改时间、类型或学时会同步更正学时。"
    ),
    partial_update=extend_schema(summary="修改活动（部分字段）"),
    destroy=extend_schema(
        summary="删除活动", description="连同出勤一并删除，已计入的学时同步冲减。需要删除权限。"
    ),
)
class ActivityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    scope_model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    permission_classes = [StudyActionPermission]
    # StudyActionPermission admits signed-in callers only, so the user may act in a service.
    request: AuthenticatedRequest

    @property
    def scope_action(self) -> str:
        if getattr(self, "action", None) == "checkin_token":
            return "change"
        request = getattr(self, "request", None)
        if getattr(self, "action", None) == "attendance" and request is not None and request.method == "POST":
            return "change"
        return super().scope_action

    def get_queryset(self) -> QuerySet[Activity]:
        return activity_list(user=self.request.user, action=self.scope_action)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        activities = list(page) if page is not None else list(queryset)
        context = {
            **self.get_serializer_context(),
            "attendance_counts": activity_attendance_counts(
                user=request.user, activity_ids=[a.pk for a in activities]
            ),
        }
        data = ActivitySerializer(activities, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = activity_record(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        activity: Activity = serializer.instance  # type: ignore[assignment]
        serializer.instance = activity_update(
            actor=self.request.user, activity=activity, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance: Activity) -> None:
        activity_delete(actor=self.request.user, activity=instance)

    def _sheet(self, activity: Activity, changed: int | None = None) -> dict[str, Any]:
        rows = list(attendance_list(user=self.request.user, activity=activity))
        counts = activity_attendance_counts(user=self.request.user, activity_ids=[activity.pk])[activity.pk]
        sheet: dict[str, Any] = {
            "activity": activity.pk,
            "count": len(rows),
            "summary": counts.as_dict(),
            "quorum": activity_quorum(user=self.request.user, activity=activity)
            if activity.activity_type == ActivityType.BRANCH_ASSEMBLY
            else None,
            "results": AttendanceRowSerializer(rows, many=True).data,
        }
        if changed is not None:
            sheet["changed"] = changed
        return sheet

    @extend_schema(
        methods=["GET"],
        summary="出勤名单",
        description="应到名单及列席人员的出勤情况（不分页）；支部党员大会同时给出是否达到法定人数。",
        responses={200: AttendanceSheetSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="登记出勤",
        description="按名单登记出勤，可重复提交：已是该状态的不再改变。任何一名党员不在本活动名单中"
        "或不在调用者管理范围内时整批拒绝（400），不写入任何数据。需要修改权限。",
        request=AttendanceMarkSerializer,
        responses={200: AttendanceSheetSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["get", "post"], url_path="attendance")
    def attendance(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        activity = self.get_object()
        changed = None
        if request.method == "POST":
            serializer = AttendanceMarkSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            result = attendance_mark(
                actor=request.user,
                activity=activity,
                records=serializer.validated_data["records"],
                method=AttendanceMethod.API,
            )
            changed = len(result.changed)
        return Response(self._sheet(activity, changed))

    @extend_schema(
        summary="签到二维码令牌",
        description="当前的签到令牌，每30秒更换；扫码得到的令牌在换码后30秒内仍然有效。需要该活动的修改权限。",
        responses={200: CheckinTokenSerializer},
    )
    @action(detail=True, methods=["get"], url_path="checkin-token")
    def checkin_token(self, request: Request, pk: Any = None) -> Response:
        token, expires_in = checkin_token(self.get_object())
        return Response({"token": token, "expires_in": expires_in})


class CheckinView(APIView):
    """A member checks themself in by the token of a scanned QR code."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["学习活动"],
        summary="扫码签到",
        description="党员用本人账号提交扫码得到的令牌完成签到；开始15分钟后签到记为迟到。"
        "令牌伪造、过期、不在签到时间内或本人不在名单中时返回400。重复签到不改变结果。",
        request=CheckinSerializer,
        responses={200: CheckinResultSerializer, 400: BAD_INPUT},
    )
    def post(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        at = scan_time(request)
        serializer = CheckinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = checkin_with_token(user=request.user, token=serializer.validated_data["token"], at=at)
        return Response(CheckinResultSerializer(row).data)
