"""End-to-end on a phone (390×844): 全部出席 acts only on the rows the name filter shows. A secretary
who narrowed the list to one person and pressed 全部出席 has looked at that person only; the
others keep their marks (brief H7, the secretary's everyday path)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.study.models import Attendance
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["张伟", "张丽", "王芳", "李娜", "刘洋", "陈静"]


def test_all_present_leaves_rows_hidden_by_the_name_filter_untouched(page):
    # given: six members on the roster, 李娜 already marked 请假
    tree = make_tree()
    members = {name: make_member(tree.branch_a, name) for name in NAMES}
    make_user("sec", role="branch_admin", org=tree.branch_a)
    start = timezone.now() - timedelta(hours=3)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日：学习党章",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    attendance_mark(
        actor=None, activity=activity, records=[{"member": members["李娜"].pk, "status": "leave"}]
    )
    login(page, "sec")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/study/activities/{activity.pk}/attendance/")
    assert page.locator(".pe-roster-row").count() == len(NAMES)

    # when: the list is narrowed to the two 张 and 全部出席 is pressed
    page.get_by_label("查找人员").fill("张")
    assert page.locator(".pe-roster-row:visible").count() == 2
    page.get_by_role("button", name="全部出席").click()

    # then: the two shown are 出席, the four hidden are as they were, and the page says so
    status = page.locator("[data-all-present-status]")
    assert "已将 2 人设为出席" in status.inner_text()
    assert "未显示的 4 人未改动" in status.inner_text()
    for name in ("张伟", "张丽"):
        assert page.locator(f"#m{members[name].pk}-present").is_checked()
    for name in ("王芳", "刘洋", "陈静"):
        assert not page.locator(f"#m{members[name].pk}-present").is_checked()
    assert page.locator(f"#m{members['李娜'].pk}-leave").is_checked()
    screenshot(page, "study-attendance-all-present-filtered-phone")

    # and after clearing the filter and saving, only the two were written
    page.get_by_label("查找人员").fill("")
    assert page.locator(".pe-roster-row:visible").count() == len(NAMES)
    assert not page.locator(f"#m{members['王芳'].pk}-present").is_checked()
    page.get_by_role("button", name="保存出勤").click()
    page.get_by_text("已保存出勤").first.wait_for()
    marks = dict(Attendance.objects.filter(activity=activity).values_list("member__name", "status"))
    assert marks == {
        "张伟": "present",
        "张丽": "present",
        "王芳": "",
        "李娜": "leave",
        "刘洋": "",
        "陈静": "",
    }
