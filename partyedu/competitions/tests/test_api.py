"""The API contract of issue 4: competitions, rounds, entries, reviewers, assignment, reviews,
results and advancement."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.competitions.models import Review, RoundEntry
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import make_competition, make_entry, make_round, panel, reviewer
from .pages import AssignedEndpointTests

pytestmark = pytest.mark.django_db

RUBRIC = [{"name": "内容", "weight": 40}, {"name": "表达", "weight": 30}, {"name": "效果", "weight": 30}]


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


def test_create_competition(tree, organiser):
    response = api_client(organiser).post(
        "/api/v1/competitions/",
        {"title": "全市优秀党课评选", "organization": tree.root.pk, "criteria": RUBRIC},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [c["weight"] for c in response.json()["criteria"]] == [40, 30, 30]


def test_create_competition_with_bad_weights_is_400_naming_the_field(tree, organiser):
    response = api_client(organiser).post(
        "/api/v1/competitions/",
        {"title": "评选", "organization": tree.root.pk, "criteria": [{"name": "内容", "weight": 60}]},
        format="json",
    )
    assert response.status_code == 400
    assert "权重之和必须为100" in response.json()["errors"]["criteria"][0]


def test_add_round(tree, organiser):
    competition = make_competition(tree.root)
    response = api_client(organiser).post(
        f"/api/v1/competitions/{competition.pk}/rounds/",
        {"name": "区县初评", "reviews_per_entry": 3, "aggregation": "trimmed_mean", "advance_count": 10},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "open"


def test_add_entry_joins_the_open_round(tree, organiser):
    competition = make_competition(tree.root)
    round_ = make_round(competition)
    lecturer = make_member(tree.branch_a, "王讲")
    response = api_client(organiser).post(
        f"/api/v1/competitions/{competition.pk}/entries/",
        {"title": "学党史", "lecturer": lecturer.pk, "organization": tree.branch_a.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert RoundEntry.objects.filter(round=round_, entry_id=response.json()["id"]).exists()


def test_reviewers_lists_only_those_in_scope(tree):
    district_admin = make_user(role="org_admin", org=tree.district_a)
    inside = reviewer(tree.branch_a, "inside")
    reviewer(tree.branch_b, "outside")
    body = api_client(district_admin).get("/api/v1/reviewers/").json()
    assert [(r["id"], r["username"], r["organization"]) for r in body] == [
        (inside.pk, "inside", tree.branch_a.pk)
    ]


def test_reviewers_list_is_refused_to_a_reviewer(tree):
    assert api_client(reviewer(tree.branch_a)).get("/api/v1/reviewers/").status_code == 403


def _running(tree, organiser) -> tuple[Any, Any, list[Any]]:
    competition = make_competition(tree.root)
    round_ = make_round(competition, reviews_per_entry=2, advance_count=1)
    make_round(competition, "市级评审")
    unit = make_org(tree.root, "市委党校", "committee", "organ")
    judges = [reviewer(unit, f"judge{i}") for i in range(3)]
    for i in range(3):
        make_entry(competition, tree.branch_a, f"作品{i}")
    return competition, round_, judges


def test_set_panel_and_assign(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    client = api_client(organiser)
    response = client.post(
        f"/api/v1/rounds/{round_.pk}/reviewers/", {"users": [j.pk for j in judges]}, format="json"
    )
    assert response.status_code == 200, response.content
    response = client.post(f"/api/v1/rounds/{round_.pk}/assign/")
    assert response.status_code == 200, response.content
    assert len(response.json()) == 6


def test_reviews_lists_only_the_callers_own(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    body = api_client(judges[0]).get("/api/v1/reviews/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert {r["id"] for r in rows} == set(
        Review.objects.filter(reviewer=judges[0]).values_list("pk", flat=True)
    )


def test_put_review_scores_it(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    review = Review.objects.filter(reviewer=judges[0])[0]
    response = api_client(judges[0]).put(
        f"/api/v1/reviews/{review.pk}/",
        {"scores": {"内容": 90, "表达": 80, "效果": 70}, "comment": "好"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "81.000"


def test_another_reviewers_review_is_404(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    review = Review.objects.filter(reviewer=judges[0])[0]
    client = api_client(judges[1])
    assert client.get(f"/api/v1/reviews/{review.pk}/").status_code == 404
    response = client.put(f"/api/v1/reviews/{review.pk}/", {"scores": {"内容": 1}}, format="json")
    assert response.status_code == 404


def test_out_of_range_score_is_400(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    review = Review.objects.filter(reviewer=judges[0])[0]
    response = api_client(judges[0]).put(
        f"/api/v1/reviews/{review.pk}/", {"scores": {"内容": 90, "表达": 180, "效果": 70}}, format="json"
    )
    assert response.status_code == 400
    assert "0到100" in response.json()["errors"]["scores"][0]


def _score_all(round_, judges, base=60):
    for judge in judges:
        for i, review in enumerate(Review.objects.filter(reviewer=judge).order_by("round_entry_id")):
            response = api_client(judge).put(
                f"/api/v1/reviews/{review.pk}/",
                {"scores": {"内容": base + 10 * i, "表达": base, "效果": base}},
                format="json",
            )
            assert response.status_code == 200


def test_results_are_ranked(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    _score_all(round_, judges)
    body = api_client(organiser).get(f"/api/v1/rounds/{round_.pk}/results/").json()
    assert body["complete"] is True
    scores = [row["score"] for row in body["results"]]
    assert scores == sorted(scores, key=float, reverse=True)
    assert body["results"][0]["rank"] == 1


def test_advance_before_all_reviews_is_400(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    response = api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/advance/", {}, format="json")
    assert response.status_code == 400
    assert "未提交" in response.json()["errors"]["round"][0]


def test_advance_moves_the_top_entry(tree, organiser):
    _, round_, judges = _running(tree, organiser)
    panel(round_, judges)
    api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/assign/")
    _score_all(round_, judges)
    response = api_client(organiser).post(f"/api/v1/rounds/{round_.pk}/advance/", {}, format="json")
    assert response.status_code == 200, response.content
    assert len(response.json()) == 1


# --- permission mixin ----------------------------------------------------------------------------


class TestCompetitionListApi(ScopedEndpointTests):
    url_name = "api:competition-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_competition(org, title=f"评选{org.pk}")

    def url(self, obj):
        return "/api/v1/competitions/"

    def listed(self, response, obj):
        body = response.json()
        rows = body["results"] if isinstance(body, dict) else body
        return any(row["id"] == obj.pk for row in rows)


class TestCompetitionDetailApi(ScopedEndpointTests):
    url_name = "api:competition-detail"
    api = True

    def make_object(self, org):
        return make_competition(org)

    def url(self, obj):
        return f"/api/v1/competitions/{obj.pk}/"


class TestRoundResultsApi(ScopedEndpointTests):
    url_name = "api:round-results"
    api = True

    def make_object(self, org):
        return make_round(make_competition(org))

    def url(self, obj):
        return f"/api/v1/rounds/{obj.pk}/results/"


class TestEntriesApi(ScopedEndpointTests):
    url_name = "api:competition-entries"
    api = True
    kind = "list"

    def make_object(self, org):
        competition = make_competition(org)
        make_round(competition)
        return make_entry(competition, org, "独特题目")

    def url(self, obj):
        return f"/api/v1/competitions/{obj.competition_id}/entries/"

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client, scope_tree):
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        assert self._get(client, self.url(obj)).status_code == 404


class TestCompetitionRoundsApi(ScopedEndpointTests):
    url_name = "api:competition-rounds"
    api = True

    def make_object(self, org):
        competition = make_competition(org)
        make_round(competition)
        return competition

    def url(self, obj):
        return f"/api/v1/competitions/{obj.pk}/rounds/"


class TestRoundDetailApi(TestRoundResultsApi):
    url_name = "api:round-detail"

    def url(self, obj):
        return f"/api/v1/rounds/{obj.pk}/"


class RoundActionApi(PostEndpointTests):
    """A POST on a round with a JSON body (``post_data``); the answer is the round's new state."""

    api = True

    def _post(self, client, url):
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")


class TestRoundAssignApi(RoundActionApi):
    url_name = "api:round-assign"

    def make_object(self, org):
        round_ = make_round(make_competition(org), reviews_per_entry=1)
        make_entry(round_.competition, org, "待分配作品")
        panel(round_, [reviewer(make_org(org.parent.parent, "评委单位", "committee", "organ"))])
        return round_

    def action_url(self, obj):
        return f"/api/v1/rounds/{obj.pk}/assign/"


class TestRoundReviewersApi(RoundActionApi):
    url_name = "api:round-reviewers"

    def make_object(self, org):
        return make_round(make_competition(org))

    def action_url(self, obj):
        return f"/api/v1/rounds/{obj.pk}/reviewers/"

    def post_data(self, obj):
        return {"users": [reviewer(obj.competition.organization).pk]}


class TestRoundAdvanceApi(RoundActionApi):
    url_name = "api:round-advance"

    def make_object(self, org):
        competition = make_competition(org)
        first = make_round(competition, advance_count=1)
        make_round(competition, "复评")
        return first

    def action_url(self, obj):
        return f"/api/v1/rounds/{obj.pk}/advance/"


class ReviewApi(AssignedEndpointTests):
    api = True

    def listed(self, response, obj):
        body = response.json()
        rows = body["results"] if isinstance(body, dict) else body
        return any(row["id"] == obj.pk for row in rows)


class TestReviewListApi(ReviewApi):
    url_name = "api:review-list"
    kind = "list"

    def url(self, obj):
        return "/api/v1/reviews/"


class TestReviewDetailApi(ReviewApi):
    url_name = "api:review-detail"

    def url(self, obj):
        return f"/api/v1/reviews/{obj.pk}/"


class TestReviewersApi(ScopedEndpointTests):
    """The panel candidates: reviewers holding their role inside the organiser's scope."""

    url_name = "api:reviewers"
    api = True
    kind = "list"

    def make_object(self, org):
        return reviewer(org)

    def url(self, obj):
        return "/api/v1/reviewers/"

    def listed(self, response, obj):
        return any(row["id"] == obj.pk for row in response.json())
