"""``/api/v1/service/pledges/``, ``/api/v1/service/bookings/``, ``/api/v1/service/centres/`` and
``/api/v1/organizations/{id}/service-summary/``: the community area for the mobile app and other
systems.

Who may call what: GET needs ``service.view`` somewhere and POST ``service.add`` (else 403, as
every scoped endpoint); a row outside the caller's reach is 404 (the selectors: scope, the
confirmers of a pledge, the managers of a centre); the finer rights — completing a pledge
(the pledger), confirming it (the level above or the benefiting community), deciding a booking
(the centre) — are the services' and answer 403."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import can
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.service import selectors_community as selectors
from partyedu.service.choices import PledgeStatus
from partyedu.service.models import Booking, Centre, Pledge
from partyedu.service.selectors_summary import service_summary, summary_organization
from partyedu.service.services import community as services

from .serializers_community import (
    BookingCancelInSerializer,
    BookingDecideInSerializer,
    BookingInSerializer,
    BookingOutSerializer,
    CentreOutSerializer,
    DayQuerySerializer,
    PledgeCompleteInSerializer,
    PledgeInSerializer,
    PledgeOutSerializer,
    PledgeProgressInSerializer,
    ServiceSummarySerializer,
    TakenSlotSerializer,
    YearQuerySerializer,
)

APP = "service"
TAG = "服务与关怀"
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误（按字段列出）")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
NO_RIGHT = OpenApiResponse(ErrorSerializer, description="无权执行此操作")
NOT_IN_SCOPE = "所选组织不存在或不在您的权限范围内"
YEAR_PARAMETER = OpenApiParameter(
    "year", {"type": "integer", "minimum": 2000, "maximum": 2100}, description="年度，默认本年度"
)


def _year(request: Request) -> int:
    query = YearQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return int(query.validated_data.get("year") or timezone.localdate().year)


class _ServiceViewSet(ScopedViewSet):
    scope_model: ClassVar[type[Model]]
    scope_app_label = APP


# --- pledges --------------------------------------------------------------------------------------------


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="为群众办实事列表",
        description="调用者管理范围内组织和党员承诺的实事、待其确认的实事（上级党组织、受益社区），以及本人的承诺。"
        "可按 year（承诺完成年度）和 status 筛选。",
        parameters=[
            YEAR_PARAMETER,
            OpenApiParameter(
                "status", {"type": "string", "enum": list(PledgeStatus.values)}, description="状态"
            ),
        ],
        responses={200: PledgeOutSerializer(many=True), 400: BAD_INPUT},
    ),
    retrieve=extend_schema(summary="实事详情", responses={200: PledgeOutSerializer, 404: NOT_FOUND}),
)
class PledgeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ServiceViewSet):
    scope_model = Pledge
    serializer_class = PledgeOutSerializer

    def get_queryset(self) -> QuerySet[Pledge]:
        filters = selectors.PledgeFilters()
        if getattr(self, "action", None) == "list":
            raw = self.request.query_params.get("year")
            status_ = str(self.request.query_params.get("status") or "")
            if status_ and status_ not in PledgeStatus.values:
                raise serializers.ValidationError({"status": [f"状态须为：{'、'.join(PledgeStatus.values)}"]})
            filters = selectors.PledgeFilters(year=_year(self.request) if raw else None, status=status_)
        return selectors.pledge_list(user=self.request.user, filters=filters).order_by("id")

    def get_object(self) -> Pledge:
        return selectors.pledge_get(user=self.request.user, pk=self.kwargs.get("pk"))

    def _body(self, pledge: Pledge, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.pledge_get(user=self.request.user, pk=pledge.pk)
        return Response(PledgeOutSerializer(fresh).data, status=code)

    @extend_schema(
        summary="登记为群众办实事",
        description="组织承诺传 organization（须在调用者 add 权限范围内），党员承诺传 member（本人，或管理范围内的党员），"
        "二者选一；title 实事内容，due 承诺完成时间（不早于今年），beneficiary 服务对象，community 受益社区（可选：本单位"
        "共驻共建的社区、本人报到的社区或管理范围内的社区；该社区也可确认办结）。",
        request=PledgeInSerializer,
        responses={201: PledgeOutSerializer, 400: BAD_INPUT},
    )
    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = PledgeInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        organization = member = None
        if data.get("member") is not None:
            member = Member.objects.filter(pk=data["member"]).first()
            if member is None:
                raise serializers.ValidationError({"member": ["党员不存在或不在您的权限范围内"]})
        else:
            organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
            if organization is None or not can(request.user, "add", organization, app_label=APP):
                raise serializers.ValidationError({"organization": [NOT_IN_SCOPE]})
        pledge = services.pledge_create(
            actor=request.user,
            organization=organization,
            member=member,
            title=data["title"],
            beneficiary=data.get("beneficiary") or "",
            community=data.get("community"),
            due=data["due"],
        )
        return self._body(pledge, status.HTTP_201_CREATED)

    @extend_schema(
        summary="办结实事",
        description="承诺方（组织的书记或上级；党员本人）写明办结说明 note，可附照片（multipart，最多3张）。"
        "已办结的实事再次办结：400。办结后等待上级党组织或受益社区确认。",
        request=PledgeCompleteInSerializer,
        responses={200: PledgeOutSerializer, 400: BAD_INPUT, 403: NO_RIGHT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="complete")
    def complete(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        pledge = self.get_object()
        data_in = PledgeCompleteInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        photos = list(data.get("photos") or [])
        services.pledge_complete(
            actor=request.user,
            pledge=pledge,
            note=data["note"],
            photos=photos,
            completed_on=data.get("completed_on"),
        )
        return self._body(pledge)

    @extend_schema(
        summary="记录实事进展",
        description="办理中的实事，承诺方追加一条带日期的进展。",
        request=PledgeProgressInSerializer,
        responses={200: PledgeOutSerializer, 400: BAD_INPUT, 403: NO_RIGHT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="progress")
    def progress(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        pledge = self.get_object()
        data_in = PledgeProgressInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        services.pledge_progress(actor=request.user, pledge=pledge, note=data_in.validated_data["note"])
        return self._body(pledge)

    @extend_schema(
        summary="确认实事办结",
        description="组织承诺由其上级党组织确认，党员承诺由党员所在党组织确认；指定了受益社区的，该社区党组织也可确认。",
        request=None,
        responses={200: PledgeOutSerializer, 400: BAD_INPUT, 403: NO_RIGHT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="confirm")
    def confirm(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        pledge = self.get_object()
        services.pledge_confirm(actor=request.user, pledge=pledge)
        return self._body(pledge)


# --- bookings -------------------------------------------------------------------------------------------


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="场地预约列表",
        description="调用者管理范围内各单位的预约，以及其管理的服务中心收到的预约。",
        responses={200: BookingOutSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="场地预约详情", responses={200: BookingOutSerializer, 404: NOT_FOUND}),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ServiceViewSet):
    scope_model = Booking
    serializer_class = BookingOutSerializer

    def get_queryset(self) -> QuerySet[Booking]:
        return selectors.booking_list(user=self.request.user).order_by("-start", "-id")

    def get_object(self) -> Booking:
        return selectors.booking_get(user=self.request.user, pk=self.kwargs.get("pk"))

    def _body(self, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.booking_get(user=self.request.user, pk=booking.pk)
        return Response(BookingOutSerializer(fresh).data, status=code)

    @extend_schema(
        summary="预约活动室",
        description="单位（organization，须在调用者 add 权限范围内）预约某服务中心的活动室 room，一个时段须在同一天内。"
        "与已被预约（待审核或已确认）的时段重叠：400，start 下写明冲突的预约单位和时间；人数超过容纳人数：400（attendees）；"
        "结束不晚于开始：400（end）。中心要求审核的为待审核，否则直接确认。",
        request=BookingInSerializer,
        responses={201: BookingOutSerializer, 400: BAD_INPUT},
    )
    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        from django.http import Http404

        data_in = BookingInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
        if organization is None or not can(request.user, "add", organization, app_label=APP):
            raise serializers.ValidationError({"organization": [NOT_IN_SCOPE]})
        try:
            room = selectors.room_get(user=request.user, pk=data["room"])
        except Http404:
            raise serializers.ValidationError({"room": ["活动室不存在或未开放"]}) from None
        booking = services.booking_create(
            actor=request.user,
            room=room,
            organization=organization,
            start=data["start"],
            end=data["end"],
            attendees=data["attendees"],
            purpose=data["purpose"],
        )
        return self._body(booking, status.HTTP_201_CREATED)

    @extend_schema(
        summary="审核预约",
        description="服务中心的管理组织通过或不通过（须写明 reason）待审核的预约。",
        request=BookingDecideInSerializer,
        responses={200: BookingOutSerializer, 400: BAD_INPUT, 403: NO_RIGHT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="decide")
    def decide(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        booking = self.get_object()
        data_in = BookingDecideInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        services.booking_decide(
            actor=request.user, booking=booking, approve=data["approve"], reason=data["reason"]
        )
        return self._body(booking)

    @extend_schema(
        summary="取消预约",
        description="预约单位或服务中心取消待审核或已确认的预约，时段随即空出。",
        request=BookingCancelInSerializer,
        responses={200: BookingOutSerializer, 400: BAD_INPUT, 403: NO_RIGHT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        booking = self.get_object()
        data_in = BookingCancelInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        services.booking_cancel(actor=request.user, booking=booking, reason=data_in.validated_data["reason"])
        return self._body(booking)


# --- centres --------------------------------------------------------------------------------------------


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="党群服务中心",
        description="可预约的服务中心及其开放的活动室（对能为单位预约的用户公开），以及调用者管理的服务中心。",
        responses={200: CentreOutSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="服务中心详情", responses={200: CentreOutSerializer, 404: NOT_FOUND}),
)
class CentreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ServiceViewSet):
    scope_model = Centre
    serializer_class = CentreOutSerializer

    def get_queryset(self) -> QuerySet[Centre]:
        return selectors.centre_list(user=self.request.user).prefetch_related("rooms").order_by("id")

    def get_object(self) -> Centre:
        return selectors.centre_get(user=self.request.user, pk=self.kwargs.get("pk"))

    @extend_schema(
        summary="某日已被预约的时段",
        description="服务中心各开放活动室在 day（默认今天）已被预约（待审核或已确认）的时段和预约单位，不含用途。",
        parameters=[
            OpenApiParameter("day", {"type": "string", "format": "date"}, description="日期，默认今天")
        ],
        responses={200: TakenSlotSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="slots", pagination_class=None)
    def slots(self, request: Request, pk: str | None = None) -> Response:
        centre = self.get_object()
        query = DayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("day") or timezone.localdate()
        out = []
        for room in centre.rooms.filter(is_active=True).order_by("name", "id"):
            for slot in selectors.room_day(user=request.user, room=room, day=day):
                out.append(
                    {
                        "room": room.pk,
                        "start": slot.start,
                        "end": slot.end,
                        "unit": slot.unit,
                        "status": slot.status,
                    }
                )
        return Response(TakenSlotSerializer(out, many=True).data)


# --- the service summary --------------------------------------------------------------------------------


@extend_schema(tags=["党组织"])
class OrganizationServiceViewSet(_ServiceViewSet):
    """The organisation is looked up in the caller's ``service.view`` scope (else 404)."""

    scope_model = Organization

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.restrict(self.request.user, "view", app_label=APP)

    @extend_schema(
        summary="服务工作统计",
        description="本组织及全部下级在某年度的双报到、服务、为群众办实事和联户解难数字：units_registered/units_total "
        "（应报到单位为机关、事业单位、国有企业的党组织，党小组除外；年度内有共驻共建协议在效即为已报到），"
        "members_registered/members_expected（在册的在职预备党员和正式党员；年度内有报到在效），services/service_hours "
        "（社区确认的服务记录和志愿服务活动参加人次及时长），pledges_planned/pledges_done（年度内承诺完成的实事及其中已办结的）。",
        parameters=[YEAR_PARAMETER],
        responses={200: ServiceSummarySerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="service-summary")
    def service_summary(self, request: Request, pk: str | None = None) -> Response:
        from django.http import Http404

        year = _year(request)
        organization = summary_organization(user=request.user, pk=pk)
        if organization is None:
            raise Http404("党组织不存在或不在您的权限范围内")
        figures = service_summary(user=request.user, organization=organization, year=year)
        return Response(
            ServiceSummarySerializer({"organization": organization.pk, "year": year, **figures}).data
        )


router = SimpleRouter()
router.register("service/pledges", PledgeViewSet, basename="service-pledge")
router.register("service/bookings", BookingViewSet, basename="service-booking")
router.register("service/centres", CentreViewSet, basename="service-centre")
router.register("organizations", OrganizationServiceViewSet, basename="organization")
