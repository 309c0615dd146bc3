"""``GET /api/v1/organizations/{id}/cadence/``: an organisation's organisational life per period,
and with ``children=1`` that of each organisation directly below it."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import Tree, make_org, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db


def cadence_url(org: Any, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": 2025, **params}.items())
    return f"/api/v1/organizations/{org.pk}/cadence/?{query}"


class TestCadenceEndpoint(ScopedEndpointTests):
    url_name = "api:organization-cadence"
    api = True

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return cadence_url(obj)


class TestCadenceEndpointForBranchSecretaries(TestCadenceEndpoint):
    role = "branch_admin"


def test_the_answer_lists_each_requirement_of_a_party_committee_period_by_period(
    tree: Tree, admin: Any
) -> None:
    """DOMAIN_RULES 中心组学习 ≥ 2 per quarter (local) and 党委书记讲党课 ≥ 1 per year (支部条例)."""
    record(tree.district_a, "central_group_study", start=at(1))
    record(tree.district_a, "central_group_study", start=at(2))
    body = api_client(admin).get(cadence_url(tree.district_a)).json()
    assert body["organization"] == {"id": tree.district_a.pk, "name": "甲区委"}
    assert body["year"] == 2025
    assert "children" not in body
    study, lecture = body["rules"]
    assert {k: study[k] for k in ("activity_type", "activity_type_display", "period", "min_count")} == {
        "activity_type": "central_group_study",
        "activity_type_display": "中心组学习",
        "period": "quarter",
        "min_count": 2,
    }
    assert study["period_display"] == "每季度"
    assert study["periods"][0] == {"label": "第1季度", "count": 2, "met": True, "status": "met"}
    assert [p["label"] for p in study["periods"]] == ["第1季度", "第2季度", "第3季度", "第4季度"]
    assert lecture["activity_type_display"] == "党委（党组）书记讲党课"
    assert lecture["periods"] == [{"label": "全年", "count": 0, "met": False, "status": "missing"}]


def test_children_lists_each_organisation_directly_below(tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES 党小组会 1 per month: 支部条例 — each group on its own."""
    group_b = make_org(tree.branch_a, "甲一第二党小组", "group")
    record(tree.group_a, "group_meeting", start=at(1))
    body = api_client(secretary).get(cadence_url(tree.branch_a, children=1)).json()
    assert [r["activity_type"] for r in body["rules"]] == [
        "theme_day",
        "branch_assembly",
        "party_lecture",
        "org_life_meeting",
        "democratic_evaluation",
    ]
    assert [c["organization"]["name"] for c in body["children"]] == ["甲一第一党小组", group_b.name]
    first, second = body["children"]
    assert first["year"] == 2025
    assert [r["activity_type"] for r in first["rules"]] == ["group_meeting"]
    assert first["rules"][0]["periods"][0] == {"label": "1月", "count": 1, "met": True, "status": "met"}
    assert second["rules"][0]["periods"][0]["met"] is False


def test_a_child_of_no_kind_has_no_rules(tree: Tree, admin: Any) -> None:
    make_org(tree.district_a, "甲总支", "general_branch")
    body = api_client(admin).get(cadence_url(tree.district_a, children=1)).json()
    assert {c["organization"]["name"]: c["rules"] for c in body["children"]}["甲总支"] == []


def test_an_organisation_out_of_scope_is_404(tree: Tree, admin: Any, secretary: Any) -> None:
    assert api_client(admin).get(cadence_url(tree.district_b)).status_code == 404
    # the branch secretary's scope does not reach up to the district
    assert api_client(secretary).get(cadence_url(tree.district_a, children=1)).status_code == 404


def test_a_year_out_of_range_is_400_naming_it(tree: Tree, admin: Any) -> None:
    response = api_client(admin).get(cadence_url(tree.district_a, year=1800))
    assert response.status_code == 400
    assert response.json()["errors"]["year"]


def test_children_cost_a_fixed_number_of_queries(tree: Tree, django_assert_max_num_queries: Any) -> None:
    admin = make_user("root_admin", role="org_admin", org=tree.root)
    client = api_client(admin)
    for i in range(20):
        make_org(tree.district_a, f"甲{i:02d}支部")
    client.get(cadence_url(tree.district_a, children=1))
    # token, grants, the organisation, its children, the rules, the counts, the committees
    with django_assert_max_num_queries(8):
        body = client.get(cadence_url(tree.district_a, children=1)).json()
    assert len(body["children"]) == 21


def test_the_schema_documents_the_endpoint(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/organizations/{id}/cadence/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"id", "year", "children"}
    assert "党组织" in operation["tags"]
