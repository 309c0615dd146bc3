"""Selectors take the requesting user (issue 10): a round, a review or a member record outside the
user's reach yields nothing, whatever object the caller hands in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partyedu.competitions.models import Review, Round, RoundEntry
from partyedu.competitions.selectors import (
    competition_rounds,
    competitions_open_to_member,
    lecture_stats_figures,
    review_peers,
    round_assignments,
    round_following,
    round_names,
    round_panel,
    round_progress,
    round_results,
)
from partyedu.organizations.models import SEGMENT_WIDTH
from partyedu.testsupport.factories import make_user

from .conftest import linked_member, make_competition, make_entry, make_round, panel, put_review, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def district_round(tree) -> Round:
    """甲区委's competition: one round with 甲一支部's entry and one submitted review, and a
    second round still to come."""
    competition = make_competition(tree.district_a)
    round_ = make_round(competition, reviews_per_entry=2)
    make_round(competition, "复评")
    entry = make_entry(competition, tree.branch_a)
    judge = reviewer(tree.district_b)
    panel(round_, [judge])
    put_review(RoundEntry.objects.get(entry=entry), judge, 80)
    return round_


def test_a_round_reads_the_same_for_its_organiser_and_nothing_for_a_sibling(tree, district_round):
    # given
    own = make_user(role="org_admin", org=tree.district_a)
    sibling = make_user(role="org_admin", org=tree.district_b)
    # when / then
    assert [row.submitted for row in round_results(user=own, round_=district_round)] == [1]
    assert [row.submitted for row in round_progress(user=own, round_=district_round)] == [1]
    assert len(round_assignments(user=own, round_=district_round)) == 1
    assert len(round_panel(user=own, round_=district_round)) == 1
    assert round_following(user=own, round_=district_round) is not None
    assert len(competition_rounds(user=own, competition=district_round.competition)) == 2
    assert round_results(user=sibling, round_=district_round) == []
    assert round_progress(user=sibling, round_=district_round) == []
    assert round_assignments(user=sibling, round_=district_round) == []
    assert round_panel(user=sibling, round_=district_round) == []
    assert round_following(user=sibling, round_=district_round) is None
    assert competition_rounds(user=sibling, competition=district_round.competition) == []


def test_the_system_reads_every_round(district_round):
    assert [row.submitted for row in round_results(user=None, round_=district_round)] == [1]


def test_peers_are_shown_only_to_the_reviewer_of_the_review(tree, district_round):
    review = Review.objects.get(round_entry__round=district_round)
    other = reviewer(tree.district_b)
    put_review(review.round_entry, other, 90)
    assert [peer.total for peer in review_peers(user=review.reviewer, review=review)] == [Decimal("90.000")]
    assert review_peers(user=other, review=review) == []


def test_open_competitions_and_round_names_are_the_members_own(tree):
    competition = make_competition(tree.root)
    make_round(competition)
    user = make_user(role="member", org=tree.branch_a)
    member = linked_member(tree.branch_a, "本人", user)
    stranger = make_user(role="org_admin", org=tree.root)
    make_entry(competition, tree.branch_a, lecturer=member)
    assert list(competitions_open_to_member(user=user, member=member)) == [competition]
    assert not competitions_open_to_member(user=stranger, member=member).exists()
    assert round_names(user=user, competition_ids=[competition.pk]) == {(competition.pk, 1): "初评"}
    assert round_names(user=stranger, competition_ids=[competition.pk]) == {}


def test_the_lecture_statistics_figures_stay_within_the_readers_scope(tree, district_round):
    width = len(tree.district_a.path) + SEGMENT_WIDTH
    year = district_round.competition.year
    own = make_user(role="org_admin", org=tree.district_a)
    sibling = make_user(role="org_admin", org=tree.district_b)
    figures = lecture_stats_figures(user=own, organization=tree.district_a, year=year, width=width)
    assert sum(values.get("entries", 0) for values in figures.by_prefix.values()) == 1
    outside = lecture_stats_figures(user=sibling, organization=tree.district_a, year=year, width=width)
    assert outside.by_prefix == {}
