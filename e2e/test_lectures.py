"""End-to-end on a phone (390×844): a branch secretary records who lectured at a 党课 and on what;
a member who attended rates it, and the page then shows only the aggregate."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from partyedu.lectures.models import Lecture
from partyedu.lectures.services import lecturer_create
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TZ = ZoneInfo("Asia/Shanghai")


def test_secretary_records_a_lecture_and_an_attendee_rates_it(page):
    tree = make_tree()
    secretary_member = make_member(tree.branch_a, "赵书记", categories=["secretary"])
    attendee = make_member(tree.branch_a, "钱党员")
    make_user("sec_a", role="branch_admin", org=tree.branch_a)
    member_user = make_user("qian", role="member", org=tree.branch_a)
    attendee.user = member_user
    attendee.save(update_fields=["user"])
    lecturer_create(
        actor=None, data={"organization": tree.branch_a, "member": secretary_member, "name": "赵书记"}
    )
    start = datetime(2026, 11, 6, 14, 30, tzinfo=TZ)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "party_lecture",
            "topic": "学习党的二十届四中全会精神",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    attendance_mark(actor=None, activity=activity, records=[{"member": attendee.pk, "status": "present"}])

    # The secretary names the lecturer, the title and the style, on a phone.
    login(page, "sec_a")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/lectures/activities/{activity.pk}/lecture/")
    page.get_by_label("党课题目").fill("在基层一线学全会精神")
    page.get_by_label("党课类型").select_option(label="微党课")
    page.get_by_label(re.compile("赵书记")).check()
    screenshot(page, "lecture-form-phone")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("heading", name=re.compile("在基层一线学全会精神")).wait_for()
    lecture = Lecture.objects.get(activity=activity)
    assert lecture.lecture_type == "micro"
    assert list(lecture.speakers.values_list("lecturer__name", flat=True)) == ["赵书记"]

    # The attendee rates it: 5 and an anonymous comment; afterwards the aggregate shows.
    page.context.clear_cookies()
    login(page, "qian")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/lectures/lectures/{lecture.pk}/")
    page.locator("label", has_text="5分").click()  # a big toggle button over the radio
    page.get_by_label(re.compile("评语")).fill("联系实际，听得懂。")
    page.get_by_role("button", name="提交评价").click()
    summary = page.get_by_text(re.compile("1\\s*人评价|共\\s*1\\s*人"))
    expect(summary.first).to_be_visible()
    screenshot(page, "lecture-rated-phone")
    assert lecture.ratings.get().score == 5
