"""The community area's pages: every URL's permission cases (``ScopedEndpointTests`` and its
variants), the phone flows (a member's pledge, completing it with a photo, a contact logging a
request, booking a room with the day's taken slots) and the pinned query counts of the lists.

A centre is public to every user who may book for a unit; the permission classes below use a
CLOSED centre (``is_active=False``), which only its managers see, so that a sibling district's
user is a stranger to it (404). That an open centre is seen by another district's unit is its
own test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.service.choices import BookingStatus, PledgeStatus
from partyedu.service.models import Booking, Pledge, PledgePhoto, ResidentRequest
from partyedu.service.services.community import (
    booking_create,
    centre_update,
    pledge_complete,
    resident_request_log,
)
from partyedu.testsupport.factories import make_user

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


def closed_centre(org: Any) -> Any:
    centre, room = make_centre(org)
    centre_update(
        actor=None, centre=centre, name=centre.name, address="", requires_approval=True, is_active=False
    )
    return centre, room


def unique_booking(org: Any, purpose: str = "甲一支部十月主题党日") -> Booking:
    _centre, room = make_centre(org)
    start, end = slot()
    return booking_create(
        actor=None, room=room, organization=org, start=start, end=end, attendees=10, purpose=purpose
    )


# --- pledges --------------------------------------------------------------------------------------------


class PledgePage(ScopedEndpointTests):
    def make_object(self, org):
        return make_pledge(org, title="为甲一小区加装路灯")

    def url(self, obj):
        return reverse("service:pledge_detail", args=[obj.pk])


class TestPledgeList(ScopedEndpointTests):
    kind = "list"
    url_name = "service:pledge_list"
    marker_attr = "title"

    def make_object(self, org):
        return make_pledge(org, title="为甲一小区加装路灯")

    def url(self, obj):
        return reverse("service:pledge_list")


class TestPledgeCreate(ScopedEndpointTests):
    kind = "create"
    url_name = "service:pledge_create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("service:pledge_create")


class TestPledgeStats(ScopedEndpointTests):
    url_name = "service:pledge_stats"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"{reverse('service:pledge_stats')}?organization={obj.pk}"


class TestPledgeDetail(PledgePage, ScopedEndpointTests):
    url_name = "service:pledge_detail"


class TestPledgeProgress(PostEndpointTests, PledgePage):
    url_name = "service:pledge_progress"

    def post_data(self, obj):
        return {"note": "已联系施工队"}

    def action_url(self, obj):
        return reverse("service:pledge_progress", args=[obj.pk])


class TestPledgeComplete(PledgePage, ScopedEndpointTests):
    url_name = "service:pledge_complete"

    def url(self, obj):
        return reverse("service:pledge_complete", args=[obj.pk])


class TestPledgeConfirm(PostEndpointTests, PledgePage):
    url_name = "service:pledge_confirm"

    def make_object(self, org):
        pledge = make_pledge(org)
        return pledge_complete(actor=None, pledge=pledge, note="已办好")

    def action_url(self, obj):
        return reverse("service:pledge_confirm", args=[obj.pk])


class TestPledgePhoto(ScopedEndpointTests):
    url_name = "service:pledge_photo"

    def make_object(self, org):
        pledge = pledge_complete(actor=None, pledge=make_pledge(org), note="已办好", photos=[png()])
        return PledgePhoto.objects.get(pledge=pledge)

    def url(self, obj):
        return reverse("service:pledge_photo", args=[obj.pledge_id, obj.pk])


class TestMyPledges(OwnedEndpointTests):
    role = "member"
    kind = "list"
    url_name = "service:my_pledges"
    marker_attr = "title"

    def make_object(self, org):
        self._user, member = member_user(org, "甲")
        return make_pledge(member=member, title="帮邻居修水管")

    def owner(self, obj):
        return self._user

    def url(self, obj):
        return reverse("service:my_pledges")


# --- the 联户 grid --------------------------------------------------------------------------------------


class GridPage(ScopedEndpointTests):
    def make_object(self, org):
        return make_grid(org)["building"]


class TestGridIndex(ScopedEndpointTests):
    kind = "list"
    url_name = "service:grid_index"
    marker_attr = "name"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("service:grid_index")


class TestGridDetail(ScopedEndpointTests):
    url_name = "service:grid_detail"

    def make_object(self, org):
        make_grid(org)
        return org

    def url(self, obj):
        return reverse("service:grid_detail", args=[obj.pk])


class TestGridUnitCreate(ScopedEndpointTests):
    url_name = "service:grid_unit_create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("service:grid_unit_create", args=[obj.pk])


class TestGridUnitEdit(GridPage, ScopedEndpointTests):
    url_name = "service:grid_unit_edit"

    def url(self, obj):
        return reverse("service:grid_unit_edit", args=[obj.pk])


class TestRequestCreate(GridPage, ScopedEndpointTests):
    url_name = "service:request_create"

    def url(self, obj):
        return reverse("service:request_create", args=[obj.pk])


class RequestPage(ScopedEndpointTests):
    def make_object(self, org):
        unit = make_grid(org)["building"]
        return resident_request_log(actor=None, unit=unit, household="5栋301", summary="甲一小区楼道飞线充电")

    def url(self, obj):
        return reverse("service:request_detail", args=[obj.pk])


class TestRequestList(RequestPage, ScopedEndpointTests):
    kind = "list"
    url_name = "service:request_list"
    marker_attr = "summary"

    def url(self, obj):
        return reverse("service:request_list")


class TestRequestDetail(RequestPage, ScopedEndpointTests):
    url_name = "service:request_detail"


class TestRequestStart(PostEndpointTests, RequestPage):
    url_name = "service:request_start"

    def action_url(self, obj):
        return reverse("service:request_start", args=[obj.pk])


class TestRequestResolve(PostEndpointTests, RequestPage):
    url_name = "service:request_resolve"

    def post_data(self, obj):
        return {"resolution": "安装充电桩", "households_benefited": "20"}

    def action_url(self, obj):
        return reverse("service:request_resolve", args=[obj.pk])


class TestRequestStats(ScopedEndpointTests):
    url_name = "service:request_stats"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"{reverse('service:request_stats')}?organization={obj.pk}"


# --- centres and bookings -------------------------------------------------------------------------------


class TestCentreList(ScopedEndpointTests):
    kind = "list"
    url_name = "service:centre_list"
    marker_attr = "name"

    def make_object(self, org):
        centre, _room = closed_centre(org)
        centre.name = "甲一党群活动服务中心"
        centre.save(update_fields=["name"])
        return centre

    def url(self, obj):
        return reverse("service:centre_list")


class TestCentreCreate(ScopedEndpointTests):
    kind = "create"
    url_name = "service:centre_create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("service:centre_create")


class CentrePage(ScopedEndpointTests):
    def make_object(self, org):
        return closed_centre(org)[0]


class TestCentreDetail(CentrePage, ScopedEndpointTests):
    url_name = "service:centre_detail"

    def url(self, obj):
        return reverse("service:centre_detail", args=[obj.pk])


class TestCentreEdit(CentrePage, ScopedEndpointTests):
    url_name = "service:centre_edit"

    def url(self, obj):
        return reverse("service:centre_edit", args=[obj.pk])


class TestCentreUsage(CentrePage, ScopedEndpointTests):
    url_name = "service:centre_usage"

    def url(self, obj):
        return reverse("service:centre_usage", args=[obj.pk])


class TestRoomCreate(CentrePage, ScopedEndpointTests):
    url_name = "service:room_create"

    def url(self, obj):
        return reverse("service:room_create", args=[obj.pk])


class RoomPage(ScopedEndpointTests):
    def make_object(self, org):
        return closed_centre(org)[1]


class TestRoomEdit(RoomPage, ScopedEndpointTests):
    url_name = "service:room_edit"

    def url(self, obj):
        return reverse("service:room_edit", args=[obj.pk])


class TestRoomDay(RoomPage, ScopedEndpointTests):
    url_name = "service:room_day"

    def url(self, obj):
        return reverse("service:room_day", args=[obj.pk])


class TestBookingCreate(RoomPage, ScopedEndpointTests):
    url_name = "service:booking_create"

    def url(self, obj):
        return reverse("service:booking_create", args=[obj.pk])


class BookingPage(ScopedEndpointTests):
    def make_object(self, org):
        return unique_booking(org)

    def url(self, obj):
        return reverse("service:booking_detail", args=[obj.pk])


class TestBookingList(BookingPage, ScopedEndpointTests):
    kind = "list"
    url_name = "service:booking_list"
    marker_attr = "purpose"

    def url(self, obj):
        return reverse("service:booking_list")


class TestBookingDetail(BookingPage, ScopedEndpointTests):
    url_name = "service:booking_detail"


class TestBookingDecide(PostEndpointTests, BookingPage):
    url_name = "service:booking_decide"

    def post_data(self, obj):
        return {"decision": "approve"}

    def action_url(self, obj):
        return reverse("service:booking_decide", args=[obj.pk])


class TestBookingCancel(PostEndpointTests, BookingPage):
    url_name = "service:booking_cancel"

    def action_url(self, obj):
        return reverse("service:booking_cancel", args=[obj.pk])


class TestBookingLink(BookingPage, ScopedEndpointTests):
    url_name = "service:booking_link"

    def url(self, obj):
        return reverse("service:booking_link", args=[obj.pk])


class TestSummary(ScopedEndpointTests):
    url_name = "service:summary"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"{reverse('service:summary')}?organization={obj.pk}"


# --- flows ------------------------------------------------------------------------------------------------


def test_a_member_pledges_and_completes_with_a_photo_on_the_phone(client, tree):
    user, member = member_user(tree.branch_a, "甲")
    client.force_login(user)
    page = client.get(reverse("service:my_pledges"))
    assert 'data-testid="my-pledge-create"' in page.content.decode()
    due = (timezone.localdate() + timedelta(days=20)).isoformat()
    response = client.post(
        reverse("service:my_pledge_create"), {"title": "帮独居老人买菜", "beneficiary": "王奶奶", "due": due}
    )
    assert response.status_code == 302
    pledge = Pledge.objects.get(member=member)
    detail = client.get(reverse("service:pledge_detail", args=[pledge.pk])).content.decode()
    assert 'data-testid="pledge-complete"' in detail
    response = client.post(
        reverse("service:pledge_complete", args=[pledge.pk]),
        {"note": "每周两次，已坚持一个月", "photos": [png()]},
    )
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.COMPLETED
    assert pledge.photos.count() == 1
    # the second completion is refused: the page says it is done and nothing changes
    response = client.post(
        reverse("service:pledge_complete", args=[pledge.pk]), {"note": "再来"}, follow=True
    )
    assert "已经办结" in response.content.decode()
    assert pledge.photos.count() == 1


def test_a_bad_photo_is_named_on_the_form(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user, member = member_user(tree.branch_a, "甲")
    pledge = make_pledge(member=member)
    client.force_login(user)
    fake = SimpleUploadedFile("假照片.jpg", b"not an image", content_type="image/jpeg")
    response = client.post(
        reverse("service:pledge_complete", args=[pledge.pk]), {"note": "好了", "photos": [fake]}
    )
    assert response.status_code == 200
    assert "假照片.jpg" in response.content.decode()
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.OPEN


def test_the_level_above_confirms_on_the_detail_page(client, tree):
    pledge = pledge_complete(actor=None, pledge=make_pledge(tree.branch_a), note="已办好")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    client.force_login(secretary)
    assert (
        'data-testid="pledge-confirm"'
        not in client.get(reverse("service:pledge_detail", args=[pledge.pk])).content.decode()
    )
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    page = client.get(reverse("service:pledge_list") + "?waiting=on").content.decode()
    assert pledge.title in page
    client.post(reverse("service:pledge_confirm", args=[pledge.pk]))
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.CONFIRMED


def test_a_contact_logs_a_request_from_the_phone(client, tree):
    user, contact = member_user(tree.branch_a, "楼长")
    unit = make_grid(tree.branch_a, contact=contact.pk)["building"]
    client.force_login(user)
    index = client.get(reverse("service:grid_index")).content.decode()
    assert 'data-testid="my-grid-unit"' in index
    response = client.post(
        reverse("service:request_create", args=[unit.pk]),
        {"household": "3号楼1单元502", "summary": "楼道灯坏了"},
    )
    assert response.status_code == 302
    item = ResidentRequest.objects.get()
    assert client.get(reverse("service:request_detail", args=[item.pk])).status_code == 200
    client.post(
        reverse("service:request_resolve", args=[item.pk]),
        {"resolution": "已更换", "households_benefited": "12"},
    )
    item.refresh_from_db()
    assert item.households_benefited == 12
    # a resident's phone number is refused and named
    response = client.post(
        reverse("service:request_create", args=[unit.pk]), {"household": "13812345678", "summary": "路灯"}
    )
    assert response.status_code == 200
    assert "手机号" in response.content.decode()


def test_another_districts_unit_sees_an_open_centre_and_books_it(client, tree):
    centre, room = make_centre(tree.district_a)
    start, end = slot(days=2, hour=9, hours=2)
    taken = booking_create(
        actor=None,
        room=room,
        organization=tree.branch_a,
        start=start,
        end=end,
        attendees=10,
        purpose="甲一专题组织生活会",
    )
    secretary = make_user(role="branch_admin", org=tree.branch_b)
    client.force_login(secretary)
    assert centre.name in client.get(reverse("service:centre_list")).content.decode()
    day = timezone.localtime(taken.start).date().isoformat()
    page = client.get(reverse("service:booking_create", args=[room.pk]) + f"?day={day}").content.decode()
    assert 'data-testid="taken-slot"' in page
    assert "甲一支部" in page
    assert taken.purpose not in page  # the purpose stays with the unit and the centre
    data = {
        "organization": tree.branch_b.pk,
        "day": day,
        "start_time": "10:00",
        "end_time": "11:00",
        "attendees": "10",
        "purpose": "乙一支部党课",
    }
    response = client.post(reverse("service:booking_create", args=[room.pk]), data)
    assert response.status_code == 200
    assert "甲一支部" in response.content.decode()  # the conflict is named on the form
    data.update({"start_time": "14:00", "end_time": "16:00", "attendees": "31"})
    response = client.post(reverse("service:booking_create", args=[room.pk]), data)
    assert "容纳人数" in response.content.decode()
    data["attendees"] = "20"
    response = client.post(reverse("service:booking_create", args=[room.pk]), data)
    assert response.status_code == 302
    assert Booking.objects.filter(organization=tree.branch_b, status=BookingStatus.PENDING).count() == 1


def test_the_day_fragment_answers_htmx(client, tree):
    _centre, room = make_centre(tree.district_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.get(reverse("service:room_day", args=[room.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="day-free"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_centre_approves_and_the_unit_links_its_activity(client, tree):
    from partyedu.study.services import activity_record

    centre, room = make_centre(tree.district_a)
    booking = make_booking(room, tree.branch_a, hour=14)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(reverse("service:booking_decide", args=[booking.pk]), {"decision": "approve"})
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.APPROVED
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "重温入党誓词",
            "start": booking.start,
            "end": booking.end,
        },
    )
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    client.force_login(secretary)
    page = client.get(reverse("service:booking_link", args=[booking.pk])).content.decode()
    assert "重温入党誓词" in page
    response = client.post(reverse("service:booking_link", args=[booking.pk]), {"activity": activity.pk})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.place == f"{centre.name} {room.name}"


def test_list_pages_run_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    client.force_login(admin)
    _centre, room = make_centre(tree.district_a)
    for n in range(3):
        make_pledge(tree.branch_a, title=f"实事{n}")
        make_booking(room, tree.branch_a, days=n + 1)
    unit = make_grid(tree.branch_a)["building"]
    for n in range(3):
        resident_request_log(actor=None, unit=unit, household=f"1-10{n}", summary=f"诉求{n}")
    pages = [
        reverse("service:pledge_list"),
        reverse("service:booking_list"),
        reverse("service:request_list"),
        reverse("service:centre_list"),
        reverse("service:grid_index"),
        reverse("service:grid_detail", args=[tree.branch_a.pk]),
        reverse("service:summary"),
        reverse("service:pledge_stats"),
    ]
    counts = {}
    for url in pages:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    # more rows: the same number of queries
    for n in range(3, 8):
        make_pledge(tree.branch_b, title=f"实事{n}")
        make_booking(room, tree.branch_b, days=n + 1)
        resident_request_log(actor=None, unit=unit, household=f"2-10{n}", summary=f"诉求{n}")
    for url in pages:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)
    assert max(counts.values()) <= 30


def test_the_service_home_page_links_this_area(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    page = client.get(reverse("service:index")).content.decode()
    for testid in (
        "service-card-pledges",
        "service-card-grid",
        "service-card-centres",
        "service-card-summary",
    ):
        assert f'data-testid="{testid}"' in page
    user, _member = member_user(tree.branch_a, "甲")
    client.force_login(user)
    page = client.get(reverse("service:index")).content.decode()
    assert 'data-testid="service-card-my-pledges"' in page
    assert (
        reverse("service:my_pledges") in client.get(reverse("core:home")).content.decode()
    )  # the member menu
