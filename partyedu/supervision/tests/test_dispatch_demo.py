"""The dispatch area's demo data on a small demo city."""

from __future__ import annotations

import pytest
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.todo import todos_for
from partyedu.demo.supervision_dispatch import DATA_TITLE, THEME_TITLE, seed_dispatch
from partyedu.demo.testing import on_standard_demo

from ..models.dispatch import Dispatch, DispatchFeedback, QuarterlyNote

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(
        django_db_blocker, lambda: seed_dispatch(seed=7, today=timezone.localdate(), say=lambda message: None)
    ) as (_, lines):
        yield lines


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def test_the_demo_has_two_dispatches_with_partial_feedback(demo_lines):
    for title in (THEME_TITLE, DATA_TITLE):
        dispatch = Dispatch.objects.get(title=title)
        answered = dispatch.recipients.filter(feedback_at__isnull=False).count()
        assert 0 < answered < dispatch.recipients.count(), title


def test_the_theme_day_task_links_the_branches_theme_days(demo_lines):
    feedback = DispatchFeedback.objects.filter(recipient__dispatch__title=THEME_TITLE)
    assert any(f.linked_activities.filter(activity_type="theme_day").exists() for f in feedback)


def test_branch_sec_finds_the_open_task_on_the_home_page(demo_lines):
    items = todos_for(user=User.objects.get(username="branch_sec"))
    assert f"调度任务：{THEME_TITLE}" in [i.title for i in items]


def test_the_city_published_a_quarterly_note_with_figures(demo_lines):
    note = QuarterlyNote.objects.get()
    assert note.figures["indicators"]["activities"] > 0
    assert any(line.startswith("季度反馈") for line in demo_lines)


def test_seeding_again_writes_nothing_new(demo_lines):
    seed_dispatch(seed=7, today=timezone.localdate(), say=lambda message: None)
    assert Dispatch.objects.count() == 2
    assert QuarterlyNote.objects.count() == 1
