"""The community area's services: pledges (create, progress, complete once with photos,
confirmation by the level above or the benefiting community), the 联户 grid and residents'
requests, centres, rooms and bookings (conflicts, capacity, approval, cancel, the activity's
place). Bad input is refused with a message naming the field and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.service.choices import BookingStatus, PledgeStatus, RequestStatus
from partyedu.service.models import Booking, GridUnit, Pledge, PledgePhoto, Registration, ResidentRequest
from partyedu.service.services.community import (
    booking_cancel,
    booking_create,
    booking_decide,
    booking_link_activity,
    grid_unit_create,
    grid_unit_update,
    pledge_complete,
    pledge_confirm,
    pledge_create,
    pledge_progress,
    resident_request_log,
    resident_request_resolve,
    resident_request_start,
    room_update,
)
from partyedu.testsupport.factories import make_member, make_org, make_user

from .test_community_factories import (
    make_booking,
    make_centre,
    make_grid,
    make_pledge,
    member_user,
    png,
    slot,
)

pytestmark = pytest.mark.django_db


def field_errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- pledges ---------------------------------------------------------------------------------------------


def test_a_secretary_pledges_for_the_branch(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    pledge = pledge_create(
        actor=secretary,
        organization=tree.branch_a,
        title="楼道照明改造",
        due=timezone.localdate(),
        beneficiary="3号楼居民",
    )
    assert pledge.year == timezone.localdate().year
    assert pledge.status == PledgeStatus.OPEN
    assert pledge.created_by == secretary
    assert AuditLog.objects.filter(
        object_type="service.pledge", object_id=str(pledge.pk), action="create"
    ).exists()


def test_a_secretary_cannot_pledge_for_a_sibling_branch(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        pledge_create(actor=secretary, organization=tree.branch_b, title="路灯", due=timezone.localdate())
    assert not Pledge.objects.exists()


def test_a_member_pledges_for_themself_and_not_for_another(tree):
    user, member = member_user(tree.branch_a, "甲")
    other = make_member(tree.branch_a, "乙")
    pledge = pledge_create(actor=user, member=member, title="帮邻居修水管", due=timezone.localdate())
    assert pledge.organization == tree.branch_a
    assert pledge.member == member
    with pytest.raises(ValidationError) as exc:
        pledge_create(actor=user, member=other, title="帮邻居修水管", due=timezone.localdate())
    assert "member" in field_errors(exc)
    assert Pledge.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "due": "2099-01-01"}, "title"),
        ({"title": "x" * 201, "due": "2099-01-01"}, "title"),
        ({"title": "路灯", "due": "明天"}, "due"),
        ({"title": "路灯", "due": "2001-01-01"}, "due"),
        ({"title": "路灯\x07", "due": "2099-01-01"}, "title"),
    ],
)
def test_bad_pledge_input_names_the_field_and_writes_nothing(tree, data, field):
    with pytest.raises(ValidationError) as exc:
        pledge_create(actor=None, organization=tree.branch_a, **data)
    assert field in field_errors(exc)
    assert not Pledge.objects.exists()


def test_organization_and_member_are_one_or_the_other(tree):
    member = make_member(tree.branch_a, "甲")
    with pytest.raises(ValidationError) as exc:
        pledge_create(actor=None, organization=tree.branch_a, member=member, title="路灯", due="2099-01-01")
    assert "organization" in field_errors(exc)


def test_the_benefiting_community_must_be_reachable(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        pledge_create(
            actor=secretary,
            organization=tree.branch_a,
            title="路灯",
            due="2099-01-01",
            community=tree.branch_b.pk,
        )
    assert "community" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        pledge_create(
            actor=secretary,
            organization=tree.branch_a,
            title="路灯",
            due="2099-01-01",
            community=tree.district_a.pk,
        )
    assert "community" in field_errors(exc)


def test_progress_is_appended_with_the_day(tree):
    pledge = make_pledge(tree.branch_a)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    pledge_progress(actor=secretary, pledge=pledge, note="已联系施工队")
    pledge_progress(actor=secretary, pledge=pledge, note="材料到位")
    pledge.refresh_from_db()
    lines = pledge.progress.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("已联系施工队")
    assert lines[0].startswith(f"{timezone.localdate():%Y-%m-%d}")


def test_completing_with_photos_and_completing_twice_is_refused(tree):
    user, member = member_user(tree.branch_a, "甲")
    pledge = make_pledge(member=member)
    pledge_complete(actor=user, pledge=pledge, note="已修好", photos=[png("a.png"), png("b.png")])
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.COMPLETED
    assert pledge.completed_on == timezone.localdate()
    assert PledgePhoto.objects.filter(pledge=pledge).count() == 2
    with pytest.raises(ValidationError) as exc:
        pledge_complete(actor=user, pledge=pledge, note="再办一次", photos=[png()])
    assert "status" in field_errors(exc)
    assert PledgePhoto.objects.filter(pledge=pledge).count() == 2


def test_completion_needs_a_note_and_at_most_three_real_photos(tree):
    pledge = make_pledge(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        pledge_complete(actor=None, pledge=pledge, note="")
    assert "note" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        pledge_complete(actor=None, pledge=pledge, note="好了", photos=[png(f"{i}.png") for i in range(4)])
    assert "photos" in field_errors(exc)
    fake = SimpleUploadedFile("fake.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        pledge_complete(actor=None, pledge=pledge, note="好了", photos=[fake])
    assert "fake.jpg" in field_errors(exc)["photos"][0]
    with pytest.raises(ValidationError) as exc:
        pledge_complete(
            actor=None, pledge=pledge, note="好了", completed_on=timezone.localdate() + timedelta(days=1)
        )
    assert "completed_on" in field_errors(exc)
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.OPEN
    assert not PledgePhoto.objects.exists()


def test_another_member_cannot_complete_a_members_pledge(tree):
    _user, member = member_user(tree.branch_a, "甲")
    stranger, _ = member_user(tree.branch_a, "乙")
    pledge = make_pledge(member=member)
    with pytest.raises(PermissionDenied):
        pledge_complete(actor=stranger, pledge=pledge, note="好了")


def test_an_org_pledge_is_confirmed_by_the_level_above_not_by_itself(tree):
    pledge = make_pledge(tree.branch_a)
    pledge_complete(actor=None, pledge=pledge, note="已办好")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        pledge_confirm(actor=secretary, pledge=pledge)
    sibling = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        pledge_confirm(actor=sibling, pledge=pledge)
    district = make_user(role="org_admin", org=tree.district_a)
    pledge_confirm(actor=district, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.CONFIRMED
    assert pledge.confirmed_by == district
    with pytest.raises(ValidationError) as exc:
        pledge_confirm(actor=district, pledge=pledge)
    assert "status" in field_errors(exc)


def test_a_members_pledge_is_confirmed_by_the_branch(tree):
    user, member = member_user(tree.branch_a, "甲")
    pledge = make_pledge(member=member)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(ValidationError):
        pledge_confirm(actor=secretary, pledge=pledge)  # not completed yet
    pledge_complete(actor=user, pledge=pledge, note="已办好")
    with pytest.raises(PermissionDenied):
        pledge_confirm(actor=user, pledge=pledge)
    pledge_confirm(actor=secretary, pledge=pledge)
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.CONFIRMED


def test_the_benefiting_community_confirms_a_units_pledge(tree):
    unit = make_org(tree.district_a, "甲区财政局机关党支部", "branch", "organ")
    community_secretary = make_user(role="branch_admin", org=tree.branch_b)
    # the unit registered with 乙一支部's community (a 共驻共建 agreement), so it may name it
    from partyedu.service.models import Agreement

    Agreement.objects.create(organization=unit, community=tree.branch_b, signed_on=timezone.localdate())
    secretary = make_user(role="branch_admin", org=unit)
    pledge = pledge_create(
        actor=secretary, organization=unit, title="社区义诊", due="2099-01-01", community=tree.branch_b.pk
    )
    pledge_complete(actor=secretary, pledge=pledge, note="义诊60人次")
    pledge_confirm(actor=community_secretary, pledge=pledge)
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.CONFIRMED


# --- the 联户 grid ---------------------------------------------------------------------------------------


def test_the_grid_nests_area_group_building(tree):
    cells = make_grid(tree.branch_a)
    assert cells["building"].parent == cells["group"]
    with pytest.raises(ValidationError) as exc:
        grid_unit_create(
            actor=None, community=tree.branch_a, role="area", label="错位", parent=cells["building"]
        )
    assert "parent" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        grid_unit_create(
            actor=None, community=tree.branch_a, role="building", label="3号楼", parent=cells["group"]
        )
    assert "label" in field_errors(exc)


def test_a_grid_only_in_a_community_or_village(tree):
    with pytest.raises(ValidationError) as exc:
        grid_unit_create(actor=None, community=tree.district_a, role="area", label="第一片区")
    assert "community" in field_errors(exc)
    assert not GridUnit.objects.exists()


def test_the_contact_is_a_member_of_the_community_or_registered_there(tree):
    local = make_member(tree.branch_a, "本社区党员")
    outsider = make_member(tree.branch_b, "外单位党员")
    unit = grid_unit_create(actor=None, community=tree.branch_a, role="area", label="一片", contact=local.pk)
    assert unit.contact == local
    with pytest.raises(ValidationError) as exc:
        grid_unit_update(actor=None, unit=unit, label="一片", contact=outsider.pk, households=3)
    assert "contact" in field_errors(exc)
    Registration.objects.create(member=outsider, community=tree.branch_a, registered_on=timezone.localdate())
    grid_unit_update(actor=None, unit=unit, label="一片", contact=outsider.pk, households=3)
    assert GridUnit.objects.get(pk=unit.pk).contact == outsider


def test_no_personal_numbers_in_a_grid(tree):
    with pytest.raises(ValidationError) as exc:
        grid_unit_create(actor=None, community=tree.branch_a, role="area", label="13812345678")
    assert "label" in field_errors(exc)


def test_a_contact_logs_and_resolves_a_request_once(tree):
    user, contact = member_user(tree.branch_a, "楼长")
    cells = make_grid(tree.branch_a, contact=contact.pk)
    request = resident_request_log(
        actor=user, unit=cells["building"], household="3号楼2单元301", summary="楼道飞线充电"
    )
    resident_request_start(actor=user, request=request, handler="楼长")
    resident_request_resolve(actor=user, request=request, resolution="安装充电桩", households_benefited=24)
    request.refresh_from_db()
    assert request.status == RequestStatus.RESOLVED
    assert request.households_benefited == 24
    with pytest.raises(ValidationError) as exc:
        resident_request_resolve(actor=user, request=request, resolution="再次", households_benefited=1)
    assert "status" in field_errors(exc)


def test_a_stranger_cannot_log_a_request(tree):
    cells = make_grid(tree.branch_a)
    stranger, _ = member_user(tree.branch_a, "路人")
    with pytest.raises(PermissionDenied):
        resident_request_log(actor=stranger, unit=cells["building"], household="1-101", summary="路灯坏了")
    assert not ResidentRequest.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"household": "", "summary": "路灯坏了"}, "household"),
        ({"household": "张三 110105194912310021", "summary": "路灯坏了"}, "household"),
        ({"household": "1-101", "summary": "请回电13812345678"}, "summary"),
        ({"household": "1-101", "summary": "路灯坏了", "logged_on": "2999-01-01"}, "logged_on"),
    ],
)
def test_bad_request_input_names_the_field(tree, data, field):
    cells = make_grid(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        resident_request_log(actor=None, unit=cells["other"], **data)
    assert field in field_errors(exc)
    assert not ResidentRequest.objects.exists()


# --- centres and bookings -------------------------------------------------------------------------------


def test_a_unit_books_a_room_pending_approval(tree):
    _centre, room = make_centre(tree.district_a)
    secretary = make_user(role="branch_admin", org=tree.branch_b)  # another district's unit books too
    start, end = slot()
    booking = booking_create(
        actor=secretary,
        room=room,
        organization=tree.branch_b,
        start=start,
        end=end,
        attendees=20,
        purpose="党课",
    )
    assert booking.status == BookingStatus.PENDING
    assert booking.booked_by == secretary


def test_without_approval_a_booking_is_approved_at_once(tree):
    _centre, room = make_centre(tree.district_a, requires_approval=False)
    assert make_booking(room, tree.branch_a).status == BookingStatus.APPROVED


def test_an_overlapping_booking_is_refused_naming_the_conflict(tree):
    _centre, room = make_centre(tree.district_a)
    make_booking(room, tree.branch_a, hour=9, hours=2)
    start, end = slot(hour=10, hours=2)
    with pytest.raises(ValidationError) as exc:
        booking_create(
            actor=None, room=room, organization=tree.branch_b, start=start, end=end, attendees=5, purpose="会"
        )
    message = field_errors(exc)["start"][0]
    assert "甲一支部" in message
    assert f"{timezone.localtime(start):%Y-%m-%d} 09:00–11:00" in message
    assert Booking.objects.count() == 1
    # back to back is no overlap
    start, end = slot(hour=11, hours=1)
    booking_create(
        actor=None, room=room, organization=tree.branch_b, start=start, end=end, attendees=5, purpose="会"
    )


def test_a_cancelled_or_rejected_booking_frees_the_slot(tree):
    _centre, room = make_centre(tree.district_a)
    first = make_booking(room, tree.branch_a)
    booking_decide(actor=None, booking=first, approve=False, reason="设备检修")
    second = make_booking(room, tree.branch_b)
    booking_cancel(actor=None, booking=second)
    third = make_booking(room, tree.branch_b)
    assert third.status == BookingStatus.PENDING


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attendees": 31}, "attendees"),
        ({"end_before_start": True}, "end"),
        ({"past": True}, "start"),
        ({"purpose": ""}, "purpose"),
        ({"across_midnight": True}, "end"),
    ],
)
def test_bad_booking_input_names_the_field(tree, change, field):
    _centre, room = make_centre(tree.district_a, capacity=30)
    start, end = slot()
    data = {"attendees": 10, "purpose": "党课"}
    data.update({k: v for k, v in change.items() if k in data})
    if change.get("end_before_start"):
        end = start
    if change.get("past"):
        start, end = start - timedelta(days=10), end - timedelta(days=10)
    if change.get("across_midnight"):
        start, end = slot(hour=22, hours=4)
    with pytest.raises(ValidationError) as exc:
        booking_create(actor=None, room=room, organization=tree.branch_a, start=start, end=end, **data)
    assert field in field_errors(exc)
    assert not Booking.objects.exists()


def test_a_closed_room_takes_no_booking(tree):
    _centre, room = make_centre(tree.district_a)
    room_update(actor=None, room=room, name=room.name, capacity=room.capacity, is_active=False)
    with pytest.raises(ValidationError) as exc:
        make_booking(room, tree.branch_a)
    assert "room" in field_errors(exc)


def test_only_the_centre_decides_and_a_rejection_needs_a_reason(tree):
    _centre, room = make_centre(tree.district_a)
    booking = make_booking(room, tree.branch_b)
    unit = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(PermissionDenied):
        booking_decide(actor=unit, booking=booking, approve=True)
    manager = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(ValidationError) as exc:
        booking_decide(actor=manager, booking=booking, approve=False, reason="")
    assert "reason" in field_errors(exc)
    booking_decide(actor=manager, booking=booking, approve=True)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED
    assert booking.decided_by == manager
    with pytest.raises(ValidationError):
        booking_decide(actor=manager, booking=booking, approve=True)


def test_an_approved_booking_becomes_the_activitys_place(tree):
    from partyedu.study.models import Activity
    from partyedu.study.services import activity_record

    centre, room = make_centre(tree.district_a, requires_approval=False)
    booking = make_booking(room, tree.branch_a, hour=14, hours=2)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    activity = activity_record(
        actor=secretary,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": booking.start,
            "end": booking.end,
        },
    )
    booking_link_activity(actor=secretary, booking=booking, activity=activity)
    assert Activity.objects.get(pk=activity.pk).place == f"{centre.name} {room.name}"
    assert Booking.objects.get(pk=booking.pk).activity == activity
    # another unit's activity, or an activity outside the slot, is refused
    other = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "另一次",
            "start": booking.start + timedelta(days=1),
            "end": booking.end + timedelta(days=1),
        },
    )
    second = make_booking(room, tree.branch_a, hour=9, hours=1)
    with pytest.raises(ValidationError) as exc:
        booking_link_activity(actor=secretary, booking=second, activity=other)
    assert "activity" in field_errors(exc)


def test_a_pending_booking_cannot_be_the_place(tree):
    _centre, room = make_centre(tree.district_a)
    booking = make_booking(room, tree.branch_a)
    from partyedu.study.services import activity_record

    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": booking.start,
            "end": booking.end,
        },
    )
    with pytest.raises(ValidationError) as exc:
        booking_link_activity(actor=None, booking=booking, activity=activity)
    assert "activity" in field_errors(exc)
