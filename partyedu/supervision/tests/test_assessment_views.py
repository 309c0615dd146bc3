"""The annual assessment's pages: a permission test per URL, and who sees which results (the
assessing level all; once published, an assessed organisation its own row only)."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse

from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.supervision.models.assessment import AssessmentScheme, SchemeStatus
from partyedu.supervision.services.assessment import (
    IndicatorData,
    assessment_manual_score_set,
    assessment_publish,
    assessment_scheme_create,
    assessment_score,
)
from partyedu.testsupport.factories import make_user

YEAR = 2025
_titles = count(1)

pytestmark = pytest.mark.django_db


def scheme_of(org, *, scored: bool = False, published: bool = False) -> AssessmentScheme:
    scheme = assessment_scheme_create(
        actor=None,
        organization=org,
        year=YEAR,
        title=f"考评方案{next(_titles)}号",
        indicators=[
            IndicatorData(name="学时完成率", kind="derived", metric="hours_completion", weight=60),
            IndicatorData(name="特色工作", kind="manual", weight=40),
        ],
    )
    if scored or published:
        assessment_score(actor=None, scheme=scheme)
    if published:
        assessment_publish(actor=None, scheme=scheme)
    scheme.refresh_from_db()
    return scheme


class _SchemePage(ScopedEndpointTests):
    def make_object(self, org):
        return scheme_of(org)


class TestAssessmentListScope(_SchemePage):
    url_name = "supervision:assessment_list"
    kind = "list"

    def url(self, obj):
        return reverse("supervision:assessment_list")


class TestAssessmentCreateScope(ScopedEndpointTests):
    url_name = "supervision:assessment_create"
    kind = "create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("supervision:assessment_create")


class TestAssessmentDetailScope(_SchemePage):
    url_name = "supervision:assessment_detail"

    def url(self, obj):
        return reverse("supervision:assessment_detail", args=[obj.pk])


class TestAssessmentEditScope(_SchemePage):
    url_name = "supervision:assessment_edit"

    def url(self, obj):
        return reverse("supervision:assessment_edit", args=[obj.pk])


class TestAssessmentManualScope(_SchemePage):
    url_name = "supervision:assessment_manual"

    def url(self, obj):
        return reverse("supervision:assessment_manual", args=[obj.pk])


class TestAssessmentExportScope(_SchemePage):
    url_name = "supervision:assessment_export"

    def url(self, obj):
        return reverse("supervision:assessment_export", args=[obj.pk])


class TestAssessmentScoreScope(PostEndpointTests, _SchemePage):
    url_name = "supervision:assessment_score"

    def action_url(self, obj):
        return reverse("supervision:assessment_score", args=[obj.pk])


class TestAssessmentPublishScope(PostEndpointTests, _SchemePage):
    url_name = "supervision:assessment_publish"

    def make_object(self, org):
        return scheme_of(org, scored=True)

    def action_url(self, obj):
        return reverse("supervision:assessment_publish", args=[obj.pk])


# --- who sees what ----------------------------------------------------------------------------------


def detail(client, user, scheme):
    client.force_login(user)
    return client.get(reverse("supervision:assessment_detail", args=[scheme.pk]))


def test_the_assessing_level_sees_every_childs_result(client, tree):
    scheme = scheme_of(tree.root, scored=True)
    page = detail(client, make_user(role="org_admin", org=tree.root), scheme).content.decode()
    assert "甲区委" in page and "乙区委" in page


def test_an_assessed_child_sees_nothing_before_publishing(client, tree):
    scheme = scheme_of(tree.root, scored=True)
    assert detail(client, make_user(role="org_admin", org=tree.district_a), scheme).status_code == 404


def test_an_assessed_child_sees_only_its_own_published_result(client, tree):
    scheme = scheme_of(tree.root, published=True)
    response = detail(client, make_user(role="org_admin", org=tree.district_a), scheme)
    page = response.content.decode()
    assert response.status_code == 200
    assert "甲区委" in page
    assert "乙区委" not in page
    assert 'data-testid="assessment-actions"' not in page


def test_a_childs_secretary_finds_the_published_result_on_the_list(client, tree):
    scheme = scheme_of(tree.root, published=True)
    client.force_login(make_user(role="branch_admin", org=tree.district_a))
    page = client.get(reverse("supervision:assessment_list")).content.decode()
    assert scheme.title in page
    assert 'data-testid="assessment-mine"' in page


def test_the_explanations_are_shown_on_the_result_page(client, tree):
    scheme = scheme_of(tree.root, scored=True)
    page = detail(client, make_user(role="org_admin", org=tree.root), scheme).content.decode()
    assert "学时完成率 不适用（无学时要求的党员，按满分计）→ 60/60" in page
    assert "特色工作 尚未评分 → 0/40" in page


def test_the_list_page_does_not_grow_with_schemes(client, tree, django_assert_max_num_queries):
    for _ in range(5):
        scheme_of(tree.root)
    client.force_login(make_user(role="org_admin", org=tree.root))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("supervision:assessment_list"))
    assert response.status_code == 200


def test_the_result_page_does_not_grow_with_children(client, tree, django_assert_max_num_queries):
    from partyedu.testsupport.factories import make_org

    for n in range(6):
        make_org(tree.root, f"新区委{n}", "committee", "organ")
    scheme = scheme_of(tree.root, scored=True)
    client.force_login(make_user(role="org_admin", org=tree.root))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("supervision:assessment_detail", args=[scheme.pk]))
    assert response.status_code == 200


# --- the editor and the forms -------------------------------------------------------------------------


def _post_scheme(weights: list[str], org) -> dict[str, str]:
    data = {
        "organization": str(org.pk),
        "year": str(YEAR),
        "title": "页面方案",
        "target_level": "",
        "description": "",
        "ind-TOTAL_FORMS": str(len(weights)),
        "ind-INITIAL_FORMS": "0",
        "ind-MIN_NUM_FORMS": "0",
        "ind-MAX_NUM_FORMS": "1000",
    }
    for i, weight in enumerate(weights):
        data.update(
            {
                f"ind-{i}-name": f"指标{i}",
                f"ind-{i}-kind": "manual",
                f"ind-{i}-metric": "",
                f"ind-{i}-weight": weight,
                f"ind-{i}-rule": "linear",
                f"ind-{i}-threshold": "",
                f"ind-{i}-description": "",
            }
        )
    return data


def test_the_editor_refuses_weights_not_summing_to_100(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(reverse("supervision:assessment_create"), _post_scheme(["50", "40"], tree.root))
    assert response.status_code == 200
    assert "各项指标分值之和须为100分，当前合计90分" in response.content.decode()
    assert not AssessmentScheme.objects.exists()


def test_the_editor_saves_a_scheme_summing_to_100(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(reverse("supervision:assessment_create"), _post_scheme(["50", "50"], tree.root))
    scheme = AssessmentScheme.objects.get()
    assert response.status_code == 302
    assert scheme.indicators.count() == 2


def test_the_new_scheme_form_offers_the_default_indicators_summing_to_100(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    page = client.get(reverse("supervision:assessment_create")).content.decode()
    assert 'data-testid="assessment-weight-total" data-weight-total>100<' in page


def test_the_manual_form_refuses_a_score_without_a_reason(client, tree):
    scheme = scheme_of(tree.root)
    indicator = scheme.indicators.get(kind="manual")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(
        reverse("supervision:assessment_manual", args=[scheme.pk]),
        {"organization": tree.district_a.pk, "indicator": indicator.pk, "points": "10", "reason": ""},
    )
    assert response.status_code == 200
    assert not indicator.manual_scores.exists()


def test_the_manual_form_saves_a_score(client, tree):
    scheme = scheme_of(tree.root)
    indicator = scheme.indicators.get(kind="manual")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(
        reverse("supervision:assessment_manual", args=[scheme.pk]),
        {"organization": tree.district_a.pk, "indicator": indicator.pk, "points": "35", "reason": "亮点突出"},
    )
    assert response.status_code == 302
    assert indicator.manual_scores.get().points == Decimal("35.0")


def test_scoring_from_the_page_stores_results(client, tree):
    scheme = scheme_of(tree.root)
    client.force_login(make_user(role="org_admin", org=tree.root))
    client.post(reverse("supervision:assessment_score", args=[scheme.pk]))
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.SCORED
    assert scheme.results.count() == 4


def test_publishing_from_the_page(client, tree):
    scheme = scheme_of(tree.root, scored=True)
    client.force_login(make_user(role="org_admin", org=tree.root))
    client.post(reverse("supervision:assessment_publish", args=[scheme.pk]))
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.PUBLISHED


def test_the_export_is_an_audited_workbook(client, tree):
    scheme = scheme_of(tree.root, scored=True)
    assessment_manual_score_set(
        actor=None,
        indicator=scheme.indicators.get(kind="manual"),
        organization=tree.district_a,
        points=30,
        reason="好",
    )
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("supervision:assessment_export", args=[scheme.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, object_id=str(scheme.pk)).exists()


def test_a_secretary_without_the_export_right_cannot_export(client, tree):
    scheme = scheme_of(tree.root, published=True)
    client.force_login(make_user(role="branch_admin", org=tree.district_a))
    assert client.get(reverse("supervision:assessment_export", args=[scheme.pk])).status_code == 404
