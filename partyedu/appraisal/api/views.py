"""``/api/v1/appraisals/``: the democratic appraisal for the mobile app and other systems.

Who may call what: the organisation roles through ``appraisal.<action>`` at the branch (list and
detail: view; create: add; decide, open and close steps: change); a member through their
membership — the detail of an appraisal they take part in and their ballot. A caller with neither
a role nor a member record is refused (403); an appraisal outside both is not found (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.appraisal import selectors, services
from partyedu.appraisal.choices import StepCode
from partyedu.appraisal.models import Appraisal
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.scope import can, has_action
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.models import Organization
from partyedu.study.models import Activity

from .serializers import (
    AppraisalInSerializer,
    AppraisalListSerializer,
    AppraisalOutSerializer,
    BallotInSerializer,
    BallotOutSerializer,
    DecideInSerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在权限范围内")
TAG = "民主评议"
APP = "appraisal"
YEAR_PARAMETER = OpenApiParameter(
    "year", {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX}, description="年度", required=False
)
CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    location=OpenApiParameter.PATH,
    enum=list(StepCode.values),
    description="环节：self 自我评价、peer 党员互评、vote 民主测评投票、decide 支部委员会研究决定、report 上报",
)

# The right each action needs somewhere (else 403); the participant actions need a member record.
ROLE_ACTIONS = {"create": "add", "decide": "change", "step_open": "change", "step_close": "change"}
MEMBER_ACTIONS = frozenset({"list", "retrieve", "votes"})


class AppraisalPermission(IsAuthenticated):
    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        name = getattr(view, "action", None) or ""
        if name in ROLE_ACTIONS:
            return has_action(request.user, ROLE_ACTIONS[name], APP)
        if name in MEMBER_ACTIONS:
            if name != "votes" and has_action(request.user, "view", APP):
                return True
            return selectors.member_of_user(user=request.user) is not None
        return False


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="民主评议列表",
        description="调用者管理范围内各党支部的民主评议党员，以及本人参加的民主评议。",
        parameters=[YEAR_PARAMETER],
        responses={200: AppraisalListSerializer(many=True), 400: BAD_INPUT},
    ),
    retrieve=extend_schema(
        summary="民主评议详情",
        description="环节及计划日期、参评党员（含本年度记录摘要）、投票人数；民主测评投票结束后，支部委员会和上级"
        "可见各等次票数（tallies，之前为 null）、评定等次和优秀超比例理由。参评党员本人只看到环节、参评党员和投票人数，"
        "看不到票数和等次。任何人都看不到某人投了什么票。",
        responses={200: AppraisalOutSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="开展民主评议",
        description="为党支部开展某年度的民主评议党员：五个环节（自我评价、党员互评、民主测评投票、支部委员会研究决定、"
        "上报上级党组织）依次开启；参评党员为支部（含党小组）当时的预备党员和正式党员，预备党员不投票。"
        "优秀比例上限默认三分之一。每个支部每年一次。",
        request=AppraisalInSerializer,
        responses={201: AppraisalOutSerializer, 400: BAD_INPUT},
    ),
)
class AppraisalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [AppraisalPermission]
    serializer_class = AppraisalListSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Appraisal]:
        user = self.request.user
        name = getattr(self, "action", None)
        if name == "votes":
            return selectors.appraisals_for_participant(user=user).order_by("id")
        if name in ROLE_ACTIONS:
            return selectors.appraisal_list(user=user, action=ROLE_ACTIONS[name]).order_by("id")
        qs = selectors.api_appraisals(user=user)
        if name == "list":
            raw = self.request.query_params.get("year")
            if raw:
                if not raw.isdigit() or not YEAR_MIN <= int(raw) <= YEAR_MAX:
                    raise serializers.ValidationError({"year": [f"年度须为{YEAR_MIN}到{YEAR_MAX}之间的整数"]})
                qs = qs.filter(year=int(raw))
        return qs

    def _body(self, appraisal: Appraisal, code: int = status.HTTP_200_OK) -> Response:
        data = selectors.appraisal_data(user=self.request.user, appraisal=appraisal)
        return Response(AppraisalOutSerializer(data).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._body(self.get_object())

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        data_in = AppraisalInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        organization = Organization.objects.filter(pk=data["organization"], is_active=True).first()
        if organization is None or not can(request.user, "add", organization, app_label=APP):
            raise serializers.ValidationError({"organization": ["所选组织不存在或不在您的权限范围内"]})
        meeting = None
        if data.get("meeting"):
            meeting = (
                Activity.objects.restrict(request.user, "view", app_label=APP)
                .filter(pk=data["meeting"], organization=organization)
                .first()
            )
            if meeting is None:
                raise serializers.ValidationError({"meeting": ["民主测评会议须是本支部的活动"]})
        schedule = {
            s["code"]: services.PlannedDates(s.get("planned_start"), s.get("planned_end"))
            for s in data["steps"]
        }
        appraisal = services.appraisal_create(
            actor=request.user,
            organization=organization,
            year=data["year"],
            excellent_share=data.get("excellent_share"),
            schedule=schedule,
            meeting=meeting,
        )
        return self._body(appraisal, status.HTTP_201_CREATED)

    @extend_schema(
        summary="民主测评投票",
        description="有表决权的参评党员（正式党员）为其他每名参评党员选择一个等次（excellent 优秀、qualified 合格、"
        "basically_qualified 基本合格、unqualified 不合格），不含本人；未列出的党员视为对其弃权。投票不记名："
        "只记录谁投过票，不记录谁投了什么。投票结束前可以重新提交，新选票替换原选票（首次 201，替换 200）。"
        "预备党员、投票未开始或已结束、给非参评党员投票：400；不是该支部参评党员：404。",
        request=BallotInSerializer,
        responses={201: BallotOutSerializer, 200: BallotOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="votes")
    def votes(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        appraisal = self.get_object()
        data_in = BallotInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        result = services.ballot_submit(
            actor=request.user, appraisal=appraisal, votes=[dict(v) for v in data_in.validated_data["votes"]]
        )
        body = {
            "appraisal": appraisal.pk,
            "voted": True,
            "replaced": not result.created,
            "submitted_at": result.receipt.submitted_at,
            "updated_at": result.receipt.updated_at,
        }
        return Response(
            BallotOutSerializer(body).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="支部委员会研究决定",
        description="研究决定环节开启期间，支部委员会为参评党员评定等次（结束前可修改）。优秀人数超过比例（默认三分之一）"
        "须写明 reason；评为不合格须给出处置措施 measure（rectify_by_deadline 限期改正须带 deadline，"
        "persuade_to_leave 劝其退党，other_disposal 组织处置），生成跟进事项。",
        request=DecideInSerializer,
        responses={200: AppraisalOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="decide")
    def decide(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        appraisal = self.get_object()
        data_in = DecideInSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        appraisal = services.appraisal_decide(
            actor=request.user,
            appraisal=appraisal,
            grades=[dict(g) for g in data["grades"]],
            reason=data.get("reason"),
        )
        return self._body(appraisal)

    @extend_schema(
        summary="开启环节",
        description="书记依次开启环节：第一个环节随时可开启，其余须在前一环节结束后开启。",
        parameters=[CODE_PARAMETER],
        request=None,
        responses={200: AppraisalOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<code>.+)/open", url_name="step-open")
    def step_open(self, request: AuthenticatedRequest, pk: str | None = None, code: str = "") -> Response:
        appraisal = self.get_object()
        services.step_open(actor=request.user, appraisal=appraisal, code=_code(code))
        return self._body(appraisal)

    @extend_schema(
        summary="结束环节",
        description="结束进行中的环节（不可撤销）。结束研究决定环节须每名参评党员都已评定等次；结束上报环节即完成上报。",
        parameters=[CODE_PARAMETER],
        request=None,
        responses={200: AppraisalOutSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<code>.+)/close", url_name="step-close")
    def step_close(self, request: AuthenticatedRequest, pk: str | None = None, code: str = "") -> Response:
        appraisal = self.get_object()
        services.step_close(actor=request.user, appraisal=appraisal, code=_code(code))
        return self._body(appraisal)


def _code(code: str) -> str:
    from django.http import Http404

    if code not in StepCode.values:
        raise Http404("环节不存在")
    return code
