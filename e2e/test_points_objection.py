"""End-to-end: an objection to a points publication (积分公示异议), upheld. The secretary has
published last year's result of the branch; the member, on a phone (390×844), follows 我的积分 to
the publication and objects to the deduction for an absence they had asked leave for; the
secretary, on a desktop (1280×800), opens the objection from the workbench, upholds it with an
answer and a correction of +2; the member's 我的积分 then shows the correcting line, and the
ledger equals a rebuild."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.points.models import PointsEntry, PointsObjection
from partyedu.points.services import points_rebuild, publication_create, scheme_create
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Last year's result, published now: every date of it is in the past whatever today is.
YEAR = timezone.localdate().year - 1
TZ = ZoneInfo("Asia/Shanghai")

ITEMS = [
    {
        "code": "org_life",
        "name": "参加三会一课",
        "kind": "earn",
        "source": "attendance",
        "activity_types": ["branch_assembly", "party_lecture"],
        "points": "2",
        "cap": "3",
        "cap_period": "month",
    },
    {
        "code": "absence",
        "name": "无故缺席组织生活",
        "kind": "deduct",
        "source": "attendance",
        "activity_types": ["branch_assembly", "party_lecture"],
        "statuses": ["absent"],
        "points": "2",
        "cap": "6",
        "cap_period": "year",
    },
]


def assembly(org, month: int, topic: str, marks: dict) -> None:
    start = datetime(YEAR, month, 10, 14, 0, tzinfo=TZ)
    activity = activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "branch_assembly",
            "topic": topic,
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    attendance_mark(
        actor=None,
        activity=activity,
        records=[{"member": member.pk, "status": status} for member, status in marks.items()],
    )


def test_an_objection_raised_on_a_phone_and_upheld_on_a_desktop_corrects_the_members_points(
    page, desktop_page
):
    tree = make_tree()
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=ITEMS)
    member = make_member(tree.branch_a, "钱党员")
    member.user = make_user("qian", role="member", org=tree.branch_a)
    member.save(update_fields=["user"])
    other = make_member(tree.branch_a, "孙党员")
    assembly(tree.branch_a, 3, "学习党章", {member: "present", other: "present"})
    assembly(tree.branch_a, 4, "重温入党誓词", {member: "absent", other: "present"})
    secretary = make_user("sec", role="branch_admin", org=tree.branch_a)
    publication = publication_create(actor=secretary, organization=tree.branch_a, year=YEAR, period="year")
    # 60 + 2 (March) − 2 (April, absent).
    absence = PointsEntry.objects.get(member=member, item__code="absence")
    assert absence.points == -2

    # The member, on a phone: 我的积分 → the running publication → 提出异议.
    login(page, "qian")
    page.goto("/")
    page.get_by_role("button", name="展开菜单").click()
    page.locator("#main-nav").get_by_role("link", name="我的积分", exact=True).click()
    page.wait_for_url(re.compile(r"/points/my/$"))
    page.get_by_test_id("publication-running").get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/points/publications/{publication.pk}/$"))
    own = page.get_by_test_id("own-row")
    expect(own.locator("p.display-6")).to_have_text("60 分")
    own.get_by_test_id("raise-objection").click()
    page.wait_for_url(re.compile(rf"/points/publications/{publication.pk}/objection/$"))
    entry = page.locator(f"input[name='entry'][value='{absence.pk}']")
    expect(page.locator(f"label[for='{entry.get_attribute('id')}']")).to_contain_text("无故缺席组织生活 −2")
    entry.check()
    page.get_by_label("异议理由").fill("4月10日的支部党员大会我已提前向支部书记请假，不应算无故缺席")
    screenshot(page, "points-objection-form-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with page.expect_navigation():
        page.get_by_role("button", name="提交异议").click()
    objection = PointsObjection.objects.get()
    page.wait_for_url(re.compile(rf"/points/objections/{objection.pk}/$"))
    expect(page.get_by_test_id("objection-answer")).to_contain_text("等待支部答复。")
    assert objection.entry_id == absence.pk and objection.status == "open"

    # The secretary, on a desktop: the workbench → the open objections → the answer form.
    desk = desktop_page
    desk.set_viewport_size({"width": 1280, "height": 800})
    login(desk, "sec")
    desk.goto("/")
    todo = desk.get_by_test_id("todo-item").filter(has_text="积分公示异议待答复")
    expect(todo).to_be_visible()
    todo.click()
    desk.wait_for_url(re.compile(r"/points/objections/\?status=open$"))
    desk.get_by_test_id("objection-list").get_by_role("link", name="钱党员 · 无故缺席组织生活").click()
    desk.wait_for_url(re.compile(rf"/points/objections/{objection.pk}/$"))
    expect(desk.get_by_text("4月10日的支部党员大会我已提前向支部书记请假")).to_be_visible()
    desk.get_by_label("异议成立，更正积分").check()
    desk.get_by_label("更正分值").fill("2")
    desk.get_by_label("答复").fill("经核实，本人当天已请假，撤销该次扣分")
    screenshot(desk, "points-objection-answer-form-desktop")
    with desk.expect_navigation():
        desk.get_by_role("button", name="提交答复").click()
    desk.wait_for_url(re.compile(rf"/points/objections/{objection.pk}/$"))
    answer = desk.get_by_test_id("objection-answer")
    expect(answer).to_contain_text("异议成立")
    expect(answer).to_contain_text("经核实，本人当天已请假，撤销该次扣分")
    expect(answer).to_contain_text("更正分值：2 分（已记入积分记录）")
    expect(desk.get_by_test_id("answer-form")).to_have_count(0)
    screenshot(desk, "points-objection-answered-desktop")
    objection.refresh_from_db()
    assert objection.status == "upheld"

    # The member's 我的积分 of that year shows the correction.
    page.goto("/points/my/")
    page.get_by_label("年度").select_option(str(YEAR))
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    expect(page.get_by_test_id("points-total")).to_have_text("62 分")
    line = page.get_by_test_id("points-entry").filter(has_text="异议更正")
    expect(line).to_contain_text("异议更正：经核实，本人当天已请假，撤销该次扣分")
    expect(line).to_contain_text("+2")
    screenshot(page, "points-objection-my-points-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The publication keeps the published figure and says what it is now.
    page.get_by_test_id("publication-running").get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/points/publications/{publication.pk}/$"))
    expect(page.get_by_test_id("own-row")).to_contain_text("已更正 现为 62 分")
    screenshot(page, "points-objection-publication-phone")
    assert points_rebuild().differences == 0
