"""End-to-end: 积分. A member on a phone (390×844) opens 我的积分 and sees the year's total, an
item with its cap and where a line came from; a secretary on a desktop awards points with a
reason through the manual form and the member's page shows the line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.points.models import ManualPoints
from partyedu.points.services import points_manual_record, scheme_create
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = [
    {
        "code": "org_life",
        "name": "参加三会一课、主题党日",
        "kind": "earn",
        "source": "attendance",
        "activity_types": ["branch_assembly", "party_lecture", "theme_day"],
        "points": "2",
        "cap": "3",
        "cap_period": "month",
    },
    {
        "code": "award",
        "name": "书记加分",
        "kind": "earn",
        "source": "manual",
        "points": "0",
        "cap": "10",
        "cap_period": "year",
    },
    {
        "code": "absence",
        "name": "无故缺席组织生活",
        "kind": "deduct",
        "source": "attendance",
        "activity_types": ["branch_assembly", "party_lecture", "theme_day"],
        "statuses": ["absent"],
        "points": "2",
        "cap": "6",
        "cap_period": "year",
    },
]


def this_year_scheme(org):
    return scheme_create(actor=None, organization=org, year=timezone.localdate().year, base="60", items=ITEMS)


def attended_theme_day(member):
    """A 主题党日 of this year, held a few hours ago (on 1 January: early that day), attended."""
    now = timezone.localtime()
    start = max(now - timedelta(hours=3), now.replace(month=1, day=1, hour=0, minute=5))
    activity = activity_record(
        actor=None,
        data={
            "organization": member.organization,
            "activity_type": "theme_day",
            "topic": "重温入党誓词",
            "start": start,
            "end": min(start + timedelta(hours=2), now),
        },
    )
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    return start


def member_account(member, username):
    user = make_user(username, role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def test_a_member_on_a_phone_sees_the_total_an_items_cap_and_where_a_line_came_from(page):
    tree = make_tree()
    member = make_member(tree.branch_a, "钱党员")
    member_account(member, "qian")
    started: datetime = attended_theme_day(member)
    this_year_scheme(tree.root)
    points_manual_record(actor=None, member=member, item="award", points="3", reason="志愿服务表现突出")

    login(page, "qian")
    page.goto("/")
    page.get_by_role("button", name="展开菜单").click()
    page.get_by_role("link", name="我的积分").click()
    page.wait_for_url(re.compile(r"/points/my/$"))
    expect(page.get_by_role("heading", name="我的积分")).to_be_visible()
    # 60 + 2 (the 主题党日) + 3 (the award).
    expect(page.get_by_test_id("points-total")).to_have_text("65 分")
    item = page.get_by_test_id("points-item").filter(has_text="参加三会一课、主题党日")
    expect(item).to_contain_text("2 分")
    expect(item).to_contain_text("每月上限 3 分")
    line = page.get_by_test_id("points-entry").filter(has_text="重温入党誓词")
    expect(line).to_contain_text(f"{started:%Y-%m-%d} 主题党日：重温入党誓词（出席）")
    expect(line).to_contain_text("+2")
    expect(page.get_by_test_id("points-manual")).to_contain_text("志愿服务表现突出")
    screenshot(page, "points-my-phone")
    # Nothing spills sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_secretary_awards_points_with_a_reason_and_the_members_page_shows_it(desktop_page):
    page = desktop_page
    tree = make_tree()
    member = make_member(tree.branch_a, "孙党员")
    make_member(tree.branch_a, "李党员")
    make_member(tree.branch_b, "赵党员")  # another district's branch: not on the secretary's list
    this_year_scheme(tree.root)
    make_user("sec", role="branch_admin", org=tree.branch_a)

    login(page, "sec")
    page.goto("/points/")
    expect(page.get_by_role("link", name="孙党员")).to_be_visible()
    expect(page.get_by_text("赵党员")).to_have_count(0)
    screenshot(page, "points-index-desktop")
    page.get_by_role("link", name="孙党员").click()
    page.wait_for_url(re.compile(rf"/points/members/{member.pk}/"))
    page.get_by_role("link", name="手工加分/扣分").click()
    page.wait_for_url(re.compile(rf"/points/members/{member.pk}/manual/$"))

    # A reason is required: without one nothing is written.
    page.get_by_label("积分项目").select_option(label="书记加分（加分）")
    page.get_by_label("分值").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.get_by_label("理由")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("请填写加分或扣分的理由，党员本人可以看到")).to_be_visible()
    assert not ManualPoints.objects.exists()
    page.get_by_label("理由").fill("带头参加社区志愿服务，表现突出")
    screenshot(page, "points-manual-desktop")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()

    page.wait_for_url(re.compile(rf"/points/members/{member.pk}/$"))
    expect(page.get_by_text("已记录")).to_be_visible()
    expect(page.get_by_test_id("points-total")).to_have_text("62 分")
    line = page.get_by_test_id("points-entry").filter(has_text="带头参加社区志愿服务")
    expect(line).to_contain_text("书记加分")
    expect(line).to_contain_text("+2")
    expect(page.get_by_test_id("points-manual")).to_contain_text("带头参加社区志愿服务，表现突出")
    screenshot(page, "points-member-desktop")
