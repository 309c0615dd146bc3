"""End-to-end on a phone (390×844): a branch secretary finds a member by typing pinyin initials in
a 30-person attendance list, marks them and saves (issue 11, the secretary's everyday path)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.study.models import Attendance
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Thirty members; 单雪梅 is read shàn as a surname, so her initials are sxm (and dxm).
NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴霞",
    "徐明",
    "孙丽",
    "马超",
    "朱红",
    "胡军",
    "郭婷",
    "何平",
    "高峰",
    "林涛",
    "罗兰",
    "郑凯",
    "梁爽",
    "谢飞",
    "宋佳",
    "唐亮",
    "韩雪",
    "冯刚",
    "曾敏",
    "邓华",
    "单雪梅",
]


def test_secretary_finds_a_member_by_pinyin_initials_in_a_30_person_list(page):
    tree = make_tree()
    members = {name: make_member(tree.branch_a, name) for name in NAMES}
    make_user("sec", role="branch_admin", org=tree.branch_a)
    start = timezone.now() - timedelta(hours=3)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日：重温入党誓词",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    assert activity.attendances.count() == 30
    login(page, "sec")
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"/study/activities/{activity.pk}/attendance/")
    rows = page.locator(".pe-roster-row")
    assert rows.count() == 30
    # In pinyin order: 陈 (chen), 邓 (deng), 单 (shan, as a surname), 宋 (song).
    order = [rows.nth(i).locator(".fs-5").inner_text() for i in range(30)]
    assert order.index("陈静") < order.index("邓华") < order.index("单雪梅") < order.index("宋佳")

    box = page.get_by_label("查找人员")
    box.fill("sxm")
    target = page.locator(f"#row-{members['单雪梅'].pk}")
    target.wait_for()
    assert page.locator(".pe-roster-row:visible").count() == 1
    assert "找到 1 人（共 30 人）" in page.locator("[data-name-filter-status]").inner_text()
    screenshot(page, "study-attendance-filter-phone")

    target.get_by_text("请假").click()
    # Full pinyin and the name narrow the same way; clearing the box shows everyone again.
    box.fill("zhangwei")
    assert page.locator(".pe-roster-row:visible").count() == 1
    box.fill("")
    assert page.locator(".pe-roster-row:visible").count() == 30

    page.get_by_role("button", name="保存出勤").click()
    page.get_by_text("已保存出勤：1人有变动").wait_for()
    assert Attendance.objects.get(activity=activity, member=members["单雪梅"]).status == "leave"
