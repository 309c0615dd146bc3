"""The statistics' summary rows under writers at the same moment (PostgreSQL only: SQLite
serialises writers by locking the whole database, so there is no race to test)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.lectures.selectors import lecture_duty_summary, lecture_stats
from partyedu.lectures.services import lecture_rate, lecture_record
from partyedu.lectures.summaries import lecture_figures_rebuild
from partyedu.testsupport.factories import make_member, make_user

from .conftest import at, lecture, lecturer, mark, party_lecture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def test_two_lectures_of_one_secretary_recorded_at_once_count_them_once(tree: Any) -> None:
    # given: a secretary who has not lectured this year, and two 党课 activities
    secretary = make_member(tree.branch_a, "张书记", categories=["secretary"])
    speaker = lecturer(tree.district_a, secretary)
    first, second = party_lecture(tree.branch_a, at(3)), party_lecture(tree.branch_a, at(4))
    # when: both lectures are recorded at the same moment
    run_at_once(
        lambda: lecture_record(actor=None, activity=first, data={"title": "一", "lecturers": [speaker.pk]}),
        lambda: lecture_record(actor=None, activity=second, data={"title": "二", "lecturers": [speaker.pk]}),
    )
    # then
    assert lecture_duty_summary(user=None, organization=tree.root, year=2025).lectured == 1
    assert lecture_figures_rebuild(apply=False).differences == 0


def test_ratings_given_at_once_all_count(tree: Any) -> None:
    raters = [make_member(tree.branch_a, f"党员{i}") for i in range(4)]
    record = lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a))
    users = []
    for rater in raters:
        mark(record.activity, rater)
        # no role: a transactional test has no roles, and rating needs none (only the member)
        rater.user = make_user()
        rater.save(update_fields=["user"])
        users.append(rater.user)
    run_at_once(*(lambda user=user: lecture_rate(actor=user, lecture=record, score=5) for user in users))
    stats = lecture_stats(user=None, organization=tree.root, year=2025)
    assert stats is not None and (stats.ratings, stats.rating_total) == (4, 20)
    assert lecture_figures_rebuild(apply=False).differences == 0
