"""The site search (brief H7): one box finds members, organisations, activities, lectures and
online resources, each kind within what the user may see of it (``restrict(user, "view")`` of its
app), never a row outside the scope, never by or with an ID number or phone; a query costs one or
two statements per kind, however many rows match."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.search import GROUP_LIMIT, KIND_ORDER, search_sources, site_search
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.models import OnlineResource
from partyedu.lectures.services import lecture_record, lecturer_create
from partyedu.organizations.services import organization_create
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def search_url(q: str, **extra: str) -> str:
    from urllib.parse import urlencode

    return f"{reverse('core:search')}?{urlencode({'q': q, **extra})}"


def activity(org: Any, topic: str, activity_type: str = "theme_day") -> Any:
    start = datetime(2025, 3, 10, 14, tzinfo=TZ) + timedelta(days=next(_n))
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": topic,
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )


def lecture(org: Any, title: str) -> Any:
    speaker = lecturer_create(
        actor=None, data={"organization": org, "name": f"外请讲师{next(_n)}", "category": "party_school"}
    )
    return lecture_record(
        actor=None,
        activity=activity(org, f"党课{next(_n)}", "party_lecture"),
        data={"title": title, "lecturers": [speaker.pk]},
    )


def resource(org: Any, title: str, *, published: bool = True) -> OnlineResource:
    return OnlineResource.objects.create(
        organization=org,
        title=title,
        kind="article",
        body="正文",
        duration_seconds=600,
        is_published=published,
        published_at=timezone.now() if published else None,
    )


def link(member: Any, role: str = "member") -> Any:
    user = make_user(role=role, org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def groups_of(user: Any, q: str) -> dict[str, list[str]]:
    return {g.kind: [h.title for h in g.hits] for g in site_search(user, q)}


@pytest.fixture
def city(tree: Tree) -> dict[str, Any]:
    """Each kind twice, "建国" in every title: once in 甲区 (district_a) and once in 乙区."""
    return {
        "member_a": make_member(tree.branch_a, "王建国"),
        "member_b": make_member(tree.branch_b, "李建国"),
        "org_a": organization_create(
            actor=None,
            parent=tree.district_a,
            name="建国路社区党支部",
            code="JG-A",
            level="branch",
            org_type="community",
        ),
        "org_b": organization_create(
            actor=None,
            parent=tree.district_b,
            name="建国门社区党支部",
            code="JG-B",
            level="branch",
            org_type="community",
        ),
        "activity_a": activity(tree.branch_a, "纪念建国学习会（甲）"),
        "activity_b": activity(tree.branch_b, "纪念建国学习会（乙）"),
        "lecture_a": lecture(tree.branch_a, "建国以来的党建（甲）"),
        "lecture_b": lecture(tree.branch_b, "建国以来的党建（乙）"),
        "resource_a": resource(tree.district_a, "建国史（甲）"),
        "resource_b": resource(tree.district_b, "建国史（乙）"),
    }


class TestSearchScope(ScopedEndpointTests):
    """A member of another district is never found; no role → 403 (nothing to search)."""

    url_name = "core:search"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return make_member(org, "搜索标记人")

    def url(self, obj: Any) -> str:
        return search_url(obj.name)

    def marker(self, obj: Any) -> str:
        return reverse("members:detail", args=[obj.pk])


# --- within scope, never out of it ----------------------------------------------------------------


def test_an_organisation_admin_finds_every_kind_in_their_district_only(
    tree: Tree, city: dict[str, Any]
) -> None:
    """Brief H7 site search: each kind through restrict(user, "view") of its app."""
    admin = make_user(role="org_admin", org=tree.district_a)
    assert groups_of(admin, "建国") == {
        "members": ["王建国"],
        "organizations": ["建国路社区党支部"],
        "activities": ["纪念建国学习会（甲）"],
        "lectures": ["建国以来的党建（甲）"],
        "resources": ["建国史（甲）"],
    }


def test_a_branch_secretary_does_not_find_an_activity_of_another_branch(
    tree: Tree, city: dict[str, Any]
) -> None:
    secretary = make_user(role="branch_admin", org=tree.branch_b)
    found = groups_of(secretary, "纪念建国")
    assert found["activities"] == ["纪念建国学习会（乙）"]


def test_kinds_come_in_the_declared_order(tree: Tree) -> None:
    admin = make_user(role="org_admin", org=tree.district_a)
    assert [s.kind for s in search_sources(admin)] == list(KIND_ORDER)


def test_a_plain_member_finds_only_what_they_may_see(tree: Tree, city: dict[str, Any]) -> None:
    """A 党员 sees their own record, the activities they were expected at, resources published to
    them and lectures they attended — nothing of the organisation tree."""
    user = link(city["member_a"])
    make_member(tree.branch_a, "赵建国")  # a fellow member of the same branch: not theirs to see
    found = groups_of(user, "建国")
    assert found == {
        "members": ["王建国"],
        "activities": ["纪念建国学习会（甲）"],
        "lectures": ["建国以来的党建（甲）"],
        "resources": ["建国史（甲）"],
    }


def test_a_plain_member_does_not_find_a_draft_resource_of_their_own_branch(tree: Tree) -> None:
    member = make_member(tree.branch_a, "王建国")
    resource(tree.branch_a, "建国史草稿", published=False)
    assert groups_of(link(member), "建国史")["resources"] == []


def test_a_member_finds_their_own_activities_with_their_mark_and_no_page_to_open(
    tree: Tree, city: dict[str, Any]
) -> None:
    user = link(city["member_a"])
    group = next(g for g in site_search(user, "纪念建国") if g.kind == "activities")
    hit = group.hits[0]
    assert (hit.url, hit.badge) == ("", "未登记")
    assert group.label == "我的活动"


def test_an_auditor_has_nothing_to_search(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    assert client.get(search_url("建国")).status_code == 403


# --- what is searched and shown -------------------------------------------------------------------


def test_a_member_is_found_by_pinyin_initials(tree: Tree, city: dict[str, Any]) -> None:
    admin = make_user(role="org_admin", org=tree.district_a)
    assert groups_of(admin, "wjg")["members"] == ["王建国"]


def test_a_member_is_never_found_by_id_number(tree: Tree, city: dict[str, Any]) -> None:
    """DOMAIN_RULES 个人信息: 身份证号 is sensitive (PIPL 第二十八条); the site search never matches it."""
    admin = make_user(role="org_admin", org=tree.district_a, pii=True)
    assert groups_of(admin, city["member_a"].id_number)["members"] == []


def test_results_never_show_an_id_number_or_a_phone(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王建国", phone="13812345678")
    client.force_login(make_user(role="org_admin", org=tree.district_a, pii=True))
    html = client.get(search_url("王建国")).content.decode()
    assert "王建国" in html
    for shown in (member.id_number, member.id_number_masked, "13812345678", member.phone_masked):
        assert shown not in html


def test_a_query_shorter_than_two_characters_asks_for_more(
    client: Any, tree: Tree, city: dict[str, Any]
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(search_url("王"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "请至少输入 2 个字" in html
    assert "王建国" not in html


def test_each_kind_shows_its_first_ten_with_its_count(client: Any, tree: Tree) -> None:
    for i in range(GROUP_LIMIT + 2):
        make_member(tree.branch_a, f"张建国{i:02d}")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(search_url("张建国"))
    members = next(g for g in response.context["groups"] if g.kind == "members")
    assert (members.count, len(members.hits)) == (GROUP_LIMIT + 2, GROUP_LIMIT)
    assert "查看全部 12 条" in response.content.decode()


def test_see_all_links_to_each_list_page_with_its_own_filter(tree: Tree, city: dict[str, Any]) -> None:
    admin = make_user(role="org_admin", org=tree.district_a)
    links = {g.kind: g.more_url for g in site_search(admin, "建国")}
    assert links["members"] == reverse("members:list") + "?q=%E5%BB%BA%E5%9B%BD"
    assert links["organizations"] == reverse("organizations:tree") + "?q=%E5%BB%BA%E5%9B%BD"
    assert links["activities"] == reverse("study:activity_list") + "?q=%E5%BB%BA%E5%9B%BD"
    assert links["lectures"] == reverse("lectures:lecture_list") + "?q=%E5%BB%BA%E5%9B%BD"
    # The resource list has no text filter: the search page lists every match of the kind.
    assert links["resources"] == search_url("建国", kind="resources")


def test_the_list_pages_behind_see_all_filter_by_the_query(
    client: Any, tree: Tree, city: dict[str, Any]
) -> None:
    admin = make_user(role="org_admin", org=tree.district_a)
    client.force_login(admin)
    for group in site_search(admin, "建国"):
        html = client.get(group.more_url).content.decode()
        assert group.hits[0].title in html, group.kind


def test_one_kind_is_listed_page_by_page(client: Any, tree: Tree) -> None:
    for i in range(25):
        resource(tree.district_a, f"建国史第{i:02d}讲")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(search_url("建国史", kind="resources"))
    assert response.status_code == 200
    assert len(response.context["hits"]) == 20
    assert response.context["page_obj"].has_next()


def test_the_navbar_offers_the_search_box_and_the_phone_icon(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="nav-search"' in html
    assert 'data-testid="nav-search-icon"' in html


def test_the_navbar_has_no_search_box_for_an_auditor(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    assert 'data-testid="nav-search"' not in client.get(reverse("core:home")).content.decode()


# --- cost -----------------------------------------------------------------------------------------


def _search_queries(client: Any, django_assert_max_num_queries: Any, limit: int) -> int:
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(search_url("建国"))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_a_search_costs_one_or_two_queries_per_kind(
    client: Any, tree: Tree, city: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """Five kinds: one statement each (rows and count together), one more for the resources
    (the user's own member record); plus the session, the user and their roles."""
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    before = _search_queries(client, django_assert_max_num_queries, 12)
    for i in range(15):
        make_member(tree.branch_a, f"赵建国{i}")
        activity(tree.branch_a, f"建国学习{i}")
        resource(tree.district_a, f"建国史{i}")
    assert _search_queries(client, django_assert_max_num_queries, before) == before
