"""The care area's API: ``POST /api/v1/service/talks/`` and the talk list (the note only for the two
people and the branch committee), ``GET /api/v1/organizations/{id}/talk-coverage/?year=``, the care
visits with their approval and ``/organizations/{id}/care-totals/`` — never a care note."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.accounts.models import Role
from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.service.models import CareVisit, Talk
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import make_branch, make_talk, make_visit, member_user, yesterday

pytestmark = pytest.mark.django_db

TALKS = "/api/v1/service/talks/"
VISITS = "/api/v1/service/care-visits/"


def two_members(org: Any) -> tuple[Any, Any]:
    return make_member(org, f"谈话人{org.pk}", categories=["secretary"]), make_member(
        org, f"谈话对象{org.pk}"
    )


class TestTalkListApi(ScopedEndpointTests):
    url_name = "api:service-talk-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_talk(org, *two_members(org))

    def marker(self, obj):
        return obj.party_b.name

    def url(self, obj):
        return TALKS


class TestTalkCoverageApi(ScopedEndpointTests):
    url_name = "api:organization-talk-coverage"
    api = True
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/api/v1/organizations/{obj.pk}/talk-coverage/?year={timezone.localdate().year}"


class TestCareVisitListApi(ScopedEndpointTests):
    url_name = "api:service-care-visit-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "200")

    def marker(self, obj):
        return obj.member.name

    def url(self, obj):
        return VISITS


class TestCareVisitApproveApi(PostEndpointTests):
    url_name = "api:service-care-visit-approve"
    api = True

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "900")

    def url(self, obj):
        self._data = {}
        return f"{VISITS}{obj.pk}/approve/"


class TestCareTotalsApi(ScopedEndpointTests):
    url_name = "api:organization-care-totals"
    api = True

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/api/v1/organizations/{obj.pk}/care-totals/"


# --- talks ------------------------------------------------------------------------------------------


def test_a_secretary_posts_a_talk_and_reads_its_note_back(tree):
    branch = make_branch(tree)
    api = api_client(make_user(role="branch_admin", org=tree.branch_a))

    response = api.post(
        TALKS,
        {
            "organization": tree.branch_a.pk,
            "parties": [branch.secretary.pk, branch.members[0].pk],
            "date": timezone.localdate().isoformat(),
            "kind": "committee_member",
            "note": "谈了工作安排",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["parties"] == [
        {"id": branch.secretary.pk, "name": "王书记"},
        {"id": branch.members[0].pk, "name": "党员1"},
    ]
    assert body["note"] == "谈了工作安排"
    assert Talk.objects.count() == 1


@pytest.mark.parametrize(
    ("parties", "day", "field", "message"),
    [
        ("self", 0, "parties", "不能与自己谈话"),
        ("pair", 1, "date", "谈话日期不能晚于今天"),
        ("outsider", 0, "parties", "在册的党员"),
    ],
)
def test_bad_talks_are_400_naming_the_field_and_write_nothing(tree, parties, day, field, message):
    branch = make_branch(tree)
    outsider = make_member(tree.branch_b, "外支部")
    ids = {
        "self": [branch.secretary.pk, branch.secretary.pk],
        "pair": [branch.secretary.pk, branch.committee.pk],
        "outsider": [branch.secretary.pk, outsider.pk],
    }[parties]
    api = api_client(make_user(role="branch_admin", org=tree.branch_a))

    response = api.post(
        TALKS,
        {
            "organization": tree.branch_a.pk,
            "parties": ids,
            "date": (timezone.localdate() + timedelta(days=day)).isoformat(),
            "kind": "committee_member",
        },
        format="json",
    )

    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert not Talk.objects.exists()


def test_an_organisation_out_of_scope_is_400_on_the_organization(tree):
    branch = make_branch(tree)
    api = api_client(make_user(role="branch_admin", org=tree.district_b))
    response = api.post(
        TALKS,
        {
            "organization": tree.branch_a.pk,
            "parties": [branch.secretary.pk, branch.committee.pk],
            "date": timezone.localdate().isoformat(),
            "kind": "committee_committee",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()["errors"]


def test_a_member_posts_their_own_talk(tree):
    branch = make_branch(tree)
    user, me = member_user(tree.branch_a, "张党员")

    response = api_client(user).post(
        TALKS,
        {
            "organization": tree.branch_a.pk,
            "parties": [me.pk, branch.secretary.pk],
            "date": timezone.localdate().isoformat(),
            "kind": "committee_member",
            "note": "我的想法",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["note"] == "我的想法"


def test_without_the_care_action_the_api_never_returns_a_note(tree):
    branch = make_branch(tree)
    make_talk(tree.branch_a, branch.secretary, branch.members[0], note="不公开的要点")
    role = Role.objects.get(code="branch_admin")
    role.actions = [a for a in role.actions if a != "service.care"]
    role.save()

    body = api_client(make_user(role="branch_admin", org=tree.branch_a)).get(TALKS).json()

    assert body["count"] == 1
    assert "note" not in body["results"][0]
    assert "不公开" not in str(body)
    with_care = api_client(make_user(role="org_admin", org=tree.district_a)).get(TALKS).json()
    assert with_care["results"][0]["note"] == "不公开的要点"


def test_coverage_answers_the_contract(tree):
    branch = make_branch(tree)
    make_talk(tree.branch_a, branch.secretary, branch.members[0])
    api = api_client(make_user(role="branch_admin", org=tree.branch_a))

    body = api.get(
        f"/api/v1/organizations/{tree.branch_a.pk}/talk-coverage/?year={timezone.localdate().year}"
    ).json()

    assert (body["pairs_required"], body["pairs_held"], body["members_total"]) == (7, 1, 5)
    assert {m["name"] for m in body["members_not_talked"]} == {"李委员", "党员2", "党员3"}
    assert body["members_not_talked_count"] == 3
    assert body["branches"][0]["organization"] == {"id": tree.branch_a.pk, "name": "甲一支部"}


def test_coverage_of_a_bad_year_is_400_and_a_member_gets_404(tree):
    user, _me = member_user(tree.branch_a, "张党员")
    admin = api_client(make_user(role="branch_admin", org=tree.branch_a))
    assert admin.get(f"/api/v1/organizations/{tree.branch_a.pk}/talk-coverage/?year=1900").status_code == 400
    assert api_client(user).get(f"/api/v1/organizations/{tree.branch_a.pk}/talk-coverage/").status_code == 404


# --- care ----------------------------------------------------------------------------------------------


def test_a_visit_above_the_threshold_is_pending_until_the_level_above_approves(tree):
    member = make_member(tree.branch_a, "刘老党员")
    secretary = api_client(make_user(role="branch_admin", org=tree.branch_a))

    response = secretary.post(
        VISITS,
        {
            "member": member.pk,
            "date": yesterday().isoformat(),
            "aid_kind": "cash",
            "amount": "1000.00",
            "fund_source": "dues",
            "occasion": "春节走访",
            "note": "不公开",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["needs_approval"], body["approved"], body["counted"]) == (True, False, False)
    assert "note" not in body

    assert secretary.post(f"{VISITS}{body['id']}/approve/").status_code == 403
    approved = api_client(make_user(role="org_admin", org=tree.district_a)).post(
        f"{VISITS}{body['id']}/approve/"
    )
    assert approved.status_code == 200
    assert approved.json()["counted"] is True


def test_a_visit_with_money_but_no_source_is_400_and_nothing_is_written(tree):
    member = make_member(tree.branch_a, "刘老党员")
    response = api_client(make_user(role="branch_admin", org=tree.branch_a)).post(
        VISITS,
        {"member": member.pk, "date": yesterday().isoformat(), "aid_kind": "cash", "amount": "100"},
        format="json",
    )
    assert response.status_code == 400
    assert "fund_source" in response.json()["errors"]
    assert not CareVisit.objects.exists()


def test_the_care_api_is_refused_without_the_care_action_and_audits_each_read(tree):
    make_visit(make_member(tree.branch_a, "刘老党员"), "200", note="隐私")
    user, _me = member_user(tree.branch_a, "张党员")
    assert api_client(user).get(VISITS).status_code == 403

    body = api_client(make_user(role="branch_admin", org=tree.branch_a)).get(VISITS).json()

    assert body["count"] == 1 and "隐私" not in str(body)
    assert AuditLog.objects.filter(action="view_pii", object_type="service.carevisit").count() == 1


def test_care_totals_answer_by_child_organisation(tree):
    make_visit(make_member(tree.branch_a, "刘老党员"), "300")
    make_visit(make_member(tree.branch_b, "乙支部"), "200", fund_source="budget")
    admin = api_client(make_user(role="org_admin", org=tree.root))

    body = admin.get(f"/api/v1/organizations/{tree.root.pk}/care-totals/?year={yesterday().year}").json()

    assert (body["visits"], body["payments"], body["amount"]) == (2, 2, "500.00")
    assert body["by_source"] == {"dues": "300.00", "budget": "200.00"}
    assert [c["organization"]["name"] for c in body["children"]] == ["甲区委", "乙区委"]


@pytest.mark.parametrize("value", ["abc", "0.5", "1e30", "99999999999999999999", "-1", "1999", "2101"])
def test_bad_years_in_query_strings_are_400_naming_the_year(tree, value):
    api = api_client(make_user(role="org_admin", org=tree.root))
    for url in (
        f"/api/v1/organizations/{tree.branch_a.pk}/talk-coverage/",
        f"/api/v1/organizations/{tree.branch_a.pk}/care-totals/",
        VISITS,
    ):
        response = api.get(url, {"year": value})
        assert response.status_code == 400, (url, value)
        assert response.json()["errors"]["year"]
