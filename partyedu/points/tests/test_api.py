"""The API contract of issue 14 for points, with a permission class per URL."""

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.api.serializers import plain_data
from partyedu.core.testing import ScopedEndpointTests
from partyedu.points import selectors
from partyedu.points.api.serializers import MemberPointsSerializer
from partyedu.points.models import PointsEntry
from partyedu.points.services import scheme_create, veto_record
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .conftest import (
    assert_ledger_equals_rebuild,
    at,
    items,
    mark,
    meeting,
    member_moved_between_schemes,
    scheme,
)

pytestmark = pytest.mark.django_db
THIS_YEAR = timezone.localdate().year


def payload(org, **extra):
    return {"organization": org.pk, "year": THIS_YEAR, "base": "60", "items": items(), **extra}


class TestSchemeListApi(ScopedEndpointTests):
    url_name = "api:points-scheme-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return scheme_create(actor=None, organization=org, year=THIS_YEAR, base="60", items=items())

    def url(self, obj):
        return "/api/v1/points/schemes/"

    def listed(self, response, obj):
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestSchemeDetailApi(ScopedEndpointTests):
    url_name = "api:points-scheme-detail"
    api = True

    def make_object(self, org):
        return scheme_create(actor=None, organization=org, year=THIS_YEAR, base="60", items=items())

    def url(self, obj):
        return f"/api/v1/points/schemes/{obj.pk}/"


class TestMemberPointsApi(ScopedEndpointTests):
    url_name = "api:member-points"
    api = True

    def make_object(self, org):
        return make_member(org, "甲")

    def url(self, obj):
        return f"/api/v1/members/{obj.pk}/points/?year=2025"


class TestManualApi(ScopedEndpointTests):
    url_name = "api:points-manual"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        member = make_member(org, "甲")
        scheme_create(actor=None, organization=org, year=THIS_YEAR, base="60", items=items())
        return member

    def url(self, obj):
        return "/api/v1/points/manual/"

    def _get(self, client: Any, url: str) -> Any:
        body = {"member": self._member.pk, "item": "award", "points": "2", "reason": "带头参加志愿服务"}
        return client.post(url, body, content_type="application/json")

    def make_object_and_remember(self, org):
        self._member = self.make_object(org)
        return self._member

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        self._member = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        assert self._get(client, self.url(self._member)).status_code == 201

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Any) -> None:
        self._member = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_b))
        assert self._get(client, self.url(self._member)).status_code == 404

    def test_anonymous_is_refused(self, client: Any, scope_tree: Any) -> None:
        self._member = self.make_object(scope_tree.branch_a)
        assert self._get(client, self.url(self._member)).status_code in (401, 403)

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Any) -> None:
        self._member = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user())
        assert self._get(client, self.url(self._member)).status_code == 403


def test_post_scheme_creates_it(tree):
    admin = make_user(role="org_admin", org=tree.root)
    response = api_client(admin).post("/api/v1/points/schemes/", payload(tree.root), format="json")
    assert response.status_code == 201, response.json()
    assert [i["code"] for i in response.json()["items"]] == ["meetings", "absence", "award", "penalty"]


def test_post_scheme_refuses_an_online_time_source_with_400(tree):
    admin = make_user(role="org_admin", org=tree.root)
    bad = {
        "code": "time",
        "name": "学习",
        "kind": "earn",
        "source": "online_time",
        "points": "1",
        "cap_period": "year",
    }
    response = api_client(admin).post(
        "/api/v1/points/schemes/", payload(tree.root, items=[bad]), format="json"
    )
    assert response.status_code == 400
    assert "在线时长" in str(response.json())


def test_get_member_points_follows_the_contract(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    body = api_client(admin).get(f"/api/v1/members/{member.pk}/points/?year=2025").json()
    assert Decimal(body["total"]) == Decimal("62") and Decimal(body["base"]) == Decimal("60")
    meetings = next(i for i in body["by_item"] if i["code"] == "meetings")
    assert set(meetings) >= {"code", "points", "cap", "capped"}
    assert set(body["entries"][0]) >= {"points", "item", "source", "created_at"}


def test_post_manual_without_reason_is_400_and_writes_nothing(tree):
    member = make_member(tree.branch_a, "甲")
    scheme_create(actor=None, organization=tree.root, year=THIS_YEAR, base="60", items=items())
    admin = make_user(role="branch_admin", org=tree.branch_a)
    body = {"member": member.pk, "item": "award", "points": "2", "reason": ""}
    response = api_client(admin).post("/api/v1/points/manual/", body, format="json")
    assert response.status_code == 400 and "理由" in str(response.json())
    assert not PointsEntry.objects.exists()
    assert_ledger_equals_rebuild()


def test_post_manual_deduction_from_an_earn_item_is_400(tree):
    member = make_member(tree.branch_a, "甲")
    scheme_create(actor=None, organization=tree.root, year=THIS_YEAR, base="60", items=items())
    admin = make_user(role="branch_admin", org=tree.branch_a)
    body = {"member": member.pk, "item": "meetings", "points": "2", "reason": "迟到"}
    assert api_client(admin).post("/api/v1/points/manual/", body, format="json").status_code == 400


def test_member_sees_own_points_and_not_anothers(tree):
    own = make_member(tree.branch_a, "甲")
    other = make_member(tree.branch_a, "乙")
    user = make_user(role="member", org=tree.branch_a)
    own.user = user
    own.save(update_fields=["user"])
    client = api_client(user)
    assert client.get(f"/api/v1/members/{own.pk}/points/").status_code == 200
    assert client.get(f"/api/v1/members/{other.pk}/points/").status_code == 404


def test_get_member_points_makes_five_queries_whatever_the_lines(tree, django_assert_num_queries):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    for month in (2, 3, 4):
        mark(meeting(tree.branch_a, at(month)), member)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    client = api_client(admin)
    # token, role grants, the member with the ids of their veto and scheme in force, the scheme's
    # items (from memory outside a transaction once read: test_points_brief.py), the lines
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/members/{member.pk}/points/?year=2025")
    assert len(response.json()["entries"]) == 3


def test_get_member_points_shows_lines_of_the_scheme_the_member_left(tree):
    member = member_moved_between_schemes(tree)
    admin = make_user(role="org_admin", org=tree.root)
    body = api_client(admin).get(f"/api/v1/members/{member.pk}/points/?year=2025").json()
    codes = {i["code"] for i in body["by_item"]}
    assert {"meetings", "district-meetings"} <= codes


def test_member_points_answer_equals_the_serializers(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    for day in (3, 5, 7):  # the third passes the month's cap
        mark(meeting(tree.branch_a, at(3, day)), member)
    veto_record(actor=None, member=member, year=2025, category="discipline", reason="受到党内警告处分")
    admin = make_user(role="org_admin", org=tree.root)
    result = selectors.member_points(user=admin, member=member, year=2025)
    assert plain_data(MemberPointsSerializer, result) == MemberPointsSerializer(result).data
