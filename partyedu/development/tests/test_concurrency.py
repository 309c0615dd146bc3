"""Two secretaries confirming the same step of a case at the same moment produce one step.

``step_confirm`` locks the case's row first, so the second confirmation waits, then finds the step
done and is refused by the order rule; where no row lock is taken, the (case, seq) constraint
refuses the second insert with the same Chinese message. The threaded tests run real concurrent
transactions and need PostgreSQL (SQLite serialises writers by locking the whole database, so
there is no race to test there): they run in the PostgreSQL stage of CI, which fails when
PostgreSQL is missing (``.ci/ensure-postgres``); the SQLite stage skips them, as every other
concurrency test. On every database the sequential double confirmation gives one step and a
Chinese refusal (and a 400 through the API)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.development.choices import Stage
from partyedu.development.models import CaseStep
from partyedu.development.services import RuleError, step_confirm
from partyedu.members.models import Member
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

from .conftest import Setup, confirm, new_case, walk_to


def _attempt(actor: Any, case: Any, data: dict[str, Any]) -> Any:
    try:
        return step_confirm(actor=actor, case=case, data=data)
    except ValidationError as exc:
        return exc


# --- every database: one after the other --------------------------------------------------------


@pytest.mark.django_db
def test_the_same_step_confirmed_twice_in_a_row_gives_one_step_and_a_chinese_refusal(setup: Setup) -> None:
    case = new_case(setup)
    confirm(setup, case, "talk", date(2023, 3, 20))

    with pytest.raises(RuleError) as info:
        confirm(setup, case, "talk", date(2023, 3, 20))

    assert info.value.rules == ["order"]
    assert "“党组织派人谈话”已确认" in info.value.message_dict["step"][0]
    assert case.steps.count() == 1


@pytest.mark.django_db
def test_the_same_step_posted_twice_through_the_api_is_one_step_and_a_400(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "talk")
    other = make_user(role="branch_admin", org=setup.branch)
    body = {
        "step": "activist",
        "date": "2023-04-10",
        "mentors": [setup.voters[0].pk],
        "recommendation": "members",
    }

    first = api_client(setup.secretary).post(
        f"/api/v1/development/cases/{case.pk}/steps/", body, format="json"
    )
    second = api_client(other).post(f"/api/v1/development/cases/{case.pk}/steps/", body, format="json")

    assert first.status_code == 201
    assert second.status_code == 400
    assert second.json()["errors"]["rule"] == ["order"]
    assert case.steps.filter(step="activist").count() == 1


# --- PostgreSQL: at the same moment --------------------------------------------------------------


@pytest.fixture
def _postgres_only(transactional_db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgres_only")
def test_two_secretaries_confirming_the_talk_at_once_produce_one_step(setup: Setup) -> None:
    # given: an application and two secretaries of its branch
    case = new_case(setup)
    other = make_user(role="branch_admin", org=setup.branch)
    data = {"step": "talk", "date": date(2023, 3, 20)}

    # when: both confirm the talk at the same moment
    results = run_at_once(
        lambda: _attempt(setup.secretary, case, data),
        lambda: _attempt(other, case, data),
    )

    # then: one step was written, the other confirmation was refused in Chinese
    steps = [r for r in results if isinstance(r, CaseStep)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(steps) == 1 and len(refusals) == 1
    assert "已确认" in refusals[0].message_dict["step"][0]
    assert CaseStep.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.stage == Stage.TALKED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgres_only")
def test_two_secretaries_making_an_activist_at_once_produce_one_member_record(setup: Setup) -> None:
    # given: a case whose talk is done
    case = walk_to(setup, new_case(setup), "talk")
    other = make_user(role="branch_admin", org=setup.branch)
    data = {
        "step": "activist",
        "date": date(2023, 4, 10),
        "mentors": [setup.voters[0].pk],
        "recommendation": "members",
    }

    # when: both make the applicant an activist at the same moment
    results = run_at_once(
        lambda: _attempt(setup.secretary, case, data),
        lambda: _attempt(other, case, data),
    )

    # then: one step, one member record on the roll for the applicant
    assert sum(isinstance(r, CaseStep) for r in results) == 1
    assert CaseStep.objects.filter(case=case, step="activist").count() == 1
    assert Member.objects.filter(id_number_hash=case.id_number_hash).count() == 1
