"""End-to-end on a phone (390×844): a member takes a timed exam, reloads in the middle and finds
every answer still there, finishes and sees the score; and a practice answer shows its feedback."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.exams.models import Answer, Attempt
from partyedu.exams.tests.conftest import make_bank, make_exam, make_question
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def member_account(org, username):
    user = make_user(username, role="member", org=org)
    member = make_member(org, "钱党员")
    member.user = user
    member.save(update_fields=["user"])
    return user


def question(page, position):
    return page.locator(f"section[data-position='{position}']")


def saved(section):
    expect(section.locator("[data-save-status]")).to_contain_text("已保存")


def test_a_member_takes_a_timed_exam_reloads_midway_and_submits(page):
    tree = make_tree()
    member_account(tree.branch_a, "qian")
    bank = make_bank(tree.district_a)
    questions = [
        make_question(
            bank,
            qtype="single",
            stem="党的最高理想是什么？",
            options=["小康", "共产主义", "富强"],
            answer="B",
        ),
        make_question(
            bank,
            qtype="multiple",
            stem="三会一课包括哪些？",
            options=["支部党员大会", "支委会", "党小组会", "联欢会"],
            answer="ABC",
        ),
        make_question(
            bank, qtype="judge", stem="预备党员的预备期为一年。", answer=True, explanation="党章第七条"
        ),
        make_question(bank, qtype="fill", stem="党的根本宗旨是全心全意为____服务。", answer=["人民"]),
    ]
    make_exam(tree.district_a, questions=questions, title="党章知识测试", time_limit_minutes=30)

    login(page, "qian")
    page.goto("/exams/my/")
    screenshot(page, "exams-my-phone")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/exams/my/attempts/\d+/$"))
    expect(page.locator("[data-clock]")).to_have_text(re.compile(r"^(29|30):\d\d$"))

    # One question per screen: answer the first two, each saved as it is given.
    first = question(page, 1)
    expect(first).to_be_visible()
    expect(question(page, 2)).to_be_hidden()
    first.get_by_text("共产主义").click()
    saved(first)
    screenshot(page, "exams-take-phone")
    page.get_by_role("button", name="下一题").click()
    second = question(page, 2)
    for text in ("支部党员大会", "支委会", "党小组会"):
        second.get_by_text(text, exact=True).click()
    saved(second)

    # A reload (or another device) finds the answers on the server.
    page.reload()
    expect(question(page, 1).get_by_label(re.compile("共产主义"))).to_be_checked()
    page.get_by_role("button", name="下一题").click()
    for text in ("支部党员大会", "支委会", "党小组会"):
        expect(question(page, 2).get_by_label(re.compile(text))).to_be_checked()
    expect(question(page, 2).get_by_label(re.compile("联欢会"))).not_to_be_checked()
    expect(page.locator("[data-progress]")).to_have_text("已答 2/4")

    # Jump with the question grid to the rest.
    page.get_by_role("button", name="题号").click()
    page.get_by_role("button", name="第3题").click()
    third = question(page, 3)
    third.get_by_text("正确", exact=True).click()
    saved(third)
    page.get_by_role("button", name="下一题").click()
    fourth = question(page, 4)
    fourth.get_by_role("textbox").fill("人民")
    saved(fourth)
    screenshot(page, "exams-take-grid-phone")

    page.get_by_role("button", name="交卷").click()
    dialog = page.locator("#take-confirm")
    expect(dialog.get_by_role("button", name="确定交卷")).to_be_visible()
    expect(dialog).to_contain_text("全部4道题都已作答")
    screenshot(page, "exams-take-confirm-phone")
    dialog.get_by_role("button", name="确定交卷").click()
    page.wait_for_url(re.compile(r"/result/$"))
    expect(page.get_by_test_id("score")).to_contain_text("100")
    expect(page.get_by_test_id("result-summary")).to_contain_text("及格")
    screenshot(page, "exams-result-phone")
    assert Attempt.objects.get().status == "graded"
    assert Answer.objects.filter(is_correct=True).count() == 4


def test_a_practice_answer_shows_its_feedback(page):
    tree = make_tree()
    member_account(tree.branch_a, "sun")
    bank = make_bank(tree.district_a)
    questions = [
        make_question(
            bank,
            qtype="judge",
            stem="预备党员的预备期为一年。",
            answer=True,
            explanation="党章第七条规定预备期为一年",
        ),
        make_question(bank, qtype="fill", stem="党的根本宗旨是全心全意为____服务。", answer=["人民"]),
    ]
    make_exam(
        tree.district_a, questions=questions, title="应知应会50问", kind="practice", time_limit_minutes=None
    )

    login(page, "sun")
    page.goto("/exams/my/")
    page.get_by_role("button", name="开始练习").click()
    page.wait_for_url(re.compile(r"/exams/my/attempts/\d+/$"))
    first = question(page, 1)
    first.get_by_text("错误", exact=True).click()
    first.get_by_role("button", name="确定").click()
    feedback = first.locator("[data-feedback]")
    expect(feedback).to_contain_text("回答错误")
    expect(feedback).to_contain_text("正确答案：正确")
    expect(feedback).to_contain_text("党章第七条规定预备期为一年")
    screenshot(page, "exams-practice-feedback-phone")

    page.goto("/exams/my/wrong/")
    expect(page.get_by_text("预备党员的预备期为一年。")).to_be_visible()
    screenshot(page, "exams-wrong-book-phone")


def test_an_answer_given_offline_is_kept_on_the_phone_and_sent_later(page):
    tree = make_tree()
    member_account(tree.branch_a, "zhou")
    bank = make_bank(tree.district_a)
    questions = [
        make_question(bank, qtype="judge", stem="预备党员的预备期为一年。", answer=True),
        make_question(bank, qtype="fill", stem="党的根本宗旨是全心全意为____服务。", answer=["人民"]),
    ]
    make_exam(tree.district_a, questions=questions, title="离线测试", time_limit_minutes=30)
    login(page, "zhou")
    page.goto("/exams/my/")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/exams/my/attempts/\d+/$"))

    # 交卷 names the questions not answered, and the member can go back.
    page.get_by_role("button", name="交卷").click()
    dialog = page.locator("#take-confirm")
    expect(dialog).to_contain_text("第1、2题还没有作答")
    dialog.get_by_role("button", name="继续答题").click()
    expect(dialog).to_be_hidden()

    # The save request fails: the answer waits on the phone, and a reload puts it back and sends it.
    page.route("**/answer/", lambda route: route.abort())
    first = question(page, 1)
    first.get_by_text("正确", exact=True).click()
    expect(first.locator("[data-save-status]")).to_contain_text("未保存")
    screenshot(page, "exams-take-unsaved-phone")
    assert not Answer.objects.exists()
    page.unroute("**/answer/")
    page.reload()
    expect(question(page, 1).get_by_label("正确")).to_be_checked()
    saved(question(page, 1))
    assert Answer.objects.get().response is True

    # Offline, then back online: the answer is sent when the network returns.
    page.get_by_role("button", name="下一题").click()
    page.context.set_offline(True)
    question(page, 2).get_by_role("textbox").fill("人民")
    expect(question(page, 2).locator("[data-save-status]")).to_contain_text("未保存")
    page.context.set_offline(False)
    saved(question(page, 2))
    assert Answer.objects.filter(response="人民").exists()


def test_the_page_submits_by_itself_when_the_time_is_up(page):
    tree = make_tree()
    member_account(tree.branch_a, "wu")
    bank = make_bank(tree.district_a)
    questions = [make_question(bank, qtype="judge", stem="预备党员的预备期为一年。", answer=True)]
    make_exam(tree.district_a, questions=questions, scores=[100], title="限时测试", time_limit_minutes=30)
    login(page, "wu")
    page.goto("/exams/my/")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/exams/my/attempts/\d+/$"))
    question(page, 1).get_by_text("正确", exact=True).click()
    saved(question(page, 1))
    # given only a few seconds are left by the server's clock
    Attempt.objects.update(deadline=timezone.now() + timedelta(seconds=4))
    page.reload()
    page.wait_for_url(re.compile(r"/result/$"), timeout=20_000)
    expect(page.get_by_test_id("score")).to_contain_text("100")
    assert Attempt.objects.get().submitted_at is not None


def test_an_answer_given_after_the_session_ended_is_saved_after_signing_in_again(page):
    tree = make_tree()
    member_account(tree.branch_a, "zheng")
    bank = make_bank(tree.district_a)
    questions = [make_question(bank, qtype="judge", stem="预备党员的预备期为一年。", answer=True)]
    make_exam(tree.district_a, questions=questions, scores=[100], title="会话测试", time_limit_minutes=30)
    login(page, "zheng")
    page.goto("/exams/my/")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/exams/my/attempts/\d+/$"))
    take_url = page.url
    # The session ends (idle timeout); a request still out (the notification bell) would renew it.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.once("dialog", lambda dialog: dialog.dismiss())
    question(page, 1).get_by_text("正确", exact=True).click()
    expect(question(page, 1).locator("[data-save-status]")).to_contain_text("登录已过期")
    assert not Answer.objects.exists()
    screenshot(page, "exams-take-signed-out-phone")
    login(page, "zheng")
    page.goto(take_url)
    saved(question(page, 1))
    assert Answer.objects.get().response is True
