"""Guidance pages and API: the scope of every URL (no role 403, role at the organisation 200, role
at a sibling 404 or absent), the close and reopen flows in the browser, and pinned query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.supervision.models.guidance import RectificationStatus
from partyedu.supervision.services import guidance as services
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

from .guidance_factories import SCORES, a_lecture, a_team, an_inspection, an_inspector, an_item

pytestmark = pytest.mark.django_db


def linked(response: Any, url: str) -> bool:
    return url in response.content.decode()


# --- pages ----------------------------------------------------------------------------------------


class TestGuidanceIndex(ScopedEndpointTests):
    url_name = "supervision:guidance_index"
    kind = "list"

    def make_object(self, org):
        return a_team(org, org, make_user())

    def url(self, obj):
        return reverse("supervision:guidance_index")


class TestGuidanceCoverage(ScopedEndpointTests):
    url_name = "supervision:guidance_coverage"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("supervision:guidance_coverage") + f"?organization={obj.pk}"


class TestTeamCreate(ScopedEndpointTests):
    url_name = "supervision:guidance_team_create"
    kind = "create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("supervision:guidance_team_create")


class _TeamPage(ScopedEndpointTests):
    def make_object(self, org):
        return a_team(org, org, make_user())


class TestTeamDetail(_TeamPage):
    url_name = "supervision:guidance_team_detail"

    def url(self, obj):
        return reverse("supervision:guidance_team_detail", args=[obj.pk])


class TestTeamEdit(_TeamPage):
    url_name = "supervision:guidance_team_edit"

    def url(self, obj):
        return reverse("supervision:guidance_team_edit", args=[obj.pk])


class TestInspectionList(ScopedEndpointTests):
    url_name = "supervision:inspection_list"
    kind = "list"

    def make_object(self, org):
        return an_inspection(org)

    def url(self, obj):
        return reverse("supervision:inspection_list")

    def listed(self, response, obj):
        return linked(response, reverse("supervision:inspection_detail", args=[obj.pk]))


class TestInspectionCreate(ScopedEndpointTests):
    url_name = "supervision:inspection_create"
    kind = "create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("supervision:inspection_create")


class TestInspectionDetail(ScopedEndpointTests):
    url_name = "supervision:inspection_detail"

    def make_object(self, org):
        return an_inspection(org)

    def url(self, obj):
        return reverse("supervision:inspection_detail", args=[obj.pk])


class TestRectificationCreate(PostEndpointTests):
    url_name = "supervision:rectification_create"

    def make_object(self, org):
        return an_inspection(org, items=0)

    def action_url(self, obj):
        return reverse("supervision:rectification_create", args=[obj.pk])

    def post_data(self, obj):
        return {"description": "补齐台账", "due_on": (timezone.localdate() + timedelta(days=9)).isoformat()}


class TestRectificationList(ScopedEndpointTests):
    url_name = "supervision:rectification_list"
    kind = "list"

    def make_object(self, org):
        return an_item(org)

    def url(self, obj):
        return reverse("supervision:rectification_list")

    def listed(self, response, obj):
        return linked(response, reverse("supervision:rectification_detail", args=[obj.pk]))


class TestRectificationExport(ScopedEndpointTests):
    url_name = "supervision:rectification_export"
    kind = "list"

    def make_object(self, org):
        return an_item(org)

    def url(self, obj):
        return reverse("supervision:rectification_export") + "?status=all"

    def listed(self, response, obj):
        return obj.description in xlsx_text(response.content)


def xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)


def test_the_export_marks_an_open_item_past_its_due_date_as_overdue_and_is_audited(client, tree):
    admin = make_user(role="org_admin", org=tree.root)
    item = an_item(tree.branch_a)
    type(item).objects.filter(pk=item.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    client.force_login(admin)
    response = client.get(reverse("supervision:rectification_export") + "?status=overdue")
    assert "逾期未销号" in xlsx_text(response.content)
    assert AuditLog.objects.filter(action="export", message="导出整改事项1条").exists()


class _ItemPage(ScopedEndpointTests):
    def make_object(self, org):
        return an_item(org)


class TestRectificationDetail(_ItemPage):
    url_name = "supervision:rectification_detail"

    def url(self, obj):
        return reverse("supervision:rectification_detail", args=[obj.pk])


class TestRectificationClose(PostEndpointTests, _ItemPage):
    url_name = "supervision:rectification_close"

    def action_url(self, obj):
        return reverse("supervision:rectification_close", args=[obj.pk])

    def post_data(self, obj):
        return {"note": "已整改到位"}


class TestRectificationReopen(PostEndpointTests):
    url_name = "supervision:rectification_reopen"

    def make_object(self, org):
        item = an_item(org)
        return services.rectification_item_close(actor=None, item=item, note="已整改")

    def action_url(self, obj):
        return reverse("supervision:rectification_reopen", args=[obj.pk])

    def post_data(self, obj):
        return {"reason": "佐证不足"}


class TestListenList(ScopedEndpointTests):
    url_name = "supervision:listen_list"
    kind = "list"

    def make_object(self, org):
        inspector = an_inspector(org, org)
        lecture = a_lecture(org)
        return services.lecture_inspection_record(actor=inspector, lecture=lecture, scores=SCORES)

    def url(self, obj):
        return reverse("supervision:listen_list")

    def marker(self, obj):
        return obj.lecture.title


class TestListenForm(ScopedEndpointTests):
    url_name = "supervision:listen_form"

    def make_object(self, org):
        return a_lecture(org)

    def url(self, obj):
        return reverse("supervision:listen_form", args=[obj.pk])


# --- API ------------------------------------------------------------------------------------------


def results(response):
    return response.json()["results"]


class _Api(ScopedEndpointTests):
    api = True

    def listed(self, response, obj):
        return any(row["id"] == obj.pk for row in results(response))


class TestTeamListApi(_Api):
    url_name = "api:guidance-team-list"
    kind = "list"

    def make_object(self, org):
        return a_team(org, org, make_user())

    def url(self, obj):
        return "/api/v1/guidance-teams/"


class TestTeamDetailApi(TestTeamListApi):
    url_name = "api:guidance-team-detail"
    kind = "detail"

    def url(self, obj):
        return f"/api/v1/guidance-teams/{obj.pk}/"


class TestInspectionListApi(_Api):
    url_name = "api:inspection-list"
    kind = "list"

    def make_object(self, org):
        return an_inspection(org)

    def url(self, obj):
        return "/api/v1/inspections/"


class TestInspectionDetailApi(TestInspectionListApi):
    url_name = "api:inspection-detail"
    kind = "detail"

    def url(self, obj):
        return f"/api/v1/inspections/{obj.pk}/"


class TestItemListApi(_Api):
    url_name = "api:rectification-item-list"
    kind = "list"

    def make_object(self, org):
        return an_item(org)

    def url(self, obj):
        return "/api/v1/rectification-items/"


class TestItemDetailApi(TestItemListApi):
    url_name = "api:rectification-item-detail"
    kind = "detail"

    def url(self, obj):
        return f"/api/v1/rectification-items/{obj.pk}/"


class TestItemCloseApi(PostEndpointTests):
    url_name = "api:rectification-item-close"
    api = True

    def make_object(self, org):
        return an_item(org)

    def action_url(self, obj):
        return f"/api/v1/rectification-items/{obj.pk}/close/"

    def post_data(self, obj):
        return {"note": "已整改"}

    def _post(self, client, url):
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")


# --- behaviour --------------------------------------------------------------------------------------


def test_the_api_close_without_a_note_names_the_field(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    item = an_item(tree.branch_a)
    response = api_client(secretary).post(f"/api/v1/rectification-items/{item.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN


def test_the_api_close_by_an_inspector_is_refused(tree):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    item = an_item(tree.branch_a)
    response = api_client(inspector).post(
        f"/api/v1/rectification-items/{item.pk}/close/", {"note": "x"}, format="json"
    )
    assert response.status_code == 403


def test_the_secretary_closes_on_the_phone_page(client, tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    item = an_item(tree.branch_a)
    client.force_login(secretary)
    page = client.get(reverse("supervision:rectification_detail", args=[item.pk])).content.decode()
    assert 'data-testid="close-form"' in page and 'data-testid="reopen-form"' not in page
    response = client.post(reverse("supervision:rectification_close", args=[item.pk]), {"note": ""})
    assert response.status_code == 400 and "请填写整改情况说明" in response.content.decode()


def test_the_team_form_creates_a_team_and_confers_the_role(client, tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    inspector = make_user("inspector_x")
    client.force_login(admin)
    response = client.post(
        reverse("supervision:guidance_team_create"),
        {
            "organization": tree.district_a.pk,
            "name": "第一巡回指导组",
            "year": 2026,
            "is_active": "on",
            "leader": "inspector_x",
            "members": "",
            "coverage": f"{tree.branch_a.code} inspector_x",
        },
    )
    assert response.status_code == 302
    assert inspector.role_assignments.filter(role__code="inspector", organization=tree.branch_a).exists()


def test_the_team_form_names_an_unknown_account(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("supervision:guidance_team_create"),
        {"organization": tree.district_a.pk, "name": "组", "year": 2026, "members": "nobody_here"},
    )
    assert response.status_code == 200 and "找不到账号 nobody_here" in response.content.decode()


def test_the_rectification_list_query_count_is_pinned(client, tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    for _ in range(3):
        an_item(tree.branch_a)
        an_item(tree.branch_b)
    client.force_login(admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("supervision:rectification_list") + "?status=all").status_code == 200


def test_the_coverage_page_query_count_is_pinned(client, tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    a_team(tree.district_a, tree.district_a, make_user())
    client.force_login(admin)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("supervision:guidance_coverage") + f"?organization={tree.root.pk}")
    assert response.status_code == 200


def test_the_inspection_list_query_count_is_pinned(client, tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    for _ in range(3):
        an_inspection(tree.branch_a)
    client.force_login(admin)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("supervision:inspection_list")).status_code == 200
