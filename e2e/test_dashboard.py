"""End-to-end: the dashboard (统计分析, issue 12) at a desk (1280 wide). A district's org_admin
opens it: the ECharts charts are drawn; a click on a child organisation drills down to its
dashboard; a click on a figure opens the rows it counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.study.services import activity_record
from partyedu.testsupport.factories import make_member, make_org, make_tree, make_user

from .conftest import SCREENSHOTS, _watch_policy_violations, screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = _watch_policy_violations(page)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy refused something on these pages"


def _shot(page, name: str) -> None:
    (SCREENSHOTS / "issue12").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"issue12/{name}")


# Two days ago, so that the activities have been held; the dashboard is opened for that year.
START = timezone.localtime(timezone.now() - timedelta(days=2)).replace(
    hour=9, minute=0, second=0, microsecond=0
)


def _activity(org, topic: str, hours_later: int = 0, activity_type: str = "theme_day"):
    start = START + timedelta(hours=hours_later)
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": topic,
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )


def _drawn(page, testid: str) -> bool:
    """Whether ECharts drew into the container: a canvas or svg of non-zero size inside it."""
    return page.get_by_test_id(testid).evaluate(
        """el => Array.from(el.querySelectorAll('canvas, svg')).some(
            c => c.getBoundingClientRect().width > 0 && c.getBoundingClientRect().height > 0)"""
    )


def test_org_admin_sees_charts_drills_down_to_a_child_and_opens_a_figures_rows(desk):
    page = desk
    tree = make_tree()
    branch_c = make_org(tree.district_a, "甲二支部")
    for name in ("张伟", "王芳"):
        make_member(tree.branch_a, name)
    make_member(branch_c, "李娜")
    _activity(tree.branch_a, "主题党日：重温入党誓词")
    _activity(tree.branch_a, "学习党章", hours_later=3, activity_type="party_lecture")
    _activity(branch_c, "二支部主题党日")
    _activity(tree.branch_b, "乙区的活动")
    make_user("district", role="org_admin", org=tree.district_a)

    login(page, "district")
    page.wait_for_url("**/")
    page.goto(f"/supervision/dashboard/?year={START.year}")
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("甲区委")
    for chart in ("chart-trend", "chart-mix", "chart-children"):
        page.wait_for_function(
            "id => !!document.querySelector(`[data-testid=${id}] canvas, [data-testid=${id}] svg`)", arg=chart
        )
        assert _drawn(page, chart), f"{chart} was not drawn"
    children = page.get_by_test_id("dashboard-children")
    expect(children.get_by_test_id("child-row")).to_have_count(2)
    assert "乙一支部" not in children.inner_text()
    _shot(page, "e2e_dashboard_district_desktop")

    children.get_by_test_id("child-link").filter(has_text="甲一支部").click()
    page.wait_for_url(f"**/supervision/dashboard/?organization={tree.branch_a.pk}&**")
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("甲一支部")
    expect(page.get_by_test_id("dashboard-breadcrumb")).to_contain_text("甲区委")
    card = page.get_by_test_id("card-activities")
    expect(card.get_by_role("link")).to_have_text("2")

    card.get_by_role("link").click()
    page.wait_for_url("**/supervision/dashboard/rows/**")
    assert f"organization={tree.branch_a.pk}" in page.url
    expect(page.get_by_test_id("rows-title")).to_contain_text("甲一支部")
    rows = page.get_by_test_id("rows-table")
    expect(rows.locator("tbody tr")).to_have_count(2)
    expect(rows).to_contain_text("重温入党誓词")
    expect(rows).to_contain_text("学习党章")
    assert "二支部主题党日" not in rows.inner_text()
    _shot(page, "e2e_dashboard_rows_desktop")


def test_on_a_phone_the_type_mix_puts_its_types_in_a_legend_below_the_ring(page):
    tree = make_tree()
    _activity(tree.branch_a, "主题党日：重温入党誓词")
    _activity(tree.branch_a, "学习党章", hours_later=3, activity_type="party_lecture")
    _activity(tree.branch_a, "支部委员会", hours_later=6, activity_type="branch_committee")
    make_user("district", role="org_admin", org=tree.district_a)

    login(page, "district")
    page.wait_for_url("**/")
    page.goto(f"/supervision/dashboard/?year={START.year}")
    page.wait_for_function(
        "() => !!document.querySelector('[data-testid=chart-mix] canvas, [data-testid=chart-mix] svg')"
    )
    # the ring is drawn within the container's width (labels around it were cut off on a phone)
    box = page.get_by_test_id("chart-mix").bounding_box()
    assert box is not None and box["width"] <= 390
    assert (
        page.get_by_test_id("chart-mix").evaluate(
            "el => echarts.getInstanceByDom(el.querySelector('[_echarts_instance_]') || el).getOption().legend.length"
        )
        == 1
    )
    page.get_by_test_id("chart-mix").scroll_into_view_if_needed()
    _shot(page, "e2e_dashboard_mix_phone")
