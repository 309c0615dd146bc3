"""End-to-end: 民主评议 on a phone (390×844). A 正式党员 of a branch of five opens the appraisal from
the member menu (the workbench asks them to vote), sees a card per other participant with the
year's record and four grades, votes, reads "已投票，可在投票结束前修改", changes one grade and
votes again: one receipt, one vote per appraisee (replaced, not added). A 预备党员 is told they take
part but do not vote, and gets no ballot."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.appraisal.anonymity import ballot_key
from partyedu.appraisal.choices import STEP_ORDER, StepCode
from partyedu.appraisal.models import Appraisal, BallotReceipt, Vote
from partyedu.appraisal.services import appraisal_create, step_close, step_open
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def member_account(org, name, username, status="full"):
    """A member of ``org`` with an account holding the 党员 role, linked to the member record."""
    user = make_user(username, role="member", org=org)
    member = make_member(org, name, status=status)
    member.user = user
    member.save(update_fields=["user"])
    return member


def branch_of_five(tree):
    """甲一支部: 张明, 李红, 王强 (正式党员), 赵敏 (预备党员) and 刘洋 of its 党小组 (正式党员), each
    with an account. 李红 attended this year's 支部党员大会, 王强 was absent."""
    members = {
        "张明": member_account(tree.branch_a, "张明", "zhangming"),
        "李红": member_account(tree.branch_a, "李红", "lihong"),
        "王强": member_account(tree.branch_a, "王强", "wangqiang"),
        "赵敏": member_account(tree.branch_a, "赵敏", "zhaomin", status="probationary"),
        "刘洋": member_account(tree.group_a, "刘洋", "liuyang"),
    }
    now = timezone.localtime()
    start = max(now - timedelta(hours=3), now.replace(month=1, day=1, hour=0, minute=5))
    assembly = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "branch_assembly",
            "topic": "学习党章",
            "start": start,
            "end": min(start + timedelta(hours=2), now),
        },
    )
    attendance_mark(
        actor=None,
        activity=assembly,
        records=[
            {"member": members["李红"].pk, "status": "present"},
            {"member": members["王强"].pk, "status": "absent"},
        ],
    )
    return members


def appraisal_at_the_vote(org) -> Appraisal:
    """This year's appraisal of ``org`` with 自我评价 and 党员互评 opened and closed and the vote open."""
    appraisal = appraisal_create(actor=None, organization=org, year=timezone.localdate().year)
    for code in STEP_ORDER:
        step_open(actor=None, appraisal=appraisal, code=code)
        if code == StepCode.VOTE:
            break
        step_close(actor=None, appraisal=appraisal, code=code)
    return Appraisal.objects.get(pk=appraisal.pk)


def choose(page, name: str, grade: str) -> None:
    card = page.get_by_test_id("ballot-card").filter(has_text=name)
    card.get_by_role("radio", name=grade, exact=True).check()


def test_a_member_votes_on_a_phone_and_a_second_ballot_replaces_the_first(page):
    tree = make_tree()
    members = branch_of_five(tree)
    appraisal = appraisal_at_the_vote(tree.branch_a)
    voter = members["张明"]

    login(page, "zhangming")
    page.goto("/")
    # The workbench asks for the vote.
    expect(page.get_by_test_id("todo-item").filter(has_text="请参加民主测评")).to_be_visible()
    page.get_by_role("button", name="展开菜单").click()
    page.locator("#main-nav").get_by_role("link", name="民主评议", exact=True).click()
    page.wait_for_url(re.compile(r"/appraisal/my/$"))
    page.get_by_test_id("my-appraisal").click()
    page.wait_for_url(re.compile(rf"/appraisal/my/{appraisal.pk}/$"))
    page.get_by_test_id("go-vote").click()
    page.wait_for_url(re.compile(rf"/appraisal/my/{appraisal.pk}/ballot/$"))

    # A card per other participant (the 预备党员 is voted on too, never oneself), with the record.
    cards = page.get_by_test_id("ballot-card")
    expect(cards).to_have_count(4)
    expect(cards.filter(has_text="张明")).to_have_count(0)
    expect(cards.filter(has_text="李红")).to_contain_text("组织生活出勤 1/1")
    expect(cards.filter(has_text="王强")).to_contain_text("组织生活出勤 0/1")
    expect(cards.filter(has_text="赵敏")).to_contain_text("学时")
    for name in ("李红", "王强", "赵敏", "刘洋"):
        card = cards.filter(has_text=name)
        for grade in ("优秀", "合格", "基本合格", "不合格"):
            expect(card.get_by_role("radio", name=grade, exact=True)).to_be_visible()
    choose(page, "李红", "优秀")
    choose(page, "王强", "基本合格")
    choose(page, "赵敏", "合格")
    choose(page, "刘洋", "合格")
    screenshot(page, "appraisal-ballot-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with page.expect_navigation():
        page.get_by_test_id("ballot-submit").click()

    expect(page.get_by_test_id("voted")).to_have_text("已投票，可在投票结束前修改")
    # The ballot comes back as cast, and can be changed.
    expect(cards.filter(has_text="王强").get_by_role("radio", name="基本合格", exact=True)).to_be_checked()
    expect(page.get_by_test_id("ballot-submit")).to_have_text("修改选票")
    screenshot(page, "appraisal-ballot-voted-phone")
    choose(page, "王强", "合格")
    with page.expect_navigation():
        page.get_by_test_id("ballot-submit").click()
    expect(page.get_by_test_id("voted")).to_have_text("已投票，可在投票结束前修改")
    expect(cards.filter(has_text="王强").get_by_role("radio", name="合格", exact=True)).to_be_checked()

    assert BallotReceipt.objects.filter(appraisal=appraisal).count() == 1
    assert BallotReceipt.objects.filter(appraisal=appraisal, voter=voter).count() == 1
    votes = Vote.objects.filter(appraisal=appraisal)
    assert votes.count() == 4
    assert set(votes.values_list("ballot_key", flat=True)) == {ballot_key(appraisal.pk, voter.pk)}
    assert dict(votes.values_list("appraisee__name", "grade")) == {
        "李红": "excellent",
        "王强": "qualified",
        "赵敏": "qualified",
        "刘洋": "qualified",
    }


def test_a_probationary_member_on_a_phone_takes_part_but_gets_no_ballot(page):
    tree = make_tree()
    branch_of_five(tree)
    appraisal = appraisal_at_the_vote(tree.branch_a)

    login(page, "zhaomin")
    page.goto("/")
    expect(page.get_by_test_id("todo-item").filter(has_text="请参加民主测评")).to_have_count(0)
    page.get_by_role("button", name="展开菜单").click()
    page.locator("#main-nav").get_by_role("link", name="民主评议", exact=True).click()
    page.wait_for_url(re.compile(r"/appraisal/my/$"))
    page.get_by_test_id("my-appraisal").click()
    page.wait_for_url(re.compile(rf"/appraisal/my/{appraisal.pk}/$"))

    expect(page.get_by_text("您是预备党员：参加自我评价和党员互评，不参加民主测评投票。")).to_be_visible()
    expect(page.get_by_test_id("my-steps")).to_contain_text("民主测评投票")
    expect(page.get_by_test_id("go-vote")).to_have_count(0)
    screenshot(page, "appraisal-probationary-phone")
    # Typing the ballot's address gives the same answer, and no form.
    page.goto(f"/appraisal/my/{appraisal.pk}/ballot/")
    expect(page.get_by_test_id("not-voter")).to_have_text(
        "您是预备党员，参加民主评议，但不参加民主测评投票。"
    )
    expect(page.get_by_test_id("ballot-form")).to_have_count(0)
    screenshot(page, "appraisal-probationary-ballot-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not BallotReceipt.objects.exists()
