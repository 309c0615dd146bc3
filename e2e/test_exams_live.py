"""End-to-end on a desktop: the host of a live contest (现场知识竞赛) runs two questions from the
control page while the meeting-room screen, in another tab, polls the state and shows the
question, the countdown and the running scoreboard; a reload of the screen resumes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from partyedu.exams.services.live import live_create
from partyedu.exams.tests.test_contests import add_round, make_contest
from partyedu.testsupport.factories import make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_host_runs_two_questions_and_the_screen_shows_the_scoreboard(desktop_page):
    tree = make_tree()
    make_user("host", role="org_admin", org=tree.district_a)
    contest = make_contest(tree.district_a, title="党史知识竞赛")
    live = live_create(
        actor=None, round_=add_round(contest), team_names=["甲一支部队", "甲二支部队", "机关队"]
    )
    page = desktop_page
    login(page, "host")
    page.wait_for_url(re.compile(r"/$"))

    screen = page.context.new_page()
    screen.goto(f"/exams/live/{live.pk}/screen/")
    expect(screen.get_by_test_id("live-state")).to_contain_text("即将开始")

    page.goto(f"/exams/live/{live.pk}/control/")
    page.get_by_test_id("live-next").click()
    page.get_by_test_id("right-1").click()
    page.get_by_test_id("wrong-2").click()
    page.get_by_test_id("live-reveal").click()
    expect(screen.get_by_test_id("live-key")).to_contain_text("正确")
    page.get_by_test_id("live-next").click()
    page.get_by_test_id("right-1").click()
    page.get_by_test_id("right-3").click()
    screenshot(page, "exams-live-control-desktop")

    board = screen.get_by_test_id("scoreboard")
    expect(board).to_contain_text("甲一支部队")
    expect(board.locator("tr", has_text="甲一支部队")).to_contain_text("50")
    expect(board.locator("tr", has_text="机关队")).to_contain_text("25")
    expect(screen.get_by_test_id("live-question")).to_contain_text("第2题")
    expect(screen.get_by_test_id("countdown")).to_be_visible()
    screenshot(screen, "exams-live-screen-desktop")

    # A reload of the screen resumes where the host is.
    screen.reload()
    expect(screen.get_by_test_id("live-question")).to_contain_text("第2题")
    expect(screen.get_by_test_id("scoreboard").locator("tr", has_text="甲一支部队")).to_contain_text("50")


def test_host_enters_an_answer_on_a_phone(page):
    tree = make_tree()
    make_user("host", role="org_admin", org=tree.district_a)
    contest = make_contest(tree.district_a, title="党史知识竞赛")
    live = live_create(actor=None, round_=add_round(contest), team_names=["甲一支部队", "机关队"])
    login(page, "host")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/exams/live/{live.pk}/control/")
    page.get_by_test_id("live-next").click()
    page.get_by_label("该队答案").first.fill("对")
    page.get_by_role("button", name="判分").first.click()
    expect(page.get_by_test_id("control-scores")).to_contain_text("25")
    screenshot(page, "exams-live-control-phone")
