"""Scoring and manual scores at the same moment never double a row (PostgreSQL only: SQLite
serialises writers by locking the whole database, so there is no race to test)."""

from __future__ import annotations

import pytest
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.supervision.models.assessment import AssessmentManualScore, AssessmentResult
from partyedu.supervision.services.assessment import (
    IndicatorData,
    assessment_manual_score_set,
    assessment_scheme_create,
    assessment_score,
)
from partyedu.testsupport.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def _scheme(tree):
    return assessment_scheme_create(
        actor=None,
        organization=tree.root,
        year=2025,
        title="并发考评",
        indicators=[
            IndicatorData(name="学时完成率", kind="derived", metric="hours_completion", weight=50),
            IndicatorData(name="特色工作", kind="manual", weight=50),
        ],
    )


def test_two_scorings_at_once_store_each_result_once(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    scheme = _scheme(tree)
    first = make_user("a1", role="org_admin", org=tree.root)
    second = make_user("a2", role="org_admin", org=tree.root)
    run_at_once(
        lambda: assessment_score(actor=first, scheme=scheme),
        lambda: assessment_score(actor=second, scheme=scheme),
    )
    assert AssessmentResult.objects.filter(scheme=scheme).count() == 4


def test_two_manual_scores_at_once_keep_one_row(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    scheme = _scheme(tree)
    indicator = scheme.indicators.get(kind="manual")
    first = make_user("a1", role="org_admin", org=tree.root)
    second = make_user("a2", role="org_admin", org=tree.root)
    run_at_once(
        lambda: assessment_manual_score_set(
            actor=first, indicator=indicator, organization=tree.district_a, points=30, reason="一"
        ),
        lambda: assessment_manual_score_set(
            actor=second, indicator=indicator, organization=tree.district_a, points=40, reason="二"
        ),
    )
    assert AssessmentManualScore.objects.filter(indicator=indicator).count() == 1
