"""我的活动 — a member's own menu (issue "The everyday paths"): the activities I am expected at,
still to come and already held, only my own attendance rows (``Attendance.scope_self``), the
hours each credited, and 补学 reported from there."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests
from partyedu.members.models import Member
from partyedu.study.models import Activity, Attendance
from partyedu.study.services import attendance_mark
from partyedu.testsupport.factories import Tree, make_member, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


def member_account(org: Any, name: str = "刘党员") -> tuple[Member, Any]:
    """A member of ``org`` with an account holding the 党员 role."""
    member = make_member(org, name)
    user = make_user(role="member", org=org)
    member.user = user
    member.save(update_fields=["user"])
    return member, user


def mark(activity: Activity, member: Member, status: str) -> Attendance:
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": status}])
    return Attendance.objects.get(activity=activity, member=member)


def sections(html: str) -> tuple[str, str]:
    """The 近期 and 参加过 parts of the page."""
    upcoming = html.index('data-testid="my-upcoming"')
    past = html.index('data-testid="my-past"')
    return html[upcoming:past], html[past:]


def test_only_my_own_attendance_rows_are_shown(client: Any, tree: Tree) -> None:
    """我的活动 shows the member's own rows only (scope_self), never another member's mark."""
    me, user = member_account(tree.branch_a)
    other = make_member(tree.branch_a, "李四")
    mine = record(tree.branch_a, "party_lecture", topic="本支部党课")
    elsewhere = record(tree.branch_b, "party_lecture", topic="乙支部党课")
    mark(mine, me, "present")
    mark(mine, other, "absent")
    client.force_login(user)
    html = client.get(reverse("study:my_activities")).content.decode()
    assert "本支部党课" in html and "乙支部党课" not in html
    assert "出席" in html and "缺席" not in html
    assert elsewhere.pk


def test_upcoming_and_past_activities_are_apart(client: Any, tree: Tree) -> None:
    """我的活动: activities from today on are listed apart from those already held."""
    _, user = member_account(tree.branch_a)
    soon = timezone.now() + timedelta(days=3)
    record(tree.branch_a, "theme_day", topic="下周主题党日", start=soon)
    record(tree.branch_a, "party_lecture", topic="去年的党课", start=at(3))
    client.force_login(user)
    upcoming, past = sections(client.get(reverse("study:my_activities")).content.decode())
    assert "下周主题党日" in upcoming and "去年的党课" not in upcoming
    assert "去年的党课" in past and "下周主题党日" not in past


def test_an_upcoming_activity_says_when_check_in_is_open(client: Any, tree: Tree) -> None:
    """我的活动: an activity under way with its check-in window open says "正在签到" and how to scan."""
    _, user = member_account(tree.branch_a)
    now = timezone.now()
    record(
        tree.branch_a,
        "theme_day",
        topic="正在开的会",
        start=now - timedelta(minutes=10),
        end=now + timedelta(hours=1),
    )
    record(tree.branch_a, "theme_day", topic="下周的会", start=now + timedelta(days=7))
    client.force_login(user)
    upcoming, _ = sections(client.get(reverse("study:my_activities")).content.decode())
    assert upcoming.count('data-testid="checkin-open"') == 1
    assert "扫描会场展示的二维码即可签到" in upcoming and reverse("study:scan") in upcoming
    assert "起可以扫码签到" in upcoming  # next week's: not yet


def test_a_held_activity_shows_my_mark_and_the_hours_it_credited(client: Any, tree: Tree) -> None:
    """我的活动: the mark and the hours the ledger credits for it (DOMAIN_RULES 学时: 1 clock hour = 1)."""
    me, user = member_account(tree.branch_a)
    attended = record(tree.branch_a, "party_lecture", topic="出席的党课", start=at(3))
    missed = record(tree.branch_a, "party_lecture", topic="缺席的党课", start=at(4))
    mark(attended, me, "present")
    mark(missed, me, "absent")
    client.force_login(user)
    _, past = sections(client.get(reverse("study:my_activities")).content.decode())
    assert "计 2 学时" in past
    assert "未计学时" in past


def test_a_member_reports_makeup_of_a_missed_activity(client: Any, tree: Tree) -> None:
    """补学 from 我的活动: a member absent reports it; it waits for the secretary's confirmation."""
    me, user = member_account(tree.branch_a)
    missed = record(tree.branch_a, "party_lecture", topic="缺席的党课", start=at(4))
    row = mark(missed, me, "absent")
    client.force_login(user)
    html = client.get(reverse("study:my_activities")).content.decode()
    assert reverse("study:my_makeup", args=[row.pk]) in html
    response = client.post(reverse("study:my_makeup", args=[row.pk]), follow=True)
    row.refresh_from_db()
    assert (row.status, row.makeup_confirmed_at) == ("makeup", None)
    assert "补学已登记，等支部书记确认后计入学时" in response.content.decode()


def test_a_member_cannot_report_makeup_for_another_member(client: Any, tree: Tree) -> None:
    """补学 from 我的活动 reaches only the member's own rows: another member's row is 404."""
    _, user = member_account(tree.branch_a)
    other = make_member(tree.branch_a, "李四")
    missed = record(tree.branch_a, "party_lecture", start=at(4))
    row = mark(missed, other, "absent")
    client.force_login(user)
    assert client.post(reverse("study:my_makeup", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.status == "absent"


def test_a_user_without_a_member_record_is_told_so(client: Any, tree: Tree) -> None:
    """我的活动 belongs to members: an account with no member record gets 403."""
    client.force_login(make_user(role="member", org=tree.branch_a))
    response = client.get(reverse("study:my_activities"))
    assert response.status_code == 403
    assert "您的账号还没有关联党员信息" in response.content.decode()


def test_my_activities_query_count_is_pinned(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    """我的活动: a page of 20 held activities and the upcoming ones in a fixed number of queries."""
    me, user = member_account(tree.branch_a)
    for day in range(1, 26):
        activity = record(tree.branch_a, "party_lecture", start=at(3, day=day))
        mark(activity, me, "present")
    for days in (2, 9):
        record(tree.branch_a, "theme_day", start=timezone.now() + timedelta(days=days))
    client.force_login(user)
    # session, user, grants, the member, upcoming, page count and rows, hours, session save (3)
    with django_assert_max_num_queries(11):
        html = client.get(reverse("study:my_activities")).content.decode()
    assert html.count("计 2 学时") == 20 and "第 1 / 2 页" in html


# --- permission tests ----------------------------------------------------------------------------


class _OwnRow(OwnedEndpointTests):
    """An attendance row of a member with an account (the owner); a stranger is a member of the
    other district with an account of their own."""

    role = "member"

    def make_object(self, org: Any) -> Attendance:
        member, _user = member_account(org, f"党员{next(_n)}")
        activity = record(org, "party_lecture", topic=f"我的党课{next(_n)}", start=at(4))
        return mark(activity, member, "absent")

    def owner(self, obj: Attendance) -> Any:
        return obj.member.user

    def stranger(self, scope_tree: Any) -> Any:
        _member, user = member_account(scope_tree.branch_b, "外区党员")
        return user

    def marker(self, obj: Attendance) -> str:
        return obj.activity.topic


class TestMyActivitiesScope(_OwnRow):
    url_name = "study:my_activities"
    kind = "list"

    def url(self, obj: Attendance) -> str:
        return reverse(self.url_name)


class TestMyMakeupScope(PostEndpointTests, _OwnRow):
    url_name = "study:my_makeup"

    def action_url(self, obj: Attendance) -> str:
        return reverse(self.url_name, args=[obj.pk])
