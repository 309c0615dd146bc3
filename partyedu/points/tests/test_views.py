"""Pages: a permission class per URL, the member page's content and query counts pinned."""

from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.testing import OwnedEndpointTests, ScopedEndpointTests
from partyedu.points.models import PointsEntry, PointsItem
from partyedu.points.services import points_manual_record, scheme_create
from partyedu.testsupport.factories import make_member, make_user

from .conftest import at, items, mark, meeting, scheme

pytestmark = pytest.mark.django_db
THIS_YEAR = timezone.localdate().year


def this_year_scheme(org):
    return scheme_create(actor=None, organization=org, year=THIS_YEAR, base="60", items=items())


class TestIndexPage(ScopedEndpointTests):
    url_name = "points:index"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, f"党员{org.pk}")

    def url(self, obj):
        return f"/points/?organization={obj.organization_id}"

    def marker(self, obj):
        return obj.name


class TestMemberPage(ScopedEndpointTests):
    url_name = "points:member_detail"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, "甲")

    def url(self, obj):
        return f"/points/members/{obj.pk}/"


class TestManualPage(ScopedEndpointTests):
    url_name = "points:manual"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, "甲")

    def url(self, obj):
        return f"/points/members/{obj.pk}/manual/"


class TestSchemeList(ScopedEndpointTests):
    url_name = "points:scheme_list"
    kind = "list"

    def make_object(self, org):
        return this_year_scheme(org)

    def marker(self, obj):
        return obj.name


class TestSchemeCreate(ScopedEndpointTests):
    url_name = "points:scheme_create"
    kind = "create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return "/points/schemes/new/"


class TestSchemeEdit(ScopedEndpointTests):
    url_name = "points:scheme_edit"

    def make_object(self, org):
        return this_year_scheme(org)

    def url(self, obj):
        return f"/points/schemes/{obj.pk}/"


TestSchemeList.url = lambda self, obj: "/points/schemes/"  # type: ignore[method-assign]


class TestMyPoints(OwnedEndpointTests):
    url_name = "points:my"
    kind = "list"
    role = "member"

    def make_object(self, org):
        member = make_member(org, "甲")
        user = make_user(role="member", org=org)
        member.user = user
        member.save(update_fields=["user"])
        this_year_scheme(org)
        points_manual_record(actor=None, member=member, item="award", points="2", reason="带头志愿服务")
        self._owner = user
        return PointsEntry.objects.get(member=member)

    def owner(self, obj):
        return self._owner

    def url(self, obj):
        return "/points/my/"

    def marker(self, obj):
        return "带头志愿服务"

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Any) -> None:
        # 我的积分 is every signed-in user's own page: without a member record it says so.
        client.force_login(self.make_user())
        response = client.get("/points/my/")
        assert response.status_code == 200 and "没有关联党员档案" in response.content.decode()


def test_member_page_shows_total_items_and_sources(client, tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(f"/points/members/{member.pk}/?year=2025").content.decode()
    assert "62 分" in html and "参加三会一课" in html and "学习党章" in html


def test_index_query_count_does_not_grow_with_members(client, tree, django_assert_max_num_queries):
    scheme(tree.root)
    admin = make_user(role="org_admin", org=tree.root)
    client.force_login(admin)
    make_member(tree.branch_a, "甲")
    with django_assert_max_num_queries(20) as few:
        client.get(f"/points/?organization={tree.district_a.pk}&year=2025")
    for n in range(5):
        newcomer = make_member(tree.branch_a, f"乙{n}")
        mark(meeting(tree.branch_a, at(3, n + 1)), newcomer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/points/?organization={tree.district_a.pk}&year=2025")


def test_index_lists_by_name_and_shows_child_averages(client, tree):
    scheme(tree.root)
    make_member(tree.branch_a, "乙")
    make_member(tree.branch_a, "甲")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(f"/points/?organization={tree.district_a.pk}&year=2025").content.decode()
    assert "下级组织平均积分" in html and "甲一支部" in html
    assert html.count("points/members/") == 2


def test_index_shows_the_members_a_page_of_fifty_at_a_time(client, tree):
    for n in range(55):
        make_member(tree.branch_a, f"党员{n:02d}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    first = client.get(f"/points/?organization={tree.district_a.pk}").content.decode()
    second = client.get(f"/points/?organization={tree.district_a.pk}&page=2").content.decode()
    assert first.count("points/members/") == 50 and "第 1 / 2 页" in first
    assert second.count("points/members/") == 5


def test_manual_form_refuses_an_empty_reason(client, tree):
    member = make_member(tree.branch_a, "甲")
    this_year_scheme(tree.root)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    item = PointsItem.objects.get(code="award", scheme__year=THIS_YEAR)
    response = client.post(
        f"/points/members/{member.pk}/manual/", {"item": item.pk, "points": "2", "reason": ""}
    )
    assert response.status_code == 200 and "请填写加分或扣分的理由" in response.content.decode()
    assert not PointsEntry.objects.exists()
