from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.accounts.types import AuthenticatedRequest, Viewer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.members.filtersets import MemberFilterSet
from partyedu.members.models import Member
from partyedu.members.selectors import (
    member_count_expression,
    member_count_paths,
    member_filter_organization,
    member_list,
)
from partyedu.members.services import member_create, member_update

from .serializers import MemberSerializer, member_row_values, member_rows

FILTER_PARAMS = frozenset(MemberFilterSet.base_filters)


def record_pii_disclosure(*, actor: Viewer, member_ids: list[int], path: str) -> None:
    """One audit row for one response that showed personal data in clear, naming every member.

    The row is committed durably before the response leaves, like every other audit row: a
    disclosure must never go unrecorded, so the wait for the disk (about 0.1–4 ms, measured in
    issue 9) is part of the price of the grant."""
    _pii_audit_row(actor, list(dict.fromkeys(member_ids)), path)


def _pii_audit_row(actor: Viewer, ids: list[int], path: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        object_type=Member._meta.label_lower,
        object_id=str(ids[0]) if len(ids) == 1 else "",
        object_repr=f"接口 {path}"[:255],
        changes={"member_ids": ids, "fields": ["id_number", "phone"]},
        message=f"通过接口查看{len(ids)}名党员的身份证号、手机号",
    )


@extend_schema(tags=["党员"])
@extend_schema_view(
    list=extend_schema(
        summary="党员列表",
        description="调用者有权查看的在册党员。organization 过滤包含该组织的全部下级；"
        "不在调用者范围内的组织ID返回空列表。身份证号、手机号默认脱敏。",
    ),
    retrieve=extend_schema(summary="党员详情"),
    create=extend_schema(
        summary="新增党员", description="性别、出生日期不填时按身份证号推定；填写时须与身份证号一致。"
    ),
    update=extend_schema(
        summary="修改党员信息", description="不能在此变更所在党组织（请办理组织关系转接）。"
    ),
    partial_update=extend_schema(summary="修改党员信息（部分字段）"),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    request: AuthenticatedRequest  # ScopedActionPermission lets only signed-in callers in
    scope_model = Member
    serializer_class = MemberSerializer
    filterset_class = MemberFilterSet

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Members shown with personal data in clear during this request (filled by the serializer).
        self.pii_disclosed: list[int] = []
        # The list's count when known from summary rows (see ``core.api.pagination``).
        self.count_expression: RawSQL | None = None
        self.known_count: int | None = None

    def get_queryset(self) -> QuerySet[Member]:
        # Lists show members on the roll; a detail also finds those who have left it.
        filters = {"include_inactive": self.action != "list"}
        return member_list(user=self.request.user, filters=filters, action=self.scope_action)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list is the hot path of the mobile app: rows are read as plain values (masked
        columns, no decryption unless the caller holds a grant), and when only scope and subtree
        narrow the list its count comes from the organisations' member counts, read in the same
        statement as the page (token, roles and grants, page: three queries; a grant holder's
        response adds its audit row)."""
        active = {k for k, v in request.query_params.items() if k in FILTER_PARAMS and v != ""}
        queryset = self.get_queryset()
        if active:
            queryset = self.filter_queryset(queryset)
        self.count_expression = None
        if active <= {"organization"}:
            org = None
            if active:
                org = member_filter_organization(
                    user=request.user, org_id=request.query_params["organization"]
                )
            if org is not None or not active:
                tops = member_count_paths(user=request.user, organization=org)
                if tops is not None:
                    # The count is read with the page, in the same statement.
                    self.count_expression = member_count_expression(tops)
        page = self.paginate_queryset(member_row_values(queryset, user=request.user))
        rows = member_rows(page, user=request.user, disclosed=self.pii_disclosed)
        return self.get_paginated_response(rows)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "pii_disclosed": self.pii_disclosed}

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = member_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        member = cast(Member, serializer.instance)
        serializer.instance = member_update(
            actor=self.request.user, member=member, data=dict(serializer.validated_data)
        )

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        if self.pii_disclosed and response.status_code < 400:
            record_pii_disclosure(actor=request.user, member_ids=self.pii_disclosed, path=request.path)
        return super().finalize_response(request, response, *args, **kwargs)
