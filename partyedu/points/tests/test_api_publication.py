"""API of publication, objections and the veto: a permission class per URL, the contract, and
bad input (400, Chinese, nothing written; the ledger equals a rebuild after each fault)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from partyedu.core.testing import ScopedEndpointTests
from partyedu.points.models import PointsEntry, PointsObjection, PointsPublication, PointsVeto
from partyedu.points.services import objection_raise, ranking_set, veto_record
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, mark, meeting
from .publishing import branch_with_points, member_with_account, publish
from .test_views_publication import objection_in, published

pytestmark = pytest.mark.django_db


class PostApiTests(ScopedEndpointTests):
    """An API action reached by POST with ``body(obj)``: a role at the organisation gets 200."""

    api = True
    role = "branch_admin"

    def body(self, obj: Any) -> dict[str, Any]:
        return {}

    def url(self, obj: Any) -> str:
        self._body = self.body(obj)
        return self.action_url(obj)

    def action_url(self, obj: Any) -> str:
        raise NotImplementedError

    def _get(self, client: Any, url: str) -> Any:
        return client.post(url, getattr(self, "_body", {}), content_type="application/json")


class TestPublicationListApi(ScopedEndpointTests):
    url_name = "api:points-publication-list"
    kind = "list"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return published(org)

    def url(self, obj):
        return "/api/v1/points/publications/"

    def listed(self, response, obj):
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestPublicationDetailApi(ScopedEndpointTests):
    url_name = "api:points-publication-detail"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return published(org)

    def url(self, obj):
        return f"/api/v1/points/publications/{obj.pk}/"


class TestPublicationWithdrawApi(PostApiTests):
    url_name = "api:points-publication-withdraw"

    def make_object(self, org):
        return published(org)

    def body(self, obj):
        return {"reason": "名单有误"}

    def action_url(self, obj):
        return f"/api/v1/points/publications/{obj.pk}/withdraw/"


class TestObjectionListApi(ScopedEndpointTests):
    url_name = "api:points-objection-list"
    kind = "list"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return objection_in(org)

    def url(self, obj):
        return "/api/v1/points/objections/"

    def listed(self, response, obj):
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestObjectionDetailApi(ScopedEndpointTests):
    url_name = "api:points-objection-detail"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return objection_in(org)

    def url(self, obj):
        return f"/api/v1/points/objections/{obj.pk}/"


class TestObjectionAnswerApi(PostApiTests):
    url_name = "api:points-objection-answer"

    def make_object(self, org):
        return objection_in(org)

    def body(self, obj):
        return {"decision": "rejected", "answer": "签到表显示缺席"}

    def action_url(self, obj):
        return f"/api/v1/points/objections/{obj.pk}/answer/"


class TestVetoListApi(ScopedEndpointTests):
    url_name = "api:points-veto-list"
    kind = "list"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return veto_record(
            actor=None, member=make_member(org, "甲"), year=YEAR, category="other", reason="其他"
        )

    def url(self, obj):
        return "/api/v1/points/vetoes/"

    def listed(self, response, obj):
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestVetoDetailApi(ScopedEndpointTests):
    url_name = "api:points-veto-detail"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return veto_record(
            actor=None, member=make_member(org, "甲"), year=YEAR, category="other", reason="其他"
        )

    def url(self, obj):
        return f"/api/v1/points/vetoes/{obj.pk}/"


class TestVetoLiftApi(PostApiTests):
    url_name = "api:points-veto-lift"

    def make_object(self, org):
        return veto_record(
            actor=None, member=make_member(org, "甲"), year=YEAR, category="other", reason="其他"
        )

    def body(self, obj):
        return {"reason": "处分撤销"}

    def action_url(self, obj):
        return f"/api/v1/points/vetoes/{obj.pk}/lift/"


# --- publication ----------------------------------------------------------------------------------


def test_post_publication_publishes_and_a_duplicate_is_400(tree):
    branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    body = {"organization": tree.branch_a.pk, "year": YEAR, "period": "h1"}
    response = client.post("/api/v1/points/publications/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["ends_on"] > response.json()["starts_on"]  # 7 days by default
    again = client.post("/api/v1/points/publications/", body, format="json")
    assert again.status_code == 400 and "正在公示" in str(again.json())
    assert PointsPublication.objects.count() == 1


@pytest.mark.parametrize("extra", [{"days": 0}, {"days": 31}, {"period": "q3"}])
def test_post_publication_with_bad_input_is_400_and_writes_nothing(tree, extra):
    branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    body = {"organization": tree.branch_a.pk, "year": YEAR, "period": "h1", **extra}
    assert client.post("/api/v1/points/publications/", body, format="json").status_code == 400
    assert not PointsPublication.objects.exists()


def test_post_publication_for_another_branch_is_400(tree):
    branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_b))
    body = {"organization": tree.branch_a.pk, "year": YEAR, "period": "h1"}
    response = client.post("/api/v1/points/publications/", body, format="json")
    assert response.status_code == 400 and "不在您的权限范围内" in str(response.json())


def test_a_member_reads_the_publication_with_ranks_only_when_on(tree):
    member, user, _line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    client = api_client(user)
    body = client.get(f"/api/v1/points/publications/{publication.pk}/").json()
    (row,) = body["rows"]
    assert row["member"] == member.pk and Decimal(row["total"]) == Decimal("61")
    assert row["rank"] is None and row["corrected"] is False and body["ranking"] is False
    ranking_set(actor=None, organization=tree.branch_a, enabled=True)
    assert client.get(f"/api/v1/points/publications/{publication.pk}/").json()["rows"][0]["rank"] == 1


# --- objections -----------------------------------------------------------------------------------


def test_member_raises_an_objection_and_the_secretary_upholds_it(tree):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    body = {"publication": publication.pk, "entry": line.pk, "item": "absence", "reason": "请过假"}
    response = api_client(user).post("/api/v1/points/objections/", body, format="json")
    assert response.status_code == 201, response.json()
    objection_id = response.json()["id"]
    secretary = api_client(make_user(role="branch_admin", org=tree.branch_a))
    answer = {"decision": "upheld", "answer": "已核实请假", "points": "1"}
    answered = secretary.post(f"/api/v1/points/objections/{objection_id}/answer/", answer, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "upheld"
    assert PointsEntry.objects.filter(member=member, source_type="objection", points=Decimal("1")).exists()
    assert_ledger_equals_rebuild()


def test_an_objection_on_another_members_entry_is_404_and_writes_nothing(tree):
    _member, user, _line = branch_with_points(tree)
    other = make_member(tree.branch_a, "乙")
    mark(meeting(tree.branch_a, at(2)), other, "absent")
    publication = publish(tree.branch_a)
    others_line = PointsEntry.objects.get(member=other)
    body = {"publication": publication.pk, "entry": others_line.pk, "item": "absence", "reason": "不对"}
    response = api_client(user).post("/api/v1/points/objections/", body, format="json")
    assert response.status_code == 404 and "不存在" in str(response.json())
    assert not PointsObjection.objects.exists()
    assert_ledger_equals_rebuild()


def test_an_objection_to_a_publication_of_another_branch_is_404(tree):
    branch_with_points(tree)
    publication = publish(tree.branch_a)
    _stranger, user = member_with_account(tree.branch_b, "乙")
    body = {"publication": publication.pk, "item": "award", "reason": "漏记"}
    assert api_client(user).post("/api/v1/points/objections/", body, format="json").status_code == 404


@pytest.mark.parametrize("extra", [{"reason": ""}, {"item": "nonexistent"}])
def test_an_objection_with_bad_input_is_400_and_writes_nothing(tree, extra):
    _member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    body = {"publication": publication.pk, "entry": line.pk, "item": "absence", "reason": "请过假", **extra}
    response = api_client(user).post("/api/v1/points/objections/", body, format="json")
    assert response.status_code == 400 and any("\u4e00" <= c <= "\u9fff" for c in str(response.json()))
    assert not PointsObjection.objects.exists()
    assert_ledger_equals_rebuild()


def test_a_member_cannot_answer_and_a_rejection_needs_a_reason(tree):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    objection = objection_raise(
        actor=user, publication=publication, member=member, item=line.item_id, reason="x", entry=line
    )
    url = f"/api/v1/points/objections/{objection.pk}/answer/"
    assert (
        api_client(user)
        .post(url, {"decision": "upheld", "answer": "y", "points": "9"}, format="json")
        .status_code
        == 403
    )
    secretary = api_client(make_user(role="branch_admin", org=tree.branch_a))
    response = secretary.post(url, {"decision": "rejected", "answer": ""}, format="json")
    assert response.status_code == 400 and "不成立的理由" in str(response.json())
    objection.refresh_from_db()
    assert objection.status == "open"
    assert_ledger_equals_rebuild()


def test_a_member_lists_only_their_own_objections(tree):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    own = objection_raise(
        actor=user, publication=publication, member=member, item=line.item_id, reason="x", entry=line
    )
    other, other_user = member_with_account(tree.branch_a, "乙")
    publication_b = publish(tree.branch_a, "year")
    objection_raise(actor=other_user, publication=publication_b, member=other, item="award", reason="漏记")
    ids = [r["id"] for r in api_client(user).get("/api/v1/points/objections/").json()["results"]]
    assert ids == [own.pk]


# --- veto -----------------------------------------------------------------------------------------


def test_veto_through_the_api_sets_the_member_points_to_zero(tree):
    member, _user, _line = branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    body = {"member": member.pk, "year": YEAR, "category": "discipline", "reason": "受到党内严重警告处分"}
    assert client.post("/api/v1/points/vetoes/", body, format="json").status_code == 201
    points = client.get(f"/api/v1/members/{member.pk}/points/?year={YEAR}").json()
    assert points["vetoed"] is True and Decimal(points["total"]) == Decimal("0")
    assert points["veto_reason"] == "受到党内严重警告处分" and len(points["entries"]) == 2
    again = client.post("/api/v1/points/vetoes/", body, format="json")
    assert again.status_code == 400 and "已有一票否决记录" in str(again.json())
    assert PointsVeto.objects.count() == 1
    assert_ledger_equals_rebuild()


def test_member_points_api_says_not_vetoed_by_default(tree):
    member, user, _line = branch_with_points(tree)
    points = api_client(user).get(f"/api/v1/members/{member.pk}/points/?year={YEAR}").json()
    assert points["vetoed"] is False and points["veto_reason"] == ""


def test_veto_of_a_member_outside_scope_is_404(tree):
    member, _user, _line = branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_b))
    body = {"member": member.pk, "year": YEAR, "category": "crime", "reason": "违法"}
    assert client.post("/api/v1/points/vetoes/", body, format="json").status_code == 404
    assert not PointsVeto.objects.exists()


def test_veto_with_a_bad_category_is_400(tree):
    member, _user, _line = branch_with_points(tree)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    body = {"member": member.pk, "year": YEAR, "category": "late", "reason": "迟到"}
    response = client.post("/api/v1/points/vetoes/", body, format="json")
    assert response.status_code == 400 and "否决情形" in str(response.json())
