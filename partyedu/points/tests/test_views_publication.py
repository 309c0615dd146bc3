"""Pages of publication, objections, the veto and the ranking switch: a permission class per URL,
the flows a member (phone) and a secretary go through, and the query counts of the lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from partyedu.core.testing import OwnedEndpointTests, ScopedEndpointTests
from partyedu.points.models import PointsEntry, PointsObjection, PointsVeto
from partyedu.points.services import objection_raise, ranking_set, veto_record
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, mark, meeting, scheme
from .publishing import branch_with_points, member_with_account, publish

pytestmark = pytest.mark.django_db


def published(org: Any) -> Any:
    scheme(org)
    member, _user = member_with_account(org, "甲")
    mark(meeting(org, at(3)), member, "absent")
    return publish(org)


def objection_in(org: Any) -> PointsObjection:
    scheme(org)
    member, user = member_with_account(org, "甲")
    mark(meeting(org, at(3)), member, "absent")
    publication = publish(org)
    line = PointsEntry.objects.get(member=member)
    return objection_raise(
        actor=user, publication=publication, member=member, item=line.item_id, reason="那天请了假", entry=line
    )


# --- a permission class per URL -------------------------------------------------------------------


class TestPublicationListPage(ScopedEndpointTests):
    url_name = "points:publication_list"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return published(org)

    def url(self, obj):
        return "/points/publications/"

    def marker(self, obj):
        return f"{obj.organization.name} · {obj}"


class TestPublicationCreatePage(ScopedEndpointTests):
    url_name = "points:publication_create"
    kind = "create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return "/points/publications/new/"


class TestPublicationDetailPage(ScopedEndpointTests):
    url_name = "points:publication_detail"
    role = "branch_admin"

    def make_object(self, org):
        return published(org)

    def url(self, obj):
        return f"/points/publications/{obj.pk}/"


class TestPublicationWithdrawPage(ScopedEndpointTests):
    url_name = "points:publication_withdraw"
    role = "branch_admin"

    def make_object(self, org):
        return published(org)

    def url(self, obj):
        return f"/points/publications/{obj.pk}/withdraw/"


class TestObjectionCreatePage(OwnedEndpointTests):
    """A member objects to their own figures; a member elsewhere does not find the publication."""

    url_name = "points:objection_create"
    role = "member"

    def make_object(self, org):
        scheme(org)
        _member, user = member_with_account(org, "甲")
        self._owner = user
        return publish(org)

    def owner(self, obj):
        return self._owner

    def url(self, obj):
        return f"/points/publications/{obj.pk}/objection/"


class TestObjectionListPage(ScopedEndpointTests):
    url_name = "points:objection_list"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return objection_in(org)

    def url(self, obj):
        return "/points/objections/"

    def marker(self, obj):
        return obj.reason


class TestObjectionDetailPage(ScopedEndpointTests):
    url_name = "points:objection_detail"
    role = "branch_admin"

    def make_object(self, org):
        return objection_in(org)

    def url(self, obj):
        return f"/points/objections/{obj.pk}/"


class TestVetoCreatePage(ScopedEndpointTests):
    url_name = "points:veto_create"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, "甲")

    def url(self, obj):
        return f"/points/members/{obj.pk}/veto/"


class TestVetoLiftPage(ScopedEndpointTests):
    url_name = "points:veto_lift"
    role = "branch_admin"

    def make_object(self, org):
        return veto_record(
            actor=None, member=make_member(org, "甲"), year=YEAR, category="discipline", reason="违纪"
        )

    def url(self, obj):
        return f"/points/vetoes/{obj.pk}/lift/"


class TestRankingPage(ScopedEndpointTests):
    url_name = "points:ranking"
    kind = "list"
    role = "org_admin"

    def make_object(self, org):
        return ranking_set(actor=None, organization=org, enabled=True)

    def url(self, obj):
        return "/points/ranking/"

    def marker(self, obj):
        return f'value="{obj.organization_id}"'


# --- the member on a phone ------------------------------------------------------------------------


def test_member_reads_the_publication_by_name_with_their_own_row(client, tree):
    _member, user, _line = branch_with_points(tree)
    make_member(tree.branch_a, "乙")
    publication = publish(tree.branch_a)
    client.force_login(user)
    html = client.get(f"/points/publications/{publication.pk}/").content.decode()
    assert html.count('data-testid="publication-row"') == 2 and 'data-testid="own-row"' in html
    assert "按姓名排列，不排名" in html and 'data-testid="rank"' not in html
    assert html.index('<span class="fs-5">乙') < html.index('<span class="fs-5">甲')  # by name


def test_a_member_of_another_branch_does_not_find_the_publication(client, tree):
    branch_with_points(tree)
    publication = publish(tree.branch_a)
    _other, stranger = member_with_account(tree.branch_b, "乙")
    client.force_login(stranger)
    assert client.get(f"/points/publications/{publication.pk}/").status_code == 404
    assert "甲一支部" not in client.get("/points/publications/").content.decode()


def test_my_points_links_the_running_publication(client, tree):
    _member, user, _line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    client.force_login(user)
    html = client.get(f"/points/my/?year={YEAR}").content.decode()
    assert f"/points/publications/{publication.pk}/" in html


def test_objection_raised_on_a_phone_and_upheld_by_the_secretary(client, tree):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    client.force_login(user)
    response = client.post(
        f"/points/publications/{publication.pk}/objection/",
        {"entry": line.pk, "item": "", "reason": "请过假"},
    )
    objection = PointsObjection.objects.get()
    assert response.status_code == 302 and objection.item_id == line.item_id
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    client.force_login(secretary)
    client.post(
        f"/points/objections/{objection.pk}/", {"decision": "upheld", "points": "1", "answer": "核实已请假"}
    )
    objection.refresh_from_db()
    assert objection.status == "upheld"
    net = PointsEntry.objects.filter(member=member, item__code="absence").aggregate(s=Sum("points"))["s"]
    assert net == Decimal("0")
    html = client.get(f"/points/publications/{publication.pk}/").content.decode()
    assert 'data-testid="corrected"' in html and "现为 62 分" in html
    client.force_login(user)
    assert "核实已请假" in client.get(f"/points/objections/{objection.pk}/").content.decode()
    assert_ledger_equals_rebuild()


def test_objection_form_refuses_an_empty_reason_and_writes_nothing(client, tree):
    _member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    client.force_login(user)
    response = client.post(
        f"/points/publications/{publication.pk}/objection/", {"entry": line.pk, "reason": ""}
    )
    assert response.status_code == 200 and "请写明异议理由" in response.content.decode()
    assert not PointsObjection.objects.exists()
    assert_ledger_equals_rebuild()


def test_a_rejection_without_a_reason_is_shown_on_the_answer_form(client, tree):
    objection = objection_in(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(f"/points/objections/{objection.pk}/", {"decision": "rejected", "answer": ""})
    assert response.status_code == 200 and "请填写答复" in response.content.decode()
    objection.refresh_from_db()
    assert objection.status == "open"


def test_a_member_cannot_answer_their_own_objection(client, tree):
    _member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    objection = objection_raise(
        actor=user, publication=publication, member=line.member, item=line.item_id, reason="x", entry=line
    )
    client.force_login(user)
    response = client.post(
        f"/points/objections/{objection.pk}/", {"decision": "upheld", "points": "5", "answer": "我说了算"}
    )
    assert response.status_code == 404
    objection.refresh_from_db()
    assert objection.status == "open"


# --- secretary and org_admin ----------------------------------------------------------------------


def test_publish_through_the_form(client, tree):
    branch_with_points(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(
        "/points/publications/new/",
        {"organization": tree.branch_a.pk, "year": YEAR, "period": "year", "days": "7", "note": ""},
    )
    assert response.status_code == 302
    assert "积分正在公示" not in client.get(response["Location"]).content.decode()
    again = client.post(
        "/points/publications/new/",
        {"organization": tree.branch_a.pk, "year": YEAR, "period": "year", "days": "7", "note": ""},
    )
    assert "正在公示" in again.content.decode()


def test_withdraw_through_the_confirm_page(client, tree):
    publication = published(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    client.post(f"/points/publications/{publication.pk}/withdraw/", {"reason": "名单有误"})
    publication.refresh_from_db()
    assert publication.withdraw_reason == "名单有误"


def test_the_member_page_shows_the_veto_and_it_is_lifted_there(client, tree):
    member, _user, _line = branch_with_points(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    client.post(
        f"/points/members/{member.pk}/veto/", {"year": YEAR, "category": "crime", "reason": "违法被判刑"}
    )
    html = client.get(f"/points/members/{member.pk}/?year={YEAR}").content.decode()
    assert "一票否决：违法被判刑" in html and "0 分" in html
    veto = PointsVeto.objects.get()
    client.post(f"/points/vetoes/{veto.pk}/lift/", {"reason": "判决撤销"})
    assert "61 分" in client.get(f"/points/members/{member.pk}/?year={YEAR}").content.decode()


def test_the_veto_form_refuses_an_empty_reason(client, tree):
    member, _user, _line = branch_with_points(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(
        f"/points/members/{member.pk}/veto/", {"year": YEAR, "category": "crime", "reason": ""}
    )
    assert "请填写否决理由" in response.content.decode() and not PointsVeto.objects.exists()


def test_a_branch_secretary_does_not_reach_the_ranking_switch(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get("/points/ranking/").status_code == 403


def test_the_org_admin_turns_ranking_on_and_the_branch_list_shows_ranks(client, tree):
    branch_with_points(tree)
    admin = make_user(role="org_admin", org=tree.root)
    client.force_login(admin)
    client.post("/points/ranking/", {"organization": tree.branch_a.pk, "enabled": "1"})
    branch = client.get(f"/points/?organization={tree.branch_a.pk}&year={YEAR}").content.decode()
    district = client.get(f"/points/?organization={tree.district_a.pk}&year={YEAR}").content.decode()
    assert 'data-testid="rank"' in branch and "支部内名次" in branch
    assert 'data-testid="rank"' not in district  # never on a list of several branches


def test_the_publication_shows_ranks_only_where_the_branch_turned_them_on(client, tree):
    _member, user, _line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    client.force_login(user)
    assert 'data-testid="rank"' not in client.get(f"/points/publications/{publication.pk}/").content.decode()
    ranking_set(actor=None, organization=tree.branch_a, enabled=True)
    assert "第1名" in client.get(f"/points/publications/{publication.pk}/").content.decode()


def test_the_index_shows_the_bands_per_child_organisation(client, tree):
    branch_with_points(tree)
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(f"/points/?organization={tree.root.pk}&year={YEAR}").content.decode()
    assert 'data-testid="points-distribution"' in html and "60–69分" in html and "90分及以上" in html


# --- query counts ---------------------------------------------------------------------------------


def _grow_branch(tree: Any, n: int) -> None:
    for i in range(n):
        newcomer = make_member(tree.branch_a, f"乙{i}")
        mark(meeting(tree.branch_a, at(3, i + 1)), newcomer)


def test_publication_page_query_count_does_not_grow_with_rows(client, tree, django_assert_max_num_queries):
    branch_with_points(tree)
    ranking_set(actor=None, organization=tree.branch_a, enabled=True)
    small = publish(tree.branch_a, "h1")
    _grow_branch(tree, 5)
    large = publish(tree.branch_a, "year")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    with django_assert_max_num_queries(30) as few:
        client.get(f"/points/publications/{small.pk}/")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/points/publications/{large.pk}/").status_code == 200


def test_publication_list_query_count_does_not_grow(client, tree, django_assert_max_num_queries):
    branch_with_points(tree)
    publish(tree.branch_a, "h1")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    with django_assert_max_num_queries(30) as few:
        client.get("/points/publications/")
    publish(tree.branch_a, "year")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/points/publications/").content.decode().count('class="list-group-item py-3"') == 2


def test_objection_list_query_count_does_not_grow(client, tree, django_assert_max_num_queries):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    objection_raise(
        actor=user, publication=publication, member=member, item=line.item_id, reason="a", entry=line
    )
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    with django_assert_max_num_queries(30) as few:
        client.get("/points/objections/")
    objection_raise(actor=user, publication=publication, member=member, item="award", reason="漏记志愿服务")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "漏记志愿服务" in client.get("/points/objections/").content.decode()


def test_index_query_count_with_ranking_on_does_not_grow(client, tree, django_assert_max_num_queries):
    branch_with_points(tree)
    ranking_set(actor=None, organization=tree.branch_a, enabled=True)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    with django_assert_max_num_queries(30) as few:
        client.get(f"/points/?organization={tree.branch_a.pk}&year={YEAR}")
    _grow_branch(tree, 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/points/?organization={tree.branch_a.pk}&year={YEAR}")
