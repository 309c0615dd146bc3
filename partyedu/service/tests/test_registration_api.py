"""The API contract of issue 16 for 双报到 and service records: ``POST /api/v1/service/registrations/``
with ``{"member", "community": id or {"name"}, "post"}`` (self or secretary; a retiree 400 naming
member), ``POST /api/v1/service/records/`` with ``{"member", "date", "hours", "kind",
"registration"?}`` (a future day or over 24 hours a day 400), the lists in scope, and the
community side's confirmation — with a permission class per URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from partyedu.core.testing import ScopedEndpointTests
from partyedu.points.models import PointsEntry
from partyedu.service.models import Registration, ServiceRecord
from partyedu.service.services import registration as services
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .test_registration_factories import TODAY, make_units, member_user, record, register, service_scheme

pytestmark = pytest.mark.django_db


class TestRegistrationListApi(ScopedEndpointTests):
    url_name = "api:service-registration-list"
    kind = "list"
    api = True

    def make_object(self, org: Any) -> Any:
        member = make_member(org, "报到党员", categories=["employed"])
        return services.registration_create(
            actor=None, member=member, community_name="文化东路社区", post="宣传员"
        )

    def url(self, obj: Any) -> str:
        return "/api/v1/service/registrations/"

    def listed(self, response: Any, obj: Any) -> bool:
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestRecordListApi(ScopedEndpointTests):
    url_name = "api:service-record-list"
    kind = "list"
    api = True

    def make_object(self, org: Any) -> Any:
        return record(make_member(org, "服务党员", categories=["employed"]))

    def url(self, obj: Any) -> str:
        return "/api/v1/service/records/"

    def listed(self, response: Any, obj: Any) -> bool:
        return obj.pk in [r["id"] for r in response.json()["results"]]


class RecordActionApi(ScopedEndpointTests):
    api = True
    role = "branch_admin"
    action = ""
    body: dict[str, Any] = {}

    def make_object(self, org: Any) -> Any:
        return record(make_member(org, "服务党员", categories=["employed"]))

    def url(self, obj: Any) -> str:
        return f"/api/v1/service/records/{obj.pk}/{self.action}/"

    def _get(self, client: Any, url: str) -> Any:
        return client.post(url, self.body, content_type="application/json", HTTP_ACCEPT="application/json")


class TestRecordConfirmApi(RecordActionApi):
    url_name = "api:service-record-confirm"
    action = "confirm"


class TestRecordRejectApi(RecordActionApi):
    url_name = "api:service-record-reject"
    action = "reject"
    body = {"reason": "与实际不符"}


# --- the contract -----------------------------------------------------------------------------------


def test_a_member_registers_themself_with_a_community_of_the_tree(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    response = api_client(user).post(
        "/api/v1/service/registrations/",
        {"member": member.pk, "community": units.community.pk, "post": "楼栋联络员"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["community"] == units.community.pk and body["community_name"] == units.community.name
    assert body["member"] == member.pk and body["ended_on"] is None


def test_an_outside_community_by_name_and_the_member_left_out_means_oneself(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    response = api_client(user).post(
        "/api/v1/service/registrations/",
        {"community": {"name": "外市某社区"}, "post": "宣传员"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["community"] is None and Registration.objects.get().member == member


def test_a_retiree_is_400_naming_member_and_nothing_is_written(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "李老", categories=["retired"])
    response = api_client(user).post(
        "/api/v1/service/registrations/",
        {"member": member.pk, "community": units.community.pk, "post": "宣传员"},
        format="json",
    )
    assert response.status_code == 400
    assert "离退休" in response.json()["errors"]["member"][0]
    assert not Registration.objects.exists()


def test_registering_someone_else_as_a_member_is_404(tree):
    units = make_units(tree)
    user, _me = member_user(units.bureau, "甲")
    other = make_member(units.bureau, "乙", categories=["employed"])
    response = api_client(user).post(
        "/api/v1/service/registrations/",
        {"member": other.pk, "community": units.community.pk, "post": "宣传员"},
        format="json",
    )
    assert response.status_code == 404
    assert not Registration.objects.exists()


def test_the_secretary_registers_a_member(tree):
    units = make_units(tree)
    secretary = make_user(role="branch_admin", org=units.bureau)
    member = make_member(units.bureau, "王芳", categories=["employed"])
    response = api_client(secretary).post(
        "/api/v1/service/registrations/",
        {"member": member.pk, "community": units.community.pk, "post": "宣传员"},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("community", ["社区", {"name": ""}, {"title": "x"}, True, 0])
def test_a_malformed_community_is_400(tree, community):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    response = api_client(user).post(
        "/api/v1/service/registrations/",
        {"member": member.pk, "community": community, "post": "宣传员"},
        format="json",
    )
    assert response.status_code == 400 and "community" in response.json()["errors"]


def test_a_second_registration_without_replace_is_400(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    register(member, units.community)
    client = api_client(user)
    body = {"member": member.pk, "community": {"name": "新社区"}, "post": "宣传员"}
    assert client.post("/api/v1/service/registrations/", body, format="json").status_code == 400
    response = client.post("/api/v1/service/registrations/", {**body, "replace": True}, format="json")
    assert response.status_code == 201
    assert Registration.objects.filter(member=member, ended_on__isnull=True).count() == 1


def test_a_record_is_posted_and_listed(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    registration = register(member, units.community, registered_on=TODAY - timedelta(days=3))
    client = api_client(user)
    response = client.post(
        "/api/v1/service/records/",
        {
            "member": member.pk,
            "date": TODAY.isoformat(),
            "hours": "2.5",
            "kind": "vaccination",
            "registration": registration.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending" and response.json()["hours"] == "2.5"
    assert [r["id"] for r in client.get("/api/v1/service/records/").json()["results"]] == [
        response.json()["id"]
    ]


def test_a_record_in_the_future_is_400_naming_date(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    response = api_client(user).post(
        "/api/v1/service/records/",
        {
            "member": member.pk,
            "date": (TODAY + timedelta(days=1)).isoformat(),
            "hours": "2",
            "kind": "policy",
        },
        format="json",
    )
    assert response.status_code == 400 and "date" in response.json()["errors"]
    assert not ServiceRecord.objects.exists()


def test_over_24_hours_a_day_is_400_naming_hours(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    client = api_client(user)
    body = {"member": member.pk, "date": TODAY.isoformat(), "hours": "16", "kind": "policy"}
    assert client.post("/api/v1/service/records/", body, format="json").status_code == 201
    response = client.post("/api/v1/service/records/", {**body, "hours": "9"}, format="json")
    assert response.status_code == 400
    assert "24" in response.json()["errors"]["hours"][0]
    assert ServiceRecord.objects.count() == 1


def test_an_unknown_kind_is_400(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    response = api_client(user).post(
        "/api/v1/service/records/",
        {"member": member.pk, "date": TODAY.isoformat(), "hours": "2", "kind": "online_time"},
        format="json",
    )
    assert response.status_code == 400 and "kind" in response.json()["errors"]


def test_the_community_confirms_through_the_api_and_points_follow(tree):
    units = make_units(tree)
    service_scheme(tree.root)
    _user, member = member_user(units.bureau, "张伟")
    registration = register(member, units.community, registered_on=TODAY - timedelta(days=3))
    done = record(member, "2", registration=registration.pk)
    unit = make_user(role="branch_admin", org=units.bureau)
    assert api_client(unit).post(f"/api/v1/service/records/{done.pk}/confirm/").status_code == 404
    community = make_user(role="branch_admin", org=units.community)
    response = api_client(community).post(f"/api/v1/service/records/{done.pk}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True)) == 2
    response = api_client(community).post(f"/api/v1/service/records/{done.pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_a_member_may_not_confirm(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    done = record(member)
    assert api_client(user).post(f"/api/v1/service/records/{done.pk}/confirm/").status_code == 403
