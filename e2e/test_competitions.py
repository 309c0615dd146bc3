"""End-to-end on a phone (390×844): a reviewer opens an assigned entry, scores every criterion,
submits and then sees the other reviewer's total; the certificate of the resulting award is
checked on the public verification page."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from playwright.sync_api import expect

from partyedu.competitions.models import Award, Review
from partyedu.competitions.services import (
    awards_grant,
    competition_create,
    entry_create,
    review_submit,
    round_assign,
    round_close,
    round_create,
    round_reviewers_set,
)
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUBRIC = [{"name": "内容", "weight": 40}, {"name": "表达", "weight": 30}, {"name": "效果", "weight": 30}]


def test_reviewer_scores_on_a_phone_then_the_certificate_verifies(page):
    tree = make_tree()
    competition = competition_create(
        actor=None,
        data={
            "title": "2026年全市优秀党课评选",
            "organization": tree.root,
            "criteria": RUBRIC,
            "categories": ["微党课"],
        },
    )
    round_ = round_create(
        actor=None, competition=competition, data={"name": "市级评审", "reviews_per_entry": 2}
    )
    entry_create(
        actor=None,
        competition=competition,
        data={
            "title": "从红船出发",
            "lecturer": make_member(tree.branch_a, "王讲师"),
            "organization": tree.branch_a,
            "category": competition.categories.get().pk,
            "summary": "用三个支部的故事讲红船精神。",
        },
    )
    me = make_user("expert_a", role="reviewer", org=tree.district_b)
    peer = make_user("expert_b", role="reviewer", org=tree.district_b)
    round_reviewers_set(actor=None, round_=round_, users=[me, peer])
    round_assign(actor=None, round_=round_)
    review_submit(
        actor=peer,
        review=Review.objects.get(reviewer=peer),
        scores={"内容": 80, "表达": 70, "效果": 60},
    )

    # The reviewer finds the entry at the top of 我的评审 and opens it.
    login(page, "expert_a")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/competitions/reviews/")
    page.get_by_role("link", name=re.compile("从红船出发")).click()
    page.get_by_role("heading", name="《从红船出发》").wait_for()
    # Before their own score, nothing of the other reviewer's is shown.
    expect(page.get_by_test_id("peers")).to_have_count(0)

    # One number per criterion, big enough for a thumb; the weighted total follows the typing.
    page.get_by_label(re.compile("^内容")).fill("92")
    page.get_by_label(re.compile("^表达")).fill("85.5")
    page.get_by_label(re.compile("^效果")).fill("88")
    page.get_by_label("评语").fill("联系实际，生动感人。")
    expect(page.locator("[data-score-total]")).to_have_text("88.85")
    box = page.get_by_label(re.compile("^内容")).bounding_box()
    assert box is not None and box["height"] >= 48
    path = screenshot(page, "competition-review-phone")
    shutil.copy(path, "/tmp/review.png")

    page.get_by_role("button", name="提交评分").click()
    page.get_by_text("已提交评分，加权总分 88.850").wait_for()
    peers = page.get_by_test_id("peers")
    expect(peers).to_contain_text("评委A")
    expect(peers).to_contain_text("71.000")
    expect(peers).not_to_contain_text("expert_b")
    screenshot(page, "competition-review-submitted-phone")

    # The round closes and awards are named; anyone can verify the certificate, signed in or not.
    round_close(actor=None, round_=round_)
    awards_grant(
        actor=None, competition=competition, data={"lecture_count": 1, "awarded_on": date(2026, 6, 1)}
    )
    code = Award.objects.select_related("certificate").get(kind="lecture").certificate.code
    page.context.clear_cookies()
    page.goto("/verify/")
    page.get_by_label("证书编号").fill(code.lower())
    page.get_by_role("button", name="查验").click()
    page.wait_for_url(re.compile(f"/verify/{code}/$"))
    certificate = page.get_by_test_id("certificate")
    expect(page.get_by_test_id("verify-status")).to_have_text(re.compile("证书有效"))
    expect(certificate).to_contain_text("优秀党课")
    expect(certificate).to_contain_text("2026年全市优秀党课评选")
    expect(certificate).to_contain_text("王讲师")
    expect(certificate).not_to_contain_text("甲一支部")
    screenshot(page, "competition-verify-phone")
