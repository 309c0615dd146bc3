"""The 组织生活开展情况 page for an organisation of any level: its own requirements period by period,
then one tab per kind of organisation below it (党委（党组、党工委）, 党支部, 党小组)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from partyedu.testsupport.factories import Tree, make_org, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db
URL = reverse("study:cadence")


def page(client: Any, org: Any, **params: Any) -> str:
    response = client.get(URL, {"organization": org.pk, "year": 2025, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_a_party_committees_page_shows_its_own_requirements_period_by_period(
    client: Any, tree: Tree, admin: Any
) -> None:
    """DOMAIN_RULES 中心组学习 ≥ 2 per quarter (local) and 党委书记讲党课 ≥ 1 per year (支部条例)."""
    record(tree.district_a, "central_group_study", start=at(1))
    record(tree.district_a, "central_group_study", start=at(2))
    record(tree.district_a, "central_group_study", start=at(4))
    client.force_login(admin)
    html = page(client, tree.district_a)
    own = html.split('id="own-cadence"')[1].split("</section>")[0]
    assert "甲区委（党委）2025年本级要求" in own
    assert "中心组学习" in own and "每季度至少2次" in own
    assert "第1季度 2次 · 达标" in own and "第2季度 1次 · 未达标" in own
    assert "党委（党组）书记讲党课" in own and "全年 0次 · 未达标" in own


def test_a_party_committees_page_has_a_tab_per_kind_below(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = page(client, tree.district_a)
    assert "党委（党组、党工委）（1）" in html and "党支部（1）" in html and "党小组（1）" in html
    assert "共 1 个党支部，0 个按要求开展" in html  # the branches' tab first


def test_the_groups_tab_lists_each_group_under_its_branch(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党小组会 1 per month: 支部条例 — each group on its own row."""
    make_org(tree.branch_a, "甲一第二党小组", "group")
    for month in range(1, 13):
        record(tree.group_a, "group_meeting", start=at(month))
    client.force_login(admin)
    html = page(client, tree.district_a, kind="group")
    table = html.split("<tbody>")[1]
    assert "共 2 个党小组，1 个按要求开展" in html
    assert "<th>党小组会</th>" in html
    assert "甲一支部 · </span>甲一第一党小组" in table and "甲一第二党小组" in table
    assert table.count("缺：") == 1


def test_a_party_groups_page_shows_its_meetings(client: Any, tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES 党小组会 1 per month: 支部条例."""
    record(tree.group_a, "group_meeting", start=at(1))
    client.force_login(secretary)
    html = page(client, tree.group_a)
    own = html.split('id="own-cadence"')[1].split("</section>")[0]
    assert "甲一第一党小组（党小组）2025年本级要求" in own
    assert "1月 1次 · 达标" in own and "2月 0次 · 未达标" in own
    assert "共 1 个党小组，0 个按要求开展" in html and "党支部（" not in html


def test_the_period_under_way_is_shown_in_progress_not_red(client: Any, tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES cadence: the period under way is 进行中, never 未达标."""
    client.force_login(secretary)
    year = timezone.localdate().year
    html = client.get(URL, {"organization": tree.branch_a.pk, "year": year}).content.decode()
    own = html.split('id="own-cadence"')[1].split("</section>")[0]
    assert 'text-bg-warning">全年 0次 · 进行中' in own
    assert "全年 0次 · 未达标" not in own


def test_a_branch_without_a_committee_is_told_why_no_committee_meetings_are_asked(
    client: Any, tree: Tree, secretary: Any
) -> None:
    client.force_login(secretary)
    html = page(client, tree.branch_a)
    assert "未登记支部委员（未设支部委员会），不要求召开支委会" in html
    table = html.split("<tbody>")[1]
    assert "未设支部委员会，不要求" in table


def test_a_general_branch_has_no_own_requirements_but_lists_its_branches(
    client: Any, tree: Tree, admin: Any
) -> None:
    general = make_org(tree.district_a, "甲总支", "general_branch")
    make_org(general, "甲总支第一支部")
    client.force_login(admin)
    html = page(client, general)
    assert 'id="own-cadence"' not in html
    assert "共 1 个党支部，0 个按要求开展" in html and "甲总支第一支部" in html


def test_the_tabs_keep_the_year_and_the_missing_filter(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = page(client, tree.district_a, missing="1")
    assert f"?organization={tree.district_a.pk}&amp;year=2025&amp;missing=1&amp;kind=group" in html


def test_each_tab_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    root_admin = make_user("root_admin", role="org_admin", org=tree.root)
    for i in range(55):
        make_org(tree.branch_a, f"甲一第{i:02d}小组", "group")
        make_org(tree.root, f"第{i:02d}党工委", "working_committee", "organ")
    for month in range(1, 13):
        record(tree.group_a, "group_meeting", start=at(month))
    cadence_week_rule(root_admin, tree)
    client.force_login(root_admin)
    client.get(URL, {"organization": tree.root.pk, "year": 2025})  # session and grants warmed up
    for kind in ("committee", "branch", "group"):
        # session, user, grants, the organisation, the rules, the figures, the page, its and the
        # organisation's counts, the branches' committees, the weekly counts, session save (3);
        # PostgreSQL one more (JIT off for the figures)
        with django_assert_max_num_queries(13 + (connection.vendor == "postgresql")):
            html = page(client, tree.root, kind=kind)
        assert "第 1 / 2 页" in html or kind == "branch"
    assert "共 56 个党小组，1 个按要求开展" in page(client, tree.root, kind="group")


def cadence_week_rule(user: Any, tree: Tree) -> None:
    from partyedu.study.services import cadence_rule_set

    cadence_rule_set(
        actor=user,
        organization=tree.root,
        activity_type="reading_class",
        period="week",
        applies_to="committee",
    )
