"""End-to-end on a desktop: an organiser opens an exam's results — participation by branch, the
score distribution drawn by ECharts, and the item table flagging the question the strong members
got wrong — and follows the flagged question to its page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from partyedu.exams.tests.conftest import make_bank, make_exam, make_question, taker
from partyedu.exams.tests.test_results import take
from partyedu.testsupport.factories import make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_organiser_sees_results_and_the_flagged_question_on_a_desktop(desktop_page):
    tree = make_tree()
    make_user("district", role="org_admin", org=tree.district_a)
    bank = make_bank(tree.root)
    first, second, bad = (
        make_question(bank, qtype="judge", stem=s, answer=True)
        for s in ("预备期为一年。", "党费按月交纳。", "坏题")
    )
    exam = make_exam(tree.district_a, questions=[first, second, bad], scores=[40, 40, 20], pass_score=50)
    take(taker(tree.branch_a, "甲"), exam, {first: True, second: True, bad: False})
    take(taker(tree.branch_a, "乙"), exam, {first: True, second: True, bad: False})
    take(taker(tree.branch_a, "丙"), exam, {first: True, second: False, bad: False})
    take(taker(tree.branch_a, "丁"), exam, {first: False, second: False, bad: True})

    page = desktop_page
    login(page, "district")
    page.goto(f"/exams/manage/{exam.pk}/results/")
    expect(page.get_by_test_id("card-attempted")).to_have_text("4")
    expect(page.get_by_test_id("chart-scores").locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("results-flagged")).to_be_visible()
    flagged = page.locator("[data-testid=item-row][data-flagged]")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("坏题")
    screenshot(page, "exams-results-desktop")

    flagged.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/exams/questions/{bad.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "exams-question-desktop")
