"""Reviewers and organisers acting at the same moment (PostgreSQL only: SQLite serialises
writers by locking the whole database, so there is no race to test)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from partyedu.competitions.models import Review, RoundEntry
from partyedu.competitions.selectors import round_results
from partyedu.competitions.services import review_submit, round_assign
from partyedu.core.testing import run_at_once

from .conftest import make_competition, make_entry, make_round, panel, reviewer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def _round_with_two_reviews(tree):
    competition = make_competition(tree.root)
    round_ = make_round(competition, reviews_per_entry=2)
    entry = make_entry(competition, tree.branch_a)
    judges = [reviewer(tree.district_b), reviewer(tree.district_b)]
    panel(round_, judges)
    round_entry = RoundEntry.objects.get(entry=entry)
    reviews = [Review.objects.create(round_entry=round_entry, reviewer=j) for j in judges]
    return round_, judges, reviews


def test_two_reviewers_submitting_at_once_both_count(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    round_, judges, reviews = _round_with_two_reviews(tree)
    run_at_once(
        lambda: review_submit(
            actor=judges[0], review=reviews[0], scores={"内容": 90, "表达": 90, "效果": 90}
        ),
        lambda: review_submit(
            actor=judges[1], review=reviews[1], scores={"内容": 70, "表达": 70, "效果": 70}
        ),
    )
    (row,) = round_results(user=None, round_=round_)
    assert (row.submitted, row.score) == (2, Decimal("80.0000"))


def test_one_reviewer_double_submitting_keeps_one_review(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    _, judges, reviews = _round_with_two_reviews(tree)
    scores = {"内容": 88, "表达": 88, "效果": 88}
    run_at_once(
        lambda: review_submit(actor=judges[0], review=reviews[0], scores=scores),
        lambda: review_submit(actor=judges[0], review=reviews[0], scores=scores),
    )
    assert Review.objects.filter(reviewer=judges[0]).count() == 1
    assert Review.objects.get(pk=reviews[0].pk).total == Decimal("88.000")


def test_assigning_twice_at_once_makes_no_duplicates(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    competition = make_competition(tree.root)
    round_ = make_round(competition, reviews_per_entry=2)
    for i in range(4):
        make_entry(competition, tree.branch_a, f"作品{i}")
    panel(round_, [reviewer(tree.district_b) for _ in range(3)])
    run_at_once(
        lambda: round_assign(actor=None, round_=round_),
        lambda: round_assign(actor=None, round_=round_),
    )
    assert Review.objects.filter(round_entry__round=round_).count() == 8
