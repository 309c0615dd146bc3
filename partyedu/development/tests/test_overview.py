"""The organisation department's overview: the figures per child organisation, the plan against
the admitted, stalled cases under the rules of each subtree, and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.development.selectors_overview import case_list_filtered, overview, overview_children
from partyedu.development.services import plan_set, policy_set
from partyedu.testsupport.factories import make_org, make_user

from .conftest import new_case, walk_to
from .pages import make_case

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _rows(user, org, year=TODAY.year):
    result = overview(
        user=user, organization=org, year=year, children=list(overview_children(user=user, organization=org))
    )
    return {row.organization.name: row for row in result.rows}, result.total


def test_counts_each_phase_per_child_organisation(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=3))
    new_case(setup, applied_on=TODAY - timedelta(days=3), name="乙")
    walk_to(setup, new_case(setup, name="丙"), "activist")
    make_case(setup.tree.branch_b, applied_on=TODAY - timedelta(days=3))
    admin = make_user(role="org_admin", org=setup.tree.root)

    rows, total = _rows(admin, setup.tree.root)

    assert set(rows) == {"甲区委", "乙区委"}
    assert rows["甲区委"].phases == {"applicants": 2, "activists": 1, "candidates": 0, "probationary": 0}
    assert rows["乙区委"].phases["applicants"] == 1
    assert total.phases["applicants"] == 3 and total.open_cases == 4


def test_a_branch_shows_itself_as_its_one_row(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=3))

    rows, total = _rows(setup.secretary, setup.branch)

    assert (
        list(rows) == ["甲一支部"]
        and rows["甲一支部"].phases["applicants"] == 1 == total.phases["applicants"]
    )


def test_admitted_in_the_year_is_set_against_the_plan(setup):
    case = walk_to(setup, new_case(setup), "approval")
    year = case.admitted_on.year
    plan_set(actor=None, organization=setup.tree.district_a, year=year, planned=3)
    plan_set(actor=None, organization=setup.tree.root, year=year, planned=10)
    admin = make_user(role="org_admin", org=setup.tree.root)

    rows, total = _rows(admin, setup.tree.root, year)
    other_year, _total = _rows(admin, setup.tree.root, year + 1)

    assert (rows["甲区委"].admitted, rows["甲区委"].plan) == (1, 3)
    assert (rows["乙区委"].admitted, rows["乙区委"].plan) == (0, None)
    assert (total.admitted, total.plan) == (1, 10)
    assert other_year["甲区委"].admitted == 0 and other_year["甲区委"].plan is None


def test_converted_in_the_year_counts_the_full_membership_date(setup):
    case = walk_to(setup, new_case(setup), "conversion_approval")

    _found, total = _rows(setup.secretary, setup.branch, case.full_member_on.year)

    assert total.converted == 1 and total.open_cases == 0


def test_stalled_follows_the_wait_of_the_rules_in_force(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=5), name="新申请")
    talked = walk_to(setup, new_case(setup, applied_on=TODAY - timedelta(days=220), name="等了很久"), "talk")
    assert talked.last_step_on == TODAY - timedelta(days=200)

    _before, stalled_before = _rows(setup.secretary, setup.branch)
    policy_set(actor=None, organization=setup.tree.district_a, data={"applicant_wait_days": 365})
    _after, stalled_after = _rows(setup.secretary, setup.branch)

    assert stalled_before.stalled == 1 and stalled_after.stalled == 0


def test_overdue_counts_an_open_case_past_its_next_due(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=60))
    new_case(setup, applied_on=TODAY - timedelta(days=5), name="未到期")

    _found, total = _rows(setup.secretary, setup.branch)

    assert total.overdue == 1 and total.stalled == 1


def test_the_stalled_list_matches_the_overview_figure(setup):
    new_case(setup, applied_on=TODAY - timedelta(days=60), name="逾期者")
    new_case(setup, applied_on=TODAY - timedelta(days=5), name="按期者")

    names = [c.name for c in case_list_filtered(user=setup.secretary, filters={"stalled": True})]

    assert names == ["逾期者"]


def test_overview_page_drills_down_and_links_figures_to_the_list(client, setup):
    new_case(setup, applied_on=TODAY - timedelta(days=3))
    client.force_login(make_user(role="org_admin", org=setup.tree.root))

    top = client.get(f"/development/overview/?organization={setup.tree.root.pk}").content.decode()
    down = client.get(f"/development/overview/?organization={setup.tree.district_a.pk}").content.decode()

    assert (
        f'href="?organization={setup.tree.district_a.pk}&amp;year={TODAY.year}" data-testid="overview-drill"'
        in top
    )
    assert f'href="/development/?organization={setup.tree.district_a.pk}&amp;phase=applicants">1</a>' in top
    assert "甲一支部" in down and 'data-testid="overview-up"' in down


def test_overview_page_queries_do_not_grow_with_children(client, setup, django_assert_max_num_queries):
    client.force_login(make_user(role="org_admin", org=setup.tree.root))
    new_case(setup, applied_on=TODAY - timedelta(days=3))
    url = f"/development/overview/?organization={setup.tree.district_a.pk}"
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for n in range(5):
        branch = make_org(setup.tree.district_a, f"甲{n + 2}支部")
        make_case(branch, applied_on=TODAY - timedelta(days=3))
        policy_set(actor=None, organization=branch, data={"applicant_wait_days": 90 + n})
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('data-testid="overview-row"') == 6
