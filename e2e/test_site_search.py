"""End-to-end: the site search on a phone (the navbar's search icon opens the search page) and on a
computer (the navbar's box), and the 使用指南 link of every page (brief H7)."""

from __future__ import annotations

import re

import pytest

from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_finds_a_member_by_initials_from_the_phone_search_icon(page):
    tree = make_tree()
    wang = make_member(tree.branch_a, "王建国")
    make_member(tree.branch_b, "王建军")  # another district's: never found
    make_user("sec", role="branch_admin", org=tree.branch_a)
    login(page, "sec")
    page.wait_for_url(re.compile(r"/$"))

    page.get_by_test_id("nav-search-icon").click()
    page.wait_for_url(re.compile(r"/search/"))
    page.get_by_label("要找什么").fill("wj")
    page.get_by_role("button", name="搜索", exact=True).click()
    group = page.get_by_test_id("search-group-members")
    group.get_by_role("link", name="王建国").wait_for()
    assert "王建军" not in page.content()
    screenshot(page, "core-search-phone")
    group.get_by_role("link", name="王建国").click()
    page.wait_for_url(re.compile(rf"/members/{wang.pk}/$"))


def test_the_navbar_box_searches_and_the_guide_opens_on_the_users_role(desktop_page):
    page = desktop_page
    tree = make_tree()
    make_member(tree.branch_a, "王建国")
    make_user("admin", role="org_admin", org=tree.district_a)
    login(page, "admin")
    page.wait_for_url(re.compile(r"/$"))

    box = page.get_by_test_id("nav-search").get_by_role("searchbox", name="搜索")
    box.fill("王建国")
    box.press("Enter")
    page.get_by_test_id("search-group-members").wait_for()
    assert "党员 1" in page.get_by_test_id("search-summary").inner_text()
    screenshot(page, "core-search-desktop")

    page.get_by_test_id("footer-guide").click()
    page.get_by_test_id("guide-org").wait_for()
    assert page.locator("[data-testid=guide-tabs] .active").inner_text().startswith("组织部门")
    screenshot(page, "core-guide-desktop")
