"""``GET /api/v1/organizations/{id}/cadence/?year=<y>[&children=1]``: how an organisation held
its required organisational life in each period of a year (its own requirements: a 党支部's
主题党日, 党员大会, 党课 …, a 党小组's 党小组会, a 党委's 中心组学习 and 书记讲党课) and, with
``children=1``, the same for each organisation directly below it.

Study's business on the organisations' address: registered on study's own router (``urls.py``),
so the organizations app imports nothing above it. The organisation is found in the caller's
study scope; outside it the answer is 404, and a caller whose roles grant ``study.view`` nowhere
gets 403."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partyedu.core.api.serializers import ErrorSerializer
from partyedu.core.api.viewsets import ScopedViewSet
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.models import Organization
from partyedu.study.choices import CadencePeriod
from partyedu.study.selectors import (
    PERIOD_STATUS_LABELS,
    OrgCadence,
    cadence_children,
    cadence_for,
)

APP = "study"


class CadenceQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=YEAR_MIN, max_value=YEAR_MAX, label="年度", help_text="默认本年度"
    )
    children = serializers.BooleanField(
        required=False, default=False, label="含直属下级", help_text="为 1 时另列每个直属下级组织的情况"
    )


class CadencePeriodSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        help_text="周期：第N周（按国家标准周次）、N月、第N季度、上半年/下半年、全年"
    )
    count = serializers.IntegerField(help_text="该周期开展的次数")
    met = serializers.BooleanField(help_text="是否达到要求（每周期至少 min_count 次）")
    status = serializers.ChoiceField(
        choices=list(PERIOD_STATUS_LABELS.items()),
        help_text="met 达标；missing 已结束仍未达标；in_progress 进行中（尚未结束，不算缺项）；upcoming 未开始",
    )


class CadenceRuleResultSerializer(serializers.Serializer):
    activity_type = serializers.CharField(help_text="活动类型代码")
    activity_type_display = serializers.CharField(
        help_text="活动类型；党委（党组）的党课为“党委（党组）书记讲党课”，按本级自身开展的党课统计"
    )
    period = serializers.ChoiceField(choices=CadencePeriod.choices, help_text="周期")
    period_display = serializers.CharField(help_text="每周、每月、每季度、每半年、每年")
    min_count = serializers.IntegerField(help_text="每个周期至少开展的次数")
    periods = CadencePeriodSerializer(many=True)


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OrganizationCadenceSerializer(serializers.Serializer):
    organization = OrganizationRefSerializer()
    year = serializers.IntegerField()
    rules = CadenceRuleResultSerializer(
        many=True,
        help_text="本组织应开展的组织生活及各周期情况；不属于党支部、党小组、党委（党组、党工委）的组织为空",
    )


class CadenceResultSerializer(OrganizationCadenceSerializer):
    children = OrganizationCadenceSerializer(many=True, required=False, help_text="仅 children=1 时返回")


def cadence_data(organization: Organization, row: OrgCadence | None, year: int) -> dict[str, Any]:
    return {
        "organization": {"id": organization.pk, "name": organization.name},
        "year": year,
        "rules": [
            {
                "activity_type": item.activity_type,
                "activity_type_display": item.label,
                "period": item.period,
                "period_display": item.period_name,
                "min_count": item.min_count,
                "periods": [
                    {"label": mark.label, "count": mark.count, "met": mark.met, "status": mark.status}
                    for mark in item.periods
                ],
            }
            for item in (row.items if row is not None else [])
        ],
    }


@extend_schema(tags=["党组织"])
class OrganizationCadenceViewSet(ScopedViewSet):
    """``/organizations/{id}/cadence/``: the organisation is found in the caller's study scope
    (dissolved ones included, for past years)."""

    scope_model = Organization
    scope_app_label = APP

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.restrict(self.request.user, self.scope_action, app_label=APP)

    @extend_schema(
        summary="组织生活开展情况",
        description="本组织某年度应开展的组织生活（党支部：主题党日、支部党员大会、党课、支委会、组织生活会、民主评议；"
        "党小组：党小组会；党委（党组、党工委）：中心组学习、书记讲党课），每个周期的开展次数和是否达标。"
        "已结束仍未达标为 missing；进行中的周期不算缺项。上级设置的频次规定覆盖默认要求。"
        "children=1 时另列每个直属下级组织。不在调用者范围内的组织返回404。",
        parameters=[CadenceQuerySerializer],
        responses={
            200: CadenceResultSerializer,
            400: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=True, methods=["get"], url_path="cadence")
    def cadence(self, request: Request, pk: str | None = None) -> Response:
        organization = self.get_object()
        query = CadenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        with_children = query.validated_data["children"]
        children = (
            list(cadence_children(user=request.user, organization=organization)) if with_children else []
        )
        rows = {
            row.organization.pk: row
            for row in cadence_for(user=request.user, organizations=[organization, *children], year=year)
        }
        data = cadence_data(organization, rows.get(organization.pk), year)
        if with_children:
            data["children"] = [cadence_data(child, rows.get(child.pk), year) for child in children]
        return Response(CadenceResultSerializer(data).data)
