"""End-to-end on a phone (390×844): a branch secretary opens the home page, sees a to-do (an
activity ended without attendance), follows it to the attendance page; the bell in the header shows
the unread notifications and leads to the notification centre, where one is marked read (issue 12,
the workbench)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.core.notifications import notify
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_follows_a_todo_and_reads_a_notification_on_a_phone(page):
    tree = make_tree()
    make_member(tree.branch_a, "张伟")
    secretary = make_user("sec", role="branch_admin", org=tree.branch_a)
    start = timezone.now() - timedelta(days=2)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "party_lecture",
            "topic": "学习四中全会精神",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    notify(users=[secretary], kind="dispatch.assigned", title="请报送本月主题党日情况", url="/", key="e2e:1")
    notify(users=[secretary], kind="report.returned", title="11月月报被退回", url="/", key="e2e:2")

    login(page, "sec")
    page.goto("/")
    todo = page.get_by_test_id("todo-list").get_by_test_id("todo-item").filter(has_text="学习四中全会精神")
    todo.wait_for()
    bell = page.locator("[data-testid=nav-bell]:visible")
    # the count is fetched after the page loads (HTMX): wait for it
    expect(bell.locator("[data-testid=nav-unread]")).to_have_text(re.compile(r"^2"))
    screenshot(page, "workbench_secretary_phone")

    todo.click()
    page.wait_for_url(f"**/study/activities/{activity.pk}/attendance/")
    assert "张伟" in page.content()

    page.locator("[data-testid=nav-bell]:visible").click()
    page.wait_for_url("**/notifications/")
    items = page.get_by_test_id("notification-item")
    assert items.count() == 2
    items.first.get_by_test_id("notification-mark-read").click()
    page.locator("#nav-unread-m").filter(has_text="1").wait_for()
    assert (
        page.locator("[data-testid=nav-bell]:visible [data-testid=nav-unread]").inner_text().startswith("1")
    )
    screenshot(page, "workbench_notifications_phone")
