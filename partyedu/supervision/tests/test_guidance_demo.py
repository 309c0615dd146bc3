"""The guidance demo: inspector1 in a team covering the demo district's streets, visits with open
and closed rectification items, 党课巡听 scores; inspector1 sees covered activities only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.demo.supervision_guidance import seed_guidance
from partyedu.demo.testing import on_standard_demo
from partyedu.supervision.models.guidance import GuidanceTeam, LectureInspection, RectificationItem

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(
        django_db_blocker, lambda: seed_guidance(seed=7, today=timezone.localdate(), say=lambda _line: None)
    ) as (_, lines):
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
