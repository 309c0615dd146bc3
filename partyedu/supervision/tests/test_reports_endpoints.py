"""Permission tests of every monthly-report page and API endpoint, and the API contract."""

from __future__ import annotations

import pytest

from partyedu.core.testing import PostEndpointTests, PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.supervision.services.reports import report_generate, report_submit
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

pytestmark = pytest.mark.django_db

PERIOD = (2025, 3)


def _report(org):
    report, _ = report_generate(actor=None, organization=org, year=PERIOD[0], month=PERIOD[1])
    return report


class _Report(ScopedEndpointTests):
    def make_object(self, org):
        return _report(org)

    def marker(self, obj):
        return f"reports/{obj.pk}/"


class TestReportListPage(_Report):
    url_name = "supervision:report_list"
    kind = "list"

    def make_object(self, org):
        report = _report(org)
        return report_submit(actor=None, report=report)

    def url(self, obj):
        return "/supervision/reports/"


class TestReportDetailPage(_Report):
    url_name = "supervision:report_detail"

    def url(self, obj):
        return f"/supervision/reports/{obj.pk}/"


class TestReportSummaryPage(_Report):
    url_name = "supervision:report_summary"

    def url(self, obj):
        return f"/supervision/reports/summary/?organization={obj.organization_id}"


class TestReportTransition(PostRedirectEndpointTests, _Report):
    url_name = "supervision:report_transition"
    role = "branch_admin"

    def action_url(self, obj):
        return f"/supervision/reports/{obj.pk}/regenerate/"


class TestReportGenerate(PostRedirectEndpointTests, _Report):
    url_name = "supervision:report_generate"
    role = "branch_admin"

    def post_data(self, obj):
        return {"organization": obj.organization_id, "period": "2025-03"}

    def action_url(self, obj):
        return "/supervision/reports/generate/"


class _Api(_Report):
    api = True

    def listed(self, response, obj):
        return any(r["id"] == obj.pk for r in response.json()["results"])


class TestReportApiList(_Api):
    url_name = "api:report-list"
    kind = "list"

    def url(self, obj):
        return "/api/v1/reports/"


class TestReportApiDetail(_Api):
    url_name = "api:report-detail"

    def url(self, obj):
        return f"/api/v1/reports/{obj.pk}/"


class TestReportApiSubmit(PostEndpointTests, _Api):
    url_name = "api:report-submit"
    role = "branch_admin"

    def action_url(self, obj):
        return f"/api/v1/reports/{obj.pk}/submit/"


class _Submitted(_Api):
    def make_object(self, org):
        return report_submit(actor=None, report=_report(org))


class TestReportApiApprove(PostEndpointTests, _Submitted):
    url_name = "api:report-approve"

    def action_url(self, obj):
        # The district's org_admin (the mixin's role at the org) reviews: a strict ancestor.
        return f"/api/v1/reports/{obj.pk}/approve/"


class TestReportApiReturn(PostEndpointTests, _Submitted):
    url_name = "api:report-return"

    def post_data(self, obj):
        return {"reason": "数据不全"}

    def action_url(self, obj):
        return f"/api/v1/reports/{obj.pk}/return/"


def test_api_create_returns_the_contract_fields(tree):
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(
        "/api/v1/reports/", {"organization": tree.branch_a.pk, "period": "2025-03"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert {"id", "organization", "period", "status", "figures", "narrative"} <= set(body)
    assert body["period"] == "2025-03" and body["status"] == "draft"
    assert {"activities_total", "activities_by_type", "attendance_person_times", "hours_credited"} <= set(
        body["figures"]
    )


def test_api_create_twice_returns_the_same_report(tree):
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    data = {"organization": tree.branch_a.pk, "period": "2025-03"}
    first = client.post("/api/v1/reports/", data, format="json").json()
    second = client.post("/api/v1/reports/", data, format="json")
    assert second.status_code == 200 and second.json()["id"] == first["id"]


def test_api_bad_period_names_the_field(tree):
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(
        "/api/v1/reports/", {"organization": tree.branch_a.pk, "period": "2025-13"}, format="json"
    )
    assert response.status_code == 400
    assert "period" in response.json()["errors"]


def test_api_patch_sets_narrative(tree):
    report = _report(tree.branch_a)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    response = client.patch(f"/api/v1/reports/{report.pk}/", {"narrative": "本月按计划开展"}, format="json")
    assert response.status_code == 200 and response.json()["narrative"] == "本月按计划开展"


def test_api_patch_after_submission_is_refused(tree):
    report = report_submit(actor=None, report=_report(tree.branch_a))
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    response = client.patch(f"/api/v1/reports/{report.pk}/", {"narrative": "改"}, format="json")
    assert response.status_code == 400


def test_api_return_without_reason_is_refused(tree):
    report = report_submit(actor=None, report=_report(tree.branch_a))
    client = api_client(make_user(role="org_admin", org=tree.district_a))
    response = client.post(f"/api/v1/reports/{report.pk}/return/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_api_own_secretary_cannot_approve(tree):
    report = report_submit(actor=None, report=_report(tree.branch_a))
    client = api_client(make_user(role="org_admin", org=tree.branch_a))
    response = client.post(f"/api/v1/reports/{report.pk}/approve/", {}, format="json")
    assert response.status_code == 403


def test_api_list_filters_by_organization_and_period(tree):
    mine = _report(tree.branch_a)
    _report(tree.branch_b)
    client = api_client(make_user(role="org_admin", org=tree.root))
    response = client.get(f"/api/v1/reports/?organization={tree.district_a.pk}&period=2025-03")
    assert [r["id"] for r in response.json()["results"]] == [mine.pk]


def test_list_page_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    for month in range(1, 13):
        report_generate(actor=None, organization=tree.branch_a, year=2025, month=month)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    with django_assert_max_num_queries(25):
        response = client.get("/supervision/reports/?year=2025")
    assert response.status_code == 200


def test_list_offers_generation_only_for_ended_months(tree):
    from datetime import date

    from partyedu.supervision.selectors.reports import report_months

    user = make_user(role="branch_admin", org=tree.branch_a)
    rows = report_months(user=user, organization=tree.branch_a, year=2025, today=date(2025, 3, 31))
    assert [r["period"] for r in rows] == ["2025-02", "2025-01"]
    rows = report_months(user=user, organization=tree.branch_a, year=2025, today=date(2025, 4, 1))
    assert [r["period"] for r in rows] == ["2025-03", "2025-02", "2025-01"]
    # a report of the current month made through the API is still listed (to open it)
    report, _ = report_generate(actor=None, organization=tree.branch_a, year=2025, month=3)
    rows = report_months(user=user, organization=tree.branch_a, year=2025, today=date(2025, 3, 31))
    assert (rows[0]["period"], rows[0]["report"]) == ("2025-03", report)


def test_list_page_has_no_generate_button_for_the_current_month(client, tree):
    from django.utils import timezone

    today = timezone.localdate()
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(f"/supervision/reports/?year={today.year}").content.decode()
    assert f'report-month-{today.year:04d}-{today.month:02d}"' not in html
