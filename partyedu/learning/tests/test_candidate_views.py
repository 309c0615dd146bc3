"""Pages of the 发展对象 training (DOMAIN_RULES "发展对象 training window": 细则): the box on a member's
hours page, the list 发展对象培训情况 of an organisation and its xlsx export."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.testsupport.factories import make_member, make_user

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
TODAY = timezone.localdate()
# Safely inside the window of a 发展对象 determined 200 days ago, and not in the future.
EARLIER = TODAY - timedelta(days=100)


def candidate(org: Any, name: str | None = None, candidate_on: date | None = None, **data: Any) -> Any:
    data.setdefault("status", "candidate")
    return make_member(
        org,
        name or f"发展对象{next(_n)}号",
        candidate_on=candidate_on or TODAY - timedelta(days=200),
        birth=date(1996, 4, 1),
        **data,
    )


def train(member: Any, day: date, hours: Decimal) -> None:
    activity = make_activity(
        member.organization,
        activity_type="training_session",
        topic="发展对象培训班",
        start=local(day.year, day.month, day.day, 9),
        hours=8,
        credited_hours=hours,
    )
    attend(activity, member)


def link(member: Any) -> Any:
    user = make_user(role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


# --- scope ----------------------------------------------------------------------------------------


class TestCandidateListScope(ScopedEndpointTests):
    """The list of the user's own scope shows its 发展对象; a sibling district's are not listed."""

    url_name = "learning:candidate_list"
    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return candidate(org)

    def url(self, obj: Any) -> str:
        return reverse("learning:candidate_list")


class TestCandidateExportScope(ScopedEndpointTests):
    url_name = "learning:candidate_export"

    def make_object(self, org: Any) -> Any:
        candidate(org)
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:candidate_export')}?organization={obj.pk}"


def test_list_refuses_an_organisation_outside_the_scope(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_b))
    response = client.get(reverse("learning:candidate_list"), {"organization": tree.branch_a.pk})
    # The picker refuses an organisation outside the scope; the user's own stays shown.
    assert "所选组织不存在或不在您的权限范围内" in response.content.decode()


# --- the list -------------------------------------------------------------------------------------


def test_list_shows_figures_with_those_short_first(client, tree):
    """DOMAIN_RULES 发展对象 training window (细则): ≥ 24 学时 or 3 days; the list puts 未达到 first."""
    done = candidate(tree.branch_a, "甲已达到")
    train(done, EARLIER, Decimal("24"))
    short = candidate(tree.branch_a, "乙还差")
    train(short, EARLIER, Decimal("8"))
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    body = client.get(reverse("learning:candidate_list")).content.decode()

    assert body.index(short.name) < body.index(done.name)
    assert "尚差16学时或2天" in body
    assert "已达到" in body


def test_list_filters_to_those_not_met(client, tree):
    done = candidate(tree.branch_a, "甲已达到")
    train(done, EARLIER, Decimal("24"))
    short = candidate(tree.branch_a, "乙还差")
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    body = client.get(
        reverse("learning:candidate_list"), {"organization": tree.district_a.pk, "only_short": "on"}
    ).content.decode()

    assert short.name in body
    assert done.name not in body


def test_list_says_when_the_date_is_not_registered(client, tree):
    """DOMAIN_RULES 发展对象 training window (细则): no 确定为发展对象日期 → counted from 1 January, said."""
    member = make_member(tree.branch_a, "未登记日期", status="candidate", birth=date(1996, 4, 1))
    assert member.candidate_on is None
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    body = client.get(reverse("learning:candidate_list")).content.decode()

    assert f"未登记（暂自{TODAY.year}-01-01起计）" in body


def test_list_is_linked_from_the_learning_subnav(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("learning:summary")).content.decode()
    assert reverse("learning:candidate_list") in body


def test_list_takes_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    """The figures are read in bulk (rules and ledger lines once for all 发展对象), not per row."""
    for i in range(3):
        train(candidate(tree.branch_a, f"少{i}"), EARLIER, Decimal("8"))
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("learning:candidate_list")
    client.get(url)  # sessions, grants and the like warmed

    with django_assert_max_num_queries(QUERIES) as few:
        client.get(url)
    for i in range(12):
        train(candidate(tree.branch_a, f"多{i}"), EARLIER, Decimal("8"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "多11" in response.content.decode()


# The page: session and user, grants, the default organisation, the candidates, the rules, the
# ledger lines, and the session's refresh in a savepoint.
QUERIES = 10


# --- the export -----------------------------------------------------------------------------------


def test_export_has_the_page_rows(client, tree):
    done = candidate(tree.branch_a, "甲已达到")
    train(done, EARLIER, Decimal("24"))
    candidate(tree.branch_a, "乙还差")
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.get(reverse("learning:candidate_export"), {"organization": tree.district_a.pk})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == ["乙还差", "甲已达到"]
    assert rows[0][7] == "未达到"
    assert rows[0][8] == "24学时或3天"
    assert rows[1][7] == "已达到"


# --- the box on a member's hours page -------------------------------------------------------------


def test_my_hours_shows_the_candidate_training_box(client, tree):
    """DOMAIN_RULES 发展对象 training window (细则): the 发展对象 sees hours and days since the date."""
    member = candidate(tree.branch_a, "李发展")
    train(member, EARLIER, Decimal("8"))
    client.force_login(link(member))

    body = client.get(reverse("learning:my_hours")).content.decode()

    assert 'data-testid="candidate-training"' in body
    assert f"自{member.candidate_on:%Y-%m-%d}起" in body
    assert "<strong>8</strong> 学时 / <strong>1</strong> 天" in body
    assert "要求24学时或3天" in body
    assert "尚差16学时或2天" in body


def test_managers_view_of_a_candidate_shows_the_box(client, tree):
    member = candidate(tree.branch_a, "李发展")
    train(member, EARLIER, Decimal("24"))
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    body = client.get(reverse("learning:member_hours", args=[member.pk])).content.decode()

    assert 'data-testid="candidate-training"' in body
    assert "已达到" in body


def test_box_says_the_date_is_missing(client, tree):
    """DOMAIN_RULES 发展对象 training window (细则): the fallback to 1 January is stated."""
    member = make_member(tree.branch_a, "未登记日期", status="candidate", birth=date(1996, 4, 1))
    client.force_login(link(member))

    body = client.get(reverse("learning:my_hours")).content.decode()

    assert "未登记确定为发展对象日期" in body
    assert f"暂从{TODAY.year}-01-01（当年1月1日）起计算" in body


def test_a_full_member_sees_no_box(client, tree):
    member = make_member(tree.branch_a, "老党员", status="full", joined_on=date(1990, 7, 1))
    client.force_login(link(member))

    body = client.get(reverse("learning:my_hours")).content.decode()

    assert 'data-testid="candidate-training"' not in body


# --- the learning summary -------------------------------------------------------------------------


def test_summary_counts_candidates_by_the_candidate_period_apart_from_the_annual_rate(client, tree):
    """细则: a 发展对象 trained before this year (24 学时 within the candidate period) has met the rule;
    the summary says so on its own line and keeps 发展对象 out of the annual completion rate."""
    last_year = date(TODAY.year - 1, 11, 3)
    trained = candidate(tree.branch_a, "甲去年已培训", candidate_on=date(TODAY.year - 1, 10, 1))
    train(trained, last_year, Decimal("24"))
    candidate(tree.branch_a, "乙尚未培训")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(
        reverse("learning:summary"), {"organization": tree.district_a.pk, "year": TODAY.year}
    )
    assert (response.context["candidates"].members, response.context["candidates"].met) == (2, 1)
    assert response.context["summary"].required_members == 0
    assert "培训期间集中培训已达标 1 人" in response.content.decode()


def test_hours_api_gives_a_candidate_the_training_of_the_candidate_period(tree):
    """The API's ``required`` is the annual requirement (none for a 发展对象); ``candidate_training``
    carries the candidate period's figures."""
    from rest_framework.test import APIClient

    member = candidate(tree.branch_a, "甲去年已培训", candidate_on=date(TODAY.year - 1, 10, 1))
    train(member, date(TODAY.year - 1, 11, 3), Decimal("24"))
    api = APIClient()
    api.force_authenticate(make_user(role="org_admin", org=tree.district_a))
    data = api.get(f"/api/v1/members/{member.pk}/learning-hours/", {"year": TODAY.year}).json()
    assert data["required"] == 0
    assert (data["candidate_training"]["hours"], data["candidate_training"]["met"]) == (24.0, True)
