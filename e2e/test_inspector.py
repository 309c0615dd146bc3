"""End-to-end: a 督导员 of a guidance team on a phone (issue 12). With no role of their own, the
team's coverage lets them see the branches it guides — read-only — and score a 党课 they
listened to (党课巡听); a branch outside the coverage stays out of sight."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from partyedu.supervision.models.guidance import LectureInspection
from partyedu.supervision.tests.guidance_factories import a_lecture, an_inspector
from partyedu.testsupport.factories import make_tree

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_inspector_scores_a_lecture_of_a_covered_branch_on_a_phone(page):
    # given a team of 甲区委 covering 甲一支部, with one 督导员, and a 党课 in each branch
    tree = make_tree()
    inspector = an_inspector(tree.district_a, tree.branch_a, username="inspector")
    lecture = a_lecture(tree.branch_a)
    elsewhere = a_lecture(tree.branch_b)

    # when the inspector opens 党课巡听 and the covered branch's 党课
    login(page, "inspector")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/supervision/guidance/listen/")
    expect(page.get_by_role("heading", name="党课巡听", exact=True)).to_be_visible()
    upcoming = page.get_by_test_id("listen-upcoming")
    expect(upcoming).to_contain_text(lecture.title)
    expect(upcoming).not_to_contain_text(elsewhere.title)
    screenshot(page, "inspector-listen-list-phone")
    upcoming.get_by_role("link", name=re.compile(lecture.title)).click()

    # then the lecture page offers the score (and no editing of the record: read-only)
    page.get_by_test_id("listen-score").click()
    form = page.get_by_test_id("listen-form")
    for group in ("内容准确", "联系实际", "讲授效果", "时间与秩序"):
        form.get_by_role("group", name=group).get_by_label("4").check()
    form.get_by_label("巡听意见").fill("联系实际较好，互动可以更多")
    screenshot(page, "inspector-listen-form-phone")
    form.get_by_role("button", name="提交评分").click()

    # and the score is recorded as theirs
    expect(page.get_by_text("尚无巡听评分")).to_have_count(0)
    row = LectureInspection.objects.get(lecture=lecture)
    assert (row.inspector_id, row.content_score, row.comment) == (
        inspector.pk,
        4,
        "联系实际较好，互动可以更多",
    )

    # and a branch outside the team's coverage is not found
    response = page.goto(f"/lectures/lectures/{elsewhere.pk}/")
    assert response is not None and response.status == 404
