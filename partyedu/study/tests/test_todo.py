"""The study app's workbench items (``study.todo``): a secretary's missing 主题党日 this month,
activities ended without attendance, 补学 to confirm; an organisation department's count of
branches with a cadence gap; a member's next activities. Only within the user's scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.study.models import Attendance
from partyedu.study.services import attendance_makeup_request, attendance_mark
from partyedu.study.todo import study_todos
from partyedu.testsupport.factories import Tree, make_member, make_user

from .conftest import record

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def days_ago(n: int) -> datetime:
    day = timezone.localdate() - timedelta(days=n)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ)


def keys(items: list[Any]) -> list[str]:
    return [i.key for i in items]


def secretary(org: Any) -> Any:
    return make_user(role="branch_admin", org=org)


# --- 主题党日 this month ---------------------------------------------------------------------------


def test_a_secretary_without_a_theme_day_this_month_is_asked_for_one(tree: Tree) -> None:
    today = timezone.localdate()
    items = study_todos(user=secretary(tree.branch_a), today=today)
    item = next(i for i in items if i.key == f"study.theme_day_missing:{tree.branch_a.pk}:{today:%Y-%m}")
    assert item.url == reverse("study:activity_create")
    assert item.due is not None and item.due.month == today.month


def test_a_theme_day_held_this_month_removes_the_item(tree: Tree) -> None:
    today = timezone.localdate()
    start = datetime(today.year, today.month, 1, 9, 0, tzinfo=TZ)
    record(tree.branch_a, "theme_day", start=start)
    items = study_todos(user=secretary(tree.branch_a), today=today)
    assert not [k for k in keys(items) if k.startswith("study.theme_day_missing")]


def test_the_theme_day_item_becomes_due_soon_near_the_month_end(tree: Tree) -> None:
    today = timezone.localdate()
    late = date(today.year, today.month, 25)
    early = date(today.year, today.month, 2)
    user = secretary(tree.branch_a)
    [late_item] = [i for i in study_todos(user=user, today=late) if i.key.startswith("study.theme_day")]
    [early_item] = [i for i in study_todos(user=user, today=early) if i.key.startswith("study.theme_day")]
    assert (late_item.priority, early_item.priority) == (1, 2)


# --- attendance and 补学 ------------------------------------------------------------------------------


def test_an_ended_activity_without_attendance_asks_to_mark_it(tree: Tree) -> None:
    make_member(tree.branch_a, "出勤党员")
    activity = record(tree.branch_a, "party_lecture", start=days_ago(3), topic="上周的党课")
    items = study_todos(user=secretary(tree.branch_a))
    item = next(i for i in items if i.key == f"study.attendance_unmarked:{activity.pk}")
    assert item.url == reverse("study:attendance", args=[activity.pk])
    assert "上周的党课" in item.title


def test_marked_attendance_removes_the_item(tree: Tree) -> None:
    member = make_member(tree.branch_a, "出勤党员")
    activity = record(tree.branch_a, "party_lecture", start=days_ago(3))
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "present"}])
    items = study_todos(user=secretary(tree.branch_a))
    assert f"study.attendance_unmarked:{activity.pk}" not in keys(items)


def test_an_activity_still_to_come_asks_for_nothing(tree: Tree) -> None:
    make_member(tree.branch_a, "出勤党员")
    activity = record(tree.branch_a, "party_lecture", start=days_ago(-3))
    assert f"study.attendance_unmarked:{activity.pk}" not in keys(study_todos(user=secretary(tree.branch_a)))


def test_many_unmarked_activities_end_in_one_summary_item(tree: Tree) -> None:
    make_member(tree.branch_a, "出勤党员")
    for n in range(7):
        record(tree.branch_a, "party_lecture", start=days_ago(10 + n), topic=f"党课{n}")
    items = [i for i in study_todos(user=secretary(tree.branch_a)) if i.key.startswith("study.attendance")]
    assert len(items) == 6
    assert items[-1].key == "study.attendance_unmarked:more" and items[-1].count == 2


def test_a_reported_makeup_asks_the_secretary_to_confirm(tree: Tree) -> None:
    member = make_member(tree.branch_a, "补学党员")
    activity = record(tree.branch_a, "party_lecture", start=days_ago(5))
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "absent"}])
    attendance_makeup_request(actor=None, attendance=Attendance.objects.get(activity=activity, member=member))
    item = next(
        i for i in study_todos(user=secretary(tree.branch_a)) if i.key.startswith("study.makeup_pending")
    )
    assert item.url == reverse("study:attendance", args=[activity.pk])
    assert item.count == 1


def test_a_secretary_sees_nothing_of_a_sibling_branch(tree: Tree) -> None:
    make_member(tree.branch_b, "乙支部党员")
    activity = record(tree.branch_b, "party_lecture", start=days_ago(3))
    items = study_todos(user=secretary(tree.branch_a))
    assert f"study.attendance_unmarked:{activity.pk}" not in keys(items)
    assert not [k for k in keys(items) if f":{tree.branch_b.pk}:" in k]


# --- an organisation department ----------------------------------------------------------------------


def test_an_org_admin_gets_the_count_of_branches_with_a_gap(tree: Tree) -> None:
    today = timezone.localdate()
    mid_year = date(today.year, 7, 15)
    admin = make_user(role="org_admin", org=tree.district_a)
    [item] = [i for i in study_todos(user=admin, today=mid_year) if i.key.startswith("study.cadence_gaps")]
    assert item.count == 1
    assert item.url.startswith(reverse("study:cadence"))
    assert f"organization={tree.district_a.pk}" in item.url and "missing=1" in item.url


def test_an_org_admin_gets_no_per_activity_items(tree: Tree) -> None:
    make_member(tree.branch_a, "出勤党员")
    record(tree.branch_a, "party_lecture", start=days_ago(3))
    admin = make_user(role="org_admin", org=tree.district_a)
    assert not [k for k in keys(study_todos(user=admin)) if k.startswith("study.attendance")]


def test_a_user_without_a_study_role_gets_nothing(tree: Tree) -> None:
    assert study_todos(user=make_user()) == []


# --- a member's next activities -------------------------------------------------------------------------


def test_a_member_sees_their_next_activity(tree: Tree) -> None:
    member = make_member(tree.branch_a, "党员")
    user = make_user(role="member", org=tree.branch_a)
    member.user = user
    member.save(update_fields=["user"])
    activity = record(tree.branch_a, "theme_day", start=days_ago(-2), topic="下周主题党日")
    item = next(i for i in study_todos(user=user) if i.key == f"study.upcoming:{activity.pk}")
    assert item.title == "下周主题党日"
    assert item.url == reverse("study:my_activities")


def test_the_provider_costs_a_bounded_number_of_queries(
    tree: Tree, django_assert_max_num_queries: Any
) -> None:
    make_member(tree.branch_a, "出勤党员")
    for n in range(4):
        record(tree.branch_a, "party_lecture", start=days_ago(3 + n))
    user = secretary(tree.branch_a)
    with django_assert_max_num_queries(12):
        study_todos(user=user)
