"""The lectures app's workbench items (``lectures.todo``): a member's recent 党课 to rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.lectures.models import LectureRating
from partyedu.lectures.todo import lectures_todos
from partyedu.testsupport.factories import Tree, make_member

from .conftest import lecture, lecturer, link, mark, party_lecture

pytestmark = pytest.mark.django_db


def recent_lecture(org: Any, days: int = 3) -> Any:
    start = timezone.now() - timedelta(days=days)
    return lecture(party_lecture(org, start=start), lecturer(org))


def test_a_member_who_attended_is_asked_to_rate(tree: Tree) -> None:
    member = make_member(tree.branch_a, "听课党员")
    user = link(member)
    given = recent_lecture(tree.branch_a)
    mark(given.activity, member)
    [item] = lectures_todos(user=user)
    assert item.key == f"lectures.rate:{given.pk}"
    assert item.url == reverse("lectures:lecture_detail", args=[given.pk])


def test_a_rated_lecture_is_not_asked_again(tree: Tree) -> None:
    member = make_member(tree.branch_a, "听课党员")
    user = link(member)
    given = recent_lecture(tree.branch_a)
    mark(given.activity, member)
    LectureRating.objects.create(lecture=given, member=member, score=5)
    assert lectures_todos(user=user) == []


def test_an_absent_member_is_not_asked(tree: Tree) -> None:
    member = make_member(tree.branch_a, "缺席党员")
    user = link(member)
    mark(recent_lecture(tree.branch_a).activity, member, "absent")
    assert lectures_todos(user=user) == []


def test_an_old_lecture_is_not_asked_for(tree: Tree) -> None:
    member = make_member(tree.branch_a, "听课党员")
    user = link(member)
    mark(recent_lecture(tree.branch_a, days=45).activity, member)
    assert lectures_todos(user=user) == []
