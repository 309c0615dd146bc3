from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.competitions import selectors, services
from partyedu.competitions.models import Competition, Review, Round
from partyedu.core.api.permissions import IsAuthenticated, ScopedActionPermission
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import has_action, scope_for

from .serializers import (
    AdvanceSerializer,
    AssignmentSerializer,
    AwardGrantSerializer,
    AwardPlanSerializer,
    AwardSerializer,
    AwardSuggestionSerializer,
    CloseSerializer,
    CompetitionSerializer,
    EntrySerializer,
    PanelMemberSerializer,
    ResultsSerializer,
    ReviewerSerializer,
    ReviewersSetSerializer,
    ReviewSerializer,
    ReviewSubmitSerializer,
    RoundSerializer,
    RoundWriteSerializer,
    SuggestionQuerySerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
TAG = "党课评选"


class ChangePermission(ScopedActionPermission):
    """Every write under a competition changes it (adding a round, an entry, a panel …)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not IsAuthenticated.has_permission(self, request, view):
            return False
        needed = "view" if request.method in ("GET", "HEAD", "OPTIONS") else "change"
        return has_action(request.user, needed, "competitions")


class GrantPermission(ScopedActionPermission):
    """The award suggestion is the grant's preview: for those who may grant (change)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not IsAuthenticated.has_permission(self, request, view):
            return False
        return has_action(request.user, "change", "competitions")


# Actions under a competition that read with "view" and write with "change".
CHANGE_ACTIONS = ("rounds", "entries", "awards", "award_plan")


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="评选列表", description="调用者管理范围内举办的评选。"),
    retrieve=extend_schema(summary="评选详情", description="含评分细则与轮次。"),
    create=extend_schema(
        summary="创建评选",
        description="criteria 为评分细则，各项权重之和必须为100。",
        responses={201: CompetitionSerializer, 400: BAD_INPUT},
    ),
)
class CompetitionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    scope_model = Competition
    serializer_class = CompetitionSerializer
    request: AuthenticatedRequest  # every route requires sign-in (ScopedActionPermission, ChangePermission)

    @property
    def scope_action(self) -> str:
        action = getattr(self, "action", None)
        if action == "award_suggestion":
            return "change"  # the grant's preview, for those who grant
        if action in CHANGE_ACTIONS:
            request = getattr(self, "request", None)
            return "view" if request is None or request.method == "GET" else "change"
        return super().scope_action

    def get_permissions(self) -> list[Any]:
        action = getattr(self, "action", None)
        if action == "award_suggestion":
            return [GrantPermission()]
        if action in CHANGE_ACTIONS:
            return [ChangePermission()]
        return list(super().get_permissions())

    def get_queryset(self) -> QuerySet[Competition]:
        return selectors.competition_list(user=self.request.user, action=self.scope_action).prefetch_related(
            "criteria", "rounds", "award_categories__entry_category"
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data["organization"] = data.pop("organization_id")
        data["criteria"] = [dict(c) for c in data.get("criteria", [])]
        data["award_categories"] = [dict(c) for c in data.get("award_categories", [])]
        serializer.instance = services.competition_create(actor=self.request.user, data=data)

    @extend_schema(
        summary="设置评奖方案",
        description="奖项等次（single 优秀、ranked 一等奖/二等奖/三等奖、quality 精品/优秀，或 custom 自定义）"
        "和评奖类别（如“微党课”，可限参赛组别或党课类型）及各等次名额。评定奖项后不能修改。记入审计日志。",
        request=AwardPlanSerializer,
        responses={200: CompetitionSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["put"], url_path="award-plan", pagination_class=None)
    def award_plan(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        competition = self.get_object()
        serializer = AwardPlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.award_plan_set(
            actor=request.user,
            competition=competition,
            grade_set=data["grade_set"],
            grades=data.get("grades"),
            categories=[dict(c) for c in data["award_categories"]],
        )
        return Response(CompetitionSerializer(self.get_queryset().get(pk=competition.pk)).data)

    @extend_schema(
        summary="评定建议",
        description="按最后一轮（须已结束）名次：各评奖类别内的排名和建议等次、优秀主讲人，以及主办组织下一级"
        "各单位的报送作品数、当年开展党课场次和获奖作品数（按报送作品数、党课场次排列），供选定优秀组织单位。"
        "查询参数与评定奖项的名额相同。",
        parameters=[SuggestionQuerySerializer],
        responses={200: AwardSuggestionSerializer},
    )
    @action(detail=True, methods=["get"], url_path="award-suggestion", pagination_class=None)
    def award_suggestion(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        competition = self.get_object()
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        suggestion = selectors.award_suggestion(
            user=request.user, competition=competition, action="change", **query.validated_data
        )
        return Response(AwardSuggestionSerializer(suggestion).data)

    @extend_schema(methods=["GET"], summary="奖项与证书", responses={200: AwardSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="评定奖项",
        description="最后一轮结束后评定一次：党课奖项按评奖方案（各评奖类别内按名次、从最高等次起，末位同分一并"
        "获奖；未设方案时按 lecture_count 评优秀党课），优秀主讲人按 lecturer_count，优秀组织单位按 "
        "organization_count 自动评出，另可在 units 中选定主办组织的下一级单位（没有获奖作品的须写 reason）。"
        "每个奖项颁发带唯一编号的证书；评选随即结束。选定单位及理由记入审计日志。",
        request=AwardGrantSerializer,
        responses={201: AwardSerializer(many=True), 400: BAD_INPUT},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def awards(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        competition = self.get_object()
        if request.method == "GET":
            rows = selectors.award_list(user=request.user, competition=competition).select_related(
                "award_category"
            )
            return Response(AwardSerializer(rows, many=True).data)
        serializer = AwardGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["units"] = [dict(u) for u in data.get("units", [])]
        services.awards_grant(actor=request.user, competition=competition, data=data)
        rows = selectors.award_list(user=request.user, competition=competition).select_related(
            "award_category"
        )
        return Response(AwardSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="轮次列表", responses={200: RoundSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="增加轮次",
        description="第一轮立即开始报名；之后的轮次在上一轮晋级后开始。",
        request=RoundWriteSerializer,
        responses={201: RoundSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def rounds(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        competition = self.get_object()
        if request.method == "GET":
            return Response(RoundSerializer(competition.rounds.order_by("sequence"), many=True).data)
        serializer = RoundWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        round_ = services.round_create(actor=request.user, competition=competition, data=data)
        return Response(RoundSerializer(round_).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="参赛作品列表", responses={200: EntrySerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="报送作品（组织推荐）",
        description="作品进入第一个正在报名的轮次。主讲人须为调用者管理范围内、本次评选范围内的在册党员。",
        request=EntrySerializer,
        responses={201: EntrySerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def entries(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        competition = self.get_object()
        if request.method == "GET":
            rows = selectors.entry_list(user=request.user, competition=competition)
            return Response(EntrySerializer(rows, many=True).data)
        serializer = EntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["lecturer"] = data.pop("lecturer_id")
        data["organization"] = data.pop("organization_id")
        data["category"] = data.pop("category_id", None)
        entry = services.entry_create(actor=request.user, competition=competition, data=data)
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class ReviewerListView(APIView):
    """Users holding the reviewer role within the caller's scope."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="评委名单", responses={200: ReviewerSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Organisers only: a reviewer's own "change" right reaches their assignments, not the panel.
        if not scope_for(request.user, "change", "competitions").paths:
            raise exceptions.PermissionDenied(ChangePermission.message)
        return Response(ReviewerSerializer(selectors.reviewer_list(user=request.user), many=True).data)


@extend_schema(tags=[TAG])
@extend_schema_view(retrieve=extend_schema(summary="轮次详情"))
class RoundViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Round
    serializer_class = RoundSerializer

    @property
    def scope_action(self) -> str:
        request = getattr(self, "request", None)
        return "view" if request is None or request.method == "GET" else "change"

    def get_permissions(self) -> list[Any]:
        return [ChangePermission()]

    def get_queryset(self) -> QuerySet[Round]:
        return Round.objects.restrict(self.request.user, self.scope_action).select_related(
            "competition__organization"
        )

    @extend_schema(
        summary="设置评委",
        description="把本轮评委设为给定用户（须持有评委角色且在调用者管理范围内）。已提交评分的评委不能移出。",
        request=ReviewersSetSerializer,
        responses={200: PanelMemberSerializer(many=True), 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def reviewers(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        round_ = self.get_object()
        serializer = ReviewersSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.round_reviewers_set(
            actor=request.user, round_=round_, users=serializer.validated_data["users"]
        )
        return Response(
            PanelMemberSerializer(
                selectors.round_panel(user=request.user, round_=round_, action=self.scope_action), many=True
            ).data
        )

    @extend_schema(
        summary="自动分配评审",
        description="为每件作品补足评审人数，评委工作量均衡；评委不会分到本人所在组织（及下级）报送或主讲人"
        "所在组织的作品。已有分配保持不变，重复调用不产生新分配。返回本轮全部分配。",
        request=None,
        responses={200: AssignmentSerializer(many=True), 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def assign(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        round_ = self.get_object()
        services.round_assign(actor=request.user, round_=round_)
        return Response(
            AssignmentSerializer(
                selectors.round_assignments(user=request.user, round_=round_, action=self.scope_action),
                many=True,
            ).data
        )

    @extend_schema(
        summary="评审结果",
        description="按本轮计分方法计算的得分与名次，同分同名次（tied 为真）。",
        responses={200: ResultsSerializer},
    )
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: Any = None) -> Response:
        round_ = self.get_object()
        rows = selectors.round_results(user=request.user, round_=round_, action=self.scope_action)
        body = {
            "round": round_.pk,
            "aggregation": round_.aggregation,
            "complete": all(r.complete for r in rows),
            "results": rows,
        }
        return Response(ResultsSerializer(body).data)

    @extend_schema(
        summary="结束评审（最后一轮）",
        description="固定最后一轮的结果（得分与名次），之后可以评定奖项。尚有评审未提交时须 override=true 并说明"
        "原因（记入审计日志）。返回固定后的结果。",
        request=CloseSerializer,
        responses={200: ResultsSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def close(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        round_ = self.get_object()
        rows = services.round_close(actor=request.user, round_=round_, **serializer.validated_data)
        body = {
            "round": round_.pk,
            "aggregation": round_.aggregation,
            "complete": all(r.complete for r in rows),
            "results": rows,
        }
        return Response(ResultsSerializer(body).data)

    @extend_schema(
        summary="晋级",
        description="固定本轮结果，前 advance_count 名（并列者一并）或达到分数线的作品进入下一轮。尚有评审未提交时"
        "须 override=true 并说明原因（记入审计日志）。",
        request=AdvanceSerializer,
        responses={200: EntrySerializer(many=True), 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def advance(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        serializer = AdvanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.round_advance(
            actor=request.user, round_=self.get_object(), **serializer.validated_data
        )
        entries = [re.entry for re in created]
        return Response(EntrySerializer(entries, many=True).data)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="我的评审任务", description="只列出分配给调用者本人的评审。"),
    retrieve=extend_schema(summary="评审详情"),
    update=extend_schema(
        summary="提交评分",
        description="scores 须包含每个评分项，分数0–100（最多一位小数）。本轮结束前可修改。",
        request=ReviewSubmitSerializer,
        responses={200: ReviewSerializer, 400: BAD_INPUT},
    ),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Review
    serializer_class = ReviewSerializer
    request: AuthenticatedRequest  # every route requires sign-in (ChangePermission)
    http_method_names = ["get", "put", "head", "options"]

    @property
    def scope_action(self) -> str:
        request = getattr(self, "request", None)
        return "view" if request is None or request.method == "GET" else "change"

    def get_permissions(self) -> list[Any]:
        return [ChangePermission()]

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Review.objects.none()
        return selectors.review_list(user=self.request.user)

    def update(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        serializer = ReviewSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_submit(
            actor=request.user,
            review=review,
            scores=serializer.validated_data["scores"],
            comment=serializer.validated_data.get("comment", ""),
        )
        return Response(ReviewSerializer(selectors.review_get(user=request.user, pk=review.pk)).data)
