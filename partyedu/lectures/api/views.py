"""API of the lecturer pool and of lecture records, with attendees' ratings."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.scope import has_action
from partyedu.lectures.filtersets import LectureFilterSet, LecturerFilterSet
from partyedu.lectures.models import Lecture, Lecturer
from partyedu.lectures.selectors import (
    lecture_list,
    lecture_my_rating,
    lecture_rating_summaries,
    lecture_rating_summary,
    lecturer_list,
    rating_refusal,
)
from partyedu.lectures.services import lecture_rate

from .serializers import LecturerSerializer, LectureSerializer, RatingInputSerializer, RatingSerializer


class LecturesViewPermission(IsAuthenticated):
    """``lectures.view`` somewhere — over a subtree, or on themself (党员, 讲师). Every endpoint
    here reads (rating a lecture one attended needs no more); which rows the caller reaches is the
    selectors' business (404)."""

    message = "您无权执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, "view", "lectures")


@extend_schema(tags=["我来讲党课"])
@extend_schema_view(
    list=extend_schema(
        summary="师资库讲师列表",
        description="调用者管理范围内师资库的讲师（讲师本人：自己的记录）。organization 过滤包含该组织的全部下级；"
        "不在调用者范围内的组织ID返回空列表。tag 为专长名称或ID，q 匹配姓名、单位或称号。",
    ),
    retrieve=extend_schema(summary="讲师详情"),
)
class LecturerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Lecturer
    serializer_class = LecturerSerializer
    filterset_class = LecturerFilterSet
    permission_classes = [LecturesViewPermission]

    def get_queryset(self) -> QuerySet[Lecturer]:
        return lecturer_list(user=self.request.user, filters={"include_inactive": True})


@extend_schema(tags=["我来讲党课"])
@extend_schema_view(
    list=extend_schema(
        summary="党课列表",
        description="调用者管理范围内的党课（党员本人：应参加或主讲的党课），按时间倒序。organization 过滤包含该组织"
        "的全部下级；year 按党课活动的开始时间。rating 只有汇总，不含评价人。",
    ),
    retrieve=extend_schema(summary="党课详情"),
)
class LectureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Lecture
    serializer_class = LectureSerializer
    filterset_class = LectureFilterSet
    permission_classes = [LecturesViewPermission]

    @property
    def scope_action(self) -> str:
        return "view"

    def get_queryset(self) -> QuerySet[Lecture]:
        return lecture_list(user=self.request.user).prefetch_related("files")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        lectures = list(page) if page is not None else list(queryset)
        context = {
            **self.get_serializer_context(),
            "rating_summaries": lecture_rating_summaries(
                user=request.user, lecture_ids=[lec.pk for lec in lectures]
            ),
        }
        data = LectureSerializer(lectures, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _rating(self, lecture: Lecture) -> dict[str, Any]:
        user = self.request.user
        mine = lecture_my_rating(user=user, lecture=lecture)
        reason = rating_refusal(user=user, lecture=lecture)
        return {
            "summary": lecture_rating_summary(user=user, lecture=lecture).as_dict(),
            "mine": {"score": mine.score, "comment": mine.comment} if mine else None,
            "can_rate": not reason,
            "reason": reason,
        }

    @extend_schema(
        methods=["GET"],
        summary="党课评价汇总",
        description="评价人数、平均分和各分值人数，以及调用者本人的评价和能否评价。不含任何评价人信息。",
        responses={200: RatingSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="评价党课",
        description="参加了本次党课（出席、迟到或已确认补学）的党员本人评1–5分，可附评语；再次提交即修改本人的评价。"
        "主讲人不能评价自己的党课。未参加的返回403，分数不在1–5之间返回400。",
        request=RatingInputSerializer,
        responses={
            200: RatingSerializer,
            201: RatingSerializer,
            400: OpenApiResponse(ErrorSerializer),
            403: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="rating")
    def rating(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        lecture = self.get_object()
        if request.method == "POST":
            serializer = RatingInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            existed = lecture_my_rating(user=request.user, lecture=lecture) is not None
            lecture_rate(
                actor=request.user,
                lecture=lecture,
                score=serializer.validated_data["score"],
                comment=serializer.validated_data.get("comment", ""),
            )
            code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
            return Response(RatingSerializer(self._rating(lecture)).data, status=code)
        return Response(RatingSerializer(self._rating(lecture)).data)
