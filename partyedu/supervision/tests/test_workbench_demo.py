"""The workbench area's demo data on a small demo city: every demo account's home page shows its
to-dos, each account has the welcome notification, and seeding again adds nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.models import Notification
from partyedu.core.todo import todos_for
from partyedu.demo.supervision_workbench import WELCOME_TITLE, seed_workbench
from partyedu.demo.testing import seeded_once

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[str]]:
    """One seed for the module; each test runs in a savepoint of it (``partyedu.demo.testing``)."""

    def seed() -> list[str]:
        call_command("seed_demo", members=300, seed=7, stdout=io.StringIO())
        return seed_workbench(seed=7, today=timezone.localdate(), say=lambda message: None)

    with seeded_once(django_db_blocker, seed) as lines:
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
