"""使用指南 (brief H7): one short guide per kind of user, reachable from every page, opening on the
guide of the user's own role with tabs for the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.accounts.choices import RoleCode
from partyedu.core.guide_views import GUIDES
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db

# The guide each role opens on.
FIRST_GUIDE = {
    RoleCode.MEMBER: "member",
    RoleCode.LECTURER: "member",
    RoleCode.REVIEWER: "member",
    RoleCode.INSPECTOR: "member",
    RoleCode.BRANCH_ADMIN: "branch",
    RoleCode.ORG_ADMIN: "org",
    RoleCode.EXAMINER: "org",
    RoleCode.AUDITOR: "audit",
    RoleCode.SECADMIN: "audit",
    RoleCode.SYSADMIN: "audit",
}


def test_every_role_has_a_first_guide() -> None:
    assert set(FIRST_GUIDE) == set(RoleCode)


def test_the_guides_name_the_accounts_role_codes() -> None:
    # core names the roles without importing accounts (see core.guide_views).
    assert {code for guide in GUIDES for code in guide.roles} <= {c.value for c in RoleCode}


@pytest.mark.parametrize("role", list(RoleCode))
def test_the_guide_opens_on_the_users_own_role(client: Any, tree: Tree, role: RoleCode) -> None:
    client.force_login(make_user(role=role, org=tree.district_a))
    response = client.get(reverse("core:guide"))
    assert response.status_code == 200
    assert response.context["current"].slug == FIRST_GUIDE[role]
    assert f'data-testid="guide-{FIRST_GUIDE[role]}"' in response.content.decode()


@pytest.mark.parametrize("tab", [g.slug for g in GUIDES])
def test_every_tab_opens_for_any_signed_in_user(client: Any, tree: Tree, tab: str) -> None:
    client.force_login(make_user(role="member", org=tree.branch_a))
    response = client.get(reverse("core:guide"), {"tab": tab})
    assert response.status_code == 200
    assert f'data-testid="guide-{tab}"' in response.content.decode()


def test_a_secretary_who_is_also_a_member_opens_on_the_secretary_guide(client: Any, tree: Tree) -> None:
    user = make_user(role="member", org=tree.branch_a)
    from partyedu.accounts.services import role_assign

    role_assign(actor=None, user=user, role_code="branch_admin", organization=tree.branch_a)
    client.force_login(user)
    response = client.get(reverse("core:guide"))
    assert response.context["current"].slug == "branch"
    assert response.context["own_slugs"] == {"branch", "member"}


def test_links_to_pages_show_on_the_users_own_guide_only(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="member", org=tree.branch_a))
    own = client.get(reverse("core:guide")).content.decode()
    other = client.get(reverse("core:guide"), {"tab": "org"}).content.decode()
    assert reverse("learning:my_hours") in own
    assert reverse("learning:requirement_list") not in other
    assert 'data-testid="guide-not-mine"' in other


def test_an_account_without_roles_reads_the_member_guide(client: Any, tree: Tree) -> None:
    client.force_login(make_user())
    response = client.get(reverse("core:guide"))
    assert response.status_code == 200
    assert response.context["current"].slug == "member"


def test_the_guide_needs_sign_in(client: Any) -> None:
    response = client.get(reverse("core:guide"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "url_name", ["core:home", "members:list", "study:activity_list", "learning:my_hours"]
)
def test_every_page_links_to_the_guide(client: Any, tree: Tree, url_name: str) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse(url_name)).content.decode()
    assert f'href="{reverse("core:guide")}"' in html
    assert 'data-testid="footer-guide"' in html


def test_the_guides_use_the_real_menu_names(client: Any, tree: Tree) -> None:
    """The steps name the menus and buttons as the pages show them."""
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    texts = {g.slug: client.get(reverse("core:guide"), {"tab": g.slug}).content.decode() for g in GUIDES}
    assert "扫码签到" in texts["member"] and "我的学时" in texts["member"] and "网上学习" in texts["member"]
    assert "登记活动" in texts["branch"] and "登记出勤" in texts["branch"] and "签到二维码" in texts["branch"]
    assert "学时要求" in texts["org"] and "频次规定" in texts["org"] and "学时完成情况" in texts["org"]
    assert "审计日志" in texts["audit"] and "账号与角色" in texts["audit"]
