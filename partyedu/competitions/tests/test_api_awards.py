"""Rule 8.4: closing the last round, the award plan, the award suggestion, granting awards and
listing awards with their certificate codes in the API, under the same scope (out of scope is
404) and audit as the web pages; certificate codes unique and stable."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.urls import reverse

from partyedu.competitions import services
from partyedu.competitions.models import Award, Certificate, Review, Round
from partyedu.competitions.services import awards_grant, round_close
from partyedu.core.audit import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

from .conftest import make_competition, make_round
from .pages import contest, outside, submit

pytestmark = pytest.mark.django_db


def _scored(org: Any, *, entries: int = 2, close: bool = False, categories: bool = False) -> Any:
    """A one-round competition at ``org``, every review submitted (the first entry best), the
    round closed when ``close``."""
    c = contest(org, outside(org), entries=entries, reviewers=1)
    ranks = {entry.pk: i for i, entry in enumerate(c.entries)}
    for review in Review.objects.filter(round_entry__round=c.round).select_related("round_entry", "reviewer"):
        submit(review, content=90 - 10 * ranks[review.round_entry.entry_id])
    if close:
        round_close(actor=None, round_=c.round)
    return c


def _district(tree: Any) -> Any:
    """甲区委's competition, closed: 甲一支部 recommended two entries; 甲二支部 none."""
    from partyedu.competitions.models import RoundEntry
    from partyedu.testsupport.factories import make_org

    from .conftest import make_entry, panel, put_review, reviewer

    competition = make_competition(tree.district_a, title="甲区委党课评选")
    round_ = make_round(competition, reviews_per_entry=1)
    make_org(tree.district_a, "甲二支部")
    judge = reviewer(tree.branch_b)
    panel(round_, [judge])
    for title, total in (("甲一", 90), ("甲二", 80)):
        entry = make_entry(competition, tree.branch_a, title)
        put_review(RoundEntry.objects.get(entry=entry), judge, total)
    round_close(actor=None, round_=round_)
    return competition


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


# --- closing the last round ------------------------------------------------------------------------


def test_close_fixes_the_last_rounds_results_and_is_audited(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): closing the last round is in the API, audited — seed 002."""
    c = _scored(tree.branch_a)
    response = api_client(organiser).post(f"/api/v1/rounds/{c.round.pk}/close/", {}, format="json")
    assert response.status_code == 200, response.content
    assert [row["rank"] for row in response.json()["results"]] == [1, 2]
    c.round.refresh_from_db()
    assert c.round.status == "closed"
    assert AuditLog.objects.filter(object_id=str(c.round.pk), message="结束评审", user=organiser).exists()


def test_close_with_reviews_outstanding_needs_override_and_reason(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): the audited override applies to closing by API too — seed 002."""
    c = contest(tree.branch_a, outside(tree.branch_a), entries=1, reviewers=1)
    client = api_client(organiser)
    response = client.post(f"/api/v1/rounds/{c.round.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "未提交" in response.json()["errors"]["round"][0]
    response = client.post(
        f"/api/v1/rounds/{c.round.pk}/close/", {"override": True, "reason": "评委因病缺席"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert AuditLog.objects.filter(message="强制执行（1份评审未提交）：评委因病缺席", user=organiser).exists()


def test_close_refuses_a_round_that_has_a_next_round(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): only the last round is closed; others advance — seed 002."""
    competition = make_competition(tree.root)
    first = make_round(competition)
    make_round(competition, "复评")
    response = api_client(organiser).post(f"/api/v1/rounds/{first.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "晋级" in response.json()["errors"]["round"][0]


# --- granting and listing --------------------------------------------------------------------------


def test_grant_by_plan_returns_the_awards_with_certificate_codes(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): granting by API names graded awards per category with their
    certificates — seed 001 (精品微党课)."""
    c = _scored(tree.branch_a, close=True)
    client = api_client(organiser)
    response = client.put(
        f"/api/v1/competitions/{c.competition.pk}/award-plan/",
        {
            "grade_set": "quality",
            "award_categories": [
                {"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1, "优秀": 1}}
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["award_categories"][0]["counts"] == {"精品": 1, "优秀": 1}
    response = client.post(
        f"/api/v1/competitions/{c.competition.pk}/awards/", {"awarded_on": "2026-07-01"}, format="json"
    )
    assert response.status_code == 201, response.content
    rows = response.json()
    assert [(r["title"], r["grade"], r["award_category"]) for r in rows] == [
        ("精品微党课", "精品", "微党课"),
        ("优秀微党课", "优秀", "微党课"),
    ]
    codes = dict(Certificate.objects.values_list("award_id", "code"))
    assert {r["id"]: r["certificate_code"] for r in rows} == codes
    assert AuditLog.objects.filter(
        object_id=str(c.competition.pk), message="评定奖项并颁发证书", user=organiser
    ).exists()


def test_grant_with_a_chosen_unit_and_its_reason_is_audited(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): 优秀组织单位 chosen by API with a reason, audited — seed 002."""
    competition = _district(tree)
    second = competition.organization.children.get(name="甲二支部")
    response = api_client(organiser).post(
        f"/api/v1/competitions/{competition.pk}/awards/",
        {"lecture_count": 1, "units": [{"organization": second.pk, "reason": "发动全面"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    (unit,) = [r for r in response.json() if r["kind"] == "organization"]
    assert (unit["recipient"], unit["reason"]) == ("甲二支部", "发动全面")
    assert AuditLog.objects.filter(
        message="选定优秀组织单位：甲二支部；理由：发动全面", user=organiser
    ).exists()


def test_grant_refuses_a_unit_without_award_or_reason(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): the reason is required when the unit holds no award — seed 002."""
    competition = _district(tree)
    second = competition.organization.children.get(name="甲二支部")
    response = api_client(organiser).post(
        f"/api/v1/competitions/{competition.pk}/awards/",
        {"lecture_count": 1, "units": [{"organization": second.pk}]},
        format="json",
    )
    assert response.status_code == 400
    assert "须填写评定理由" in response.json()["errors"]["units"][0]
    assert not Award.objects.exists()


def test_grant_before_the_last_round_is_closed_is_400(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): awards come from the closed final round — seed 002."""
    c = _scored(tree.branch_a)
    response = api_client(organiser).post(
        f"/api/v1/competitions/{c.competition.pk}/awards/", {"lecture_count": 1}, format="json"
    )
    assert response.status_code == 400
    assert "请先结束最后一轮" in response.json()["errors"]["competition"][0]


def test_the_suggestion_lists_units_with_their_figures(tree, organiser):
    """DOMAIN_RULES rule 8 (评选): the ranked unit suggestion is in the API — seed 002."""
    competition = _district(tree)
    body = (
        api_client(organiser)
        .get(f"/api/v1/competitions/{competition.pk}/award-suggestion/", {"lecture_count": 1})
        .json()
    )
    assert body["ready"] is True
    assert [e["grade"] for e in body["categories"][0]["entries"]] == ["优秀", ""]
    assert [(u["name"], u["entries"], u["lectures"], u["awards"]) for u in body["units"]] == [
        ("甲一支部", 2, 0, 1),
        ("甲二支部", 0, 0, 0),
    ]


def test_create_takes_the_conflict_rule_grades_and_plan(tree, organiser):
    """DOMAIN_RULES rule 8 (评选, 回避): a competition is created with its rule, grades and plan — seed 001/002."""
    response = api_client(organiser).post(
        "/api/v1/competitions/",
        {
            "title": "全市党课评选",
            "organization": tree.root.pk,
            "criteria": [{"name": "内容", "weight": 100}],
            "categories": ["微党课", "辅导性质专题党课"],
            "conflict_rule": "unit",
            "grade_set": "quality",
            "award_categories": [
                {"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1}},
                {
                    "name": "辅导性质专题党课",
                    "entry_category": "辅导性质专题党课",
                    "counts": {"精品": 2, "优秀": 1},
                },
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["conflict_rule"], body["grades"]) == ("unit", ["精品", "优秀"])
    assert [c["entry_category"] for c in body["award_categories"]] == ["微党课", "辅导性质专题党课"]


# --- certificate codes -------------------------------------------------------------------------------


def test_certificate_codes_are_unique_even_when_a_draw_collides(tree, monkeypatch):
    """DOMAIN_RULES rule 8 (评选): every certificate has a unique code; a colliding draw is drawn
    again — seed 002."""
    first = _scored(tree.branch_a, close=True)
    awards_grant(actor=None, competition=first.competition, data={"lecture_count": 1})
    taken = Certificate.objects.get().code
    draws = itertools.chain([taken, taken], (f"2026{n:010d}" for n in itertools.count()))
    monkeypatch.setattr(services, "_new_code", lambda year: next(draws))
    second = _scored(tree.branch_b, close=True, entries=3)
    awards_grant(actor=None, competition=second.competition, data={"lecture_count": 3, "lecturer_count": 3})
    codes = list(Certificate.objects.values_list("code", flat=True))
    assert len(codes) == 7
    assert len(set(codes)) == 7


def test_certificate_codes_are_stable_across_lists_and_verification(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): a certificate keeps its code — the API list, the awards page and
    the verification page agree, every time — seed 002."""
    c = _scored(tree.branch_a, close=True)
    awards_grant(actor=None, competition=c.competition, data={"lecture_count": 2, "lecturer_count": 1})
    api = api_client(organiser)
    url = f"/api/v1/competitions/{c.competition.pk}/awards/"
    first = [(r["id"], r["certificate_code"]) for r in api.get(url).json()]
    second = [(r["id"], r["certificate_code"]) for r in api.get(url).json()]
    assert first == second
    assert len(first) == 3
    client.force_login(organiser)
    page = client.get(reverse("competitions:award_list", args=[c.competition.pk])).content.decode()
    for _pk, code in first:
        assert code in page
        assert client.get(reverse("verify:certificate", args=[code.lower()])).status_code == 200


# --- permission mixins -----------------------------------------------------------------------------


class JsonActionApi(PostEndpointTests):
    """A POST with a JSON body (``post_data``)."""

    api = True

    def _post(self, client: Any, url: str) -> Any:
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")


class TestRoundCloseApi(JsonActionApi):
    url_name = "api:round-close"

    def make_object(self, org: Any) -> Round:
        return make_round(make_competition(org))

    def action_url(self, obj: Round) -> str:
        return f"/api/v1/rounds/{obj.pk}/close/"


class TestAwardGrantApi(JsonActionApi):
    url_name = "api:competition-awards"

    def make_object(self, org: Any) -> Any:
        return _scored(org, close=True, entries=1).competition

    def action_url(self, obj: Any) -> str:
        return f"/api/v1/competitions/{obj.pk}/awards/"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"lecture_count": 1}

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        """Granting creates the awards: 201 with them."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        response = self._get(client, self.url(obj))
        assert response.status_code == 201
        assert [row["title"] for row in response.json()] == ["优秀党课"]


class TestAwardListApi(ScopedEndpointTests):
    """The awards of a competition: a sibling's competition is not found (404)."""

    url_name = "api:competition-awards"
    api = True

    def make_object(self, org: Any) -> Award:
        c = _scored(org, close=True, entries=1)
        awards_grant(actor=None, competition=c.competition, data={"lecture_count": 1})
        return Award.objects.select_related("certificate").get(competition=c.competition)

    def url(self, obj: Award) -> str:
        return f"/api/v1/competitions/{obj.competition_id}/awards/"

    def listed(self, response: Any, obj: Award) -> bool:
        return any(row["certificate_code"] == obj.certificate.code for row in response.json())


class TestAwardSuggestionApi(ScopedEndpointTests):
    url_name = "api:competition-award-suggestion"
    api = True

    def make_object(self, org: Any) -> Any:
        return make_competition(org)

    def url(self, obj: Any) -> str:
        return f"/api/v1/competitions/{obj.pk}/award-suggestion/"


class TestAwardPlanApi(JsonActionApi):
    url_name = "api:competition-award-plan"

    def make_object(self, org: Any) -> Any:
        return make_competition(org, categories=["微党课"])

    def action_url(self, obj: Any) -> str:
        return f"/api/v1/competitions/{obj.pk}/award-plan/"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"grade_set": "quality", "award_categories": [{"name": "微党课", "counts": {"精品": 1}}]}

    def _post(self, client: Any, url: str) -> Any:
        return client.put(url, getattr(self, "_data", {}), content_type="application/json")


def test_a_sibling_districts_organiser_gets_404_on_close_and_grant(tree):
    """DOMAIN_RULES rule 8 (评选): out of scope is 404 for closing and granting — seed 002."""
    c = _scored(tree.branch_a)
    sibling = api_client(make_user(role="org_admin", org=tree.district_b))
    assert sibling.post(f"/api/v1/rounds/{c.round.pk}/close/", {}, format="json").status_code == 404
    round_close(actor=None, round_=c.round)
    url = f"/api/v1/competitions/{c.competition.pk}/awards/"
    assert sibling.post(url, {"lecture_count": 1}, format="json").status_code == 404
    assert sibling.get(url).status_code == 404
    assert not Award.objects.exists()


def test_a_reviewer_cannot_grant(tree):
    """DOMAIN_RULES rule 8 (评选): granting is the organiser's; a reviewer's change right reaches only
    their reviews (404) — seed 002."""
    c = _scored(tree.branch_a, close=True)
    judge = c.reviewers[0]
    response = api_client(judge).post(f"/api/v1/competitions/{c.competition.pk}/awards/", {}, format="json")
    assert response.status_code == 404
