"""End-to-end on a phone (390×844): a branch secretary records an activity and marks attendance;
a member checks in through the QR link and looks at 我的学时."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.study.checkin import checkin_token
from partyedu.study.models import Activity, Attendance
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def link(member, username: str):
    user = make_user(username, role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def test_secretary_records_an_activity_and_marks_attendance_on_a_phone(page):
    tree = make_tree()
    for name in ("张三", "李四", "王五", "赵六"):
        make_member(tree.branch_a, name)
    make_user("sec", role="branch_admin", org=tree.branch_a)
    login(page, "sec")
    page.wait_for_url(re.compile(r"/$"))

    # Record: type, topic; date, times and the branch are filled in already.
    page.goto("/study/activities/new/")
    assert page.locator("input[name=organization__q]").input_value() == "甲一支部"
    page.get_by_label("活动类型").select_option("branch_assembly")
    page.locator("input[name=topic]").fill("学习新修订的《条例》")
    page.get_by_label("主持人").fill("张书记")
    screenshot(page, "study-activity-form-phone")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("heading", name="学习新修订的《条例》").wait_for()
    activity = Activity.objects.get()
    assert activity.organization == tree.branch_a and activity.attendances.count() == 4

    # Attendance: everyone present, then one on leave and one absent, one submit.
    page.get_by_role("link", name="登记出勤").click()
    page.get_by_role("button", name="全部出席").click()
    page.locator("#row-" + str(activity.attendances.get(member__name="李四").member_id)).get_by_text(
        "请假"
    ).click()
    page.locator("#row-" + str(activity.attendances.get(member__name="赵六").member_id)).get_by_text(
        "缺席"
    ).click()
    screenshot(page, "study-attendance-phone")
    page.get_by_role("button", name="保存出勤").click()
    page.get_by_text("已保存出勤：4人有变动").wait_for()
    marks = dict(Attendance.objects.filter(activity=activity).values_list("member__name", "status"))
    assert marks == {"张三": "present", "王五": "present", "李四": "leave", "赵六": "absent"}
    quorum = page.get_by_test_id("quorum")
    assert "到会2人/应到4人（有表决权），未过半数" in quorum.inner_text()
    screenshot(page, "study-activity-detail-phone")

    # Submitting the same marks again changes nothing.
    page.goto(f"/study/activities/{activity.pk}/attendance/")
    page.get_by_role("button", name="保存出勤").click()
    page.get_by_text("出勤情况没有变化").wait_for()


def test_member_checks_in_through_the_qr_link(page, browser, live_server):
    tree = make_tree()
    zhang = make_member(tree.branch_a, "张三")
    make_member(tree.branch_a, "李四")
    link(zhang, "zhang")
    make_user("sec", role="branch_admin", org=tree.branch_a)
    now = timezone.now()
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日：重温入党誓词",
            "start": now - timedelta(minutes=5),
            "end": now + timedelta(hours=2),
        },
    )

    # The secretary shows the code (on a projector).
    projector = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_server.url
    )
    screen = projector.new_page()
    login(screen, "sec")
    screen.wait_for_url(re.compile(r"/$"))
    screen.clock.install()
    screen.goto(f"/study/activities/{activity.pk}/qr/")
    screen.locator("#qr-live svg").wait_for()
    assert "已签到 0 / 应到 2 人" in screen.get_by_test_id("checked-in").inner_text()
    screenshot(screen, "study-qr-projector")

    # The member scans: the phone opens the link, signs in, and comes back to a clear result.
    token, _expires = checkin_token(activity)
    page.goto(f"/study/checkin/?t={token}")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    login_form = page.locator("form")
    login_form.get_by_label("用户名或手机号").fill("zhang")
    login_form.get_by_label("密码").fill("Test@2026pw")
    login_form.get_by_role("button", name="登录").click()
    page.get_by_test_id("checkin-result").wait_for()
    assert page.get_by_test_id("checkin-result").inner_text() == "签到成功"
    screenshot(page, "study-checkin-success-phone")
    assert Attendance.objects.get(activity=activity, member=zhang).status == "present"

    # The projector page refreshes itself (every 25 seconds) and counts the member.
    screen.clock.fast_forward(26_000)
    screen.get_by_text("已签到 1 / 应到 2 人").wait_for()
    assert "张三" in screen.locator("#qr-live").inner_text()
    projector.close()

    # An old code (a screenshot passed on) is refused in plain words.
    old, _expires = checkin_token(activity, at=timezone.now() - timedelta(minutes=2))
    page.goto(f"/study/checkin/?t={old}")
    assert "二维码已过期" in page.get_by_test_id("checkin-result").inner_text()


def test_member_reads_my_hours_on_a_phone(page):
    from partyedu.learning.tests.factories import attend, make_activity

    tree = make_tree()
    member = make_member(tree.branch_a, "王大爷")
    link(member, "wang")
    start = timezone.localtime().replace(month=3, day=15, hour=9, minute=0, second=0, microsecond=0)
    attend(make_activity(tree.branch_a, topic="学习党章", start=start, credited_hours=Decimal("4")), member)
    attend(
        make_activity(
            tree.branch_a,
            activity_type="training_session",
            topic="春季培训班",
            start=start + timedelta(days=7),
        ),
        member,
    )
    login(page, "wang")
    page.wait_for_url(re.compile(r"/$"))
    screenshot(page, "member-home-phone")
    page.get_by_role("link", name="我的学时").first.click()
    numbers = page.get_by_test_id("hours-numbers")
    numbers.wait_for()
    assert "32" in numbers.inner_text() and "6" in numbers.inner_text() and "26" in numbers.inner_text()
    assert page.get_by_text("学习党章（出席）").first.is_visible()
    screenshot(page, "learning-my-hours-phone")
    page.goto("/study/scan/")
    screenshot(page, "study-scan-phone")


def test_org_admin_pages_on_a_phone(page):
    """A walk through the organisation department's pages (screenshots to look at)."""
    from datetime import date

    from partyedu.learning.services import column_create, resource_create, resource_publish
    from partyedu.study import services

    tree = make_tree()
    members = [make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i:02d}") for i in range(6)]
    make_member(tree.branch_b, "乙支部党员")
    make_user("admin", role="org_admin", org=tree.root)
    year = timezone.localdate().year
    plan = services.study_plan_issue(
        actor=None,
        data={
            "organization": tree.root,
            "title": f"{year}年度党员学习计划",
            "year": year,
            "topics": [{"title": "学习党章", "due_date": date(year, 6, 30)}, {"title": "学习条例"}],
        },
    )
    start = timezone.now() - timedelta(days=3)
    base = services.education_base_create(
        actor=None, data={"organization": tree.root, "name": "革命烈士纪念馆"}
    )
    services.teaching_site_create(
        actor=None, data={"organization": tree.district_a, "name": "街道党校教学点"}
    )
    activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "site_visit",
            "topic": "参观革命烈士纪念馆",
            "start": start,
            "end": start + timedelta(hours=3),
            "education_base": base,
            "required_topic": plan.topics.first(),
        },
    )
    tc = services.training_class_create(
        actor=None,
        data={
            "organization": tree.district_a,
            "name": "春季入党积极分子培训班",
            "start_date": timezone.localdate() - timedelta(days=10),
            "end_date": timezone.localdate() + timedelta(days=50),
            "schedule": "每周二、周四晚 19:00–21:00",
            "members": [m.pk for m in members[:4]],
        },
    )
    session = activity_record(
        actor=None,
        data={
            "training_class": tc,
            "topic": "第一课：党的性质",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    services.attendance_mark(
        actor=None, activity=session, records=[{"member": m.pk, "status": "present"} for m in members[:3]]
    )
    material = services.material_create(
        actor=None, data={"organization": tree.root, "title": "党员应知应会手册", "year": year}
    )
    services.material_distribute(actor=None, material=material, members=[m.pk for m in members[:3]])
    column = column_create(actor=None, organization=tree.root, name="教育学习园地")
    resource_publish(
        actor=None,
        resource=resource_create(
            actor=None,
            organization=tree.root,
            title="学习园地第12期：基层党建",
            kind="article",
            body="第一段正文。\n\n第二段正文。",
            duration_seconds=300,
            column=column,
            issue_no=12,
        ),
    )

    login(page, "admin")
    page.wait_for_url(re.compile(r"/$"))
    for url, name in (
        ("/study/activities/", "study-activity-list-phone"),
        (f"/study/plans/{plan.pk}/", "study-plan-detail-phone"),
        (f"/study/classes/{tc.pk}/", "study-class-detail-phone"),
        (f"/study/classes/{tc.pk}/enroll/?organization={tree.branch_a.pk}", "study-class-enroll-phone"),
        (f"/study/cadence/?organization={tree.root.pk}&year={year}", "study-cadence-phone"),
        (f"/study/bases/{base.pk}/", "study-base-detail-phone"),
        (f"/study/materials/{material.pk}/", "study-material-coverage-phone"),
        (f"/learning/summary/?organization={tree.root.pk}&year={year}", "learning-summary-phone"),
        ("/learning/resources/", "learning-resources-phone"),
        ("/learning/resources/new/", "learning-resource-form-phone"),
        ("/study/activities/new/", "study-activity-form-admin-phone"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        screenshot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/study/plans/{plan.pk}/")
    screenshot(page, "study-plan-detail-desktop")


def test_member_reads_an_article_and_the_heartbeats_complete_it(page):
    from partyedu.learning.models import ResourceProgress
    from partyedu.learning.services import resource_create, resource_publish

    tree = make_tree()
    member = make_member(tree.branch_a, "李大姐")
    link(member, "li")
    resource = resource_publish(
        actor=None,
        resource=resource_create(
            actor=None,
            organization=tree.root,
            title="短文：什么是三会一课",
            kind="article",
            body="三会一课是指定期召开支部党员大会、支部委员会、党小组会，按时上好党课。",
            duration_seconds=2,
            credit_hours=Decimal("0.5"),
        ),
    )
    login(page, "li")
    page.wait_for_url(re.compile(r"/$"))
    page.clock.install()
    page.goto(f"/learning/resources/{resource.pk}/")
    page.wait_for_load_state("networkidle")  # the first report starts the server's clock
    page.mouse.move(100, 300)
    page.clock.fast_forward(16_000)  # one reporting interval later
    page.get_by_text("已完成，计入网络学习0.5学时").wait_for()
    screenshot(page, "learning-article-done-phone")
    progress = ResourceProgress.objects.get(member=member, resource=resource)
    assert progress.completed_at is not None
    assert member.hour_entries.filter(kind="online").count() == 1
