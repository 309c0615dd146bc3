"""The dashboard pages and API: permissions, contract, scope, query count, export, 大屏."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import make_member, make_org, make_user

pytestmark = pytest.mark.django_db


class TestDashboardPage(ScopedEndpointTests):
    url_name = "supervision:dashboard"
    role = "org_admin"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/supervision/dashboard/?organization={obj.pk}"


class TestDashboardRowsPage(ScopedEndpointTests):
    url_name = "supervision:dashboard_rows"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/supervision/dashboard/rows/?organization={obj.pk}&year=2026"


class TestDashboardExport(ScopedEndpointTests):
    url_name = "supervision:dashboard_export"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/supervision/dashboard/export/?organization={obj.pk}&year=2026"


class TestScreenPage(ScopedEndpointTests):
    url_name = "supervision:screen"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/supervision/screen/?organization={obj.pk}"


class TestDashboardApi(ScopedEndpointTests):
    url_name = "api:organization-dashboard"
    api = True

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/api/v1/organizations/{obj.pk}/dashboard/?year=2026"


def test_api_returns_the_contract(client, tree):
    make_member(tree.branch_a, "甲")
    client.force_login(make_user(role="org_admin", org=tree.root))
    data = client.get(f"/api/v1/organizations/{tree.root.pk}/dashboard/?year=2026&month=3").json()
    assert (data["organization"], data["year"], data["month"]) == (tree.root.pk, 2026, 3)
    for key in (
        "members",
        "hours_completion_rate",
        "theme_day_months",
        "activities",
        "attendance_person_times",
        "lectures",
    ):
        assert key in data["indicators"]
    assert {c["organization"] for c in data["children"]} == {tree.district_a.pk, tree.district_b.pk}
    assert data["indicators"]["members"] == 1


def test_api_lists_no_child_outside_scope(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    data = client.get(f"/api/v1/organizations/{tree.district_a.pk}/dashboard/").json()
    assert [c["organization"] for c in data["children"]] == [tree.branch_a.pk]


def test_api_refuses_an_organisation_outside_scope_with_404(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(f"/api/v1/organizations/{tree.root.pk}/dashboard/").status_code == 404


def test_api_rejects_a_bad_month_naming_the_field(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(f"/api/v1/organizations/{tree.root.pk}/dashboard/?month=13")
    assert response.status_code == 400
    assert "month" in response.json()["errors"]


def test_page_shows_children_with_drill_down_links(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(f"/supervision/dashboard/?organization={tree.root.pk}&year=2026").content.decode()
    assert f"?organization={tree.district_a.pk}&amp;year=2026" in html
    assert 'id="dashboard-data"' in html


def test_branch_secretary_does_not_see_its_branch_among_siblings(client, tree):
    make_org(tree.district_a, "甲二支部")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get("/supervision/dashboard/").content.decode()
    assert "甲一支部" in html and "甲二支部" not in html


def test_page_query_count_does_not_grow_with_children(client, tree, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user(role="org_admin", org=tree.root)
    client.force_login(user)
    url = f"/supervision/dashboard/?organization={tree.root.pk}&year=2026"
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for n in range(6):
        make_org(tree.root, f"新区{n}", "committee", "organ")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url)
    assert len(first.captured_queries) <= 40


def test_rows_page_lists_the_activities_with_person_times(client, tree):
    member = make_member(tree.branch_a, "甲")
    activity = make_activity(tree.branch_a, topic="三月主题党日", start=local(2026, 3, 5, 9))
    attend(activity, member, "present")
    make_activity(tree.branch_a, topic="四月主题党日", start=local(2026, 4, 5, 9))
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(
        f"/supervision/dashboard/rows/?organization={tree.district_a.pk}&year=2026&month=3"
    ).content.decode()
    assert "三月主题党日" in html and "四月主题党日" not in html


def test_export_writes_the_organisation_and_each_child(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(f"/supervision/dashboard/export/?organization={tree.root.pk}&year=2026")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert names == [f"{tree.root.name}（合计）", tree.district_a.name, tree.district_b.name]


def test_screen_shows_no_member_name(client, tree):
    member = make_member(tree.branch_a, "独特姓名")
    activity = make_activity(tree.branch_a, start=local(2026, 3, 5, 9))
    attend(activity, member, "present")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(f"/supervision/screen/?organization={tree.root.pk}&year=2026").content.decode()
    assert response_ok(html) and "独特姓名" not in html


def response_ok(html: str) -> bool:
    return 'data-testid="screen"' in html


def test_unknown_organisation_is_404(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(f"/supervision/dashboard/?organization={tree.district_b.pk}").status_code == 404
    assert Organization.objects.filter(pk=tree.district_b.pk).exists()


class TestHomeFiguresPanel(ScopedEndpointTests):
    """The panel shows the figures of the user's own top organisation only (a sibling district's
    admin sees their own district, never this one)."""

    url_name = "supervision:home_figures"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return org.parent  # the district where the test's user holds the role

    def marker(self, obj: Any) -> str:
        return obj.display_name

    def url(self, obj: Any) -> str:
        return "/supervision/dashboard/home/"


def test_an_org_admins_home_page_loads_the_key_figures_panel(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get("/").content.decode()
    assert 'hx-get="/supervision/dashboard/home/"' in html
    assert "js/supervision-home" in html


def test_a_members_home_page_has_no_key_figures_panel(client, tree):
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert "/supervision/dashboard/home/" not in client.get("/").content.decode()


def test_the_key_figures_panel_shows_the_year_and_links_the_dashboard(client, tree):
    make_member(tree.branch_a, "甲")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get("/supervision/dashboard/home/").content.decode()
    assert 'data-testid="home-trend"' in html
    assert f"/supervision/dashboard/?organization={tree.district_a.pk}" in html
