from __future__ import annotations

from typing import cast

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.organizations.choices import OrgType
from partyedu.organizations.filtersets import OrganizationFilterSet
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_list
from partyedu.organizations.services import organization_create, organization_move, organization_update

from .serializers import OrganizationSerializer


@extend_schema(tags=["党组织"])
@extend_schema_view(
    list=extend_schema(
        summary="党组织列表",
        description="调用者有权查看的党组织（含已撤销的，见 is_active），按树的顺序排列。",
    ),
    retrieve=extend_schema(summary="党组织详情"),
    create=extend_schema(
        summary="新建党组织", description="在有权新增的上级组织之下新建；不能新建顶级组织。"
    ),
    update=extend_schema(summary="修改党组织", description="修改 parent 即移动本组织及其全部下级。"),
    partial_update=extend_schema(
        summary="修改党组织（部分字段）", description="修改 parent 即移动本组织及其全部下级。"
    ),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    scope_model = Organization
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet

    def get_queryset(self) -> QuerySet[Organization]:
        return organization_list(
            user=self.request.user, filters={"include_inactive": True}, action=self.scope_action
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.setdefault("org_type", OrgType.OTHER)
        serializer.instance = organization_create(actor=self.request.user, **data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        org = cast(Organization, serializer.instance)
        new_parent = data.pop("parent", None)
        with transaction.atomic():
            # Move first, so a level change is checked against the parent it will have.
            if new_parent is not None and new_parent.pk != org.parent_id:
                org = organization_move(actor=self.request.user, org=org, new_parent=new_parent)
            if data:
                org = organization_update(actor=self.request.user, org=org, data=data)
        serializer.instance = org
