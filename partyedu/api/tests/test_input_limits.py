"""Input limits of the API: numbers in query strings and bodies, JSON nesting depth. Each answers
400 in the usual error shape (naming the field where there is one), never 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from partyedu.core.api.parsers import TOO_DEEP_MESSAGE
from partyedu.core.json_depth import MAX_JSON_DEPTH
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

from .conftest import Populated

pytestmark = pytest.mark.django_db

TOO_BIG = "99999999999999999999"  # more than a signed 64-bit integer holds
PAGINATION = {"page", "page_size"}


def _document() -> dict[str, Any]:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _numeric_query_params() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, parameter, schema) of every integer or number query parameter of every GET."""
    found = []
    for path, item in _document()["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") in ("integer", "number"):
                found.append((path, parameter["name"], parameter["schema"]))
    return found


NUMERIC_QUERY_PARAMS = _numeric_query_params()


def _bad_values(schema: dict[str, Any]) -> list[str]:
    values = ["abc", "0.5", "1e30", TOO_BIG, "-1", "NaN"]
    if "minimum" in schema:
        values.append(str(schema["minimum"] - 1))
    if "maximum" in schema:
        values.append(str(schema["maximum"] + 1))
    return values


def test_every_numeric_query_parameter_documents_its_bounds():
    assert NUMERIC_QUERY_PARAMS
    for path, name, schema in NUMERIC_QUERY_PARAMS:
        assert schema["type"] == "integer", (path, name)
        assert "minimum" in schema, (path, name)
        assert name == "page" or "maximum" in schema, (path, name)


@pytest.mark.parametrize(
    ("path", "name", "schema"), NUMERIC_QUERY_PARAMS, ids=[f"{p} {n}" for p, n, _ in NUMERIC_QUERY_PARAMS]
)
def test_bad_numbers_in_query_strings_are_refused_not_500(populated: Populated, path, name, schema):
    # given an administrator over the whole tree, so each list reaches its filters
    client = api_client(populated.users["city_admin"])
    url = path.replace("{id}", str(populated.path_id("get", path))) if "{id}" in path else path
    for value in _bad_values(schema):
        # when
        response = client.get(url, {name: value})
        # then
        assert response.status_code < 500, (url, name, value)
        if name == "page":
            assert response.status_code == 404, (url, name, value)  # DRF: no such page
        elif name == "page_size":
            assert response.status_code == 200, (url, name, value)  # DRF: the default size instead
        else:
            assert response.status_code == 400, (url, name, value, response.content)
            body = response.json()
            assert body["detail"] == "提交的数据有误"
            assert body["errors"][name], (url, name, value)


@pytest.mark.parametrize("year", ["10000", "0", "-1", "0.5", "1999", "2101"])
def test_activity_year_out_of_range_is_400_naming_the_field(populated: Populated, year):
    response = api_client(populated.users["city_admin"]).get("/api/v1/activities/", {"year": year})
    assert response.status_code == 400
    assert response.json()["detail"] == "提交的数据有误"
    assert list(response.json()["errors"]) == ["year"]


def test_a_year_in_range_still_filters(populated: Populated):
    client = api_client(populated.users["city_admin"])
    assert client.get("/api/v1/activities/", {"year": 2026}).json()["count"] == 2
    assert client.get("/api/v1/activities/", {"year": 2025}).json()["count"] == 0
    assert client.get("/api/v1/lectures/", {"year": 2026}).json()["count"] == 1


def test_an_id_filter_beyond_the_database_range_is_400(populated: Populated):
    response = api_client(populated.users["city_admin"]).get("/api/v1/activities/", {"site": "1e30"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["site"]


# --- numbers in bodies ----------------------------------------------------------------------------


def _body_cases(data: Populated) -> dict[str, tuple[str, str, dict[str, Any], str]]:
    ids, big = data.ids, int(TOO_BIG)
    activity = {
        "organization": data.tree.branch_a.pk,
        "activity_type": "theme_day",
        "topic": "学习",
        "start": "2026-03-01T10:00:00+08:00",
        "end": "2026-03-01T12:00:00+08:00",
    }
    return {
        "roster": ("post", "/api/v1/activities/", {**activity, "roster": [big]}, "roster"),
        "invitees": ("post", "/api/v1/activities/", {**activity, "invitees": [big]}, "invitees"),
        "attendance": (
            "post",
            f"/api/v1/activities/{ids['activities']}/attendance/",
            {"records": [{"member": big, "status": "present"}]},
            "records",
        ),
        "panel": ("post", f"/api/v1/rounds/{ids['rounds']}/reviewers/", {"users": [big]}, "users"),
        "advance_count": (
            "post",
            f"/api/v1/competitions/{ids['competitions']}/rounds/",
            {"name": "复评", "advance_count": big},
            "advance_count",
        ),
        "entry": (
            "post",
            f"/api/v1/competitions/{ids['competitions']}/entries/",
            {"title": "党课", "lecturer": big, "organization": data.tree.branch_a.pk},
            "lecturer",
        ),
        "competition": (
            "post",
            "/api/v1/competitions/",
            {"title": "评选", "organization": big, "criteria": [{"name": "内容", "weight": 100}]},
            "organization",
        ),
    }


@pytest.mark.parametrize(
    "case", ["roster", "invitees", "attendance", "panel", "advance_count", "entry", "competition"]
)
def test_an_id_beyond_the_database_range_in_a_body_is_400_on_that_field(populated: Populated, case):
    method, url, body, field = _body_cases(populated)[case]
    response = getattr(api_client(populated.users["city_admin"]), method)(url, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field]


def test_errors_of_list_items_name_the_item_in_plain_text(populated: Populated):
    _method, url, body, _field = _body_cases(populated)["attendance"]
    response = api_client(populated.users["city_admin"]).post(url, body, format="json")
    [message] = response.json()["errors"]["records"]
    assert message.startswith("0.member: ")
    assert "ErrorDetail" not in message


# --- JSON depth -----------------------------------------------------------------------------------

DEEP = "[" * 2000 + "]" * 2000


def test_a_deeply_nested_body_is_400_before_sign_in():
    response = api_client().post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP_MESSAGE, "errors": {}}


def test_a_deeply_nested_body_is_400_for_a_signed_in_caller(populated: Populated):
    client = api_client(populated.users["city_admin"])
    for url in ("/api/v1/activities/", f"/api/v1/activities/{populated.ids['activities']}/attendance/"):
        response = client.post(url, DEEP, content_type="application/json")
        assert response.status_code == 400, url
        assert response.json()["detail"] == TOO_DEEP_MESSAGE


def test_nesting_up_to_the_limit_is_parsed_as_usual(populated: Populated):
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = api_client(populated.users["city_admin"]).post(
        "/api/v1/activities/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] != TOO_DEEP_MESSAGE  # refused for its content, not its depth


def test_a_deep_body_sent_unsigned_to_a_list_is_401_not_500():
    response = api_client().post("/api/v1/activities/", DEEP, content_type="application/json")
    assert response.status_code == 401


# --- error shape ----------------------------------------------------------------------------------


def test_reviewers_list_refusal_is_in_the_error_shape(populated: Populated):
    user = make_user(role="member", org=populated.tree.branch_a)
    response = api_client(user).get("/api/v1/reviewers/")
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}


def test_a_json_body_beyond_the_request_size_limit_is_413(populated: Populated, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"topic": "' + "x" * 2048 + '"}'

    response = api_client(populated.users["city_admin"]).post(
        "/api/v1/activities/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["detail"] == "请求数据过大"
