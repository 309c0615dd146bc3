"""The learning app's workbench items (``learning.todo``): a member short of the year's hours and
the concrete ways to make it up; a secretary's members still short as the year ends (from October)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.learning.models import HourRequirement, OnlineResource
from partyedu.learning.todo import learning_todos
from partyedu.members.models import Member
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import attend, make_activity

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def member_account(tree: Tree) -> tuple[Member, Any]:
    member = make_member(tree.branch_a, "张三")
    user = make_user(role="member", org=tree.branch_a)
    Member.objects.filter(pk=member.pk).update(user=user)
    member.refresh_from_db()
    return member, user


def earlier_this_year(days: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days)
    day = day if day.year == YEAR else date(YEAR, 1, 1)
    return datetime(day.year, day.month, day.day, 9, tzinfo=timezone.get_default_timezone())


def keys(items: list[Any]) -> list[str]:
    return [i.key for i in items]


def test_a_member_short_of_hours_sees_what_is_missing(tree: Tree) -> None:
    _member, user = member_account(tree)
    [item] = [i for i in learning_todos(user=user) if i.key.startswith("learning.hours_missing")]
    assert item.url == reverse("learning:my_hours")
    assert "还差" in item.title
    assert item.due == date(YEAR, 12, 31)


def test_a_missed_activity_is_offered_as_makeup(tree: Tree) -> None:
    member, user = member_account(tree)
    activity = make_activity(tree.branch_a, topic="缺席的党课", start=earlier_this_year(3))
    attend(activity, member, "absent")
    item = next(i for i in learning_todos(user=user) if i.key == f"learning.makeup_open:{activity.pk}")
    assert item.url == reverse("study:my_activities")
    assert "缺席的党课" in item.title


def test_a_published_resource_is_offered_where_online_study_counts(tree: Tree) -> None:
    _member, user = member_account(tree)
    HourRequirement.objects.create(organization=tree.root, counts_online=True)
    resource = OnlineResource.objects.create(
        organization=tree.root,
        title="市委资源",
        kind="article",
        body="正文",
        duration_seconds=600,
        credit_hours=Decimal("1.5"),
        is_published=True,
        published_at=timezone.now(),
    )
    item = next(i for i in learning_todos(user=user) if i.key == f"learning.resource_offer:{resource.pk}")
    assert item.url == reverse("learning:resource_detail", args=[resource.pk])
    assert "1.5" in item.detail


def test_the_member_item_becomes_more_urgent_from_october(tree: Tree) -> None:
    _member, user = member_account(tree)
    [spring] = [i for i in learning_todos(user=user, today=date(YEAR, 3, 1)) if "hours_missing" in i.key]
    [autumn] = [i for i in learning_todos(user=user, today=date(YEAR, 10, 8)) if "hours_missing" in i.key]
    assert (spring.priority, autumn.priority) == (2, 1)


def test_a_secretary_sees_members_short_from_october(tree: Tree) -> None:
    make_member(tree.branch_a, "未达标党员")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    [item] = learning_todos(user=secretary, today=date(YEAR, 10, 8))
    assert item.key == f"learning.members_short:{tree.branch_a.pk}:{YEAR}"
    assert item.count == 1
    assert item.url.startswith(reverse("learning:summary"))
    assert f"organization={tree.branch_a.pk}" in item.url


def test_a_read_only_inspector_is_not_asked_to_follow_up_members_short(tree: Tree) -> None:
    make_member(tree.branch_a, "未达标党员")
    inspector = make_user(role="inspector", org=tree.branch_a)
    assert learning_todos(user=inspector, today=date(YEAR, 10, 8)) == []


def test_a_secretary_sees_nothing_about_hours_before_october(tree: Tree) -> None:
    make_member(tree.branch_a, "未达标党员")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    assert learning_todos(user=secretary, today=date(YEAR, 9, 30)) == []


def test_a_secretary_does_not_count_a_sibling_branch(tree: Tree) -> None:
    make_member(tree.branch_b, "乙支部党员")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    assert learning_todos(user=secretary, today=date(YEAR, 10, 8)) == []


def test_an_account_without_a_member_record_gets_no_member_items(tree: Tree) -> None:
    user = make_user(role="member", org=tree.branch_a)
    assert learning_todos(user=user) == []
