"""API of publication (公示), objections (异议) and the veto (一票否决). Reads start from the
selectors (scope and, for a 党员, their own rows); an object outside them is 404 — an objection on
another member's line included."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import can, has_action
from partyedu.organizations.models import Organization
from partyedu.points import selectors, services
from partyedu.points import selectors_publication as pubs
from partyedu.points.models import PointsObjection, PointsPublication, PointsVeto

from .serializers_publication import (
    AnswerInSerializer,
    LiftInSerializer,
    ObjectionInSerializer,
    ObjectionSerializer,
    PublicationDetailSerializer,
    PublicationInSerializer,
    PublicationSerializer,
    VetoInSerializer,
    VetoSerializer,
    WithdrawInSerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
TAG = "积分"
APP = "points"


def _validation(exc: DjangoValidationError) -> serializers.ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


class PointsActionPermission(IsAuthenticated):
    """The points right the view's action needs (``action_rights``), held somewhere (else 403): a
    党员 reads and objects with ``points.view`` over themself; managing needs ``points.change``."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        needed = getattr(view, "action_rights", {}).get(getattr(view, "action", None), "view")
        return has_action(request.user, needed, APP)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="积分公示列表",
        description="管理范围内组织发布的积分公示；党员：向本人公示的。",
        responses={200: PublicationSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="积分公示详情",
        description="公示时的名单（按姓名排列），每人公示时的分值及现在的分值（corrected：已更正）；"
        "一票否决的合计为0并注明理由；开启支部内排名的党支部附名次。",
        responses={200: PublicationDetailSerializer, 404: NOT_FOUND},
    ),
)
class PublicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = PointsPublication
    serializer_class = PublicationSerializer
    permission_classes = [PointsActionPermission]
    action_rights = {"create": "change", "withdraw": "change"}

    def get_queryset(self) -> QuerySet[PointsPublication]:
        return pubs.publication_list(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        publication = pubs.publication_get(user=request.user, pk=kwargs.get("pk"))
        page = pubs.publication_page(user=request.user, publication=publication)
        return Response(PublicationDetailSerializer(page).data)

    @extend_schema(
        summary="发布积分公示",
        description="党支部（党总支）向本组织党员公示上半年（h1）或全年（year）积分，自今日起公示 days 天（1–30，默认7）。"
        "公示时的分值固定保存。同一组织、年度、范围的公示正在进行时重复发布返回400。",
        request=PublicationInSerializer,
        responses={201: PublicationSerializer, 400: BAD_INPUT},
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        data_in = PublicationInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
        if organization is None or not can(request.user, "change", organization, app_label=APP):
            raise serializers.ValidationError({"organization": ["所选组织不存在或不在您的权限范围内"]})
        try:
            publication = services.publication_create(
                actor=request.user,
                organization=organization,
                year=data["year"],
                period=data["period"],
                days=data["days"],
                note=data.get("note") or "",
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(PublicationSerializer(publication).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="撤回积分公示",
        request=WithdrawInSerializer,
        responses={200: PublicationSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        publication = pubs.publication_for_change(user=request.user, pk=pk)
        data_in = WithdrawInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            publication = services.publication_withdraw(
                actor=request.user, publication=publication, reason=data_in.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(PublicationSerializer(publication).data)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="积分异议列表", description="书记：管理范围内公示的异议（待答复在前）；党员：本人的。"
    ),
    retrieve=extend_schema(summary="积分异议详情", responses={200: ObjectionSerializer, 404: NOT_FOUND}),
)
class ObjectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = PointsObjection
    serializer_class = ObjectionSerializer
    permission_classes = [PointsActionPermission]
    action_rights = {"answer": "change"}

    def get_queryset(self) -> QuerySet[PointsObjection]:
        return pubs.objection_list(user=self.request.user)

    @extend_schema(
        summary="提出积分异议",
        description="党员在公示期内对本人的一条积分记录（entry）或漏记的项目（item 必填）提出异议，理由必填（最多500字）。"
        "对他人的积分记录提出异议返回404。",
        request=ObjectionInSerializer,
        responses={201: ObjectionSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        data_in = ObjectionInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        publication = pubs.publication_get(user=request.user, pk=data["publication"])
        member = pubs.own_member_in(user=request.user, publication=publication)
        try:
            objection = services.objection_raise(
                actor=request.user,
                publication=publication,
                member=member,
                item=data["item"],
                reason=data["reason"],
                entry=data.get("entry"),
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="答复积分异议",
        description="书记答复：upheld（异议成立）追加一条更正积分记录（points，正数加分、负数减分），答复作为说明；"
        "rejected（不成立）须写明理由，党员本人可见。均记入审计日志并通知党员。",
        request=AnswerInSerializer,
        responses={200: ObjectionSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        objection = pubs.objection_get(user=request.user, pk=pk, action="change")
        data_in = AnswerInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            objection = services.objection_answer(
                actor=request.user,
                objection=objection,
                decision=data["decision"],
                answer=data["answer"],
                points=data.get("points"),
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(ObjectionSerializer(objection).data)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="一票否决记录", description="管理范围内党员的一票否决记录；党员：本人的。"),
    retrieve=extend_schema(summary="一票否决详情", responses={200: VetoSerializer, 404: NOT_FOUND}),
)
class VetoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = PointsVeto
    serializer_class = VetoSerializer
    permission_classes = [PointsActionPermission]
    action_rights = {"create": "change", "lift": "change"}

    def get_queryset(self) -> QuerySet[PointsVeto]:
        return pubs.veto_list(user=self.request.user)

    @extend_schema(
        summary="一票否决",
        description="对党员某年度作出一票否决（discipline 违纪、crime 违法、other 其他），理由必填："
        "该年度合计计为0，积分记录保持不变。同一党员同一年度已有未撤销的否决时返回400。",
        request=VetoInSerializer,
        responses={201: VetoSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        data_in = VetoInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        member = selectors.member_get(user=request.user, pk=data["member"], action="change")
        try:
            veto = services.veto_record(
                actor=request.user,
                member=member,
                year=data["year"],
                category=data["category"],
                reason=data["reason"],
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(VetoSerializer(veto).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="撤销一票否决",
        request=LiftInSerializer,
        responses={200: VetoSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def lift(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        veto = pubs.veto_get(user=request.user, pk=pk, action="change")
        data_in = LiftInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            veto = services.veto_lift(actor=request.user, veto=veto, reason=data_in.validated_data["reason"])
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(VetoSerializer(veto).data)
