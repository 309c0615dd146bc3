"""The organisation picker's suggestion endpoint: always the requesting user's own choices."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import ScopedEndpointTests
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import Tree, make_org, make_user

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
URL = "/organizations/picker/"


def picked_ids(response: Any) -> set[int]:
    """The organisation ids offered by a picker response."""
    return {int(pk) for pk in re.findall(r'data-org-id="(\d+)"', response.content.decode())}


class TestPickerScope(ScopedEndpointTests):
    url_name = "organizations:picker"
    kind = "list"
    marker_attr = "code"

    def make_object(self, org: Organization) -> Organization:
        return make_org(org, f"目标党小组{next(_n)}", "group")

    def url(self, obj: Organization) -> str:
        return reverse("organizations:picker") + f"?q={obj.code}"

    def listed(self, response: Any, obj: Organization) -> bool:
        return obj.pk in picked_ids(response)

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Tree) -> None:
        """Overridden: a picker of a user without scope is an empty list, not an error."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user())
        response = client.get(self.url(obj))
        assert response.status_code == 200
        assert picked_ids(response) == set()
        assert "未找到" in response.content.decode()


def test_url_is_organizations_picker() -> None:
    assert reverse("organizations:picker") == URL


def test_sibling_orgs_never_appear_whatever_the_parameters(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    mine = {tree.district_a.pk, tree.branch_a.pk, tree.group_a.pk}
    for params in (
        {},
        {"q": "支部"},
        {"q": "乙"},
        {"q": tree.branch_b.code},
        {"action": "view", "app_label": "members"},
        {"action": "add", "app_label": "members", "levels": "branch,group"},
        {"action": "manage_roles", "app_label": "accounts"},
        {"action": "delete", "app_label": "organizations"},
    ):
        response = client.get(URL, params)
        assert response.status_code == 200, params
        assert picked_ids(response) <= mine, params
        assert "乙一支部" not in response.content.decode()


def test_browsing_without_text_lists_the_scope_in_tree_order(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(URL, {"action": "view", "app_label": "members"}).content.decode()
    assert re.findall(r'data-org-id="(\d+)"', html) == [
        str(tree.district_a.pk),
        str(tree.branch_a.pk),
        str(tree.group_a.pk),
    ]


def test_levels_are_honoured(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(URL, {"action": "add", "app_label": "members", "levels": "branch,group"})
    assert picked_ids(response) == {tree.branch_a.pk, tree.branch_b.pk, tree.group_a.pk}
    response = client.get(URL, {"levels": "committee"})
    assert picked_ids(response) == {tree.root.pk, tree.district_a.pk, tree.district_b.pk}


def test_the_action_is_the_users_own_scope_for_it(client: Any, tree: Tree) -> None:
    """An 审计管理员 sees no organisations; a 安全管理员 may give roles in their subtree."""
    client.force_login(make_user(role="auditor", org=tree.root))
    assert picked_ids(client.get(URL, {"action": "manage_roles", "app_label": "accounts"})) == set()
    client.force_login(make_user(role="secadmin", org=tree.district_b))
    response = client.get(URL, {"action": "manage_roles", "app_label": "accounts"})
    assert picked_ids(response) == {tree.district_b.pk, tree.branch_b.pk}


def test_matches_name_pinyin_initials_and_code(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    assert picked_ids(client.get(URL, {"q": "一支"})) == {tree.branch_a.pk, tree.branch_b.pk}
    assert picked_ids(client.get(URL, {"q": "yyz"})) == {tree.branch_b.pk}  # 乙一支部
    assert picked_ids(client.get(URL, {"q": "JYZ"})) == {tree.branch_a.pk}  # 甲一支部
    assert picked_ids(client.get(URL, {"q": tree.group_a.code.lower()})) == {tree.group_a.pk}


def test_each_suggestion_shows_level_and_parents(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(URL, {"q": "甲一第一"}).content.decode()
    assert 'role="listbox"' in html and 'role="option"' in html
    assert "党小组" in html  # the level badge
    assert "甲区委 › 甲一支部" in html
    assert 'data-org-label="甲一第一党小组"' in html


def test_at_most_20_suggestions_then_a_hint(client: Any, tree: Tree) -> None:
    for i in range(25):
        make_org(tree.branch_a, f"测试小组{i:02d}", "group")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(URL, {"q": "测试小组"})
    assert len(picked_ids(response)) == 20
    assert "只显示前 20 个" in response.content.decode()
    assert "只显示前" not in client.get(URL, {"q": "测试小组0"}).content.decode()


def test_bad_parameters_are_refused(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    assert client.get(URL, {"levels": "branch,nonsense"}).status_code == 400
    assert client.get(URL, {"app_label": "nosuchapp"}).status_code == 400
    assert client.get(URL, {"action": "view; drop"}).status_code == 400


def test_anonymous_goes_to_the_login_page(client: Any) -> None:
    response = client.get(URL, {"q": "甲"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_runs_a_fixed_number_of_queries(client: Any, tree: Tree, django_assert_max_num_queries: Any) -> None:
    for i in range(40):
        make_org(tree.district_a if i % 2 else tree.district_b, f"批量支部{i:02d}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    # session, user, grants, the suggestions with their parents, session save (3)
    with django_assert_max_num_queries(7):
        response = client.get(URL, {"q": "批量", "action": "view", "app_label": "members"})
    assert len(picked_ids(response)) == 20
