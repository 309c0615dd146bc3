"""The workbench area's demo data on a small demo city: every demo account's home page shows its
to-dos, each account has the welcome notification, and seeding again adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.models import Notification
from partyedu.core.todo import todos_for
from partyedu.demo.supervision_workbench import WELCOME_TITLE, seed_workbench
from partyedu.demo.testing import on_standard_demo

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[str]]:
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(
        django_db_blocker,
        lambda: seed_workbench(seed=7, today=timezone.localdate(), say=lambda message: None),
    ) as (_, lines):
        yield lines


@pytest.fixture
def demo_lines(seeded_demo: list[str], db: None) -> list[str]:
    return list(seeded_demo)


def test_every_demo_account_has_the_welcome_notification(demo_lines: list[str]) -> None:
    for username in ("city_admin", "district_admin", "branch_sec", "member1"):
        assert Notification.objects.filter(user__username=username, title=WELCOME_TITLE).count() == 1
    assert demo_lines[0].startswith("工作台")


def test_seeding_again_adds_no_notification(demo_lines: list[str]) -> None:
    before = Notification.objects.count()
    seed_workbench(seed=7, today=timezone.localdate(), say=lambda message: None)
    assert Notification.objects.count() == before


@pytest.mark.parametrize("username", ["branch_sec", "district_admin", "member1"])
def test_each_demo_role_has_something_to_do(demo_lines: list[str], username: str) -> None:
    assert todos_for(user=User.objects.get(username=username))


@pytest.mark.parametrize("username", ["city_admin", "district_admin", "branch_sec", "member1", "reviewer1"])
def test_each_demo_home_page_renders_its_todos(client: Any, demo_lines: list[str], username: str) -> None:
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert 'data-testid="todo-list"' in response.content.decode()
