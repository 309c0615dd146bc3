"""The workbench home page: every role's to-dos (from the ``core.todo`` providers) grouped by
section, most urgent first, each linking to the page that resolves it; a member's big links stay,
below their to-dos; the admin tiles come after. Query counts are pinned per role."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.todo import TodoItem, todo_sections, todos_for
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def days_ago(n: int) -> datetime:
    day = timezone.localdate() - timedelta(days=n)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ)


def record(org: Any, activity_type: str, start: datetime, topic: str) -> Any:
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": topic,
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )


def member_account(org: Any, name: str = "王党员") -> Any:
    member = make_member(org, name)
    user = make_user(role="member", org=org)
    member.user = user
    member.save(update_fields=["user"])
    return user


def item(key: str, priority: int = 2, section: str = "甲", due: date | None = None) -> TodoItem:
    return TodoItem(key=key, section=section, title=key, url="/", priority=priority, due=due)


# --- ordering and grouping ---------------------------------------------------------------------------


def test_todos_come_most_urgent_first_then_by_due_date(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        item("later", due=date(2026, 5, 1)),
        item("urgent", priority=0),
        item("sooner", due=date(2026, 4, 1)),
    ]
    monkeypatch.setattr(hooks, "call", lambda name, **kw: [found] if name == "core.todo" else [])
    assert [i.key for i in todos_for(user=None)] == ["urgent", "sooner", "later"]


def test_the_section_with_the_most_urgent_item_comes_first() -> None:
    items = [
        item("a", priority=0, section="月报"),
        item("b", priority=1, section="学时"),
        item("c", section="月报"),
    ]
    sections = todo_sections(items)
    assert [(s.name, [i.key for i in s.items]) for s in sections] == [("月报", ["a", "c"]), ("学时", ["b"])]


# --- each role's home page ------------------------------------------------------------------------------


def test_a_secretary_sees_unmarked_attendance_with_its_link(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "出勤党员")
    activity = record(tree.branch_a, "party_lecture", days_ago(3), "上周的党课")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="todo-list"' in html
    assert "登记出勤：上周的党课" in html
    assert f'href="{reverse("study:attendance", args=[activity.pk])}"' in html


def test_a_secretary_is_asked_for_this_months_theme_day(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("core:home")).content.decode()
    assert "本月尚未开展主题党日" in html


def test_an_org_admin_sees_branches_with_a_cadence_gap(client: Any, tree: Tree) -> None:
    if timezone.localdate().month == 1:
        pytest.skip("no month of the year has ended yet")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("core:home")).content.decode()
    assert "个党支部组织生活有缺项" in html
    assert reverse("study:cadence") in html


def test_a_member_sees_hours_missing_above_the_big_links(client: Any, tree: Tree) -> None:
    client.force_login(member_account(tree.branch_a))
    html = client.get(reverse("core:home")).content.decode()
    assert "本年度学时还差" in html
    assert html.index('data-testid="todo-list"') < html.index('data-testid="member-links"')


def test_a_member_sees_the_next_activity(client: Any, tree: Tree) -> None:
    user = member_account(tree.branch_a)
    record(tree.branch_a, "theme_day", days_ago(-2), "后天的主题党日")
    client.force_login(user)
    assert "后天的主题党日" in client.get(reverse("core:home")).content.decode()


def test_a_user_with_nothing_to_do_is_told_so(client: Any, tree: Tree) -> None:
    client.force_login(make_user())
    html = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="todo-empty"' in html


def test_the_admin_tiles_come_after_the_todos(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("core:home")).content.decode()
    assert html.index('data-testid="todo-list"') < html.index('data-testid="home-tiles"')


def test_a_secretary_sees_nothing_of_a_sibling_branch(client: Any, tree: Tree) -> None:
    make_member(tree.branch_b, "乙支部党员")
    record(tree.branch_b, "party_lecture", days_ago(3), "乙支部的党课")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert "乙支部的党课" not in client.get(reverse("core:home")).content.decode()


# --- query counts -----------------------------------------------------------------------------------------
# Measured: secretary 28, org_admin 24, member 16, of which the supervision app's own providers take
# about ten; the lower apps' providers are pinned on their own in the apps' test_todo.py.


def _busy_branch(tree: Tree) -> None:
    for n in range(3):
        make_member(tree.branch_a, f"党员{n}")
    for n in range(8):
        record(tree.branch_a, "party_lecture", days_ago(3 + n), f"党课{n}")


def test_the_secretarys_home_page_query_count(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    _busy_branch(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    # A fixed number whatever the branch holds: each app's to-dos are counts, not rows. 41 since
    # the development alerts and the service to-dos (talk coverage, birthdays, records to
    # confirm, pledges and bookings to decide) joined the workbench.
    with django_assert_max_num_queries(41):
        assert client.get(reverse("core:home")).status_code == 200


def test_the_org_admins_home_page_query_count(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    _busy_branch(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    with django_assert_max_num_queries(36):
        assert client.get(reverse("core:home")).status_code == 200


def test_the_members_home_page_query_count(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    _busy_branch(tree)
    client.force_login(member_account(tree.branch_a))
    with django_assert_max_num_queries(36):
        assert client.get(reverse("core:home")).status_code == 200
