"""The API contract of issue 15 for member development, with a permission class per URL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.development.models import CaseStep, DevelopmentCase
from partyedu.development.policy import add_months
from partyedu.development.services import case_create, step_confirm
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

from .conftest import APPLIED, new_case, walk_to

pytestmark = pytest.mark.django_db

CASES = "/api/v1/development/cases/"


def steps_url(case: DevelopmentCase) -> str:
    return f"{CASES}{case.pk}/steps/"


# --- create --------------------------------------------------------------------------------------


def test_post_cases_registers_an_application_at_stage_applied(setup: Any) -> None:
    number = valid_id_number(date(2000, 5, 1))
    body = {
        "organization": setup.branch.pk,
        "name": "王小明",
        "id_number": number,
        "applied_on": "2025-03-01",
    }

    response = api_client(setup.secretary).post(CASES, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["stage"], data["name"], data["applied_on"]) == ("applied", "王小明", "2025-03-01")
    assert data["steps"] == [] and [n["step"] for n in data["next"]] == ["talk"]
    assert data["next"][0]["due"] == "2025-04-01"
    assert number not in response.content.decode()
    assert DevelopmentCase.objects.get().name == "王小明"


def test_post_cases_under_age_is_400_naming_id_number_and_applied_on(setup: Any) -> None:
    # the day before the 18th birthday
    body = {
        "organization": setup.branch.pk,
        "name": "少年",
        "id_number": valid_id_number(date(2007, 3, 2)),
        "applied_on": "2025-03-01",
    }

    response = api_client(setup.secretary).post(CASES, body, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "18" in errors["id_number"][0] and errors["applied_on"]
    assert errors["rule"] == ["min_age"]
    assert not DevelopmentCase.objects.exists()


def test_post_cases_on_the_18th_birthday_is_accepted(setup: Any) -> None:
    body = {
        "organization": setup.branch.pk,
        "name": "成年",
        "id_number": valid_id_number(date(2007, 3, 1)),
        "applied_on": "2025-03-01",
    }

    response = api_client(setup.secretary).post(CASES, body, format="json")

    assert response.status_code == 201, response.content


def test_post_cases_for_a_branch_out_of_scope_is_400_naming_organization(setup: Any) -> None:
    body = {
        "organization": setup.tree.branch_b.pk,
        "name": "外人",
        "id_number": valid_id_number(),
        "applied_on": "2025-03-01",
    }

    response = api_client(setup.secretary).post(CASES, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["organization"]
    assert not DevelopmentCase.objects.exists()


def test_post_cases_with_a_bad_date_is_400_naming_applied_on(setup: Any) -> None:
    body = {
        "organization": setup.branch.pk,
        "name": "甲",
        "id_number": valid_id_number(),
        "applied_on": "明天",
    }

    response = api_client(setup.secretary).post(CASES, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["applied_on"]


# --- detail --------------------------------------------------------------------------------------


def test_get_case_gives_stage_steps_next_and_checklist(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    response = api_client(setup.secretary).get(f"{CASES}{case.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "id",
        "organization",
        "name",
        "stage",
        "stage_display",
        "applied_on",
        "activist_on",
        "candidate_on",
        "admitted_on",
        "probation_end",
        "full_member_on",
        "extension_months",
        "mentors",
        "sponsors",
        "steps",
        "next",
        "checklist",
    }
    assert (body["stage"], body["stage_display"]) == ("activist", "入党积极分子")
    assert body["mentors"] == [{"id": setup.voters[0].pk, "name": setup.voters[0].name}]
    talk = body["steps"][0]
    assert set(talk) >= {
        "seq",
        "step",
        "step_display",
        "date",
        "confirmed_by",
        "meeting",
        "voting_expected",
        "voting_present",
        "yes_votes",
        "outcome",
        "extension_months",
        "start_on",
        "people",
        "note",
        "override_reason",
        "overridden",
    }
    assert (talk["step"], talk["date"], talk["confirmed_by"]) == (
        "talk",
        "2023-03-21",
        setup.secretary.username,
    )
    assert [(n["step"], n["earliest"]) for n in body["next"]] == [
        ("assessment", None),
        ("candidate", str(add_months(case.activist_on, 12))),
    ]
    assert body["next"][0]["due"] == str(add_months(case.activist_on, 6))
    assert [item["step"] for item in body["checklist"]][:3] == ["application", "talk", "activist"]
    assert body["checklist"][0]["documents"] == [
        {"kind": "application", "kind_display": "入党申请书", "filed": False}
    ]


def test_get_case_never_shows_the_clear_id_number(setup: Any) -> None:
    number = valid_id_number(date(1999, 9, 9))
    case = new_case(setup, id_number=number)

    response = api_client(setup.secretary).get(f"{CASES}{case.pk}/")

    assert number not in response.content.decode()
    assert response.json()["id_number_masked"] == case.id_number_masked


def test_every_read_of_a_case_is_audited(setup: Any) -> None:
    case = new_case(setup)
    client = api_client(setup.secretary)

    client.get(f"{CASES}{case.pk}/")
    client.get(f"{CASES}{case.pk}/")

    rows = AuditLog.objects.filter(action="view_pii", object_id=str(case.pk))
    assert rows.count() == 2
    assert {(r.user_id, r.message, r.object_type) for r in rows} == {
        (setup.secretary.pk, "查看发展党员档案", "development.developmentcase")
    }


def test_a_case_out_of_scope_is_404(setup: Any) -> None:
    case = new_case(setup)
    stranger = make_user(role="branch_admin", org=setup.tree.branch_b)
    client = api_client(stranger)

    assert client.get(f"{CASES}{case.pk}/").status_code == 404
    assert (
        client.post(steps_url(case), {"step": "talk", "date": "2023-03-10"}, format="json").status_code == 404
    )
    assert client.post(f"{CASES}{case.pk}/close/", {"reason": "撤回"}, format="json").status_code == 404
    assert not CaseStep.objects.exists()
    assert not AuditLog.objects.filter(action="view_pii").exists()


# --- list ----------------------------------------------------------------------------------------


def test_list_items_carry_the_masked_id_number_only(setup: Any) -> None:
    number = valid_id_number(date(1999, 9, 9))
    case = new_case(setup, id_number=number)

    response = api_client(setup.secretary).get(CASES)

    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert set(item) == {
        "id",
        "organization",
        "organization_name",
        "name",
        "gender",
        "id_number_masked",
        "applied_on",
        "stage",
        "stage_display",
        "next_due",
        "last_step_on",
    }
    assert item["id"] == case.pk and item["organization_name"] == setup.branch.name
    assert number not in response.content.decode()


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_list_filters_by_stage_year_name_and_overdue(setup: Any) -> None:
    old = walk_to(setup, new_case(setup, name="老申请人"), "talk")
    recent = new_case(setup, applied_on=date(2025, 6, 1), name="新申请人", birth=date(2001, 1, 1))
    client = api_client(setup.secretary)

    assert _ids(client.get(CASES, {"stage": "talked"})) == [old.pk]
    assert _ids(client.get(CASES, {"year": 2025})) == [recent.pk]
    assert _ids(client.get(CASES, {"q": "新"})) == [recent.pk]
    # the new application's talk was due a month after it: long past
    assert _ids(client.get(CASES, {"overdue": "true"})) == [recent.pk]


def test_list_filter_by_organization_takes_the_subtree_and_ignores_other_scopes(setup: Any) -> None:
    case = new_case(setup)
    client = api_client(setup.above)

    assert _ids(client.get(CASES, {"organization": setup.tree.district_a.pk})) == [case.pk]
    assert _ids(client.get(CASES, {"organization": setup.tree.district_b.pk})) == []


@pytest.mark.parametrize(("name", "value"), [("stage", "nope"), ("year", "99999"), ("organization", "abc")])
def test_list_with_a_bad_filter_is_400_naming_it(setup: Any, name: str, value: str) -> None:
    response = api_client(setup.secretary).get(CASES, {name: value})

    assert response.status_code == 400
    assert response.json()["errors"][name]


def test_list_queries_do_not_grow_with_the_cases(setup: Any, django_assert_max_num_queries: Any) -> None:
    new_case(setup)
    client = api_client(setup.secretary)
    with django_assert_max_num_queries(8) as few:
        client.get(CASES)
    for n in range(5):
        new_case(setup, name=f"申请人{n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(CASES)

    assert response.json()["count"] == 6


# --- steps ---------------------------------------------------------------------------------------


def test_post_steps_confirms_the_talk_and_gives_the_new_stage_and_next(setup: Any) -> None:
    case = new_case(setup)

    response = api_client(setup.secretary).post(
        steps_url(case), {"step": "talk", "date": "2023-03-20", "people": "支部书记 李某"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["step"], body["date"], body["seq"], body["people"]) == (
        "talk",
        "2023-03-20",
        1,
        "支部书记 李某",
    )
    assert body["confirmed_by"] == setup.secretary.username
    assert (body["case"], body["stage"]) == (case.pk, "talked")
    assert [n["step"] for n in body["next"]] == ["activist"]


def test_post_steps_with_people_makes_an_activist(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "talk")

    response = api_client(setup.secretary).post(
        steps_url(case),
        {
            "step": "activist",
            "date": "2023-04-10",
            "mentors": [setup.voters[0].pk],
            "recommendation": "mass_org",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "activist"
    case.refresh_from_db()
    assert list(case.mentors.all()) == [setup.voters[0]]


def test_a_step_out_of_order_is_400_naming_the_rule(setup: Any) -> None:
    case = new_case(setup)

    response = api_client(setup.secretary).post(
        steps_url(case), {"step": "candidate", "date": "2023-03-20"}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["rule"] == ["order"]
    assert "不能跳过" in errors["step"][0]
    assert not CaseStep.objects.exists()


def test_a_step_whose_timing_rule_is_not_met_is_400_naming_the_rule(setup: Any) -> None:
    case = new_case(setup)
    late = add_months(APPLIED, 1) + timedelta(days=1)

    response = api_client(setup.secretary).post(
        steps_url(case), {"step": "talk", "date": str(late)}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["rule"] == ["talk_within"]
    assert "1个月内" in errors["date"][0]
    assert not CaseStep.objects.exists()


def test_an_override_by_the_org_admin_of_the_level_above_is_accepted_and_audited(setup: Any) -> None:
    case = new_case(setup)
    late = add_months(APPLIED, 1) + timedelta(days=1)

    response = api_client(setup.above).post(
        steps_url(case),
        {"step": "talk", "date": str(late), "override_reason": "申请人外出学习，经区委同意延后谈话"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["overridden"] == ["talk_within"]
    assert body["override_reason"] == "申请人外出学习，经区委同意延后谈话"
    audit = AuditLog.objects.filter(action="update", object_id=str(case.pk)).latest("id")
    assert audit.user_id == setup.above.pk
    assert "talk_within" in audit.message and "申请人外出学习" in audit.message


def test_an_override_by_the_branch_secretary_is_403(setup: Any) -> None:
    case = new_case(setup)
    late = add_months(APPLIED, 1) + timedelta(days=1)

    response = api_client(setup.secretary).post(
        steps_url(case), {"step": "talk", "date": str(late), "override_reason": "我们很忙"}, format="json"
    )

    assert response.status_code == 403
    assert not CaseStep.objects.exists()


def test_a_step_of_the_level_above_by_the_branch_secretary_is_403(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "committee_review")
    day = APPLIED + timedelta(days=450)

    response = api_client(setup.secretary).post(
        steps_url(case), {"step": "pre_review", "date": str(day)}, format="json"
    )

    assert response.status_code == 403
    assert case.steps.count() == 7


def test_the_same_step_confirmed_twice_is_400_the_second_time(setup: Any) -> None:
    case = new_case(setup)
    client = api_client(setup.secretary)

    first = client.post(steps_url(case), {"step": "talk", "date": "2023-03-20"}, format="json")
    second = client.post(steps_url(case), {"step": "talk", "date": "2023-03-20"}, format="json")

    assert first.status_code == 201
    assert second.status_code == 400 and "已确认" in second.json()["errors"]["step"][0]
    assert case.steps.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"step": "nope", "date": "2023-03-20"}, "step"),
        ({"step": "talk", "date": "yesterday"}, "date"),
        ({"step": "talk"}, "date"),
        ({"step": "talk", "date": "2023-03-20", "mentors": ["x"]}, "mentors"),
        ({"step": "talk", "date": "2023-03-20", "mentors": 5}, "mentors"),
        ({"step": "talk", "date": "2023-03-20", "yes_votes": -1}, "yes_votes"),
        ({"step": "talk", "date": "2023-03-20", "meeting": 99999}, "meeting"),
        ({"step": "talk", "date": "2999-01-01"}, "date"),
        ({"step": "talk", "date": "2023-02-01"}, "date"),
    ],
)
def test_junk_step_input_is_400_naming_the_field(setup: Any, body: dict[str, Any], field: str) -> None:
    case = new_case(setup)

    response = api_client(setup.secretary).post(steps_url(case), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][field]
    assert not CaseStep.objects.exists()


# --- close and people ----------------------------------------------------------------------------


def test_post_close_closes_the_case_and_the_member_leaves_the_roll(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    response = api_client(setup.secretary).post(
        f"{CASES}{case.pk}/close/", {"reason": "本人撤回申请", "date": "2023-05-01"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["closed_on"], body["closed_reason"]) == (
        "closed",
        "2023-05-01",
        "本人撤回申请",
    )
    case.member.refresh_from_db()
    assert not case.member.is_active


def test_post_close_without_a_reason_is_400_naming_reason(setup: Any) -> None:
    case = new_case(setup)

    response = api_client(setup.secretary).post(f"{CASES}{case.pk}/close/", {"reason": ""}, format="json")

    assert response.status_code == 400 and response.json()["errors"]["reason"]


def test_post_close_dated_before_the_last_step_is_400_naming_date(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "talk")

    response = api_client(setup.secretary).post(
        f"{CASES}{case.pk}/close/", {"reason": "撤回", "date": "2023-03-02"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["date"]
    case.refresh_from_db()
    assert case.stage == "talked"


def test_post_people_changes_the_mentors(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    response = api_client(setup.secretary).post(
        f"{CASES}{case.pk}/people/", {"mentors": [setup.voters[3].pk, setup.voters[4].pk]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert {p["id"] for p in response.json()["mentors"]} == {setup.voters[3].pk, setup.voters[4].pk}


def test_post_people_with_a_probationary_mentor_is_400_naming_mentors(setup: Any) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    response = api_client(setup.secretary).post(
        f"{CASES}{case.pk}/people/", {"mentors": [setup.probationary.pk]}, format="json"
    )

    assert response.status_code == 400
    assert "正式党员" in response.json()["errors"]["mentors"][0]


def test_the_schema_documents_the_development_endpoints(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path in (
        CASES,
        f"{CASES}{{id}}/",
        f"{CASES}{{id}}/steps/",
        f"{CASES}{{id}}/close/",
        f"{CASES}{{id}}/people/",
    ):
        assert path in schema["paths"], path
    assert schema["paths"][f"{CASES}{{id}}/steps/"]["post"]["tags"] == ["发展党员"]


# --- permission classes --------------------------------------------------------------------------


def make_case(org: Any, stage: str = "applied") -> DevelopmentCase:
    """A case of ``org`` registered a year ago (by the system), taken to ``stage``."""
    applied = timezone.localdate() - timedelta(days=365)
    case = case_create(
        actor=None,
        data={
            "organization": org,
            "name": "申请人",
            "id_number": valid_id_number(date(2000, 1, 1)),
            "applied_on": applied,
        },
    )
    if stage in ("talked", "activist"):
        step_confirm(actor=None, case=case, data={"step": "talk", "date": applied + timedelta(days=10)})
    if stage == "activist":
        mentor = make_member(org, "联系人")
        step_confirm(
            actor=None,
            case=case,
            data={
                "step": "activist",
                "date": applied + timedelta(days=20),
                "mentors": [mentor.pk],
                "recommendation": "members",
            },
        )
    case.refresh_from_db()
    return case


class TestCaseListApi(ScopedEndpointTests):
    url_name = "api:development-case-list"
    kind = "list"
    api = True
    role = "branch_admin"

    def make_object(self, org: Any) -> Any:
        return make_case(org)

    def url(self, obj: Any) -> str:
        return CASES

    def listed(self, response: Any, obj: Any) -> bool:
        return obj.pk in [r["id"] for r in response.json()["results"]]


class TestCaseDetailApi(ScopedEndpointTests):
    url_name = "api:development-case-detail"
    api = True

    def make_object(self, org: Any) -> Any:
        return make_case(org)

    def url(self, obj: Any) -> str:
        return f"{CASES}{obj.pk}/"


class JsonAction(PostEndpointTests):
    api = True
    role = "branch_admin"

    def _post(self, client: Any, url: str) -> Any:
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")


class TestCaseCreateApi(JsonAction):
    url_name = "api:development-case-list"

    def make_object(self, org: Any) -> Any:
        return org

    def action_url(self, obj: Any) -> str:
        return CASES

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {
            "organization": obj.pk,
            "name": "申请人",
            "id_number": valid_id_number(),
            "applied_on": "2025-03-01",
        }

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        assert self._post(client, self.url(obj)).status_code == 201

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Any) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_b))
        response = self._post(client, self.url(obj))
        assert response.status_code == 400 and response.json()["errors"]["organization"]
        assert not DevelopmentCase.objects.exists()


class TestCaseStepsApi(JsonAction):
    url_name = "api:development-case-steps"

    def make_object(self, org: Any) -> Any:
        return make_case(org)

    def action_url(self, obj: Any) -> str:
        return steps_url(obj)

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"step": "talk", "date": str(obj.applied_on + timedelta(days=10))}

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        response = self._post(client, self.url(obj))
        assert response.status_code == 201, response.content
        assert response.json()["stage"] == "talked"


class TestCaseCloseApi(JsonAction):
    url_name = "api:development-case-close"

    def make_object(self, org: Any) -> Any:
        return make_case(org)

    def action_url(self, obj: Any) -> str:
        return f"{CASES}{obj.pk}/close/"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"reason": "本人撤回申请"}


class TestCasePeopleApi(JsonAction):
    url_name = "api:development-case-people"

    def make_object(self, org: Any) -> Any:
        case = make_case(org, "activist")
        self._mentor = make_member(org, "新联系人")
        return case

    def action_url(self, obj: Any) -> str:
        return f"{CASES}{obj.pk}/people/"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"mentors": [self._mentor.pk]}
