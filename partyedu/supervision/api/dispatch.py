"""API: dispatch and feedback (调度/反馈).

- ``GET /api/v1/dispatches/``: dispatches issued within the caller's scope or received by an
  organisation in it;
- ``POST /api/v1/dispatches/`` ``{organization, title, description, due, target_level}`` (plus the
  optional ``activity_type`` and ``required_topic``);
- ``GET /api/v1/dispatches/{id}/`` with ``recipients: [{organization, status, feedback_at}]`` (all
  of them for the issuing side, those in scope for a recipient);
- ``POST /api/v1/dispatches/{id}/feedback/`` ``{organization, text}``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from partyedu.accounts.types import AuthenticatedRequest
from partyedu.core.api.permissions import IsAuthenticated
from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.filters import ID_MAX
from partyedu.core.scope import has_action
from partyedu.organizations.selectors import organization_choices
from partyedu.study.choices import ActivityType

from ..models.dispatch import Dispatch, DispatchStatus, DispatchTarget
from ..selectors import dispatch as selectors
from ..services import dispatch as services

APP = "supervision"
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="提交的数据有误")
NOT_FOUND = "调度任务不存在或不在您的权限范围内"


class DispatchCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(label="下发组织ID", min_value=1, max_value=ID_MAX)
    title = serializers.CharField(label="任务名称", max_length=200)
    description = serializers.CharField(label="任务说明", max_length=5000, required=False, allow_blank=True)
    due = serializers.DateField(label="反馈期限")
    target_level = serializers.ChoiceField(label="下发层级", choices=DispatchTarget.choices)
    activity_type = serializers.ChoiceField(
        label="对应活动类型", choices=ActivityType.choices, required=False, allow_blank=True
    )
    required_topic = serializers.IntegerField(
        label="对应必修专题ID", required=False, allow_null=True, min_value=1, max_value=ID_MAX
    )

    def validate_organization(self, value: int) -> Any:
        user = self.context["request"].user
        org = organization_choices(user=user, action="add", app_label=APP).filter(pk=value).first()
        if org is None:
            raise serializers.ValidationError("所选组织不存在或不在您的权限范围内")
        return org


class RecipientSerializer(serializers.Serializer):
    organization = serializers.IntegerField(source="organization_id", label="接收组织ID")
    organization_name = serializers.CharField(source="organization.name", label="接收组织")
    status = serializers.ChoiceField(source="current_status", choices=DispatchStatus.choices, label="状态")
    feedback_at = serializers.DateTimeField(label="反馈时间", allow_null=True)


class CompletionSerializer(serializers.Serializer):
    total = serializers.IntegerField(label="接收组织数")
    done = serializers.IntegerField(label="已反馈")
    late = serializers.IntegerField(label="逾期反馈")
    not_started = serializers.IntegerField(label="未开始")
    overdue = serializers.IntegerField(label="逾期未反馈")


class DispatchSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True, label="下发组织")
    recipient_count = serializers.IntegerField(read_only=True, label="接收组织数")
    answered_count = serializers.IntegerField(read_only=True, label="已反馈组织数")
    # Blank when the dispatch names no activity type: declared so the schema allows "" too.
    activity_type = serializers.ChoiceField(
        choices=ActivityType.choices, allow_blank=True, read_only=True, label="对应活动类型"
    )

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "organization",
            "organization_name",
            "title",
            "description",
            "due",
            "target_level",
            "activity_type",
            "required_topic",
            "created_at",
            "recipient_count",
            "answered_count",
        ]
        read_only_fields = fields


class DispatchDetailSerializer(DispatchSerializer):
    recipients = RecipientSerializer(many=True, read_only=True, source="recipient_rows")
    completion = CompletionSerializer(read_only=True)

    class Meta(DispatchSerializer.Meta):
        fields = [*DispatchSerializer.Meta.fields, "recipients", "completion"]
        read_only_fields = fields


class FeedbackInputSerializer(serializers.Serializer):
    organization = serializers.IntegerField(label="接收组织ID", min_value=1, max_value=ID_MAX)
    text = serializers.CharField(label="反馈内容", max_length=5000)


class FeedbackResultSerializer(serializers.Serializer):
    dispatch = serializers.IntegerField(label="调度任务ID")
    organization = serializers.IntegerField(label="接收组织ID")
    status = serializers.ChoiceField(choices=DispatchStatus.choices, label="状态")
    feedback_at = serializers.DateTimeField(label="反馈时间")
    text = serializers.CharField(label="反馈内容")
    linked_activities = serializers.ListField(child=serializers.IntegerField(), label="关联活动ID")


class DispatchPermission(IsAuthenticated):
    """The view's own action: feedback (a POST) changes the recipient's data."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_action(request.user, view.scope_action, APP)


@extend_schema(tags=["调度与反馈"])
@extend_schema_view(
    list=extend_schema(
        summary="调度任务列表",
        description="调用者范围内下发的，或范围内组织收到的调度任务，最新的在前。",
    ),
    retrieve=extend_schema(
        summary="调度任务详情",
        description="含接收组织及其状态（done 已反馈、late 逾期反馈、not_started 未开始、overdue 逾期未反馈）。"
        "下发方看到全部接收组织，接收方只看到本人范围内的。",
        responses={200: DispatchDetailSerializer},
    ),
    create=extend_schema(
        summary="下发调度任务",
        description="由下发组织的组织部门管理员（org_admin）下发给本组织下级中 target_level 层级的全部组织，"
        "接收组织在下发时确定。反馈期限不能早于今天。同一组织同名同期限的任务重复提交时返回已有任务。",
        request=DispatchCreateSerializer,
        responses={201: DispatchDetailSerializer, 200: DispatchDetailSerializer, 400: BAD_INPUT},
    ),
)
class DispatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    scope_model = Dispatch
    serializer_class = DispatchSerializer
    permission_classes = [DispatchPermission]
    request: AuthenticatedRequest

    @property
    def scope_action(self) -> str:
        if getattr(self, "action", None) == "feedback":
            return "change"
        return super().scope_action

    def get_queryset(self) -> QuerySet[Dispatch]:
        action_name = "view" if getattr(self, "action", None) == "feedback" else self.scope_action
        return (
            selectors.dispatch_visible(user=self.request.user, action=action_name)
            .select_related("organization")
            .annotate(
                recipient_count=Count("recipients", distinct=True),
                answered_count=Count(
                    "recipients", filter=Q(recipients__feedback_at__isnull=False), distinct=True
                ),
            )
            .order_by("-created_at", "-id")
        )

    def get_object(self) -> Dispatch:
        try:
            return super().get_object()
        except Http404 as exc:
            raise exceptions.NotFound(NOT_FOUND) from exc

    def _detail(self, dispatch: Dispatch) -> dict[str, Any]:
        today = timezone.localdate()
        rows = selectors.dispatch_recipients(user=self.request.user, dispatch=dispatch)
        for r in rows:
            r.current_status = r.status_on(today, dispatch.due)
        dispatch.recipient_rows = rows  # type: ignore[attr-defined]
        dispatch.completion = selectors.Completion.of(rows, dispatch.due, today).as_dict()  # type: ignore[attr-defined]
        if not hasattr(dispatch, "recipient_count"):
            dispatch.recipient_count = len(rows)  # type: ignore[attr-defined]
            dispatch.answered_count = sum(1 for r in rows if r.feedback_at)  # type: ignore[attr-defined]
        return dict(DispatchDetailSerializer(dispatch).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DispatchCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        before = Dispatch.objects.filter(
            organization=data["organization"], title=data["title"].strip(), due=data["due"]
        ).exists()
        dispatch = services.dispatch_create(actor=self.request.user, **data)
        code = status.HTTP_200_OK if before else status.HTTP_201_CREATED
        return Response(self._detail(dispatch), status=code)

    @extend_schema(
        summary="反馈调度任务",
        description="接收组织的书记或管理员（对该组织有修改权限）提交反馈；该组织未收到此任务时返回400，不写入任何数据。"
        "反馈期限之前可以修改（再次提交即覆盖）；期限之后仍可首次反馈（记为逾期反馈），但不能再修改。"
        "任务指定了活动类型或必修专题的，接收组织在下发之日至期限之间的对应活动自动关联。",
        request=FeedbackInputSerializer,
        responses={201: FeedbackResultSerializer, 200: FeedbackResultSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], url_path="feedback")
    def feedback(self, request: AuthenticatedRequest, pk: Any = None) -> Response:
        dispatch = self.get_object()
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        org_id = serializer.validated_data["organization"]
        answered_before = dispatch.recipients.filter(
            organization_id=org_id, feedback_at__isnull=False
        ).exists()
        feedback = services.dispatch_feedback_submit(
            actor=request.user, dispatch=dispatch, organization=org_id, text=serializer.validated_data["text"]
        )
        recipient = feedback.recipient
        data = {
            "dispatch": dispatch.pk,
            "organization": recipient.organization_id,
            "status": recipient.status_on(timezone.localdate(), dispatch.due),
            "feedback_at": recipient.feedback_at,
            "text": feedback.text,
            "linked_activities": sorted(feedback.linked_activities.values_list("pk", flat=True)),
        }
        code = status.HTTP_200_OK if answered_before else status.HTTP_201_CREATED
        return Response(FeedbackResultSerializer(data).data, status=code)


router = SimpleRouter()
router.register("dispatches", DispatchViewSet, basename="dispatch")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
