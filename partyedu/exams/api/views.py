from __future__ import annotations

from typing import Any

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
from partyedu.exams import selectors, services
from partyedu.exams.filtersets import ExamFilterSet, QuestionFilterSet
from partyedu.exams.models import Attempt, Exam, Question, QuestionBank
from partyedu.exams.selectors.results import exam_get_for_results
from partyedu.exams.targets import answers_visible
from partyedu.organizations.models import Organization
from partyedu.study.models import TrainingClass

from .serializers import (
    AnswerSavedSerializer,
    AnswerSaveSerializer,
    AttemptSerializer,
    AttemptSubmitResultSerializer,
    ExamResultsSerializer,
    ExamSerializer,
    QuestionBankSerializer,
    QuestionSerializer,
)

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
TAG = "考试测评"
APP = "exams"


class TakePermission(IsAuthenticated):
    """Taking an exam: the caller's own member account (党员 role)."""

    message = "只有党员本人可以答题"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, "take", APP)


def _organization(user: Any, pk: int, action: str) -> Organization:
    """An organisation given by id in a body; one outside the caller's scope reads as missing."""
    org = Organization.objects.filter(pk=pk, is_active=True).first()
    if org is None or not can(user, action, org, app_label=APP):
        raise serializers.ValidationError({"organization": ["所选组织不存在或不在您的权限范围内"]})
    return org


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="题库列表", description="调用者管理范围内的题库，以及上级组织共享下来的题库。"
    ),
    retrieve=extend_schema(summary="题库详情"),
    create=extend_schema(summary="建立题库", responses={201: QuestionBankSerializer, 400: BAD_INPUT}),
)
class QuestionBankViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    scope_model = QuestionBank
    serializer_class = QuestionBankSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[QuestionBank]:
        return selectors.bank_list(user=self.request.user, action=self.scope_action).order_by("id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        organization = _organization(self.request.user, data["organization_id"], "add")
        serializer.instance = services.bank_create(
            actor=self.request.user,
            organization=organization,
            title=data["title"],
            description=data.get("description", ""),
        )


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="试题列表", description="可按题库、题型、标签、难度和题干文字筛选。"),
    retrieve=extend_schema(summary="试题详情", description="当前版本的题干、选项、答案和解析。"),
    create=extend_schema(
        summary="新增试题",
        description="指定 bank（题库）或 organization（放入该组织的默认题库）。题干与题库中已有试题相同"
        "（忽略全角半角、空格和标点）时拒绝。",
        responses={201: QuestionSerializer, 400: BAD_INPUT},
    ),
)
class QuestionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    scope_model = Question
    serializer_class = QuestionSerializer
    filterset_class = QuestionFilterSet
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[Question]:
        return selectors.question_list(user=self.request.user, action=self.scope_action)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        if data.get("bank"):
            bank = selectors.bank_list(user=user, action="add").filter(pk=data.pop("bank")).first()
            if bank is None:
                raise serializers.ValidationError({"bank": ["所选题库不存在或不在您的权限范围内"]})
        else:
            organization = _organization(user, data.pop("organization"), "add")
            bank = services.bank_default(actor=user, organization=organization)
        serializer.instance = services.question_create(actor=user, bank=bank, data=data)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(summary="考试列表", description="调用者管理范围内举办的考试和练习。"),
    retrieve=extend_schema(summary="考试详情"),
    create=extend_schema(
        summary="发布考试",
        description="questions 为固定试卷（试题与分值），rules 为随机抽题规则（二者选一）；抽题规则凑不满时拒绝并"
        "指出是哪一条。默认面向主办组织及下级的全体党员（年老体弱等免于硬性要求的党员除外），"
        "target_members 指定党员时只面向所列党员。",
        responses={201: ExamSerializer, 400: BAD_INPUT},
    ),
)
class ExamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    scope_model = Exam
    serializer_class = ExamSerializer
    filterset_class = ExamFilterSet
    request: AuthenticatedRequest

    def get_permissions(self) -> list[Any]:
        if getattr(self, "action", None) == "attempts":
            return [TakePermission()]
        return list(super().get_permissions())

    def get_queryset(self) -> QuerySet[Exam]:
        return selectors.exam_list(user=self.request.user, action=self.scope_action)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        organization = _organization(user, data.pop("organization_id"), "add")
        class_id = data.pop("training_class_id", None)
        if class_id is not None:
            training_class = (
                TrainingClass.objects.restrict(user, "view", app_label=APP).filter(pk=class_id).first()
            )
            if training_class is None:
                raise serializers.ValidationError(
                    {"training_class": ["所选培训班不存在或不在您的权限范围内"]}
                )
            data["training_class"] = training_class
        data["questions"] = [dict(q) for q in data.get("questions", [])]
        data["rules"] = [dict(r) for r in data.get("rules", [])]
        serializer.instance = services.exam_create(actor=user, organization=organization, data=data)

    @extend_schema(
        summary="开始答题",
        description="党员本人开始（或继续）一次答卷，返回截止时间和试题（不含答案和解析）。不在考试范围内的党员"
        "得到404；次数用完、未开始或已截止时400。未交卷的答卷再次调用返回同一份答卷。",
        request=None,
        responses={201: AttemptSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def attempts(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        exam = selectors.exam_for_taker(user=request.user, pk=pk)
        attempt = services.attempt_start(actor=request.user, exam=exam)
        attempt = selectors.attempt_get_own(user=request.user, pk=attempt.pk)
        return Response(AttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="考试结果",
        description="调用者管理范围内应考党员的参考、及格和平均分，按组织汇总；每道题的难度（得分率）和区分度"
        "（点二列相关），区分度过低或为负的题目标记为疑似有误。上级组织举办、面向调用者管理范围内党员的考试"
        "也可查询，只计这些党员，且不含试题分析（items 为空，试题分析由主办组织查看）。",
        responses={200: ExamResultsSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def results(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        # Not get_object(): an exam of a level above that reaches the caller's members answers too.
        exam = exam_get_for_results(user=request.user, pk=pk)
        return Response(ExamResultsSerializer(selectors.exam_results(user=request.user, exam=exam)).data)


@extend_schema(tags=[TAG])
@extend_schema_view(
    retrieve=extend_schema(
        summary="答卷详情",
        description="本人的答卷（或管理范围内党员的答卷）：每题的作答；交卷后得分，考试允许时显示答案和解析。",
        responses={200: AttemptSerializer},
    ),
)
class AttemptViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Attempt
    serializer_class = AttemptSerializer
    request: AuthenticatedRequest

    def get_permissions(self) -> list[Any]:
        if getattr(self, "action", None) in ("answers", "submit"):
            return [TakePermission()]
        return list(super().get_permissions())

    def get_queryset(self) -> QuerySet[Attempt]:
        return selectors.attempt_list(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attempt = selectors.attempt_get(user=request.user, pk=kwargs["pk"])
        return Response(AttemptSerializer(attempt, reveal=answers_visible(attempt)).data)

    @extend_schema(
        summary="保存答案",
        description="保存一道题的作答（再次保存覆盖）。不在本答卷中的题、已交卷或超过截止时间加宽限后保存时400。",
        request=AnswerSaveSerializer,
        responses={200: AnswerSavedSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["put"], pagination_class=None)
    def answers(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        attempt = selectors.attempt_own_ref(user=request.user, pk=pk)
        body = AnswerSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answer = services.answer_save(
            actor=request.user,
            attempt=attempt,
            question=body.validated_data["question"],
            response=body.validated_data.get("answer"),
        )
        return Response(
            AnswerSavedSerializer(
                {
                    "question": body.validated_data["question"],
                    "answer": answer.response,
                    "saved_at": answer.saved_at,
                }
            ).data
        )

    @extend_schema(
        summary="交卷",
        description="交卷并自动评出客观题；含简答题时状态为待阅卷。重复交卷返回第一次的结果。",
        request=None,
        responses={200: AttemptSubmitResultSerializer},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def submit(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        attempt = selectors.attempt_own_ref(user=request.user, pk=pk)
        attempt = services.attempt_submit(actor=request.user, attempt=attempt)
        return Response(AttemptSubmitResultSerializer(attempt).data)
