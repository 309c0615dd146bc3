"""``/api/v1/development/cases/``: member development (发展党员) for the mobile app and other systems.

Who may call what: the organisation roles through ``development.<action>`` (list and detail: view;
register an application: add; confirm a step, close, set the people: change). A caller whose roles
grant the action nowhere is refused (403); a case outside the scope of the action is not found
(404). The services check the organisation again, and the steps of the party committee above the
branch (预审, 审批) and every override of a timing rule need an org_admin of a higher level (403).
Every read of a dossier writes an audit row: political review and talk notes are on it."""

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
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import has_action
from partyedu.development import selectors, services
from partyedu.development.models import DevelopmentCase
from partyedu.organizations.selectors import organization_choices

from .filtersets import CaseFilterSet
from .serializers import (
    CaseClosedSerializer,
    CaseCloseInSerializer,
    CaseInSerializer,
    CaseListSerializer,
    CaseOutSerializer,
    CasePeopleInSerializer,
    CasePeopleOutSerializer,
    CaseStepConfirmedSerializer,
    CaseStepInSerializer,
)

APP = "development"
TAG = "发展党员"
BAD_INPUT = OpenApiResponse(
    ErrorSerializer,
    description="提交的数据有误；违反规则时 errors 按字段列出原因，并在 rule 下列出规则代码（如 order、talk_within）",
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="无权办理：上级党委的步骤或破例确认须由上级党组织的组织部门管理员办理"
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")

# The right each action needs (GET view, creating add, every other write change).
ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "steps": "change",
    "close": "change",
    "people": "change",
}


class DevelopmentPermission(IsAuthenticated):
    """The caller's roles grant the view's action on development somewhere (else 403)."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, view.scope_action, APP)


def case_body(*, case: DevelopmentCase) -> dict[str, Any]:
    """The dossier of a case the caller read under scope: its dates, people, steps, what comes
    next and the checklist of papers."""
    steps = selectors.case_steps(case=case)
    return {
        "id": case.pk,
        "organization": case.organization_id,
        "organization_name": case.organization.name,
        "member": case.member_id,
        "name": case.name,
        "gender": case.gender,
        "id_number_masked": case.id_number_masked,
        "stage": case.stage,
        "stage_display": case.get_stage_display(),
        "applied_on": case.applied_on,
        "activist_on": case.activist_on,
        "candidate_on": case.candidate_on,
        "admitted_on": case.admitted_on,
        "probation_end": case.probation_end,
        "full_member_on": case.full_member_on,
        "extension_months": case.extension_months,
        "closed_on": case.closed_on,
        "closed_reason": case.closed_reason,
        "next_due": case.next_due,
        "last_step_on": case.last_step_on,
        "mentors": _people(case.mentors.order_by("name", "pk")),
        "sponsors": _people(case.sponsors.order_by("name", "pk")),
        "steps": steps,
        "next": selectors.case_next(case=case, steps=steps),
        "checklist": [
            {
                "step": item.step,
                "step_display": item.label,
                "confirmed_on": item.confirmed_on,
                "complete": item.complete,
                "documents": [
                    {"kind": k, "kind_display": label, "filed": filed} for k, label, filed in item.documents
                ],
            }
            for item in selectors.case_checklist(case=case, steps=steps)
        ],
    }


def _people(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [{"id": pk, "name": name} for pk, name in qs.values_list("pk", "name")]


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="发展党员列表",
        description="调用者管理范围内的发展党员（从申请入党到转为正式党员），按党组织、申请日期排序。"
        "organization 过滤包含该组织的全部下级，不在范围内的组织返回空列表；year 为申请入党年度；"
        "overdue=true 只看下一步已过期限的。身份证号只给出脱敏值。",
        responses={200: CaseListSerializer(many=True), 400: BAD_INPUT},
    ),
    retrieve=extend_schema(
        summary="发展党员档案",
        description="发展阶段和各阶段日期、培养联系人和入党介绍人、已确认的步骤（日期、确认人、会议及表决情况、"
        "相关人员、情况记录、破例说明）、接下来可确认的步骤（期限 due、最早日期 earliest）和档案材料清单。"
        "含政治审查和谈话情况，每次查看都记入审计日志。",
        responses={200: CaseOutSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="受理入党申请",
        description="党支部登记收到的入党申请：姓名、身份证号和收到申请的日期，登记后处于“申请入党”阶段，"
        "应在1个月内派人谈话。申请人按身份证号的出生日期在申请当日须年满18周岁，否则400（指出 id_number 和 "
        "applied_on，rule 为 min_age）；同一身份证号只能有一条正在办理的记录。",
        request=CaseInSerializer,
        responses={201: CaseOutSerializer, 400: BAD_INPUT},
    ),
)
class DevelopmentCaseViewSet(mixins.ListModelMixin, ScopedViewSet):
    scope_model = DevelopmentCase
    serializer_class = CaseListSerializer
    filterset_class = CaseFilterSet
    permission_classes = [DevelopmentPermission]
    # DevelopmentPermission admits signed-in callers only, so the user may act in a service.
    request: AuthenticatedRequest

    @property
    def scope_action(self) -> str:
        name = getattr(self, "action", None)
        if name in ACTIONS:
            return ACTIONS[name]
        return super().scope_action

    def get_queryset(self) -> QuerySet[DevelopmentCase]:
        return selectors.case_list(user=self.request.user)

    def get_object(self) -> DevelopmentCase:
        return selectors.case_get(user=self.request.user, pk=self.kwargs.get("pk"), action=self.scope_action)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = CaseFilterSet(
            request.query_params, queryset=DevelopmentCase.objects.none(), request=request
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        given = filterset.form.cleaned_data
        filters: dict[str, Any] = {
            "stage": given.get("stage"),
            "year": given.get("year"),
            "q": given.get("q"),
            "overdue": given.get("overdue"),
        }
        queryset: QuerySet[DevelopmentCase]
        if given.get("organization") is not None:
            org = (
                organization_choices(user=request.user, app_label=APP)
                .filter(pk=given["organization"])
                .first()
            )
            filters["organization"] = org
            queryset = (
                selectors.case_list(user=request.user, filters=filters)
                if org
                else DevelopmentCase.objects.none()
            )
        else:
            queryset = selectors.case_list(user=request.user, filters=filters)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CaseListSerializer(page, many=True).data)

    def retrieve(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        body = CaseOutSerializer(case_body(case=case)).data
        audit_record(actor=request.user, action=AuditAction.VIEW_PII, obj=case, message="查看发展党员档案")
        return Response(body)

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = CaseInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = dict(data_in.validated_data)
        organization = (
            organization_choices(user=request.user, action="add", app_label=APP)
            .filter(pk=data["organization"])
            .first()
        )
        if organization is None:
            raise serializers.ValidationError({"organization": ["所选组织不存在或不在您的权限范围内"]})
        case = services.case_create(actor=request.user, data={**data, "organization": organization})
        return Response(CaseOutSerializer(case_body(case=case)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="确认发展步骤",
        description="确认下一个步骤：step 为 talk 谈话、activist 确定入党积极分子、assessment 培养教育考察、"
        "candidate 确定发展对象、training_done 短期集中培训、committee_review 政治审查和支委会审查、"
        "pre_review 上级党委预审、publicity 公示、admission_vote 支部党员大会讨论接收、approval 上级党委审批、"
        "oath 入党宣誓、conversion_vote 支部党员大会讨论转正、conversion_approval 上级党委审批转正。"
        "各步骤所需字段：activist 须 mentors 和 recommendation；candidate 可带 sponsors；committee_review 须 2 名 "
        "sponsors 和 note（政审结论）；publicity 须 start_on；两次支部党员大会须 meeting（本支部支部党员大会的活动，"
        "到会人数取自出勤记录）和 yes_votes；conversion_vote 可带 outcome 与 extension_months。"
        "步骤次序不对、日期早于上一步、人数或表决不符、时限规则未满足时返回400，errors 指出字段并在 rule 下列出规则"
        "代码（order、date_order、talk_within、activist_min_period、assessment_interval、training、publicity、quorum、"
        "vote、approval_within、probation_period、extension_once 等）。时限规则可由上级党组织的组织部门管理员带 "
        "override_reason 破例确认（记入审计日志），其他人带破例说明为403；上级党委的步骤（pre_review、approval、"
        "conversion_approval）也只能由其确认（403）。",
        request=CaseStepInSerializer,
        responses={201: CaseStepConfirmedSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="steps")
    def steps(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        case = self.get_object()
        data_in = CaseStepInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        row = services.step_confirm(actor=request.user, case=case, data=dict(data_in.validated_data))
        row.next_steps = selectors.case_next(case=row.case)  # type: ignore[attr-defined]
        return Response(CaseStepConfirmedSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="终止发展",
        description="申请人、入党积极分子或发展对象终止发展（本人撤回、未被确定、调离等）须写明原因；"
        "已登记为入党积极分子、发展对象的党员档案随之出册。预备党员只能通过讨论转正决定。",
        request=CaseCloseInSerializer,
        responses={200: CaseClosedSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="close")
    def close(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        case = self.get_object()
        data_in = CaseCloseInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            case = services.case_close(
                actor=request.user, case=case, reason=data["reason"], day=data.get("date")
            )
        except DjangoValidationError as exc:
            # The service names the day "day"; the API's field is "date".
            if hasattr(exc, "error_dict") and "day" in exc.error_dict:
                errors = exc.message_dict
                errors["date"] = errors.pop("day")
                raise DjangoValidationError(errors) from None
            raise
        return Response(CaseClosedSerializer(case).data)

    @extend_schema(
        summary="调整培养联系人和入党介绍人",
        description="培养联系人（入党积极分子和发展对象阶段，1至2名）、入党介绍人（发展对象阶段，2名）均须为正式党员；"
        "只传要调整的一项，不传的不变。",
        request=CasePeopleInSerializer,
        responses={200: CasePeopleOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="people")
    def people(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        case = self.get_object()
        data_in = CasePeopleInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        case = services.case_people_set(
            actor=request.user, case=case, mentors=data.get("mentors"), sponsors=data.get("sponsors")
        )
        body = {
            "id": case.pk,
            "mentors": _people(case.mentors.order_by("name", "pk")),
            "sponsors": _people(case.sponsors.order_by("name", "pk")),
        }
        return Response(CasePeopleOutSerializer(body).data)
