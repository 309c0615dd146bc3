"""End-to-end: the monthly report (党建活动月报, issue 12). A branch secretary on a phone (390×844)
generates last month's report from the records, writes the narrative and submits; the district's
org_admin on a desktop returns it with a reason; the secretary reads the reason, fixes the
narrative and submits again; the admin approves and the report shows 已审核."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.study.services import activity_record
from partyedu.supervision.models import MonthlyReport
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import SCREENSHOTS, _watch_policy_violations, screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    (SCREENSHOTS / "issue12").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"issue12/{name}")


def _last_month() -> tuple[int, int]:
    first = timezone.localdate().replace(day=1)
    previous = first - timedelta(days=1)
    return previous.year, previous.month


@pytest.fixture
def admin_page(browser, live_server):
    """A second person at a desktop (1280×900), in a browser context of their own."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = _watch_policy_violations(page)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy refused something on these pages"


def test_secretary_submits_admin_returns_secretary_resubmits_admin_approves(page, admin_page):
    tree = make_tree()
    for name in ("张伟", "王芳", "李娜"):
        make_member(tree.branch_a, name)
    make_user("sec", role="branch_admin", org=tree.branch_a)
    make_user("district", role="org_admin", org=tree.district_a)
    year, month = _last_month()
    start = timezone.localtime().replace(
        year=year, month=month, day=10, hour=9, minute=0, second=0, microsecond=0
    )
    activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日：重温入党誓词",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    period = f"{year:04d}-{month:02d}"

    # The secretary, on a phone: generate last month's report from the records.
    login(page, "sec")
    page.wait_for_url("**/")
    page.goto(f"/supervision/reports/?year={year}")
    row = page.get_by_test_id(f"report-month-{period}")
    row.get_by_test_id("report-generate").click()
    page.wait_for_url("**/supervision/reports/*/")
    report = MonthlyReport.objects.get(organization=tree.branch_a, year=year, month=month)
    expect(page.get_by_test_id("report-status")).to_have_text("草稿")
    expect(page.get_by_test_id("figure-activities_total")).to_have_text("1")
    expect(page.get_by_test_id("report-activities")).to_contain_text("重温入党誓词")
    page.get_by_label("工作简述").fill("本月开展主题党日一次。")
    page.get_by_label("下月计划").fill("组织学习四中全会精神。")
    page.get_by_test_id("report-save").click()
    expect(page.get_by_text("说明已保存")).to_be_visible()
    page.get_by_test_id("report-submit").click()
    expect(page.get_by_test_id("report-status")).to_have_text("已报送")
    _shot(page, "e2e_report_submitted_phone")

    # The district's org_admin, at a desk: the report waits in the review queue; return it.
    login(admin_page, "district")
    admin_page.wait_for_url("**/")
    admin_page.goto("/supervision/reports/")
    admin_page.get_by_test_id("report-review-queue").get_by_test_id("review-item").filter(
        has_text="甲一支部"
    ).click()
    admin_page.wait_for_url(f"**/supervision/reports/{report.pk}/")
    admin_page.get_by_label("退回原因").fill("请补充出勤情况和存在问题")
    admin_page.get_by_test_id("report-return").click()
    expect(admin_page.get_by_test_id("report-status")).to_have_text("已退回")

    # The secretary sees the reason, fixes the narrative and submits again.
    page.goto(f"/supervision/reports/{report.pk}/")
    expect(page.get_by_test_id("report-status")).to_have_text("已退回")
    expect(page.get_by_test_id("report-return-reason")).to_contain_text("请补充出勤情况和存在问题")
    _shot(page, "e2e_report_returned_phone")
    page.get_by_label("存在问题").fill("个别党员请假，已安排补学。")
    page.get_by_test_id("report-save").click()
    expect(page.get_by_text("说明已保存")).to_be_visible()
    page.get_by_test_id("report-submit").click()
    expect(page.get_by_test_id("report-status")).to_have_text("已报送")

    # The admin approves.
    admin_page.goto(f"/supervision/reports/{report.pk}/")
    expect(admin_page.get_by_test_id("report-narrative")).to_contain_text("已安排补学")
    admin_page.get_by_test_id("report-approve").click()
    expect(admin_page.get_by_test_id("report-status")).to_have_text("已审核")
    _shot(admin_page, "e2e_report_approved_desktop")

    # The secretary's list shows it approved.
    page.goto(f"/supervision/reports/?year={year}")
    expect(page.get_by_test_id(f"report-month-{period}").get_by_test_id("report-status")).to_have_text(
        "已审核"
    )
    report.refresh_from_db()
    assert report.status == "approved"
    assert report.problems == "个别党员请假，已安排补学。"
