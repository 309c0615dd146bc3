"""The cadence of organisational life at every level (DOMAIN_RULES "Cadence of organisational
life"): what each 党支部, each 党小组 and each 党委/党组/党工委 must hold, and how a rule set by an
organisation department overrides it for a subtree."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from partyedu.study.selectors import cadence_report, cadence_summary
from partyedu.study.services import cadence_rule_set
from partyedu.testsupport.factories import Tree, make_member, make_org, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db
END_OF_YEAR = date(2026, 1, 1)


def report(user: Any, org: Any, as_of: date = END_OF_YEAR) -> dict[str, Any]:
    return {
        r.organization.name: r for r in cadence_report(user=user, organization=org, year=2025, as_of=as_of)
    }


def branches_compliant(user: Any, org: Any) -> int:
    return (
        cadence_summary(user=user, organization=org, year=2025, as_of=END_OF_YEAR).figures["branch"].compliant
    )


def hold_all_but_committee_meetings(branch: Any) -> None:
    for month in range(1, 13):
        record(branch, "theme_day", start=at(month))
    for quarter in range(1, 5):
        record(branch, "branch_assembly", start=at(quarter * 3))
        record(branch, "party_lecture", start=at(quarter * 3, day=20))
    record(branch, "org_life_meeting", start=at(12))
    record(branch, "democratic_evaluation", start=at(12, day=20))


# --- 党支部 ---------------------------------------------------------------------------------------


def test_a_branch_with_a_committee_holds_a_branch_committee_meeting_every_month(
    tree: Tree, admin: Any
) -> None:
    """DOMAIN_RULES 支部委员会 1 per month: 支部条例 第十二条. A branch has a committee when a full
    member on its roll holds the 支部委员 category."""
    make_member(tree.branch_a, "委员甲", categories=["committee"])
    for month in range(1, 13):
        if month != 4:
            record(tree.branch_a, "branch_committee", start=at(month))
    row = report(admin, tree.district_a)["甲一支部"]
    assert row.missing("branch_committee") == [4]
    assert row.item("branch_committee").missing_labels == ["4月"]


def test_a_branch_without_a_committee_is_not_asked_for_committee_meetings(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 支部委员会: 支部条例 第十二条 — only a branch that has a committee holds one."""
    make_member(tree.branch_a, "党员甲")
    make_member(tree.branch_a, "预备党员", categories=["committee"], status="probationary")
    hold_all_but_committee_meetings(tree.branch_a)
    row = report(admin, tree.district_a)["甲一支部"]
    assert row.item("branch_committee") is None
    assert row.exempt == ["branch_committee"]
    assert row.notes == ["未登记支部委员（未设支部委员会），不要求召开支委会"]
    assert row.compliant
    assert branches_compliant(admin, tree.district_a) == 1


def test_a_committee_member_registered_in_a_party_group_counts_for_the_branch(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 支部委员会: 支部条例 第十二条 — the branch's roll includes its groups."""
    make_member(tree.group_a, "委员乙", categories=["committee"])
    hold_all_but_committee_meetings(tree.branch_a)
    row = report(admin, tree.district_a)["甲一支部"]
    assert len(row.missing("branch_committee")) == 12
    assert branches_compliant(admin, tree.district_a) == 0


def test_a_branch_holds_an_org_life_meeting_and_a_democratic_evaluation_every_year(
    tree: Tree, admin: Any
) -> None:
    """DOMAIN_RULES 组织生活会 ≥ 1 per year and 民主评议党员 1 per year: 条例 第十七、十八条."""
    record(tree.branch_a, "org_life_meeting", start=at(12))
    row = report(admin, tree.district_a)["甲一支部"]
    assert row.missing("org_life_meeting") == []
    assert row.item("democratic_evaluation").missing_labels == ["全年"]


# --- 党小组 ---------------------------------------------------------------------------------------


def test_each_party_group_holds_its_own_monthly_meeting(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党小组会 1 per month: 支部条例 — group A's meeting does not satisfy group B's."""
    group_b = make_org(tree.branch_a, "甲一第二党小组", "group")
    for month in range(1, 13):
        record(tree.group_a, "group_meeting", start=at(month))
    rows = report(admin, tree.district_a)
    assert rows["甲一第一党小组"].compliant
    assert rows["甲一第一党小组"].item("group_meeting").counts == [1] * 12
    assert rows[group_b.name].missing("group_meeting") == list(range(1, 13))


def test_a_branch_meeting_does_not_count_as_a_party_group_meeting(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党小组会: 支部条例 — each group must hold its own."""
    for month in range(1, 13):
        record(tree.branch_a, "group_meeting", start=at(month))
    assert len(report(admin, tree.district_a)["甲一第一党小组"].missing("group_meeting")) == 12


def test_a_party_groups_theme_day_still_counts_for_its_branch(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 主题党日 1 per month: 条例 第十六条 — held by a group, it is the branch's."""
    for month in range(1, 13):
        record(tree.group_a, "theme_day", start=at(month))
    rows = report(admin, tree.district_a)
    assert rows["甲一支部"].missing("theme_day") == []
    assert rows["甲一第一党小组"].item("theme_day") is None


# --- 党委、党组、党工委 -------------------------------------------------------------------------------


def test_a_party_committee_studies_as_a_central_group_twice_a_quarter(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 中心组学习 ≥ 2 per quarter: local (seed 001) — one in a quarter is missing."""
    for month in (1, 2, 5, 7, 8, 10, 12):
        record(tree.district_a, "central_group_study", start=at(month))
    row = report(admin, tree.district_a)["甲区委"]
    item = row.item("central_group_study")
    assert item.counts == [2, 1, 2, 2]
    assert item.missing_labels == ["第2季度"]


def test_a_working_committee_and_a_leading_group_are_held_to_the_same_rules(tree: Tree) -> None:
    """DOMAIN_RULES 中心组学习: local (seed 001) — 党委, 党组 and 党工委 alike."""
    working = make_org(tree.root, "市直机关工委", "working_committee", "organ")
    leading = make_org(tree.root, "市政府党组", "leading_group", "organ")
    rows = report(make_user(role="org_admin", org=tree.root), tree.root)
    for org in (working, leading):
        assert rows[org.name].kind == "committee"
        assert rows[org.name].item("central_group_study").missing_labels == [
            f"第{n}季度" for n in range(1, 5)
        ]


def test_the_party_committee_secretary_gives_a_party_lecture_every_year(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党课 by 党委(党组)书记 ≥ 1 per year: 支部条例 — counted from the 党课 the 党委
    itself holds; a branch's 党课 is not the secretary's."""
    record(tree.branch_a, "party_lecture", start=at(3))
    row = report(admin, tree.district_a)["甲区委"]
    item = row.item("party_lecture")
    assert item.label == "党委（党组）书记讲党课"
    assert item.missing_labels == ["全年"]
    record(tree.district_a, "party_lecture", start=at(6))
    assert report(admin, tree.district_a)["甲区委"].missing("party_lecture") == []


def test_a_party_committee_is_not_asked_for_branch_meetings(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES cadence: 主题党日 and 支部党员大会 are the branches' (条例 第十六条; 支部条例 第十一条)."""
    row = report(admin, tree.district_a)["甲区委"]
    assert {item.activity_type for item in row.items} == {"central_group_study", "party_lecture"}


# --- rules ----------------------------------------------------------------------------------------


def test_the_nearest_rule_up_the_tree_wins_for_its_kind(tree: Tree) -> None:
    """DOMAIN_RULES: every default can be overridden for a subtree by an org_admin; the nearest
    rule up the tree wins."""
    city_admin = make_user(role="org_admin", org=tree.root)
    cadence_rule_set(
        actor=city_admin,
        organization=tree.root,
        activity_type="central_group_study",
        period="quarter",
        min_count=1,
    )
    cadence_rule_set(
        actor=city_admin,
        organization=tree.district_a,
        activity_type="central_group_study",
        period="month",
        min_count=1,
    )
    rows = report(city_admin, tree.root)
    assert rows["市委"].item("central_group_study").period == "quarter"
    assert rows["乙区委"].item("central_group_study").min_count == 1
    assert rows["甲区委"].item("central_group_study").period == "month"


def test_a_rule_for_branches_leaves_the_party_committees_own_requirement(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党课: a rule names the kind of organisation it applies to."""
    cadence_rule_set(
        actor=admin,
        organization=tree.district_a,
        activity_type="party_lecture",
        period="year",
        applies_to="branch",
    )
    rows = report(admin, tree.district_a)
    assert rows["甲一支部"].item("party_lecture").period == "year"
    assert rows["甲区委"].item("party_lecture").label == "党委（党组）书记讲党课"
    assert rows["甲区委"].item("party_lecture").period == "year"


def test_a_zero_minimum_lifts_the_requirement_of_a_subtree(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES: an org_admin may lift a requirement for a subtree (min_count 0)."""
    cadence_rule_set(
        actor=admin, organization=tree.branch_a, activity_type="group_meeting", period="month", min_count=0
    )
    assert report(admin, tree.district_a)["甲一第一党小组"].items == []


def test_the_kind_defaults_from_the_activity_type(tree: Tree, admin: Any) -> None:
    rule = cadence_rule_set(
        actor=admin, organization=tree.district_a, activity_type="group_meeting", period="week"
    )
    assert rule.applies_to == "group"
    rule = cadence_rule_set(
        actor=admin, organization=tree.district_a, activity_type="central_group_study", period="month"
    )
    assert rule.applies_to == "committee"


def test_a_rule_for_party_groups_names_only_their_meeting(tree: Tree, admin: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        cadence_rule_set(
            actor=admin,
            organization=tree.district_a,
            activity_type="theme_day",
            period="month",
            applies_to="group",
        )
    assert "党小组只统计党小组会" in exc.value.message_dict["activity_type"][0]
    with pytest.raises(ValidationError) as exc:
        cadence_rule_set(
            actor=admin,
            organization=tree.district_a,
            activity_type="group_meeting",
            period="month",
            applies_to="branch",
        )
    assert exc.value.message_dict["applies_to"] == ["党小组会按各党小组分别统计，请选择适用于党小组"]


def test_a_rule_for_party_committees_cannot_be_set_at_a_branch(tree: Tree, admin: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        cadence_rule_set(
            actor=admin,
            organization=tree.branch_a,
            activity_type="central_group_study",
            period="quarter",
            applies_to="committee",
        )
    assert exc.value.message_dict["applies_to"] == ["党支部及其下级没有党委（党组、党工委），请重新选择"]
