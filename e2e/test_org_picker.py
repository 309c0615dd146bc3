"""End-to-end: the searchable organisation picker on the member list (phone) and with the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from partyedu.testsupport.factories import make_member, make_org, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _members_in_two_branches():
    tree = make_tree()
    for i in range(3):
        make_org(tree.district_b, f"乙区第{i + 2}支部")
    make_member(tree.branch_a, "甲支部党员")
    make_member(tree.group_a, "甲小组党员")
    make_member(tree.branch_b, "乙支部党员")
    make_user("admin", role="org_admin", org=tree.root)
    return tree


def test_pick_an_organisation_on_a_phone_filters_the_member_list(page):
    tree = _members_in_two_branches()
    login(page, "admin")
    page.goto("/members/")
    table = page.locator("#member-table")
    table.get_by_text("乙支部党员").wait_for()

    box = page.get_by_label("所在组织（含下级）")
    results = page.locator("#id_organization_results")
    box.press_sequentially("jyz", delay=60)  # 甲一支部 by its pinyin initials
    # (focusing the box first lists the scope from the top; typing narrows it to one)
    expect(results.get_by_role("option")).to_have_count(1)
    option = results.get_by_role("option", name=re.compile("甲一支部"))
    assert "市委 › 甲区委" in option.inner_text()  # the parents, to tell same names apart
    box_height = option.bounding_box()["height"]
    assert box_height >= 44  # a big touch target
    screenshot(page, "org-picker-phone-open")

    option.click()
    # the list closes, the box shows the name, and the table is filtered (subtree included)
    table.get_by_text("乙支部党员").wait_for(state="detached")
    assert table.get_by_text("甲支部党员").is_visible() and table.get_by_text("甲小组党员").is_visible()
    assert results.get_by_role("option").count() == 0
    assert box.input_value() == "甲一支部"
    assert page.locator("#id_organization_value").input_value() == str(tree.branch_a.pk)
    assert f"organization={tree.branch_a.pk}" in page.url and "organization__q" not in page.url
    screenshot(page, "org-picker-phone-picked")

    # clearing the box clears the filter
    box.fill("")
    table.get_by_text("乙支部党员").wait_for()
    assert page.locator("#id_organization_value").input_value() == ""


def test_keyboard_arrow_enter_and_escape(desktop_page):
    page = desktop_page
    _members_in_two_branches()
    login(page, "admin")
    page.goto("/members/")
    table = page.locator("#member-table")
    table.get_by_text("甲支部党员").wait_for()

    box = page.get_by_label("所在组织（含下级）")
    results = page.locator("#id_organization_results")
    box.press_sequentially("乙区", delay=40)
    results.get_by_role("option", name=re.compile("乙区第4支部")).wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    box.press("Escape")
    assert results.get_by_role("option").count() == 0
    assert box.get_attribute("aria-expanded") == "false"

    box.press_sequentially("委", delay=40)  # "乙区委"
    results.get_by_role("option", name=re.compile("乙区委")).wait_for()
    box.press("ArrowDown")
    assert results.get_by_role("option", selected=True).count() == 1
    box.press("Enter")
    table.get_by_text("甲支部党员").wait_for(state="detached")
    assert table.get_by_text("乙支部党员").is_visible()
    assert box.input_value() == "乙区委"
    screenshot(page, "org-picker-desktop-picked")
