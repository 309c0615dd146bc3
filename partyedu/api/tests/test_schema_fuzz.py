"""The schema fuzzing stage (``make test-fuzz``): schemathesis generates requests for every
operation of the OpenAPI document (as ``/api/schema/`` serves it) and sends them to the Django WSGI
application in process, as a city-level administrator and as a branch secretary, against a small
tree with data (see ``conftest.populate``). Path ids point at the seeded rows, so requests get
past the lookup to the serializers and services.

The run fails on any 5xx and on any answer the schema does not document: its status code, its
content type, its body or its headers. Examples are bounded and derandomized (fixed seeds), so a
run is repeatable and fits in a few minutes on two cores. Writes are fuzzed too: each operation
is one test, and the database rolls back after it to the rows seeded once for the module. No
operation takes a file upload, so none is excluded.

The document is generated when the module is imported (no database needed) rather than through
``schemathesis.pytest.from_fixture``, whose lazy loading does not run under pytest 9."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from partyedu.accounts.models import User
from partyedu.accounts.services import api_token_issue

from .conftest import Populated, populate

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

SEED = 2026
MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def issue_token(user: User) -> str:
    """The one place the stage makes API credentials: issued directly, not through the password
    exchange (administrators sign in there with a second factor)."""
    _token, key = api_token_issue(user=user, name="schema fuzzing")
    return key


def _openapi_document() -> dict[str, Any]:
    """The document ``/api/schema/`` serves, generated in process (no database needed)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(_openapi_document(), config=CONFIG)


@dataclass
class Caller:
    token: str
    data: Populated


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The tree with data and both callers' tokens, written once for the module and committed:
    each operation's test runs in a transaction that rolls back, so every operation still starts
    from the same rows (seeding per operation took most of the stage's time)."""
    with django_db_blocker.unblock():
        data = populate()
        tokens = {name: issue_token(data.users[name]) for name in ("city_admin", "branch_secretary")}
    return data, tokens


@pytest.fixture(params=["city_admin", "branch_secretary"])
def caller(request: pytest.FixtureRequest, seeded: Any, db: Any) -> Caller:
    data, tokens = seeded
    return Caller(token=tokens[request.param], data=data)


@pytest.fixture(scope="module")
def app() -> Any:
    # As Django's test client does: the request signals must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The seeded rows are the point: they are shared by the examples of one operation on purpose
    # (the database rolls back after each operation).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_as_its_schema_says(case: Any, caller: Caller, app: Any) -> None:
    if case.path_parameters and "id" in case.path_parameters:
        # Real rows of the seeded tree, so requests get past the lookup (404) to the serializers.
        case.path_parameters["id"] = str(caller.data.path_id(case.method, case.operation.path))
    case.call_and_validate(app=app, headers={"Authorization": f"Token {caller.token}"}, checks=CHECKS)
