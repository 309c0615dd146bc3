"""The care area's API:

- ``/service/talks/``: the talks the caller sees (their organisations' and their own) and recording
  one — a secretary for the branch, a member a talk they took part in. The private ``note`` is in
  an answer only for the two people and the branch committee (``service.care`` over the talk's
  organisation);
- ``/organizations/{id}/talk-coverage/?year=``: the year's pairs required and held, and the members
  not yet talked with (``service.view`` over the organisation);
- ``/service/care-visits/`` (with ``/{id}/approve/`` and ``/{id}/reject/``) and ``/organizations/{id}/care-totals/``:
  care visits and aid and their totals, for ``service.care`` only; notes of care records are never
  in an answer, and each list read is audited as a view of personal data."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import can, has_action
from partyedu.organizations.models import Organization
from partyedu.service import selectors_care as selectors
from partyedu.service.models import CareVisit, Talk
from partyedu.service.services import care as services

from .serializers_care import (
    CareTotalsSerializer,
    CareVisitInSerializer,
    CareVisitOutSerializer,
    CareVisitQuerySerializer,
    CareVisitRejectInSerializer,
    CoverageQuerySerializer,
    TalkCoverageSerializer,
    TalkInSerializer,
    TalkOutSerializer,
)

APP = "service"
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
OUT_OF_SCOPE = "所选组织不存在或不在您的权限范围内"


def talk_data(user: Any, talk: Talk) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": talk.pk,
        "organization": {"id": talk.organization_id, "name": talk.organization.name},
        "parties": [{"id": p.pk, "name": p.name} for p in (talk.party_a, talk.party_b)],
        "date": talk.date,
        "kind": talk.kind,
        "kind_display": talk.get_kind_display(),
    }
    if selectors.talk_note_visible(user=user, talk=talk):
        data["note"] = talk.note
    return data


class TalkPermission(IsAuthenticated):
    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, "add" if request.method == "POST" else "view", APP)


@extend_schema(tags=["服务与关怀"])
@extend_schema_view(
    list=extend_schema(
        summary="谈心谈话列表",
        description="调用者管理范围内党组织的谈心谈话，以及本人参加的谈心谈话，按日期从近到远。"
        "谈话要点 note 只返回给谈话双方和持关怀帮扶权限的支部委员会成员。",
        responses={200: TalkOutSerializer(many=True)},
    ),
    create=extend_schema(
        summary="登记谈心谈话",
        description="支部书记（党务工作者）登记本支部的谈话；党员登记本人参加的谈话。parties 为两名党员，须是该党支部"
        "（含所属党小组）在册的党员，不能是同一人；日期不能晚于今天；同两人同一天的谈话只登记一次。",
        request=TalkInSerializer,
        responses={201: TalkOutSerializer, 400: BAD_INPUT},
    ),
)
class TalkViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [TalkPermission]
    serializer_class = TalkOutSerializer

    def get_queryset(self) -> QuerySet[Talk]:
        return selectors.talk_list(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [talk_data(request.user, t) for t in (page or [])]
        return self.get_paginated_response(TalkOutSerializer(rows, many=True).data)

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = TalkInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        user = request.user
        organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
        own = selectors.own_member(user=user)
        allowed = organization is not None and (
            can(user, "add", organization, app_label=APP)
            or (own is not None and own.org_path.startswith(organization.path))
        )
        if organization is None or not allowed:
            raise serializers.ValidationError({"organization": [OUT_OF_SCOPE]})
        talk = services.talk_record(
            actor=user,
            organization=organization,
            parties=data["parties"],
            date=data["date"],
            kind=data["kind"],
            note=data.get("note") or "",
        )
        return Response(TalkOutSerializer(talk_data(user, talk)).data, status=status.HTTP_201_CREATED)


class OrganizationCarePermission(IsAuthenticated):
    """``talk-coverage``: ``service.view`` somewhere; ``care-totals``: ``service.care`` somewhere."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, "care" if view.action == "care_totals" else "view", APP)


@extend_schema(tags=["党组织"])
class OrganizationCareViewSet(ScopedViewSet):
    """The care area's figures on the organisations' address; the organisation is found in the
    caller's service scope for the figure (404 outside it)."""

    scope_model = Organization
    scope_app_label = APP
    permission_classes = [OrganizationCarePermission]

    def get_queryset(self) -> QuerySet[Organization]:
        scope = "care" if getattr(self, "action", None) == "care_totals" else "view"
        return Organization.objects.restrict(self.request.user, scope, app_label=APP)

    @extend_schema(
        summary="谈心谈话覆盖情况",
        description="本组织（含下级）各党支部某年度谈心谈话的应谈对数、已谈对数和尚未谈话的党员。应谈对数默认为支部委员会"
        "成员（书记、支部委员）两两之间、委员与每名党员之间；党支部设置统计党员与党员之间时另加党员两两之间。"
        "同两人一年内谈过一次即为已谈。不在调用者范围内的组织返回404。",
        parameters=[CoverageQuerySerializer],
        responses={200: TalkCoverageSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="talk-coverage")
    def talk_coverage(self, request: Request, pk: str | None = None) -> Response:
        organization = self.get_object()
        query = CoverageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        coverage = selectors.talk_coverage(user=request.user, organization=organization, year=year)
        not_talked = coverage.not_talked
        data = {
            "organization": {"id": organization.pk, "name": organization.name},
            "year": year,
            "pairs_required": coverage.pairs_required,
            "pairs_held": coverage.pairs_held,
            "members_total": coverage.members_total,
            "members_not_talked": [
                {"id": m.id, "name": m.name} for m in not_talked[: selectors.NOT_TALKED_LIST_MAX]
            ],
            "members_not_talked_count": len(not_talked),
            "branches": [
                {
                    "organization": {"id": u.organization.pk, "name": u.organization.name},
                    "member_pairs": u.member_pairs,
                    "members": len(u.members),
                    "pairs_required": u.pairs_required,
                    "pairs_held": u.pairs_held,
                    "members_not_talked": len(u.not_talked),
                }
                for u in coverage.units
            ],
        }
        return Response(TalkCoverageSerializer(data).data)

    @extend_schema(
        summary="关怀帮扶统计",
        description="本组织（含下级）某年度的走访慰问人次、关怀党员人数、发放帮扶人次和金额（按资金来源），合计及按直属下级组织；"
        "超过审批线尚未经上级审批的不计入，另列 pending。须有关怀帮扶权限。",
        parameters=[CoverageQuerySerializer],
        responses={200: CareTotalsSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="care-totals")
    def care_totals(self, request: Request, pk: str | None = None) -> Response:
        organization = self.get_object()
        query = CoverageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        totals = selectors.care_totals(user=request.user, organization=organization, year=year)
        data = {
            "organization": {"id": organization.pk, "name": organization.name},
            "year": year,
            "visits": totals.total.visits,
            "people": totals.total.people,
            "payments": totals.total.payments,
            "amount": totals.total.amount,
            "by_source": totals.total.by_source,
            "pending": totals.pending,
            "pending_amount": totals.pending_amount,
            "children": [
                {
                    "organization": {"id": r.organization.pk, "name": r.organization.name}
                    if r.organization
                    else None,
                    "visits": r.visits,
                    "people": r.people,
                    "payments": r.payments,
                    "amount": r.amount,
                    "by_source": r.by_source,
                }
                for r in totals.rows
            ],
        }
        return Response(CareTotalsSerializer(data).data)


def visit_data(visit: CareVisit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "member": {"id": visit.member_id, "name": visit.member.name},
        "organization": {"id": visit.member.organization_id, "name": visit.member.organization.name},
        "date": visit.date,
        "occasion": visit.occasion,
        "visitors": visit.visitors,
        "aid_kind": visit.aid_kind,
        "amount": visit.amount,
        "fund_source": visit.fund_source,
        "needs_approval": visit.needs_approval,
        "approved": visit.approved_at is not None,
        "rejected": visit.rejected_at is not None,
        "rejection_reason": visit.rejection_reason,
        "counted": not visit.needs_approval or visit.approved_at is not None,
    }


class CarePermission(IsAuthenticated):
    message = "关怀帮扶记录须有关怀帮扶权限"

    def has_permission(self, request: Any, view: Any) -> bool:
        return super().has_permission(request, view) and has_action(request.user, "care", APP)


@extend_schema(tags=["服务与关怀"])
@extend_schema_view(
    list=extend_schema(
        summary="关怀走访列表",
        description="调用者关怀帮扶权限范围内的走访慰问和帮扶记录（不含情况说明），按日期从近到远；每次查询记入审计日志。",
        parameters=[CareVisitQuerySerializer],
        responses={200: CareVisitOutSerializer(many=True), 400: BAD_INPUT},
    ),
    create=extend_schema(
        summary="登记关怀走访",
        description="登记走访慰问或帮扶。有金额的须写明资金来源；单次金额超过该组织适用的审批线（默认500元）的，"
        "登记为待上级党组织审批（needs_approval），审批前不计入发放总数。",
        request=CareVisitInSerializer,
        responses={201: CareVisitOutSerializer, 400: BAD_INPUT},
    ),
)
class CareVisitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [CarePermission]
    serializer_class = CareVisitOutSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[CareVisit]:
        return selectors.care_visit_list(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = CareVisitQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visits = selectors.care_visit_list(
            user=request.user,
            year=query.validated_data.get("year"),
            pending_only=query.validated_data["pending"],
        )
        page = self.paginate_queryset(visits) or []
        audit_record(
            actor=request.user,
            action=AuditAction.VIEW_PII,
            object_type=CareVisit._meta.label_lower,
            message=f"接口查看关怀走访记录（{len(page)}条）",
        )
        return self.get_paginated_response(
            CareVisitOutSerializer([visit_data(v) for v in page], many=True).data
        )

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = CareVisitInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        member = selectors.care_member_get(user=request.user, pk=data["member"])
        if member is None:
            raise serializers.ValidationError({"member": ["所选党员不存在或不在您的关怀帮扶权限范围内"]})
        visit = services.care_visit_record(
            actor=request.user,
            member=member,
            date=data["date"],
            aid_kind=data["aid_kind"],
            amount=data["amount"],
            fund_source=data["fund_source"],
            occasion=data["occasion"],
            visitors=data["visitors"],
            note=data["note"],
        )
        return Response(CareVisitOutSerializer(visit_data(visit)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="审批帮扶金额",
        description="超过审批线的帮扶，由上级党组织的组织部门管理员（组织部/工委管理员）审批，审批后计入发放总数。"
        "本级或无权审批：403；未超过审批线或已审批过：400。",
        request=None,
        responses={200: CareVisitOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="approve")
    def approve(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        visit = services.care_visit_approve(actor=request.user, visit=self.get_object())
        visit = selectors.care_visit_get(user=request.user, pk=visit.pk)
        return Response(CareVisitOutSerializer(visit_data(visit)).data)

    @extend_schema(
        summary="不予批准帮扶金额",
        description="超过审批线的帮扶，上级党组织的组织部门管理员（组织部/工委管理员）可不予批准，须填写理由；"
        "不予批准的帮扶不再待审批，也不计入发放总数，之后不能再审批。"
        "本级或无权审批：403；未超过审批线、已审批或已不予批准、未填理由：400。",
        request=CareVisitRejectInSerializer,
        responses={200: CareVisitOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="reject")
    def reject(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        visit = self.get_object()
        data_in = CareVisitRejectInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        visit = services.care_visit_reject(
            actor=request.user, visit=visit, reason=data_in.validated_data["reason"]
        )
        visit = selectors.care_visit_get(user=request.user, pk=visit.pk)
        return Response(CareVisitOutSerializer(visit_data(visit)).data)
