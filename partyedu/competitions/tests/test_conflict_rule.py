"""Rule 8.3: conflict of interest (回避), configurable per competition — "own subtree" (a reviewer
never scores entries from their own organisation subtree) or "unit below the organiser" (for a
city review after the districts' selection, a reviewer from a district never scores any entry of
that district) — enforced where reviewers are assigned and where scores are submitted; the round
page says why a reviewer is excluded."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partyedu.accounts.services import role_assign
from partyedu.competitions.choices import ConflictRule
from partyedu.competitions.models import Review, RoundEntry
from partyedu.competitions.selectors import round_exclusions
from partyedu.competitions.services import (
    competition_conflict_rule_set,
    review_assign_manual,
    review_submit,
    round_assign,
)
from partyedu.core.audit import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.factories import make_org, make_user

from .conftest import make_competition, make_entry, make_round, panel, reviewer
from .pages import scores

pytestmark = pytest.mark.django_db


class City:
    """A city competition: 甲区委 has two branches (甲一支部, 甲二支部), each recommending an entry,
    and 乙一支部 one; reviewers at 甲二支部, 乙一支部 and 市委党校."""

    def __init__(self, tree: Any, rule: str) -> None:
        self.tree = tree
        self.competition = make_competition(tree.root, conflict_rule=rule)
        self.round = make_round(self.competition, "市级评审", reviews_per_entry=1)
        self.branch_a2 = make_org(tree.district_a, "甲二支部")
        self.school = make_org(tree.root, "市委党校", "committee", "organ")
        self.a1 = make_entry(self.competition, tree.branch_a, "甲一的党课")
        self.a2 = make_entry(self.competition, self.branch_a2, "甲二的党课")
        self.b1 = make_entry(self.competition, tree.branch_b, "乙一的党课")
        self.judge_a2 = reviewer(self.branch_a2, "judge_a2")
        self.judge_b = reviewer(tree.branch_b, "judge_b")
        self.judge_school = reviewer(self.school, "judge_school")
        panel(self.round, [self.judge_a2, self.judge_b, self.judge_school])
        self.admin = make_user("organiser", role="org_admin", org=tree.root)

    def round_entry(self, entry: Any) -> RoundEntry:
        return RoundEntry.objects.get(round=self.round, entry=entry)

    def assigned(self, judge: Any) -> set[str]:
        return set(Review.objects.filter(reviewer=judge).values_list("round_entry__entry__title", flat=True))


@pytest.fixture
def by_unit(tree: Any) -> City:
    return City(tree, ConflictRule.UNIT)


@pytest.fixture
def by_subtree(tree: Any) -> City:
    return City(tree, ConflictRule.SUBTREE)


def test_own_subtree_rule_lets_a_reviewer_score_a_sibling_branch(by_subtree):
    """DOMAIN_RULES rule 8 (回避): under "own subtree" a reviewer at 甲二支部 may score 甲一支部's
    entry but never their own branch's — seed 002 (逐级遴选)."""
    c = by_subtree
    review_assign_manual(actor=c.admin, round_entry=c.round_entry(c.a1), reviewer=c.judge_a2, reason="试评")
    with pytest.raises(ValidationError, match="须回避"):
        review_assign_manual(
            actor=c.admin, round_entry=c.round_entry(c.a2), reviewer=c.judge_a2, reason="试评"
        )


def test_unit_rule_keeps_a_reviewer_from_every_entry_of_their_district_at_assignment(by_unit):
    """DOMAIN_RULES rule 8 (回避): under "unit below the organiser" a reviewer from 甲区委 scores no
    entry of 甲区委 in the city review after the districts' selection — seed 002 (区县初评后市级评审)."""
    c = by_unit
    round_assign(actor=c.admin, round_=c.round)
    assert c.assigned(c.judge_a2) <= {"乙一的党课"}
    assert not c.assigned(c.judge_b) & {"乙一的党课"}
    assert Review.objects.count() == 3


def test_unit_rule_refuses_a_manual_assignment_naming_the_unit(by_unit):
    """DOMAIN_RULES rule 8 (回避): manual assignment obeys the unit rule and says why — seed 002."""
    c = by_unit
    with pytest.raises(ValidationError, match="作品的报送组织属于评委须回避的“甲区委”"):
        review_assign_manual(
            actor=c.admin, round_entry=c.round_entry(c.a1), reviewer=c.judge_a2, reason="试评"
        )


def test_unit_rule_refuses_a_score_from_the_entrys_district(by_unit):
    """DOMAIN_RULES rule 8 (回避): a score is refused at submission when the reviewer must avoid the
    entry (e.g. an assignment made before the reviewer's role changed) — seed 002."""
    c = by_unit
    review = Review.objects.create(round_entry=c.round_entry(c.a1), reviewer=c.judge_a2)
    with pytest.raises(ValidationError, match="您须回避这件作品"):
        review_submit(actor=c.judge_a2, review=review, scores=scores())
    assert Review.objects.get(pk=review.pk).submitted_at is None


def test_own_subtree_rule_refuses_a_score_after_the_reviewer_joined_the_entrys_organisation(by_subtree):
    """DOMAIN_RULES rule 8 (回避): "own subtree" is checked again at submission — seed 002."""
    c = by_subtree
    review = review_assign_manual(
        actor=c.admin, round_entry=c.round_entry(c.a1), reviewer=c.judge_school, reason="试评"
    )
    role_assign(actor=None, user=c.judge_school, role_code="reviewer", organization=c.tree.branch_a)
    with pytest.raises(ValidationError, match="须回避"):
        review_submit(actor=c.judge_school, review=review, scores=scores())


def test_a_free_reviewer_scores_under_the_unit_rule(by_unit):
    """DOMAIN_RULES rule 8 (回避): a reviewer from another unit scores as usual — seed 002."""
    c = by_unit
    review = review_assign_manual(
        actor=c.admin, round_entry=c.round_entry(c.a1), reviewer=c.judge_b, reason="试评"
    )
    assert review_submit(actor=c.judge_b, review=review, scores=scores()).submitted_at is not None


def test_exclusions_say_which_organisations_a_reviewer_avoids_and_why(by_unit):
    """DOMAIN_RULES rule 8 (回避): the assignment page shows why a reviewer is excluded — seed 002."""
    c = by_unit
    exclusions = round_exclusions(user=c.admin, round_=c.round)
    assert exclusions[c.judge_a2.pk].avoided == [("甲区委", "本人所在单位")]
    assert exclusions[c.judge_a2.pk].entries == 2
    assert exclusions[c.judge_school.pk].avoided == [("市委党校", "本人所在组织")]
    assert exclusions[c.judge_school.pk].entries == 0


def test_the_round_page_shows_why_a_reviewer_is_excluded(client, by_unit):
    """DOMAIN_RULES rule 8 (回避): the round page names the avoided unit per reviewer — seed 002."""
    c = by_unit
    client.force_login(c.admin)
    body = client.get(reverse("competitions:round_detail", args=[c.round.pk])).content.decode()
    assert "甲区委（本人所在单位）" in body
    assert "本轮须回避 2 件作品" in body
    assert "本人所在单位（主办组织的下一级）的作品整体回避" in body


def test_changing_the_rule_removes_assignments_it_forbids_and_is_audited(by_subtree):
    """DOMAIN_RULES rule 8 (回避): switching to the unit rule drops the assignments it forbids — seed 002."""
    c = by_subtree
    review_assign_manual(actor=c.admin, round_entry=c.round_entry(c.a1), reviewer=c.judge_a2, reason="试评")
    removed = competition_conflict_rule_set(actor=c.admin, competition=c.competition, rule=ConflictRule.UNIT)
    assert removed == 1
    assert not Review.objects.filter(reviewer=c.judge_a2).exists()
    assert AuditLog.objects.filter(
        object_id=str(c.competition.pk), message__contains="回避规则改为", user=c.admin
    ).exists()


def test_the_rule_cannot_change_after_a_score(by_subtree):
    """DOMAIN_RULES rule 8 (回避): the rule is fixed once a score is submitted — seed 002."""
    c = by_subtree
    review = review_assign_manual(
        actor=c.admin, round_entry=c.round_entry(c.b1), reviewer=c.judge_school, reason="试评"
    )
    review_submit(actor=c.judge_school, review=review, scores=scores())
    with pytest.raises(ValidationError, match="不能再修改回避规则"):
        competition_conflict_rule_set(actor=c.admin, competition=c.competition, rule=ConflictRule.UNIT)


def test_the_rule_page_changes_the_rule(client, by_subtree):
    """DOMAIN_RULES rule 8 (回避): the organiser sets the rule per competition — seed 002."""
    c = by_subtree
    client.force_login(c.admin)
    url = reverse("competitions:competition_conflict", args=[c.competition.pk])
    response = client.post(url, {"conflict_rule": ConflictRule.UNIT})
    assert response.status_code == 302
    c.competition.refresh_from_db()
    assert c.competition.conflict_rule == ConflictRule.UNIT


class TestConflictRulePage(ScopedEndpointTests):
    url_name = "competitions:competition_conflict"

    def make_object(self, org: Any) -> Any:
        return make_competition(org)

    def url(self, obj: Any) -> str:
        return reverse("competitions:competition_conflict", args=[obj.pk])


def test_the_api_refuses_a_score_the_reviewer_must_avoid(by_unit):
    """DOMAIN_RULES rule 8 (回避): PUT /reviews/{id}/ is refused (400) under the unit rule — seed 002."""
    from partyedu.testsupport.api import api_client

    c = by_unit
    review = Review.objects.create(round_entry=c.round_entry(c.a1), reviewer=c.judge_a2)
    response = api_client(c.judge_a2).put(
        f"/api/v1/reviews/{review.pk}/", {"scores": scores()}, format="json"
    )
    assert response.status_code == 400
    assert "您须回避这件作品" in response.json()["errors"]["review"][0]


def test_the_scoring_page_says_the_reviewer_must_avoid_the_entry(client, by_unit):
    """DOMAIN_RULES rule 8 (回避): the web scoring page refuses with the reason — seed 002."""
    c = by_unit
    review = Review.objects.create(round_entry=c.round_entry(c.a1), reviewer=c.judge_a2)
    client.force_login(c.judge_a2)
    data = {f"score_{criterion.pk}": "90" for criterion in c.competition.criteria.all()}
    response = client.post(reverse("competitions:review_detail", args=[review.pk]), data)
    assert response.status_code == 400
    assert "甲区委" in response.content.decode()
    assert Review.objects.get(pk=review.pk).submitted_at is None
