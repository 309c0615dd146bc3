"""A member's own menu (issue "The everyday paths"): a plain member — the 党员 role, no role over
an organisation — sees 我的学时, 我的活动, 网上学习, 扫码签到 and 我的党课 in the navbar and as big
buttons on the home page, and not the administrators' member search."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.accounts.services import role_assign
from partyedu.core.navigation import has_member_menu, navigation_for
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db

MEMBER_MENU = (
    "learning:my_hours",
    "study:my_activities",
    "learning:resource_list",
    "study:scan",
    "lectures:my",
)


def _navbar(html: str) -> str:
    start = html.index('id="main-nav"')
    return html[start : html.index("</nav>", start)]


def _plain_member(tree: Tree) -> Any:
    user = make_user(role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "刘党员")
    member.user = user
    member.save(update_fields=["user"])
    return user


def test_a_plain_member_gets_the_member_menu_in_the_navbar(client: Any, tree: Tree) -> None:
    """The navbar of a plain member offers their own pages, not 党员管理 (the member search)."""
    client.force_login(_plain_member(tree))
    navbar = _navbar(client.get(reverse("core:home")).content.decode())
    for name in MEMBER_MENU:
        assert f'href="{reverse(name)}"' in navbar
    assert f'href="{reverse("members:list")}"' not in navbar
    assert f'href="{reverse("lectures:index")}"' not in navbar


def test_the_home_page_of_a_member_has_the_five_big_buttons(client: Any, tree: Tree) -> None:
    """The home page of a member shows the menu as big buttons (elderly members on phones)."""
    client.force_login(_plain_member(tree))
    html = client.get(reverse("core:home")).content.decode()
    start = html.index('data-testid="member-links"')
    buttons = html[start : html.index('data-testid="member-more-links"')]
    for name in MEMBER_MENU:
        assert f'href="{reverse(name)}"' in buttons
    for label in ("我的学时", "我的活动", "网上学习", "扫码签到", "我的党课"):
        assert label in buttons


def test_an_administrator_keeps_the_administrators_menu(client: Any, tree: Tree) -> None:
    """A secretary who is also a member keeps the member search in the navbar."""
    user = make_user(role="branch_admin", org=tree.branch_a)
    role_assign(actor=None, user=user, role_code="member", organization=tree.branch_a)
    client.force_login(user)
    navbar = _navbar(client.get(reverse("core:home")).content.decode())
    assert f'href="{reverse("members:list")}"' in navbar
    assert f'href="{reverse("study:my_activities")}"' not in navbar
    assert not has_member_menu(user)


def test_a_member_who_reviews_keeps_the_competitions_item(tree: Tree) -> None:
    """An assigned role (评委) keeps its own item beside the member menu."""
    user = _plain_member(tree)
    role_assign(actor=None, user=user, role_code="reviewer", organization=tree.district_a)
    names = [item.url_name for item in navigation_for(user)]
    assert names[: len(MEMBER_MENU)] == list(MEMBER_MENU)
    assert "competitions:index" in names and "members:list" not in names
