"""``/api/v1/service/registrations/`` and ``/api/v1/service/records/``: 双报到 and service records
for the mobile app and other systems.

Who may call what: a 党员 lists and adds their own registrations and records (``service.view`` /
``service.add`` over themself; ``member`` left out means the caller's own record); a secretary
those of the members in their subtree. A member out of the caller's reach is not found (404).
The community side confirms or rejects the records of members registered with a community in
its ``service.change`` scope (a record with no community in the tree: the member's organisation);
anyone else is refused (403) or does not find the record (404)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.scope import has_action

from .. import selectors_registration as selectors
from ..models import Registration, ServiceRecord
from ..services import registration as services
from .serializers_registration import (
    RecordInSerializer,
    RecordOutSerializer,
    RegistrationInSerializer,
    RegistrationOutSerializer,
    RejectInSerializer,
)

APP = "service"
TAG = "双报到与志愿服务"
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
ACTIONS = {"list": "view", "create": "add", "confirm": "change", "reject": "change"}


class ServiceActionPermission(IsAuthenticated):
    """The caller holds the action's ``service`` right somewhere (else 403)."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        name = getattr(view, "action", None) or ""
        return name in ACTIONS and has_action(request.user, ACTIONS[name], APP)


def _member_arg(request: AuthenticatedRequest, value: int | None) -> Any:
    """The member given, or the caller's own record when none was given."""
    if value is not None:
        return value
    own = selectors.my_member(user=request.user)
    if own is None:
        raise ValidationError({"member": "请指明党员（您的账号没有关联党员档案）"})
    return own.pk


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="社区报到列表",
        description="调用者可见的在职党员社区报到（党员本人：本人的；书记：本组织及下级党员的），含已结束的。",
        responses={200: RegistrationOutSerializer(many=True)},
    ),
    create=extend_schema(
        summary="在职党员社区报到",
        description='在职党员到居住地社区报到（本人或书记代办）：community 为社区党组织编号，或 {"name": "社区名称"}'
        "（不在本系统中的社区）；填写服务岗位 post 或认领本单位共驻共建项目 agreement_item。离退休党员不属于在职党员，"
        "返回400并指明 member。每名党员同时只有一个有效报到；已有报到时须传 replace=true 变更（原报到同时结束）。"
        "为其他党员报到而无权：404。",
        request=RegistrationInSerializer,
        responses={201: RegistrationOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    ),
)
class RegistrationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ServiceActionPermission]
    serializer_class = RegistrationOutSerializer

    def get_queryset(self) -> QuerySet[Registration]:
        return (
            Registration.objects.restrict(self.request.user, "view")
            .select_related("member", "community")
            .order_by("-registered_on", "-id")
        )

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = RegistrationInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        community_id, community_name = data.get("community") or (None, "")
        registration = services.registration_create(
            actor=request.user,
            member=_member_arg(request, data.get("member")),
            community=community_id,
            community_name=community_name,
            post=data.get("post") or "",
            agreement_item=data.get("agreement_item"),
            registered_on=data.get("registered_on"),
            replace=bool(data.get("replace")),
        )
        registration = Registration.objects.select_related("member", "community").get(pk=registration.pk)
        return Response(RegistrationOutSerializer(registration).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="服务记录列表",
        description="调用者可见的服务记录（党员本人：本人的；书记：本组织及下级党员的），新的在前。",
        responses={200: RecordOutSerializer(many=True)},
    ),
    create=extend_schema(
        summary="登记服务记录",
        description="党员（本人或书记代办）登记一次服务：date 不能晚于今天；hours 以半小时计，同一党员同一天的服务记录"
        "（未确认的除外）合计不超过24小时，否则400并指明 hours。登记后等待报到社区确认。",
        request=RecordInSerializer,
        responses={201: RecordOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    ),
)
class RecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ServiceActionPermission]
    serializer_class = RecordOutSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[ServiceRecord]:
        if getattr(self, "action", None) in ("confirm", "reject"):
            return selectors.records_to_confirm(user=self.request.user, status="")
        return (
            ServiceRecord.objects.restrict(self.request.user, "view")
            .select_related("member")
            .order_by("-date", "-id")
        )

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = RecordInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        record = services.service_record_create(
            actor=request.user,
            member=_member_arg(request, data.get("member")),
            date=data["date"],
            hours=data["hours"],
            kind=data["kind"],
            description=data.get("description") or "",
            registration=data.get("registration"),
        )
        return Response(RecordOutSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="社区确认服务记录",
        description="报到社区（对该社区有服务管理权限的用户；报到社区不在本系统中或未报到的，由党员所在党组织）确认服务记录，"
        "确认后计入服务时长（积分方案设有“志愿服务时长”项目的，同时计入积分）。重复确认不产生变化。",
        request=None,
        responses={200: RecordOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="confirm")
    def confirm(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        record = services.service_record_confirm(actor=request.user, record=self.get_object())
        return Response(RecordOutSerializer(record).data)

    @extend_schema(
        summary="社区不予确认服务记录",
        description="写明原因（reason）不予确认；已确认的记录不予确认后，其服务时长和积分随之扣除。",
        request=RejectInSerializer,
        responses={200: RecordOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="reject")
    def reject(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        record = self.get_object()
        data_in = RejectInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        record = services.service_record_reject(
            actor=request.user, record=record, reason=data_in.validated_data["reason"]
        )
        return Response(RecordOutSerializer(record).data)
