"""End-to-end: the layout at the widths people use — the full menu on office screens of 1,280 px
and up, a section's tabs that scroll sideways on a phone with the current tab in view, the icon."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partyedu.core.views import FAVICON
from partyedu.testsupport.factories import make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What an organisation admin's menu holds (partyedu/core/navigation.py): the widest menu a role gives.
ORG_ADMIN_MENU = ["党组织", "党员", "学习活动", "学时", "我来讲党课", "党课评选", "服务", "督导考评"]

MENU_LAYOUT = """() => {
  const nav = document.querySelector('nav.pe-navbar'), row = nav.firstElementChild;
  // Links shown (the folded menu's 使用指南 is not); the search icon sits a pixel higher than the words.
  const links = [...document.querySelectorAll('#main-nav .nav-link')].filter(a => a.getClientRects().length);
  return {
    tops: [...new Set(links.map(a => Math.round(a.getBoundingClientRect().top / 8)))],
    overflow: row.scrollWidth - row.clientWidth,
    userRight: document.querySelector('#main-nav > .dropdown').getBoundingClientRect().right,
  };
}"""

SUBNAV_LAYOUT = """() => {
  const list = document.querySelector('.pe-subnav'), active = list.querySelector('.active');
  const box = list.getBoundingClientRect(), tab = active.getBoundingClientRect();
  return {
    scrollWidth: list.scrollWidth, clientWidth: list.clientWidth, classes: [...list.classList],
    activeInView: tab.left >= box.left - 1 && tab.right <= box.right + 1,
    rows: new Set([...list.querySelectorAll('.nav-link')].map(a => Math.round(a.getBoundingClientRect().top))).size,
  };
}"""


def _org_admin(page) -> None:
    tree = make_tree()
    make_user("orgadmin", role="org_admin", org=tree.root)
    login(page, "orgadmin")
    page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))


def test_office_screen_shows_the_full_menu_without_the_toggler(desktop_page):
    page = desktop_page  # 1,366 px
    _org_admin(page)
    page.goto(reverse("members:list"))

    assert page.locator(".navbar-toggler").is_hidden()
    nav = page.locator("#main-nav")
    for label in ORG_ADMIN_MENU:
        assert nav.get_by_role("link", name=label).is_visible(), label
    # The last items (账号与角色) wait under 更多.
    page.get_by_test_id("nav-more").get_by_role("button", name="更多").click()
    assert nav.get_by_role("link", name="账号与角色").is_visible()
    screenshot(page, "layout-menu-1366")


def test_full_menu_fits_on_one_line_at_1280_px(desktop_page):
    page = desktop_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _org_admin(page)
    page.goto(reverse("members:list"))

    layout = page.evaluate(MENU_LAYOUT)
    assert page.locator(".navbar-toggler").is_hidden()
    assert len(layout["tops"]) == 1
    assert layout["overflow"] <= 0
    assert layout["userRight"] <= 1280
    screenshot(page, "layout-menu-1280")


def test_phone_keeps_the_menu_behind_the_toggler(page):
    _org_admin(page)

    assert page.locator(".navbar-toggler").is_visible()
    assert page.locator("#main-nav").get_by_role("link", name="党员").is_hidden()


def test_phone_section_tabs_scroll_sideways_on_one_line(page):
    _org_admin(page)
    page.goto(reverse("study:cadence"))

    layout = page.evaluate(SUBNAV_LAYOUT)
    assert layout["scrollWidth"] > layout["clientWidth"]
    assert layout["rows"] == 1


def test_phone_section_tabs_show_the_current_last_tab_and_fade_the_side_with_more(page):
    _org_admin(page)
    page.goto(reverse("study:material_list"))  # 学习材料, the last of eight tabs

    layout = page.evaluate(SUBNAV_LAYOUT)
    assert layout["activeInView"]
    assert "pe-subnav-more-start" in layout["classes"]
    screenshot(page, "layout-subnav-390")


def test_favicon_ico_leads_to_the_svg_icon(page):
    response = page.request.get("/favicon.ico")

    assert response.ok
    assert response.url.endswith(FAVICON)
    assert response.headers["content-type"].startswith("image/svg+xml")
