"""End-to-end: 发展党员 from the application to 预备党员, in the browser. The branch secretary works
on a phone (390×844): registers the application, confirms each branch step on the case page's
forms; the district's organisation department (desktop) confirms the steps of the level above
(预审, 审批). The timing rules are met by dates in the past: the application was received two years
ago, and every step is dated as the rules require. The training comes from the hours ledger
(three full days of a 培训班 the candidate attended) and the vote from the meeting's record."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.development.models import DevelopmentCase
from partyedu.members.choices import MemberStatus
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user, valid_id_number

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _activity(org, activity_type: str, day: date, hours: int, topic: str, *, roster=None):
    start = datetime.combine(day, time(8, 30), tzinfo=SHANGHAI)
    data = {
        "organization": org,
        "activity_type": activity_type,
        "topic": topic,
        "start": start,
        "end": start + timedelta(hours=hours),
    }
    if roster is not None:
        data["roster"] = [m.pk for m in roster]
    return activity_record(actor=None, data=data)


def _attend(activity, members) -> None:
    attendance_mark(
        actor=None, activity=activity, records=[{"member": m.pk, "status": "present"} for m in members]
    )


def _confirm(page, case_pk: int, step: str, day: date, **fields) -> None:
    """Open the step's form on the case page, fill it as a person would, submit, and wait for
    the case page to say it is confirmed."""
    page.goto(f"/development/{case_pk}/confirm/?step={step}")
    form = page.get_by_test_id("confirm-form")
    form.locator("[name=date]").fill(day.isoformat())
    for name, value in fields.items():
        if name in ("mentors", "sponsors"):
            for label in value:
                form.get_by_label(label, exact=True).check()
        elif name == "recommendation":
            form.get_by_label(value).check()
        elif name == "meeting":
            form.locator("[name=meeting]").select_option(label=value)
        else:
            form.locator(f"[name={name}]").fill(str(value))
    with page.expect_navigation():
        page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_text("已确认", exact=False).first).to_be_visible()


def test_a_secretary_takes_an_applicant_to_probationary_member(page, browser, live_server):
    tree = make_tree()
    branch = tree.branch_a
    voters = [make_member(branch, name) for name in ("张明", "李红", "王强", "赵敏", "刘洋")]
    make_user("dev_sec", role="branch_admin", org=branch)
    make_user("dev_above", role="org_admin", org=tree.district_a)
    applied = timezone.localdate() - timedelta(days=730)

    # The secretary registers the application (phone).
    login(page, "dev_sec")
    page.goto("/development/new/")
    form = page.get_by_test_id("case-create-form")
    form.get_by_label("党支部").fill(branch.name)
    form.get_by_label("姓名").fill("陈申请")
    form.get_by_label("公民身份号码").fill(valid_id_number(date(1998, 4, 1)))
    form.get_by_label("收到入党申请日期").fill(applied.isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name="保存").click()
    case = DevelopmentCase.objects.get(name="陈申请")
    assert page.url.endswith(f"/development/{case.pk}/")
    expect(page.get_by_test_id("next-talk")).to_be_visible()

    # 谈话, then 入党积极分子 with a mentor, two assessments, then 发展对象 with two sponsors.
    _confirm(page, case.pk, "talk", applied + timedelta(days=20), people="支部书记")
    _confirm(
        page, case.pk, "activist", applied + timedelta(days=40), mentors=["张明"], recommendation="党员推荐"
    )
    case.refresh_from_db()
    assert case.member.status == MemberStatus.ACTIVIST
    _confirm(page, case.pk, "assessment", applied + timedelta(days=220), note="表现良好")
    _confirm(page, case.pk, "assessment", applied + timedelta(days=400), note="表现良好")
    _confirm(page, case.pk, "candidate", applied + timedelta(days=410), sponsors=["李红", "王强"])
    screenshot(page, "development-candidate-phone")

    # Three full days of a 培训班 in the candidate period: the ledger meets the rule.
    for n in range(3):
        day = applied + timedelta(days=420 + n)
        session = _activity(branch, "training_session", day, 8, "发展对象培训班", roster=[case.member])
        _attend(session, [case.member])
    _confirm(page, case.pk, "training_done", applied + timedelta(days=430))
    _confirm(
        page, case.pk, "committee_review", applied + timedelta(days=440), note="政治审查合格，支委会审查同意"
    )
    expect(page.get_by_test_id("awaiting-above")).to_be_visible()  # 预审 is the level above's

    # The district's organisation department confirms the 预审 (desktop).
    above = browser.new_context(
        locale="zh-CN", viewport={"width": 1366, "height": 900}, base_url=live_server.url
    )
    desk = above.new_page()
    desk.set_default_timeout(10_000)
    login(desk, "dev_above")
    _confirm(desk, case.pk, "pre_review", applied + timedelta(days=450), people="区委组织部")

    # 公示 for five days, then the 支部党员大会 votes (the meeting's record gives the quorum).
    _confirm(
        page,
        case.pk,
        "publicity",
        applied + timedelta(days=460),
        start_on=(applied + timedelta(days=456)).isoformat(),
    )
    vote_day = applied + timedelta(days=470)
    meeting = _activity(branch, "branch_assembly", vote_day, 2, "讨论接收预备党员")
    _attend(meeting, voters)
    _confirm(
        page,
        case.pk,
        "admission_vote",
        vote_day,
        meeting=f"{vote_day:%Y-%m-%d} 讨论接收预备党员",
        yes_votes=5,
    )

    # The level above talks with them and approves: 预备党员 from the day of the vote.
    _confirm(desk, case.pk, "approval", applied + timedelta(days=500), people="区委组织部 王某")
    screenshot(desk, "development-approved-desktop")
    above.close()

    case.refresh_from_db()
    member = case.member
    member.refresh_from_db()
    assert (case.stage, member.status, member.joined_on) == (
        "probationary",
        MemberStatus.PROBATIONARY,
        vote_day,
    )
    page.goto(f"/development/{case.pk}/")
    expect(page.get_by_test_id("next-oath")).to_be_visible()
    screenshot(page, "development-probationary-phone")
