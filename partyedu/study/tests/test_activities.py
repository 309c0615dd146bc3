from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.members.services import member_leave_roll
from partyedu.study.models import Activity, Attendance
from partyedu.study.selectors import activity_get, activity_list
from partyedu.study.services import (
    activity_delete,
    activity_record,
    activity_update,
    attendance_mark,
    education_base_create,
    study_plan_issue,
    teaching_site_create,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import START, at, record


def roster(activity, invitee=False):
    return set(
        Attendance.objects.filter(activity=activity, is_invitee=invitee).values_list(
            "member__name", flat=True
        )
    )


# --- roster --------------------------------------------------------------------------------------


def test_default_roster_is_the_active_members_of_the_whole_subtree(tree, members):
    gone = make_member(tree.branch_a, "离册者")
    member_leave_roll(actor=None, member=gone, reason="去世")
    activity = record(tree.branch_a)
    assert roster(activity) == {"张三", "李四", "王五"}
    assert set(Attendance.objects.filter(activity=activity).values_list("status", flat=True)) == {""}


def test_default_roster_of_a_district_covers_its_branches(tree, members):
    activity = record(tree.district_a, "central_group_study")
    assert roster(activity) == {"张三", "李四", "王五"}


def test_explicit_roster_replaces_the_default(tree, members, secretary):
    activity = activity_record(
        actor=secretary,
        data={
            "organization": tree.branch_a,
            "activity_type": "home_delivery",
            "topic": "送学上门",
            "start": START,
            "end": START + timedelta(hours=1),
            "roster": [members["wang"].pk],
        },
    )
    assert roster(activity) == {"王五"}


def test_invitees_are_added_as_invitees(tree, members, admin):
    activity = record(tree.group_a, "group_meeting", invitees=[members["li"].pk])
    assert roster(activity) == {"王五"}
    assert roster(activity, invitee=True) == {"李四"}


def test_a_member_given_as_invitee_is_not_also_on_the_roster(tree, members):
    activity = record(tree.branch_a, "branch_assembly", invitees=[members["li"].pk])
    assert roster(activity) == {"张三", "王五"}
    assert roster(activity, invitee=True) == {"李四"}


def test_roster_member_outside_the_actors_scope_is_refused(tree, members, secretary):
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, roster=[members["zhao"].pk])
    assert f"ID {members['zhao'].pk}" in exc.value.message_dict["roster"][0]
    assert "赵六" not in exc.value.message_dict["roster"][0]  # a name outside scope is not revealed
    assert not Activity.objects.exists()


def test_invitee_outside_the_actors_scope_is_refused(tree, members, secretary):
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, invitees=[members["zhao"].pk])
    assert "invitees" in exc.value.message_dict


def test_members_off_the_roll_cannot_be_put_on_a_roster(tree, members, secretary):
    member_leave_roll(actor=None, member=members["li"], reason="出党")
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, roster=[members["li"].pk])
    assert "已离册" in exc.value.message_dict["roster"][0]


def record_as(actor, org, **data):
    return activity_record(
        actor=actor,
        data={
            "organization": org,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": START,
            "end": START + timedelta(hours=2),
            **data,
        },
    )


# --- validation and scope ------------------------------------------------------------------------


def test_end_before_start_is_refused(tree, secretary):
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, end=START - timedelta(minutes=1))
    assert exc.value.message_dict["end"] == ["结束时间不能早于开始时间"]
    assert not Activity.objects.exists()


def test_unknown_type_is_refused(tree, secretary):
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, activity_type="party")
    assert "activity_type" in exc.value.message_dict


def test_negative_hours_are_refused(tree, secretary):
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, credited_hours=Decimal("-1"))
    assert "credited_hours" in exc.value.message_dict


def test_recording_for_an_organisation_outside_scope_is_denied(tree, secretary):
    with pytest.raises(PermissionDenied):
        record_as(secretary, tree.branch_b)
    assert not Activity.objects.exists()


def test_recording_needs_a_study_role(tree):
    with pytest.raises(PermissionDenied):
        record_as(make_user(), tree.branch_a)


def test_default_checkin_window_is_half_an_hour_around_the_activity(tree, secretary):
    activity = record_as(secretary, tree.branch_a)
    assert activity.checkin_opens_at == START - timedelta(minutes=30)
    assert activity.checkin_closes_at == START + timedelta(hours=2, minutes=30)


def test_recording_writes_one_audit_row(tree, members, secretary):
    activity = record_as(secretary, tree.branch_a)
    row = AuditLog.objects.get(object_type="study.activity", action="create")
    assert row.object_id == str(activity.pk)
    assert row.changes["roster"] == 3
    assert row.user == secretary


def test_required_topic_must_come_from_a_plan_issued_above(tree, secretary):
    plan_b = study_plan_issue(
        actor=None,
        data={
            "organization": tree.district_b,
            "title": "乙区计划",
            "year": 2025,
            "topics": [{"title": "专题一"}],
        },
    )
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, required_topic=plan_b.topics.get())
    assert "required_topic" in exc.value.message_dict


def test_required_topic_from_the_city_plan_is_accepted(tree, secretary):
    plan = study_plan_issue(
        actor=None,
        data={"organization": tree.root, "title": "全市计划", "year": 2025, "topics": [{"title": "专题一"}]},
    )
    activity = record_as(secretary, tree.branch_a, required_topic=plan.topics.get().pk)
    assert activity.required_topic == plan.topics.get()


def test_site_run_by_a_district_may_host_its_branches(tree, secretary):
    site = teaching_site_create(actor=None, data={"organization": tree.district_a, "name": "区党校"})
    activity = record_as(secretary, tree.branch_a, site=site)
    assert activity.site == site


def test_education_base_of_another_district_is_refused(tree, secretary):
    base = education_base_create(actor=None, data={"organization": tree.district_b, "name": "乙区基地"})
    with pytest.raises(ValidationError) as exc:
        record_as(secretary, tree.branch_a, education_base=base)
    assert "education_base" in exc.value.message_dict


# --- update and delete keep hours exact ----------------------------------------------------------


def test_changing_the_times_resyncs_every_attendance(tree, members, secretary, hours_sync):
    activity = record_as(secretary, tree.branch_a)
    ids = set(Attendance.objects.filter(activity=activity).values_list("pk", flat=True))
    hours_sync.clear()
    activity_update(actor=secretary, activity=activity, data={"end": START + timedelta(hours=4)})
    assert hours_sync.ids == ids


def test_changing_the_topic_text_needs_no_resync(tree, members, secretary, hours_sync):
    activity = record_as(secretary, tree.branch_a)
    hours_sync.clear()
    activity_update(actor=secretary, activity=activity, data={"topic": "新主题"})
    assert hours_sync == []
    assert AuditLog.objects.filter(action="update", object_type="study.activity").get().changes["topic"] == [
        "主题党日",
        "新主题",
    ]


def test_default_window_follows_new_times(tree, secretary):
    activity = record_as(secretary, tree.branch_a)
    later = START + timedelta(days=1)
    activity = activity_update(
        actor=secretary, activity=activity, data={"start": later, "end": later + timedelta(hours=1)}
    )
    assert activity.checkin_opens_at == later - timedelta(minutes=30)


def test_update_cannot_end_before_start(tree, secretary):
    activity = record_as(secretary, tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        activity_update(actor=secretary, activity=activity, data={"end": START - timedelta(hours=1)})
    assert exc.value.message_dict["end"] == ["结束时间不能早于开始时间"]


def test_update_cannot_move_the_activity_to_another_organisation(tree, admin):
    activity = record(tree.branch_a)
    with pytest.raises(ValidationError):
        activity_update(actor=admin, activity=activity, data={"organization": tree.group_a})


def test_update_outside_scope_is_denied(tree, secretary):
    activity = record(tree.branch_b)
    with pytest.raises(PermissionDenied):
        activity_update(actor=secretary, activity=activity, data={"topic": "x"})


def test_replacing_the_roster_removes_rows_and_resyncs_them(tree, members, secretary, hours_sync):
    activity = record_as(secretary, tree.branch_a)
    attendance_mark(
        actor=secretary, activity=activity, records=[{"member": members["li"].pk, "status": "present"}]
    )
    removed = Attendance.objects.get(activity=activity, member=members["li"]).pk
    hours_sync.clear()
    activity_update(
        actor=secretary, activity=activity, data={"roster": [members["zhang"].pk, members["wang"].pk]}
    )
    assert roster(activity) == {"张三", "王五"}
    assert removed in hours_sync.ids
    assert not Attendance.objects.filter(pk=removed).exists()


def test_updating_invitees_keeps_the_roster(tree, members, admin):
    activity = record(tree.group_a, "group_meeting")
    activity_update(actor=admin, activity=activity, data={"invitees": [members["zhang"].pk]})
    assert roster(activity) == {"王五"}
    assert roster(activity, invitee=True) == {"张三"}


def test_delete_removes_attendance_and_resyncs_it(tree, members, admin, hours_sync):
    activity = record(tree.branch_a)
    ids = set(Attendance.objects.filter(activity=activity).values_list("pk", flat=True))
    activity_delete(actor=admin, activity=activity)
    assert not Activity.objects.exists()
    assert not Attendance.objects.exists()
    assert hours_sync.ids == ids
    assert AuditLog.objects.filter(action="delete", object_type="study.activity").count() == 1


def test_delete_needs_the_delete_action(tree, secretary):
    activity = record(tree.branch_a)
    with pytest.raises(PermissionDenied):
        activity_delete(actor=secretary, activity=activity)
    assert Activity.objects.exists()


def test_ledger_is_reversed_when_an_activity_is_deleted(tree, members, admin):
    from django.db.models import Sum

    from partyedu.learning.models import LearningHourEntry

    activity = record(tree.branch_a)
    attendance_mark(
        actor=admin, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    earned = LearningHourEntry.objects.filter(member=members["zhang"]).aggregate(s=Sum("hours"))["s"]
    assert earned and earned > 0
    activity_delete(actor=admin, activity=activity)
    assert LearningHourEntry.objects.filter(member=members["zhang"]).aggregate(s=Sum("hours"))["s"] == 0


# --- selectors -----------------------------------------------------------------------------------


def test_list_is_limited_to_scope_and_filters_by_subtree_and_year(tree, secretary):
    mine = record(tree.group_a, "group_meeting")
    record(tree.branch_b)
    record(tree.branch_a, start=at(5, year=2024))
    listed = activity_list(user=secretary, filters={"organization": tree.branch_a, "year": 2025})
    assert list(listed) == [mine]


def test_get_outside_scope_is_404(tree, secretary):
    from django.http import Http404

    other = record(tree.branch_b)
    with pytest.raises(Http404):
        activity_get(user=secretary, pk=other.pk)
