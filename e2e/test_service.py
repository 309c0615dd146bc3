"""End-to-end: service on a phone (390×844). An in-service member registers with the community where
they live (双报到) and records a service, which waits for the community to confirm it; a branch
secretary books a room of the district's party service centre, sees the taken slot, is refused an
overlapping time with the conflicting booking named, and books a free one."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyedu.service.models import Booking, Registration, ServiceRecord
from partyedu.service.services import booking_create, centre_create, room_create
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_in_service_member_registers_and_records_a_service_on_a_phone(page):
    tree = make_tree()
    user = make_user("zaizhi", role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "孙在职", categories=["employed"])
    member.user = user
    member.save(update_fields=["user"])

    login(page, "zaizhi")
    page.goto("/service/my/registration/")
    page.get_by_label("或填写社区名称").fill("泉城市历下区文化东路街道山大路社区")
    page.get_by_label("服务岗位").fill("政策宣传员")
    with page.expect_navigation():
        page.get_by_test_id("register").click()
    registration = Registration.objects.get(member=member, ended_on__isnull=True)
    assert registration.community_name.endswith("山大路社区")

    page.goto("/service/my/records/new/")
    yesterday = timezone.localdate() - timedelta(days=1)
    page.get_by_label("服务日期").fill(yesterday.isoformat())
    page.get_by_label("服务时长（小时）").fill("2.5")
    page.get_by_label("服务类型").select_option(label="政策宣传")
    page.get_by_label("服务内容").fill("在社区宣讲医保新政")
    with page.expect_navigation():
        page.get_by_test_id("save-record").click()
    record = ServiceRecord.objects.get(member=member)
    assert (record.date, str(record.hours), record.status) == (yesterday, "2.5", "pending")
    page.goto("/service/my/")
    expect(page.get_by_text("在社区宣讲医保新政")).to_be_visible()
    expect(page.get_by_text("待社区确认").first).to_be_visible()
    screenshot(page, "service-my-phone")


def test_a_secretary_books_a_free_slot_and_is_told_which_booking_an_overlap_hits(page):
    tree = make_tree()
    make_user("shuji", role="branch_admin", org=tree.branch_a)
    centre = centre_create(actor=None, organization=tree.district_a, name="甲区党群活动服务中心")
    room = room_create(actor=None, centre=centre, name="多功能厅", capacity=40)
    day = timezone.localdate() + timedelta(days=2)
    taken = timezone.make_aware(datetime.combine(day, time(9)))
    booking_create(
        actor=None,
        room=room,
        organization=tree.branch_b,
        start=taken,
        end=taken + timedelta(hours=2),
        attendees=20,
        purpose="主题党日",
    )

    login(page, "shuji")
    page.goto(f"/service/rooms/{room.pk}/book/?day={day.isoformat()}")
    form = page.get_by_test_id("booking-form")
    form.get_by_label("日期").fill(day.isoformat())
    form.get_by_label("开始").fill("10:00")
    form.get_by_label("结束").fill("12:00")
    form.get_by_label("人数").fill("25")
    form.get_by_label("用途").fill("支部党员大会")
    form.get_by_role("button", name="提交预约").click()
    expect(page.get_by_text("乙一支部").first).to_be_visible()  # the conflict names the other unit
    assert Booking.objects.filter(organization=tree.branch_a).count() == 0
    screenshot(page, "service-booking-conflict-phone")

    form = page.get_by_test_id("booking-form")
    form.get_by_label("开始").fill("14:00")
    form.get_by_label("结束").fill("16:00")
    with page.expect_navigation():
        form.get_by_role("button", name="提交预约").click()
    mine = Booking.objects.get(organization=tree.branch_a)
    assert timezone.localtime(mine.start).time() == time(14) and mine.status == "pending"
    expect(page.get_by_text("等待服务中心审核")).to_be_visible()
