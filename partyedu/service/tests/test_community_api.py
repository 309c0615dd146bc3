"""The community area's API: permission cases for every endpoint, and the contract —
``POST /api/v1/service/pledges/`` (organisation or member), ``…/{id}/complete/`` (twice → 400),
``POST /api/v1/service/bookings/`` (an overlap → 400 naming the conflict, capacity → 400 naming
``attendees``, end ≤ start → 400), ``GET /api/v1/organizations/{id}/service-summary/``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.service.choices import BookingStatus, PledgeStatus
from partyedu.service.models import Booking, Pledge
from partyedu.service.services.community import booking_create, centre_update, pledge_complete
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .test_community_factories import make_booking, make_centre, make_pledge, member_user, png, slot

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


class ApiPledge(ScopedEndpointTests):
    api = True

    def make_object(self, org):
        return make_pledge(org, title="为甲一小区加装路灯")

    def url(self, obj):
        return reverse("api:service-pledge-detail", args=[obj.pk])

    def listed(self, response, obj):
        return any(row["id"] == obj.pk for row in response.json()["results"])


class TestApiPledgeList(ApiPledge):
    kind = "list"
    url_name = "api:service-pledge-list"

    def url(self, obj):
        return reverse("api:service-pledge-list")


class TestApiPledgeDetail(ApiPledge):
    url_name = "api:service-pledge-detail"


class TestApiPledgeComplete(PostEndpointTests, ApiPledge):
    url_name = "api:service-pledge-complete"

    def post_data(self, obj):
        return {"note": "已办好"}

    def action_url(self, obj):
        return reverse("api:service-pledge-complete", args=[obj.pk])


class TestApiPledgeProgress(PostEndpointTests, ApiPledge):
    url_name = "api:service-pledge-progress"

    def post_data(self, obj):
        return {"note": "已联系施工队"}

    def action_url(self, obj):
        return reverse("api:service-pledge-progress", args=[obj.pk])


class TestApiPledgeConfirm(PostEndpointTests, ApiPledge):
    url_name = "api:service-pledge-confirm"

    def make_object(self, org):
        return pledge_complete(actor=None, pledge=make_pledge(org), note="已办好")

    def action_url(self, obj):
        return reverse("api:service-pledge-confirm", args=[obj.pk])


class ApiBooking(ScopedEndpointTests):
    api = True

    def make_object(self, org):
        _centre, room = make_centre(org)
        start, end = slot()
        return booking_create(
            actor=None, room=room, organization=org, start=start, end=end, attendees=5, purpose="会"
        )

    def url(self, obj):
        return reverse("api:service-booking-detail", args=[obj.pk])

    def listed(self, response, obj):
        return any(row["id"] == obj.pk for row in response.json()["results"])


class TestApiBookingList(ApiBooking):
    kind = "list"
    url_name = "api:service-booking-list"

    def url(self, obj):
        return reverse("api:service-booking-list")


class TestApiBookingDetail(ApiBooking):
    url_name = "api:service-booking-detail"


class TestApiBookingDecide(PostEndpointTests, ApiBooking):
    url_name = "api:service-booking-decide"

    def post_data(self, obj):
        return {"approve": "true"}

    def action_url(self, obj):
        return reverse("api:service-booking-decide", args=[obj.pk])


class TestApiBookingCancel(PostEndpointTests, ApiBooking):
    url_name = "api:service-booking-cancel"

    def action_url(self, obj):
        return reverse("api:service-booking-cancel", args=[obj.pk])


class ApiCentre(ScopedEndpointTests):
    """A closed centre: only its managers see it (an open one is public to bookers)."""

    api = True

    def make_object(self, org):
        centre, _room = make_centre(org)
        return centre_update(
            actor=None, centre=centre, name=centre.name, address="", requires_approval=True, is_active=False
        )

    def url(self, obj):
        return reverse("api:service-centre-detail", args=[obj.pk])

    def listed(self, response, obj):
        return any(row["id"] == obj.pk for row in response.json()["results"])


class TestApiCentreList(ApiCentre):
    kind = "list"
    url_name = "api:service-centre-list"

    def url(self, obj):
        return reverse("api:service-centre-list")


class TestApiCentreDetail(ApiCentre):
    url_name = "api:service-centre-detail"


class TestApiCentreSlots(ApiCentre):
    url_name = "api:service-centre-slots"

    def url(self, obj):
        return reverse("api:service-centre-slots", args=[obj.pk])


class TestApiServiceSummary(ScopedEndpointTests):
    api = True
    url_name = "api:organization-service-summary"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("api:organization-service-summary", args=[obj.pk])


# --- the contract -----------------------------------------------------------------------------------------


def test_post_a_pledge_for_an_organisation_and_for_oneself(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    client = api_client(secretary)
    response = client.post(
        reverse("api:service-pledge-list"),
        {"organization": tree.branch_a.pk, "title": "楼道照明改造", "due": f"{THIS_YEAR}-12-31"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == PledgeStatus.OPEN
    user, member = member_user(tree.branch_a, "甲")
    response = api_client(user).post(
        reverse("api:service-pledge-list"),
        {"member": member.pk, "title": "帮邻居修水管", "due": f"{THIS_YEAR}-12-31"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["member"] == member.pk
    assert response.json()["organization"] == tree.branch_a.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "路灯", "due": "2099-01-01"}, "organization"),
        ({"organization": "X", "title": "路灯", "due": "2099-01-01"}, "organization"),
        ({"organization": "BRANCH_B", "title": "路灯", "due": "2099-01-01"}, "organization"),
        ({"organization": "BRANCH_A", "title": "", "due": "2099-01-01"}, "title"),
        ({"organization": "BRANCH_A", "title": "路灯", "due": "下个月"}, "due"),
        ({"member": "OTHER", "title": "路灯", "due": "2099-01-01"}, "member"),
    ],
)
def test_bad_pledges_are_400_naming_the_field(tree, body, field):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    other = make_member(tree.branch_b, "乙")
    values = {"BRANCH_A": tree.branch_a.pk, "BRANCH_B": tree.branch_b.pk, "OTHER": other.pk}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api_client(secretary).post(reverse("api:service-pledge-list"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Pledge.objects.exists()


def test_completing_twice_is_400(tree):
    pledge = make_pledge(tree.branch_a)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    url = reverse("api:service-pledge-complete", args=[pledge.pk])
    first = client.post(url, {"note": "已办好"}, format="json")
    assert first.status_code == 200
    assert first.json()["status"] == PledgeStatus.COMPLETED
    second = client.post(url, {"note": "再办一次"}, format="json")
    assert second.status_code == 400
    assert "已经办结" in second.json()["errors"]["status"][0]


def test_complete_with_photos_by_multipart(tree):
    user, member = member_user(tree.branch_a, "甲")
    pledge = make_pledge(member=member)
    response = api_client(user).post(
        reverse("api:service-pledge-complete", args=[pledge.pk]),
        {"note": "已办好", "photos": [png()]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["photos"] == 1


def test_the_pledger_cannot_confirm_but_the_level_above_can(tree):
    pledge = pledge_complete(actor=None, pledge=make_pledge(tree.branch_a), note="已办好")
    url = reverse("api:service-pledge-confirm", args=[pledge.pk])
    assert api_client(make_user(role="branch_admin", org=tree.branch_a)).post(url).status_code == 403
    response = api_client(make_user(role="org_admin", org=tree.district_a)).post(url)
    assert response.status_code == 200
    assert response.json()["status"] == PledgeStatus.CONFIRMED


def test_a_member_sees_only_their_own_pledges(tree):
    user, member = member_user(tree.branch_a, "甲")
    mine = make_pledge(member=member)
    make_pledge(tree.branch_a)
    rows = api_client(user).get(reverse("api:service-pledge-list")).json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]


def booking_body(room: Any, org: Any, hour: int = 9, hours: int = 2, **extra: Any) -> dict[str, Any]:
    start, end = slot(hour=hour, hours=hours)
    return {
        "room": room.pk,
        "organization": org.pk,
        "start": start.isoformat(),
        "end": end.isoformat(),
        **extra,
    }


def test_post_a_booking_and_an_overlap_is_400_naming_the_conflict(tree):
    _centre, room = make_centre(tree.district_a)
    first = api_client(make_user(role="branch_admin", org=tree.branch_a)).post(
        reverse("api:service-booking-list"),
        booking_body(room, tree.branch_a, attendees=12, purpose="主题党日"),
        format="json",
    )
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == BookingStatus.PENDING
    other = api_client(make_user(role="branch_admin", org=tree.branch_b))
    response = other.post(
        reverse("api:service-booking-list"), booking_body(room, tree.branch_b, hour=10), format="json"
    )
    assert response.status_code == 400
    message = response.json()["errors"]["start"][0]
    assert "甲一支部" in message and "09:00–11:00" in message
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"attendees": 31}, "attendees"), ({"hours": 0}, "end"), ({"room": 0}, "room")],
)
def test_bad_bookings_are_400_naming_the_field(tree, extra, field):
    _centre, room = make_centre(tree.district_a, capacity=30)
    body = booking_body(
        room, tree.branch_a, hours=extra.pop("hours", 2), attendees=extra.pop("attendees", 10)
    )
    if "room" in extra:
        body["room"] = 10**9
    response = api_client(make_user(role="branch_admin", org=tree.branch_a)).post(
        reverse("api:service-booking-list"), body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Booking.objects.exists()


def test_another_districts_unit_sees_an_open_centre_and_its_taken_slots(tree):
    centre, room = make_centre(tree.district_a)
    booking = make_booking(room, tree.branch_a)
    client = api_client(make_user(role="branch_admin", org=tree.branch_b))
    rows = client.get(reverse("api:service-centre-list")).json()["results"]
    assert [row["id"] for row in rows] == [centre.pk]
    assert rows[0]["rooms"][0]["capacity"] == 30
    day = timezone.localtime(booking.start).date().isoformat()
    slots = client.get(reverse("api:service-centre-slots", args=[centre.pk]) + f"?day={day}").json()
    assert [(s["room"], s["unit"], s["status"]) for s in slots] == [(room.pk, "甲一支部", "pending")]
    # the booking itself (its purpose) stays with the unit and the centre
    assert client.get(reverse("api:service-booking-detail", args=[booking.pk])).status_code == 404


def test_the_centre_decides_through_the_api(tree):
    _centre, room = make_centre(tree.district_a)
    booking = make_booking(room, tree.branch_b)
    url = reverse("api:service-booking-decide", args=[booking.pk])
    unit = api_client(make_user(role="branch_admin", org=tree.branch_b))
    assert unit.post(url, {"approve": True}, format="json").status_code == 403
    centre = api_client(make_user(role="org_admin", org=tree.district_a))
    response = centre.post(url, {"approve": False}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = centre.post(url, {"approve": False, "reason": "设备检修"}, format="json")
    assert response.json()["status"] == BookingStatus.REJECTED


def test_the_service_summary_keys_and_year(tree):
    make_pledge(tree.branch_a, due=date(THIS_YEAR, 12, 1))
    client = api_client(make_user(role="org_admin", org=tree.district_a))
    url = reverse("api:organization-service-summary", args=[tree.district_a.pk])
    body = client.get(url + f"?year={THIS_YEAR}").json()
    for key in (
        "units_registered",
        "units_total",
        "members_registered",
        "members_expected",
        "services",
        "service_hours",
        "pledges_planned",
        "pledges_done",
    ):
        assert key in body
    assert body["pledges_planned"] == 1
    assert body["organization"] == tree.district_a.pk
    assert client.get(url + "?year=abc").status_code == 400
    assert client.get(url + f"?year={THIS_YEAR - 1}").json()["pledges_planned"] == 0


def test_list_endpoints_run_a_fixed_number_of_queries(tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    client = api_client(admin)
    _centre, room = make_centre(tree.district_a)
    for n in range(2):
        make_pledge(tree.branch_a, title=f"实事{n}")
        make_booking(room, tree.branch_a, days=n + 1)
    urls = [
        reverse("api:service-pledge-list"),
        reverse("api:service-booking-list"),
        reverse("api:service-centre-list"),
    ]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    for n in range(2, 7):
        make_pledge(tree.branch_b, title=f"实事{n}")
        make_booking(room, tree.branch_b, days=n + 1)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)
