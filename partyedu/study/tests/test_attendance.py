from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.study.models import Attendance
from partyedu.study.selectors import activity_quorum, attendance_makeup_pending
from partyedu.study.services import (
    attendance_makeup_confirm,
    attendance_makeup_request,
    attendance_mark,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import record


def marks(activity):
    return dict(Attendance.objects.filter(activity=activity).values_list("member__name", "status"))


def mark_rows():
    return AuditLog.objects.filter(object_type="study.activity", action="update")


@pytest.fixture
def activity(tree, members):
    return record(tree.branch_a)


def test_marking_sets_status_method_and_who(activity, members, secretary):
    result = attendance_mark(
        actor=secretary,
        activity=activity,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "leave"},
        ],
    )
    assert len(result.changed) == 2
    row = Attendance.objects.get(activity=activity, member=members["zhang"])
    assert (row.status, row.method, row.marked_by) == ("present", "roster", secretary)
    assert marks(activity) == {"张三": "present", "李四": "leave", "王五": ""}


def test_marking_twice_is_idempotent(activity, members, secretary, hours_sync):
    records = [{"member": members["zhang"].pk, "status": "present"}]
    attendance_mark(actor=secretary, activity=activity, records=records)
    before = Attendance.objects.get(activity=activity, member=members["zhang"])
    hours_sync.clear()
    result = attendance_mark(actor=secretary, activity=activity, records=records)
    after = Attendance.objects.get(activity=activity, member=members["zhang"])
    assert result.changed == [] and result.unchanged == 1
    assert (after.status, after.marked_at, after.updated_at) == (
        before.status,
        before.marked_at,
        before.updated_at,
    )
    assert mark_rows().count() == 1
    assert hours_sync == []


def test_one_audit_row_per_call_lists_the_changes(activity, members, secretary):
    attendance_mark(
        actor=secretary,
        activity=activity,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "absent"},
        ],
    )
    row = mark_rows().get()
    assert row.changes["attendance"] == {
        str(members["zhang"].pk): ["", "present"],
        str(members["li"].pk): ["", "absent"],
    }


def test_marking_syncs_hours_for_the_changed_rows_only(activity, members, secretary, hours_sync):
    attendance_mark(
        actor=secretary, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    hours_sync.clear()
    attendance_mark(
        actor=secretary,
        activity=activity,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "late"},
        ],
    )
    assert hours_sync == [[Attendance.objects.get(activity=activity, member=members["li"]).pk]]


def test_member_not_on_the_roster_fails_the_whole_call(tree, activity, members, admin):
    outsider = make_member(tree.branch_a, "后来者")  # joined after the roster was made
    with pytest.raises(ValidationError) as exc:
        attendance_mark(
            actor=admin,
            activity=activity,
            records=[
                {"member": members["zhang"].pk, "status": "present"},
                {"member": outsider.pk, "status": "present"},
            ],
        )
    assert "后来者" in exc.value.message_dict["records"][0]
    assert marks(activity)["张三"] == ""
    assert not mark_rows().exists()


def test_member_outside_the_callers_scope_fails_without_revealing_the_name(activity, members, secretary):
    with pytest.raises(ValidationError) as exc:
        attendance_mark(
            actor=secretary,
            activity=activity,
            records=[
                {"member": members["zhang"].pk, "status": "present"},
                {"member": members["zhao"].pk, "status": "present"},
            ],
        )
    message = exc.value.message_dict["records"][0]
    assert f"ID {members['zhao'].pk}" in message and "赵六" not in message
    assert marks(activity)["张三"] == ""


def test_unknown_status_is_refused(activity, members, secretary):
    with pytest.raises(ValidationError) as exc:
        attendance_mark(
            actor=secretary, activity=activity, records=[{"member": members["zhang"].pk, "status": "here"}]
        )
    assert "here" in exc.value.message_dict["records"][0]


def test_conflicting_marks_in_one_call_are_refused(activity, members, secretary):
    pk = members["zhang"].pk
    with pytest.raises(ValidationError):
        attendance_mark(
            actor=secretary,
            activity=activity,
            records=[{"member": pk, "status": "present"}, {"member": pk, "status": "absent"}],
        )


def test_marking_outside_scope_is_denied(tree, members, secretary):
    other = record(tree.branch_b)
    with pytest.raises(PermissionDenied):
        attendance_mark(
            actor=secretary, activity=other, records=[{"member": members["zhao"].pk, "status": "present"}]
        )


def test_invitee_can_be_marked(tree, members, admin):
    activity = record(tree.group_a, "group_meeting", invitees=[members["zhang"].pk])
    attendance_mark(
        actor=admin, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    assert marks(activity)["张三"] == "present"


def test_two_secretaries_with_stale_copies_do_not_duplicate_or_lose_marks(tree, activity, members, secretary):
    other_secretary = make_user("secretary_2", role="branch_admin", org=tree.branch_a)
    stale_1 = type(activity).objects.get(pk=activity.pk)
    stale_2 = type(activity).objects.get(pk=activity.pk)
    attendance_mark(
        actor=secretary, activity=stale_1, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    attendance_mark(
        actor=other_secretary,
        activity=stale_2,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "absent"},
        ],
    )
    assert Attendance.objects.filter(activity=activity).count() == 3
    assert marks(activity) == {"张三": "present", "李四": "absent", "王五": ""}
    assert mark_rows().count() == 2
    assert mark_rows().order_by("id").last().changes["attendance"] == {str(members["li"].pk): ["", "absent"]}


# --- make-up study -------------------------------------------------------------------------------


@pytest.fixture
def past_activity(tree, members):
    start = timezone.now() - timedelta(days=3)
    return record(tree.branch_a, start=start)


def absent_row(activity, member, actor):
    attendance_mark(actor=actor, activity=activity, records=[{"member": member.pk, "status": "absent"}])
    return Attendance.objects.get(activity=activity, member=member)


def test_member_reports_makeup_and_secretary_confirms_it(tree, past_activity, members, secretary, hours_sync):
    member_user = make_user("zhang_user", role="member", org=tree.branch_a)
    zhang = members["zhang"]
    zhang.user = member_user
    zhang.save()
    row = absent_row(past_activity, zhang, secretary)
    row = attendance_makeup_request(actor=member_user, attendance=row, note="自学党章并撰写心得")
    assert (row.status, row.makeup_confirmed_at) == ("makeup", None)
    assert list(attendance_makeup_pending(user=secretary)) == [row]
    hours_sync.clear()
    row = attendance_makeup_confirm(actor=secretary, attendance=row)
    assert row.makeup_confirmed_by == secretary and row.makeup_confirmed_at is not None
    assert hours_sync == [[row.pk]]
    assert not attendance_makeup_pending(user=secretary).exists()


def test_confirming_twice_changes_nothing(past_activity, members, secretary, hours_sync):
    row = absent_row(past_activity, members["li"], secretary)
    row = attendance_makeup_request(actor=secretary, attendance=row)
    first = attendance_makeup_confirm(actor=secretary, attendance=row).makeup_confirmed_at
    hours_sync.clear()
    assert attendance_makeup_confirm(actor=secretary, attendance=row).makeup_confirmed_at == first
    assert hours_sync == []


def test_only_absent_or_leave_members_report_makeup(past_activity, members, secretary):
    attendance_mark(
        actor=secretary, activity=past_activity, records=[{"member": members["li"].pk, "status": "present"}]
    )
    row = Attendance.objects.get(activity=past_activity, member=members["li"])
    with pytest.raises(ValidationError):
        attendance_makeup_request(actor=secretary, attendance=row)


def test_another_member_cannot_report_makeup_for_someone(tree, past_activity, members, secretary):
    row = absent_row(past_activity, members["li"], secretary)
    with pytest.raises(PermissionDenied):
        attendance_makeup_request(
            actor=make_user("someone", role="member", org=tree.branch_a), attendance=row
        )


def test_confirming_without_a_report_is_refused(past_activity, members, secretary):
    row = absent_row(past_activity, members["li"], secretary)
    with pytest.raises(ValidationError):
        attendance_makeup_confirm(actor=secretary, attendance=row)


def test_secretary_marking_makeup_confirms_it(past_activity, members, secretary):
    attendance_mark(
        actor=secretary, activity=past_activity, records=[{"member": members["li"].pk, "status": "makeup"}]
    )
    row = Attendance.objects.get(activity=past_activity, member=members["li"])
    assert row.makeup_confirmed_by == secretary


# --- quorum --------------------------------------------------------------------------------------


def assembly_with(tree, present, absent, probationary_present=0, invitees_present=0):
    people = [make_member(tree.branch_b, f"正式{i}") for i in range(present + absent)]
    probationary = [
        make_member(tree.branch_b, f"预备{i}", status="probationary") for i in range(probationary_present)
    ]
    guests = [make_member(tree.branch_a, f"列席{i}") for i in range(invitees_present)]
    activity = record(tree.branch_b, "branch_assembly", roster=[p.pk for p in people + probationary])
    if guests:
        from partyedu.study.services import activity_update

        activity_update(actor=None, activity=activity, data={"invitees": [g.pk for g in guests]})
    records = [{"member": p.pk, "status": "present"} for p in people[:present]]
    records += [{"member": p.pk, "status": "absent"} for p in people[present:]]
    records += [{"member": p.pk, "status": "present"} for p in probationary + guests]
    attendance_mark(actor=None, activity=activity, records=records)
    return activity


def test_quorum_needs_more_than_half_of_voting_members(tree):
    activity = assembly_with(tree, present=3, absent=3)
    assert activity_quorum(user=make_user(role="org_admin", org=tree.root), activity=activity) == {
        "voting_expected": 6,
        "voting_present": 3,
        "quorum_met": False,
    }


def test_quorum_is_met_with_a_majority(tree):
    activity = assembly_with(tree, present=4, absent=3)
    assert (
        activity_quorum(user=make_user(role="org_admin", org=tree.root), activity=activity)["quorum_met"]
        is True
    )


def test_probationary_members_and_invitees_do_not_count(tree):
    activity = assembly_with(tree, present=2, absent=3, probationary_present=4, invitees_present=1)
    assert activity_quorum(user=make_user(role="org_admin", org=tree.root), activity=activity) == {
        "voting_expected": 5,
        "voting_present": 2,
        "quorum_met": False,
    }


def test_late_members_count_as_present(tree):
    activity = assembly_with(tree, present=1, absent=2)
    absent = Attendance.objects.filter(activity=activity, status="absent").values_list("member_id", flat=True)
    attendance_mark(
        actor=None, activity=activity, records=[{"member": pk, "status": "late"} for pk in absent[:1]]
    )
    assert activity_quorum(user=make_user(role="org_admin", org=tree.root), activity=activity) == {
        "voting_expected": 3,
        "voting_present": 2,
        "quorum_met": True,
    }
