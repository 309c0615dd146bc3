"""The guidance demo: inspector1 in a team covering the demo district's streets, visits with open
and closed rectification items, 党课巡听 scores; inspector1 sees covered activities only."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.demo.supervision_guidance import seed_guidance
from partyedu.demo.testing import seeded_once
from partyedu.supervision.models.guidance import GuidanceTeam, LectureInspection, RectificationItem

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """One seed for the module; each test runs in a savepoint of it (``partyedu.demo.testing``)."""

    def seed():
        call_command("seed_demo", members=300, seed=7, stdout=io.StringIO())
        return seed_guidance(seed=7, today=timezone.localdate(), say=lambda _line: None)

    with seeded_once(django_db_blocker, seed) as lines:
        yield lines


@pytest.fixture
def demo(seeded_demo, db):
    return list(seeded_demo)


def test_the_demo_builds_a_team_with_inspector1_covering_streets(demo):
    team = GuidanceTeam.objects.get()
    assert team.members.filter(user__username="inspector1").exists()
    assert (
        RoleAssignment.objects.filter(user__username="inspector1", role__code="inspector").count()
        == team.coverage.count()
        > 0
    )


def test_the_demo_has_open_and_closed_rectification_items(demo):
    statuses = set(RectificationItem.objects.values_list("status", flat=True))
    assert statuses == {"open", "closed"}


def test_the_demo_scores_some_lectures(demo):
    assert LectureInspection.objects.exists()
    assert any("党课巡听" in line for line in demo)
