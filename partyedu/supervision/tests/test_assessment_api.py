"""The annual assessment's read-only API: permission tests per endpoint, and the results an
assessed organisation may read (its own, once published)."""

from __future__ import annotations

from itertools import count

import pytest
from django.urls import reverse

from partyedu.core.testing import ScopedEndpointTests
from partyedu.supervision.models.assessment import AssessmentScheme
from partyedu.supervision.services.assessment import (
    IndicatorData,
    assessment_publish,
    assessment_scheme_create,
    assessment_score,
)
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

YEAR = 2025
_titles = count(1)

pytestmark = pytest.mark.django_db


def scheme_of(org, *, published: bool = False) -> AssessmentScheme:
    scheme = assessment_scheme_create(
        actor=None,
        organization=org,
        year=YEAR,
        title=f"接口考评{next(_titles)}号",
        indicators=[
            IndicatorData(name="书记讲党课", kind="derived", metric="lecture_duty", weight=50),
            IndicatorData(name="特色工作", kind="manual", weight=50),
        ],
    )
    assessment_score(actor=None, scheme=scheme)
    if published:
        assessment_publish(actor=None, scheme=scheme)
    scheme.refresh_from_db()
    return scheme


class _Endpoint(ScopedEndpointTests):
    api = True
    marker_attr = "title"

    def make_object(self, org):
        return scheme_of(org)


class TestAssessmentListEndpoint(_Endpoint):
    url_name = "api:assessment-list"
    kind = "list"

    def url(self, obj):
        return reverse("api:assessment-list")


class TestAssessmentDetailEndpoint(_Endpoint):
    url_name = "api:assessment-detail"

    def url(self, obj):
        return reverse("api:assessment-detail", args=[obj.pk])


class TestAssessmentResultsEndpoint(_Endpoint):
    url_name = "api:assessment-results"

    def url(self, obj):
        return reverse("api:assessment-results", args=[obj.pk])


def test_the_results_explain_every_point(tree):
    scheme = scheme_of(tree.root)
    data = (
        api_client(make_user(role="org_admin", org=tree.root))
        .get(reverse("api:assessment-results", args=[scheme.pk]))
        .json()
    )
    assert data["full"] is True
    assert {row["name"] for row in data["results"]} == {"甲区委", "乙区委"}
    assert all(cell["explanation"] for row in data["results"] for cell in row["indicators"])


def test_a_child_reads_only_its_own_published_results(tree):
    scheme = scheme_of(tree.root, published=True)
    data = (
        api_client(make_user(role="org_admin", org=tree.district_a))
        .get(reverse("api:assessment-results", args=[scheme.pk]))
        .json()
    )
    assert data["full"] is False
    assert [row["name"] for row in data["results"]] == ["甲区委"]


def test_a_child_cannot_read_unpublished_results(tree):
    scheme = scheme_of(tree.root)
    response = api_client(make_user(role="org_admin", org=tree.district_a)).get(
        reverse("api:assessment-results", args=[scheme.pk])
    )
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_scheme_lists_its_indicators(tree):
    scheme = scheme_of(tree.root)
    data = (
        api_client(make_user(role="org_admin", org=tree.root))
        .get(reverse("api:assessment-detail", args=[scheme.pk]))
        .json()
    )
    assert [i["name"] for i in data["indicators"]] == ["书记讲党课", "特色工作"]
