"""The demo's annual assessment: a scheme of district_admin's district over its children, scored
from the demo's records with every point explained, not published."""

from __future__ import annotations

from datetime import date

import pytest

from partyedu.demo.supervision_assessment import seed_assessment
from partyedu.demo.testing import on_standard_demo
from partyedu.supervision.models.assessment import AssessmentResult, AssessmentScheme, SchemeStatus

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(
        django_db_blocker, lambda: seed_assessment(seed=7, today=TODAY, say=lambda message: None)
    ) as (_, lines):
        yield lines


@pytest.fixture
def demo(seeded_demo, db):
    return list(seeded_demo)


def test_the_demo_scores_a_scheme_of_the_district_admins_district(demo):
    scheme = AssessmentScheme.objects.get()
    assert scheme.status == SchemeStatus.SCORED
    assert scheme.organization.role_assignments.filter(user__username="district_admin").exists()
    targets = scheme.assessed_organizations().count()
    assert targets > 0
    assert AssessmentResult.objects.filter(scheme=scheme).count() == targets * scheme.indicators.count()
    assert demo[0].startswith("年度考评方案 1 个")


def test_the_demos_hours_results_come_from_the_records(demo):
    hours = AssessmentResult.objects.filter(indicator__metric="hours_completion")
    assert hours.filter(has_data=True).exists()
    assert all("→" in r.explanation for r in hours)


def test_seeding_the_assessment_twice_keeps_one_scheme(demo):
    seed_assessment(seed=7, today=TODAY, say=lambda message: None)
    scheme = AssessmentScheme.objects.get()
    assert AssessmentResult.objects.filter(scheme=scheme).count() == (
        scheme.assessed_organizations().count() * scheme.indicators.count()
    )
