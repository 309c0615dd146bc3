"""The API contract of issue 14 for the democratic appraisal, with a permission class per URL."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.appraisal.choices import StepCode
from partyedu.appraisal.models import Appraisal, BallotReceipt, FollowUp, Vote
from partyedu.appraisal.services import ballot_submit
from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.api import api_client

from .conftest import (
    THIS_YEAR,
    Branch,
    close_step,
    make_appraisal,
    member_user,
    open_step,
    others,
)

pytestmark = pytest.mark.django_db


def votes_for(branch: Branch, voter: str, **grades: str) -> dict[str, Any]:
    return {"votes": [{"member": branch.members[n].pk, "grade": g} for n, g in others(voter, grades).items()]}


# --- contract ------------------------------------------------------------------------------------


def test_post_appraisals_creates_the_branch_appraisal(branch):
    client = api_client(branch.secretary)

    response = client.post(
        "/api/v1/appraisals/", {"organization": branch.org.pk, "year": THIS_YEAR}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == branch.org.pk and body["year"] == THIS_YEAR
    assert body["status"] == "planned" and body["current_step"] == "self"
    assert [s["code"] for s in body["steps"]] == ["self", "peer", "vote", "decide", "report"]
    assert {p["name"]: p["is_voter"] for p in body["participants"]} == {
        "甲": True,
        "乙": True,
        "丙": True,
        "丁": False,
        "戊": True,
    }


def test_post_appraisals_takes_an_optional_schedule_and_share(branch):
    body = {
        "organization": branch.org.pk,
        "year": THIS_YEAR,
        "excellent_share": "0.25",
        "steps": [
            {"code": "self", "planned_start": f"{THIS_YEAR}-11-01", "planned_end": f"{THIS_YEAR}-11-07"}
        ],
    }

    response = api_client(branch.secretary).post("/api/v1/appraisals/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["steps"][0]["planned_start"] == f"{THIS_YEAR}-11-01"
    assert response.json()["excellent_share"] == "0.2500"


def test_post_appraisals_for_an_organisation_out_of_scope_is_400(branch, tree):
    response = api_client(branch.secretary).post(
        "/api/v1/appraisals/", {"organization": tree.branch_b.pk, "year": THIS_YEAR}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["organization"]
    assert not Appraisal.objects.exists()


def test_get_appraisal_has_steps_participants_and_no_tallies_before_the_vote_closed(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    ballot_submit(
        actor=branch.users["甲"], appraisal=appraisal, votes=votes_for(branch, "甲", 乙="excellent")["votes"]
    )

    body = api_client(branch.secretary).get(f"/api/v1/appraisals/{appraisal.pk}/").json()

    assert set(body) >= {
        "id",
        "organization",
        "year",
        "status",
        "current_step",
        "steps",
        "participants",
        "turnout",
        "tallies",
        "decisions",
        "reason",
    }
    assert set(body["steps"][0]) == {"code", "name", "planned_start", "planned_end", "opened_at", "closed_at"}
    assert set(body["participants"][0]) >= {"member", "name", "is_voter", "exempt"}
    assert body["current_step"] == "vote" and body["turnout"] == 1
    assert body["tallies"] is None


def test_get_appraisal_has_the_tallies_after_the_vote_closed(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    for voter in ("甲", "丙"):
        ballot_submit(
            actor=branch.users[voter],
            appraisal=appraisal,
            votes=votes_for(branch, voter, 乙="excellent")["votes"],
        )
    close_step(appraisal, StepCode.VOTE)

    body = api_client(branch.secretary).get(f"/api/v1/appraisals/{appraisal.pk}/").json()

    tally = {t["member"]: t for t in body["tallies"]}
    assert tally[branch.members["乙"].pk] == {
        "member": branch.members["乙"].pk,
        "excellent": 2,
        "qualified": 0,
        "basically_qualified": 0,
        "unqualified": 0,
    }
    assert tally[branch.members["甲"].pk]["qualified"] == 1


def test_a_participant_sees_the_appraisal_but_no_tallies_nor_decisions(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    client = api_client(branch.users["甲"])

    body = client.get(f"/api/v1/appraisals/{appraisal.pk}/").json()

    assert body["tallies"] is None and body["decisions"] == []
    assert len(body["participants"]) == 5


def test_post_votes_is_201_first_and_200_when_replaced(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    client = api_client(branch.users["甲"])
    url = f"/api/v1/appraisals/{appraisal.pk}/votes/"

    first = client.post(url, votes_for(branch, "甲", 乙="excellent"), format="json")
    second = client.post(url, votes_for(branch, "甲", 乙="qualified"), format="json")

    assert first.status_code == 201, first.content
    assert second.status_code == 200 and second.json()["replaced"] is True
    assert BallotReceipt.objects.count() == 1 and Vote.objects.count() == 4
    assert not Vote.objects.filter(grade="excellent").exists()


def test_post_votes_by_a_non_member_of_the_branch_is_404(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    outsider, _member = member_user(tree.branch_b, "辛")

    response = api_client(outsider).post(
        f"/api/v1/appraisals/{appraisal.pk}/votes/", votes_for(branch, "甲"), format="json"
    )

    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_post_votes_by_a_probationary_member_is_400(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    response = api_client(branch.users["丁"]).post(
        f"/api/v1/appraisals/{appraisal.pk}/votes/", votes_for(branch, "丁"), format="json"
    )

    assert response.status_code == 400
    assert "预备党员" in response.json()["errors"]["votes"][0]
    assert not Vote.objects.exists()


def test_post_votes_after_the_vote_closed_is_400(branch):
    appraisal = close_step(open_step(make_appraisal(branch.org), StepCode.VOTE), StepCode.VOTE)

    response = api_client(branch.users["甲"]).post(
        f"/api/v1/appraisals/{appraisal.pk}/votes/", votes_for(branch, "甲"), format="json"
    )

    assert response.status_code == 400
    assert not Vote.objects.exists()


def test_post_votes_with_an_unknown_grade_is_400(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    response = api_client(branch.users["甲"]).post(
        f"/api/v1/appraisals/{appraisal.pk}/votes/",
        {"votes": [{"member": branch.members["乙"].pk, "grade": "good"}]},
        format="json",
    )

    assert response.status_code == 400
    assert not Vote.objects.exists()


def test_post_decide_sets_the_grades_and_returns_the_decisions(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = [{"member": m.pk, "grade": "qualified"} for n, m in branch.members.items() if n != "己"]
    grades[0]["grade"] = "excellent"

    response = api_client(branch.secretary).post(
        f"/api/v1/appraisals/{appraisal.pk}/decide/", {"grades": grades, "reason": ""}, format="json"
    )

    assert response.status_code == 200, response.content
    decisions = {d["member"]: d["grade"] for d in response.json()["decisions"]}
    assert decisions[branch.members["甲"].pk] == "excellent" and len(decisions) == 5
    assert all(d["decided_at"] for d in response.json()["decisions"])


def test_post_decide_with_excess_excellent_and_no_reason_is_400(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = [{"member": branch.members[n].pk, "grade": "excellent"} for n in ("甲", "乙", "丙")]

    response = api_client(branch.secretary).post(
        f"/api/v1/appraisals/{appraisal.pk}/decide/", {"grades": grades, "reason": ""}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["reason"]


def test_post_decide_unqualified_with_its_follow_up(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = [
        {
            "member": branch.members["丙"].pk,
            "grade": "unqualified",
            "measure": "rectify_by_deadline",
            "deadline": f"{THIS_YEAR + 1}-03-31",
        }
    ]

    response = api_client(branch.secretary).post(
        f"/api/v1/appraisals/{appraisal.pk}/decide/", {"grades": grades}, format="json"
    )

    assert response.status_code == 200, response.content
    assert FollowUp.objects.get().member == branch.members["丙"]


def test_steps_open_and_close_through_the_api(branch):
    appraisal = make_appraisal(branch.org)
    client = api_client(branch.secretary)

    opened = client.post(f"/api/v1/appraisals/{appraisal.pk}/steps/self/open/")
    closed = client.post(f"/api/v1/appraisals/{appraisal.pk}/steps/self/close/")
    early = client.post(f"/api/v1/appraisals/{appraisal.pk}/steps/vote/open/")

    assert opened.status_code == 200 and opened.json()["current_step"] == "self"
    assert closed.status_code == 200 and closed.json()["current_step"] == "peer"
    assert early.status_code == 400 and "须先结束" in early.json()["errors"]["step"][0]


def test_an_unknown_step_is_404(branch):
    appraisal = make_appraisal(branch.org)

    response = api_client(branch.secretary).post(f"/api/v1/appraisals/{appraisal.pk}/steps/nope/open/")

    assert response.status_code == 404


def test_the_list_shows_the_branch_appraisals_and_the_members_own(branch, tree):
    mine = make_appraisal(branch.org)
    other_branch = make_branch_b(tree)

    as_secretary = api_client(branch.secretary).get("/api/v1/appraisals/").json()
    as_member = api_client(branch.users["甲"]).get("/api/v1/appraisals/").json()

    assert [r["id"] for r in as_secretary["results"]] == [mine.pk]
    assert [r["id"] for r in as_member["results"]] == [mine.pk]
    assert other_branch.pk not in [r["id"] for r in as_member["results"]]


def make_branch_b(tree):
    member_user(tree.branch_b, "壬")
    return make_appraisal(tree.branch_b)


def test_the_schema_documents_the_appraisal_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path in (
        "/api/v1/appraisals/",
        "/api/v1/appraisals/{id}/",
        "/api/v1/appraisals/{id}/votes/",
        "/api/v1/appraisals/{id}/decide/",
        "/api/v1/appraisals/{id}/steps/{code}/open/",
        "/api/v1/appraisals/{id}/steps/{code}/close/",
    ):
        assert path in schema["paths"], path
    assert schema["paths"]["/api/v1/appraisals/{id}/votes/"]["post"]["tags"] == ["民主评议"]


# --- permission classes --------------------------------------------------------------------------


class TestAppraisalListApi(ScopedEndpointTests):
    url_name = "api:appraisal-list"
    kind = "list"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        make_branch_members(org)
        return make_appraisal(org)

    def url(self, obj):
        return "/api/v1/appraisals/"

    def listed(self, response, obj):
        return obj.pk in [r["id"] for r in response.json()["results"]]


def make_branch_members(org):
    from partyedu.testsupport.factories import make_member

    make_member(org, "甲")
    make_member(org, "乙", status="probationary")


class TestAppraisalDetailApi(ScopedEndpointTests):
    url_name = "api:appraisal-detail"
    api = True

    def make_object(self, org):
        make_branch_members(org)
        return make_appraisal(org)

    def url(self, obj):
        return f"/api/v1/appraisals/{obj.pk}/"


class TestAppraisalCreateApi(PostEndpointTests):
    url_name = "api:appraisal-list"
    api = True
    role = "branch_admin"
    kind = "detail"

    def make_object(self, org):
        make_branch_members(org)
        return org

    def action_url(self, obj):
        return "/api/v1/appraisals/"

    def post_data(self, obj):
        return {"organization": obj.pk, "year": THIS_YEAR}

    def _post(self, client, url):
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")

    def test_role_at_the_org_gets_200(self, client, scope_tree):
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        assert self._post(client, self.url(obj)).status_code == 201

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client, scope_tree):
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_b))
        response = self._post(client, self.url(obj))
        assert response.status_code == 400 and response.json()["errors"]["organization"]
        assert not Appraisal.objects.exists()


class JsonAction(PostEndpointTests):
    api = True
    role = "branch_admin"

    def _post(self, client, url):
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")


class TestStepOpenApi(JsonAction):
    url_name = "api:appraisal-step-open"

    def make_object(self, org):
        make_branch_members(org)
        return make_appraisal(org)

    def action_url(self, obj):
        return f"/api/v1/appraisals/{obj.pk}/steps/self/open/"


class TestStepCloseApi(JsonAction):
    url_name = "api:appraisal-step-close"

    def make_object(self, org):
        make_branch_members(org)
        return open_step(make_appraisal(org), StepCode.SELF)

    def action_url(self, obj):
        return f"/api/v1/appraisals/{obj.pk}/steps/self/close/"


class TestDecideApi(JsonAction):
    url_name = "api:appraisal-decide"

    def make_object(self, org):
        make_branch_members(org)
        return open_step(make_appraisal(org), StepCode.DECIDE)

    def post_data(self, obj):
        return {"grades": [{"member": p.member_id, "grade": "qualified"} for p in obj.participants.all()]}

    def action_url(self, obj):
        return f"/api/v1/appraisals/{obj.pk}/decide/"


class TestVotesApi(OwnedEndpointTests, JsonAction):
    """A ballot reaches the appraisal through the voter's membership: the owner (a voting
    participant who voted before) replaces the ballot (200); a member of another branch is not
    found; an account without a member record is refused."""

    url_name = "api:appraisal-votes"
    role = "member"

    def make_object(self, org):
        self._owner, _voter = member_user(org, "甲")
        other = make_branch_members_with(org)
        appraisal = open_step(make_appraisal(org), StepCode.VOTE)
        self._votes = [{"member": other.pk, "grade": "qualified"}]
        ballot_submit(actor=self._owner, appraisal=appraisal, votes=self._votes)
        return appraisal

    def owner(self, obj):
        return self._owner

    def stranger(self, scope_tree):
        user, _member = member_user(scope_tree.branch_b, "辛")
        return user

    def post_data(self, obj):
        return {"votes": self._votes}

    def action_url(self, obj):
        return f"/api/v1/appraisals/{obj.pk}/votes/"


def make_branch_members_with(org):
    from partyedu.testsupport.factories import make_member

    return make_member(org, "乙")
