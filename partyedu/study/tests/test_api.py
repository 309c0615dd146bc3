from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.study.checkin import checkin_token
from partyedu.study.models import Activity, Attendance
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .conftest import at, record

LIST_URL = "/api/v1/activities/"
CHECKIN_URL = "/api/v1/checkin/"


def detail_url(activity):
    return f"{LIST_URL}{activity.pk}/"


def attendance_url(activity):
    return f"{LIST_URL}{activity.pk}/attendance/"


def token_url(activity):
    return f"{LIST_URL}{activity.pk}/checkin-token/"


class _ActivityEndpoint(ScopedEndpointTests):
    api = True
    marker_attr = "topic"

    def make_object(self, org):
        return record(org, topic="标记活动")


class TestActivityListEndpoint(_ActivityEndpoint):
    url_name = "api:activity-list"
    kind = "list"

    def url(self, obj):
        return LIST_URL


class TestActivityDetailEndpoint(_ActivityEndpoint):
    url_name = "api:activity-detail"

    def url(self, obj):
        return detail_url(obj)


class TestActivityDetailEndpointForBranchAdmins(TestActivityDetailEndpoint):
    role = "branch_admin"


class TestAttendanceEndpoint(_ActivityEndpoint):
    url_name = "api:activity-attendance"
    role = "branch_admin"

    def url(self, obj):
        return attendance_url(obj)


class TestCheckinTokenEndpoint(_ActivityEndpoint):
    url_name = "api:activity-checkin-token"
    role = "branch_admin"

    def url(self, obj):
        return token_url(obj)


def payload(org, **extra):
    return {
        "organization": org.pk,
        "activity_type": "branch_assembly",
        "topic": "学习贯彻全会精神",
        "start": "2025-03-07T14:30:00+08:00",
        "end": "2025-03-07T16:30:00+08:00",
        **extra,
    }


# --- create --------------------------------------------------------------------------------------


def test_create_builds_the_default_roster(tree, members, secretary):
    response = api_client(secretary).post(LIST_URL, payload(tree.branch_a), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert body["attendance"]["expected"] == 3
    assert body["organization"] == tree.branch_a.pk
    assert activity.start.isoformat() == "2025-03-07T06:30:00+00:00"
    assert Attendance.objects.filter(activity=activity).count() == 3


def test_create_with_explicit_roster_and_invitees(tree, members, admin):
    data = payload(tree.branch_a, roster=[members["zhang"].pk], invitees=[members["wang"].pk])
    body = api_client(admin).post(LIST_URL, data, format="json").json()
    assert body["attendance"]["expected"] == 1
    assert body["attendance"]["invitees"] == 1
    assert "roster" not in body


def test_end_before_start_is_400_in_the_error_shape(tree, secretary):
    data = payload(tree.branch_a, end="2025-03-07T14:00:00+08:00")
    response = api_client(secretary).post(LIST_URL, data, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"end": ["结束时间不能早于开始时间"]}
    assert not Activity.objects.exists()


def test_create_for_an_organisation_outside_scope_is_refused(tree, secretary):
    response = api_client(secretary).post(LIST_URL, payload(tree.branch_b), format="json")
    assert response.status_code == 400
    assert "organization" in response.json()["errors"]
    assert not Activity.objects.exists()


def test_member_account_cannot_create(tree):
    user = make_user(role="member", org=tree.branch_a)
    assert api_client(user).post(LIST_URL, payload(tree.branch_a), format="json").status_code == 403


def test_roster_outside_scope_is_400(tree, members, secretary):
    data = payload(tree.branch_a, roster=[members["zhao"].pk])
    response = api_client(secretary).post(LIST_URL, data, format="json")
    assert response.status_code == 400
    assert "roster" in response.json()["errors"]


# --- list and detail -----------------------------------------------------------------------------


def test_list_filters_by_organisation_subtree_and_year(tree, admin):
    mine = record(tree.group_a, "group_meeting")
    record(tree.district_a, "central_group_study")
    record(tree.branch_a, start=at(5, year=2024))
    response = api_client(admin).get(LIST_URL, {"organization": tree.branch_a.pk, "year": 2025})
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["count"] == 1


def test_list_with_an_organisation_outside_scope_is_empty(tree, admin):
    record(tree.branch_b)
    body = api_client(admin).get(LIST_URL, {"organization": tree.branch_b.pk}).json()
    assert body["results"] == []


def test_list_query_count_does_not_grow_with_rows(tree, members, admin, django_assert_max_num_queries):
    for _ in range(3):
        record(tree.branch_a)
    client = api_client(admin)
    # token + user, grants, count, page, attendance counts of the page
    with django_assert_max_num_queries(5) as few:
        client.get(LIST_URL)
    for _ in range(10):
        record(tree.branch_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(LIST_URL).json()
    assert body["count"] == 13
    assert all(row["attendance"]["expected"] == 3 for row in body["results"])


def test_patch_changes_the_topic(tree, admin):
    activity = record(tree.branch_a)
    response = api_client(admin).patch(detail_url(activity), {"topic": "新的主题"}, format="json")
    assert response.status_code == 200, response.content
    activity.refresh_from_db()
    assert activity.topic == "新的主题"


def test_patch_cannot_end_before_start(tree, admin):
    activity = record(tree.branch_a)
    response = api_client(admin).patch(
        detail_url(activity), {"end": "2020-01-01T00:00:00+08:00"}, format="json"
    )
    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_delete_needs_the_delete_action(tree, secretary):
    activity = record(tree.branch_a)
    assert api_client(secretary).delete(detail_url(activity)).status_code == 403
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_org_admin_deletes(tree, admin):
    activity = record(tree.branch_a)
    assert api_client(admin).delete(detail_url(activity)).status_code == 204
    assert not Activity.objects.filter(pk=activity.pk).exists()


def test_delete_outside_scope_is_404(tree, admin):
    activity = record(tree.branch_b)
    assert api_client(admin).delete(detail_url(activity)).status_code == 404


# --- attendance ----------------------------------------------------------------------------------


@pytest.fixture
def assembly(tree, members):
    return record(tree.branch_a, "branch_assembly")


def test_attendance_lists_the_roster_with_statuses_and_quorum(assembly, members, secretary):
    body = api_client(secretary).get(attendance_url(assembly)).json()
    assert body["count"] == 3
    assert {row["member_name"] for row in body["results"]} == {"张三", "李四", "王五"}
    assert all(row["status"] == "" for row in body["results"])
    assert body["quorum"] == {"voting_expected": 3, "voting_present": 0, "quorum_met": False}


def test_quorum_is_absent_for_other_types(tree, members, secretary):
    activity = record(tree.branch_a, "theme_day")
    assert api_client(secretary).get(attendance_url(activity)).json()["quorum"] is None


def test_marking_is_idempotent(assembly, members, secretary):
    client = api_client(secretary)
    records = {
        "records": [
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "late"},
        ]
    }
    first = client.post(attendance_url(assembly), records, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["changed"] == 2
    second = client.post(attendance_url(assembly), records, format="json")
    assert second.json()["changed"] == 0
    assert second.json()["results"] == first.json()["results"]
    assert second.json()["quorum"] == {"voting_expected": 3, "voting_present": 2, "quorum_met": True}
    assert AuditLog.objects.filter(object_type="study.activity", action="update").count() == 1
    row = Attendance.objects.get(activity=assembly, member=members["zhang"])
    assert row.method == "api"


def test_member_outside_the_roster_is_400_and_nothing_is_written(tree, assembly, members, admin):
    newcomer = make_member(tree.branch_a, "新党员")
    records = {
        "records": [
            {"member": members["zhang"].pk, "status": "present"},
            {"member": newcomer.pk, "status": "present"},
        ]
    }
    response = api_client(admin).post(attendance_url(assembly), records, format="json")
    assert response.status_code == 400
    assert "新党员" in response.json()["errors"]["records"][0]
    assert not Attendance.objects.filter(activity=assembly).exclude(status="").exists()


def test_member_outside_the_callers_scope_is_400(assembly, members, secretary):
    records = {"records": [{"member": members["zhao"].pk, "status": "present"}]}
    response = api_client(secretary).post(attendance_url(assembly), records, format="json")
    assert response.status_code == 400
    assert not Attendance.objects.filter(activity=assembly).exclude(status="").exists()


def test_bad_status_is_400(assembly, members, secretary):
    records = {"records": [{"member": members["zhang"].pk, "status": "here"}]}
    assert api_client(secretary).post(attendance_url(assembly), records, format="json").status_code == 400


def test_empty_records_are_400(assembly, secretary):
    assert (
        api_client(secretary).post(attendance_url(assembly), {"records": []}, format="json").status_code
        == 400
    )


def test_marking_in_another_district_is_404(tree, members, secretary):
    other = record(tree.branch_b)
    records = {"records": [{"member": members["zhao"].pk, "status": "present"}]}
    assert api_client(secretary).post(attendance_url(other), records, format="json").status_code == 404


def test_attendance_list_query_count_does_not_grow_with_the_roster(
    tree, secretary, django_assert_max_num_queries
):
    for i in range(3):
        make_member(tree.branch_a, f"党员{i}")
    small = record(tree.branch_a, "branch_assembly")
    for i in range(20):
        make_member(tree.branch_a, f"新党员{i}")
    large = record(tree.branch_a, "branch_assembly")
    client = api_client(secretary)
    # token + user, grants, activity, roster with members, summary, quorum
    with django_assert_max_num_queries(6) as few:
        client.get(attendance_url(small))
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(attendance_url(large)).json()
    assert body["count"] == 23


# --- QR check-in ---------------------------------------------------------------------------------


@pytest.fixture
def live(tree):
    """An activity under way now, with 张三 (who has an account) on its roster."""
    user = make_user("zhang", role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "张三")
    member.user = user
    member.save()
    activity = record(tree.branch_a, start=timezone.now() - timedelta(minutes=5))
    return activity, user


def test_secretary_gets_a_token(live, secretary):
    activity, _ = live
    body = api_client(secretary).get(token_url(activity)).json()
    assert set(body) == {"token", "expires_in"}
    assert 0 < body["expires_in"] <= 30


def test_token_needs_the_change_action(tree, live):
    activity, _ = live
    inspector = make_user("inspector", role="inspector", org=tree.district_a)
    assert api_client(inspector).get(token_url(activity)).status_code == 403


def test_member_checks_in_with_their_own_token_auth(live, secretary):
    activity, member_user = live
    token = api_client(secretary).get(token_url(activity)).json()["token"]
    response = api_client(member_user).post(CHECKIN_URL, {"token": token}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "present"
    assert response.json()["activity"] == activity.pk
    again = api_client(member_user).post(CHECKIN_URL, {"token": token}, format="json")
    assert again.status_code == 200
    assert Attendance.objects.get(activity=activity, member__user=member_user).method == "qr"


def test_expired_token_is_400(live):
    activity, member_user = live
    token, _ = checkin_token(activity, at=timezone.now() - timedelta(seconds=90))
    response = api_client(member_user).post(CHECKIN_URL, {"token": token}, format="json")
    assert response.status_code == 400
    assert "过期" in response.json()["errors"]["token"][0]


def test_forged_token_is_400(live):
    activity, member_user = live
    response = api_client(member_user).post(CHECKIN_URL, {"token": f"{activity.pk}.1:forged"}, format="json")
    assert response.status_code == 400
    assert "无效" in response.json()["errors"]["token"][0]


def test_foreign_token_is_400(tree, live):
    activity, _ = live
    outsider = make_user("zhao", role="member", org=tree.branch_b)
    member = make_member(tree.branch_b, "赵六")
    member.user = outsider
    member.save()
    token, _ = checkin_token(activity)
    response = api_client(outsider).post(CHECKIN_URL, {"token": token}, format="json")
    assert response.status_code == 400
    assert not Attendance.objects.filter(activity=activity, member=member).exists()


def test_checkin_needs_sign_in(live):
    activity, _ = live
    token, _ = checkin_token(activity)
    assert api_client().post(CHECKIN_URL, {"token": token}, format="json").status_code in (401, 403)


def test_a_scan_that_queued_behind_a_burst_is_judged_when_it_reached_the_proxy(live, settings):
    import time
    from datetime import datetime

    from partyedu.study.checkin import SLOT_SECONDS, _slot

    activity, member_user = live
    # given a code whose slot ended between 30 and 60 seconds ago: expired if judged now …
    if timezone.now().timestamp() % SLOT_SECONDS > SLOT_SECONDS - 3:
        time.sleep(3)  # not on the edge of a slot while the test runs
    now = timezone.now()
    slot = _slot(now) - 2
    replaced_at = datetime.fromtimestamp((slot + 1) * SLOT_SECONDS, tz=now.tzinfo)
    token, _ = checkin_token(activity, at=replaced_at - timedelta(seconds=1))
    # … but scanned 5 seconds after it was replaced, as the proxy in front stamped the request
    stamp: dict[str, Any] = {
        "HTTP_X_REQUEST_START": f"t={(replaced_at + timedelta(seconds=5)).timestamp():.3f}"
    }
    client = api_client(member_user)

    # when the proxy is not trusted, the stamp means nothing
    settings.TRUSTED_PROXY_COUNT = 0
    refused = client.post(CHECKIN_URL, {"token": token}, format="json", **stamp)
    assert refused.status_code == 400
    assert "过期" in refused.json()["errors"]["token"][0]

    # when it is, the scan is judged at the stamp (believed up to the 30-second grace back)
    settings.TRUSTED_PROXY_COUNT = 1
    accepted = client.post(CHECKIN_URL, {"token": token}, format="json", **stamp)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "present"
