import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_schema_is_openapi_3_and_lists_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/ping/",
        "/api/v1/organizations/",
        "/api/v1/organizations/{id}/",
        "/api/v1/members/",
        "/api/v1/members/{id}/",
    ):
        assert path in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_schema_tags_are_chinese(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    tags = {tag for item in schema["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert {"党组织", "党员", "认证", "系统"} <= tags


def test_schema_generates_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, "drf-spectacular reported warnings or errors"


def _asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_use_only_local_assets(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assets = _asset_urls(html)
    assert assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
    # and the assets are really shipped with the application
    for asset in assets:
        if asset.startswith(settings.STATIC_URL):
            assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html


@pytest.mark.django_db
def test_root_lists_the_endpoints(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["organizations"].endswith("/api/v1/organizations/")
    assert body["members"].endswith("/api/v1/members/")
    assert body["auth-token"].endswith("/api/v1/auth/token/")
    assert body["ping"].endswith("/api/v1/ping/")
    assert body["schema"].endswith("/api/schema/")
    assert body["docs"].endswith("/api/docs/")


@pytest.mark.django_db
def test_root_lists_the_study_endpoints(client):
    body = client.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert body["activities"].endswith("/api/v1/activities/")
    assert body["checkin"].endswith("/api/v1/checkin/")
    assert body["resources"].endswith("/api/v1/resources/")


@pytest.mark.django_db
def test_root_lists_the_lecture_endpoints(client):
    body = client.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert body["lecturers"].endswith("/api/v1/lecturers/")
    assert body["lectures"].endswith("/api/v1/lectures/")
    assert body["competitions"].endswith("/api/v1/competitions/")
    assert body["reviewers"].endswith("/api/v1/reviewers/")
    assert body["reviews"].endswith("/api/v1/reviews/")


def _generated() -> dict:
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _response_schema(operation: dict, code: str) -> dict:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_every_operation_documents_the_common_errors_in_the_error_shape():
    schema = _generated()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            takes_input = "requestBody" in operation or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            )
            codes = ["401", "403", "404", "429", *(["400"] if takes_input else [])]
            for code in codes:
                assert _response_schema(operation, code) == {"$ref": "#/components/schemas/Error"}, (
                    method,
                    path,
                    code,
                )


def test_competition_rounds_and_entries_are_documented_as_plain_arrays():
    paths = _generated()["paths"]
    for path, component in (
        ("/api/v1/competitions/{id}/rounds/", "Round"),
        ("/api/v1/competitions/{id}/entries/", "Entry"),
    ):
        operation = paths[path]["get"]
        assert _response_schema(operation, "200") == {
            "type": "array",
            "items": {"$ref": f"#/components/schemas/{component}"},
        }
        assert not {p["name"] for p in operation["parameters"]} & {"page", "page_size"}
    for action in ("advance", "assign", "reviewers"):
        operation = paths[f"/api/v1/rounds/{{id}}/{action}/"]["post"]
        assert not {p["name"] for p in operation["parameters"]} & {"page", "page_size"}


def test_the_panel_is_documented_as_it_is_answered():
    operation = _generated()["paths"]["/api/v1/rounds/{id}/reviewers/"]["post"]
    assert _response_schema(operation, "200")["items"] == {"$ref": "#/components/schemas/PanelMember"}


def test_fields_that_can_be_empty_are_documented_so():
    components = _generated()["components"]["schemas"]
    assert components["Resource"]["properties"]["column_name"]["nullable"] is True
    method = components["AttendanceRow"]["properties"]["method"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in method["oneOf"]
