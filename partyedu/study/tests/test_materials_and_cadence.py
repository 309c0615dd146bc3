from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.study.models import MaterialDistribution
from partyedu.study.selectors import cadence_report, material_coverage, material_list
from partyedu.study.services import cadence_rule_set, material_create, material_distribute
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import at, record

# --- printed study materials ---------------------------------------------------------------------


@pytest.fixture
def booklet(tree):
    return material_create(
        actor=None, data={"organization": tree.root, "title": "党员应知应会手册", "year": 2025}
    )


def test_secretary_records_copies_for_the_branch(booklet, members, secretary):
    new = material_distribute(
        actor=secretary, material=booklet, members=[members["zhang"].pk, members["wang"].pk]
    )
    assert sorted(new) == sorted([members["zhang"].pk, members["wang"].pk])
    assert booklet in material_list(user=secretary)


def test_distributing_again_is_idempotent(booklet, members, secretary):
    material_distribute(actor=secretary, material=booklet, members=[members["zhang"].pk])
    assert material_distribute(actor=secretary, material=booklet, members=[members["zhang"].pk]) == []
    assert MaterialDistribution.objects.count() == 1


def test_distributing_to_a_member_outside_scope_is_refused(booklet, members, secretary):
    with pytest.raises(ValidationError) as exc:
        material_distribute(
            actor=secretary, material=booklet, members=[members["zhang"].pk, members["zhao"].pk]
        )
    assert f"ID {members['zhao'].pk}" in exc.value.message_dict["members"][0]
    assert not MaterialDistribution.objects.exists()


def test_material_outside_scope_cannot_be_created(tree, secretary):
    with pytest.raises(PermissionDenied):
        material_create(actor=secretary, data={"organization": tree.district_a, "title": "x", "year": 2025})


def test_coverage_per_child_organisation(tree, booklet, members, django_assert_max_num_queries):
    root_admin = make_user("root", role="org_admin", org=tree.root)
    material_distribute(actor=None, material=booklet, members=[members["zhang"].pk, members["wang"].pk])
    with django_assert_max_num_queries(4):
        coverage = material_coverage(user=root_admin, material=booklet, organization=tree.root)
    assert (coverage.total.members, coverage.total.distributed) == (4, 2)
    rows = {r.organization.name: (r.members, r.distributed) for r in coverage.rows}
    assert rows == {"甲区委": (3, 2), "乙区委": (1, 0)}


def test_coverage_of_a_branch_shows_its_own_members_and_groups(tree, booklet, members, secretary):
    material_distribute(actor=None, material=booklet, members=[members["zhang"].pk])
    coverage = material_coverage(user=secretary, material=booklet, organization=tree.branch_a)
    rows = {(r.organization.name, r.own_level): (r.members, r.distributed) for r in coverage.rows}
    assert rows == {("甲一支部", True): (2, 1), ("甲一第一党小组", False): (1, 0)}
    assert coverage.total.rate == pytest.approx(1 / 3)


def test_coverage_outside_scope_is_none(tree, booklet, secretary):
    assert material_coverage(user=secretary, material=booklet, organization=tree.branch_b) is None


# --- cadence -------------------------------------------------------------------------------------

END_OF_YEAR = date(2026, 1, 1)


def hold_everything(branch, but_months=(), but_assembly=(), but_lecture=()):
    """Every requirement of a branch without a committee for 2025 (组织生活会 and 民主评议 once)."""
    record(branch, "org_life_meeting", start=at(12))
    record(branch, "democratic_evaluation", start=at(12, day=20))
    for month in range(1, 13):
        if month not in but_months:
            record(branch, "theme_day", start=at(month))
    for quarter in range(1, 5):
        if quarter not in but_assembly:
            record(branch, "branch_assembly", start=at(quarter * 3))
        if quarter not in but_lecture:
            record(branch, "party_lecture", start=at(quarter * 3 - 2))


def report(user, org, as_of=END_OF_YEAR):
    return {
        r.organization.name: r for r in cadence_report(user=user, organization=org, year=2025, as_of=as_of)
    }


def test_branch_holding_everything_is_compliant(tree, admin):
    hold_everything(tree.branch_a)
    row = report(admin, tree.district_a)["甲一支部"]
    assert row.compliant
    assert row.item("theme_day").counts == [1] * 12


def test_missing_months_and_quarters_are_reported(tree, admin):
    hold_everything(tree.branch_a, but_months=(2, 7), but_assembly=(3,), but_lecture=(1, 4))
    row = report(admin, tree.district_a)["甲一支部"]
    assert row.theme_day_missing_months == [2, 7]
    assert row.assembly_missing_quarters == [3]
    assert row.lecture_missing_quarters == [1, 4]
    assert row.item("party_lecture").missing_labels == ["第1季度", "第4季度"]
    assert not row.compliant


def test_activities_of_a_party_group_count_for_its_branch(tree, admin):
    hold_everything(tree.branch_a, but_months=(5,))
    record(tree.group_a, "theme_day", start=at(5))
    assert report(admin, tree.district_a)["甲一支部"].theme_day_missing_months == []


def test_periods_not_yet_ended_are_not_missing(tree, admin):
    record(tree.branch_a, "theme_day", start=at(1))
    row = report(admin, tree.district_a, as_of=date(2025, 3, 15))["甲一支部"]
    assert row.theme_day_missing_months == [2]
    assert row.item("theme_day").pending is True
    assert row.assembly_missing_quarters == []


def test_report_covers_only_organisations_in_scope(tree, admin):
    assert set(report(admin, tree.root)) == {"甲区委", "甲一支部", "甲一第一党小组"}


def test_nearest_rule_up_the_tree_wins(tree, admin):
    branch_a2 = make_org(tree.district_a, "甲二支部")
    cadence_rule_set(actor=None, organization=tree.root, activity_type="party_lecture", period="half_year")
    cadence_rule_set(actor=admin, organization=branch_a2, activity_type="party_lecture", period="year")
    record(tree.branch_a, "party_lecture", start=at(2))
    rows = report(admin, tree.district_a)
    assert rows["甲一支部"].item("party_lecture").missing_labels == ["下半年"]
    assert rows["甲二支部"].item("party_lecture").missing_labels == ["全年"]


def test_a_rule_can_add_a_type_and_lift_another(tree, admin):
    cadence_rule_set(actor=admin, organization=tree.district_a, activity_type="site_visit", period="quarter")
    cadence_rule_set(
        actor=admin, organization=tree.district_a, activity_type="theme_day", period="month", min_count=0
    )
    row = report(admin, tree.district_a)["甲一支部"]
    assert len(row.missing("site_visit")) == 4
    assert row.item("theme_day") is None


def test_rule_outside_scope_is_denied(tree, admin):
    with pytest.raises(PermissionDenied):
        cadence_rule_set(actor=admin, organization=tree.root, activity_type="theme_day", period="month")


def test_rule_period_must_be_one_of_the_five(tree, admin):
    with pytest.raises(ValidationError):
        cadence_rule_set(actor=admin, organization=tree.district_a, activity_type="theme_day", period="5")


def test_report_query_count_does_not_grow_with_branches(tree, django_assert_max_num_queries):
    root_admin = make_user("root", role="org_admin", org=tree.root)
    for i in range(5):
        branch = make_org(tree.district_b, f"乙{i}支部")
        make_member(branch, f"党员{i}")
        record(branch, "theme_day", start=at(i + 1))
    root_admin_report = None
    # grants, organisations, rules, monthly counts, the branches with a committee
    with django_assert_max_num_queries(5):
        root_admin_report = cadence_report(
            user=root_admin, organization=tree.root, year=2025, as_of=END_OF_YEAR
        )
    # three 党委, seven branches and a party group
    assert len(root_admin_report) == 11
