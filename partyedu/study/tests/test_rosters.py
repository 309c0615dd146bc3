"""Default rosters by meeting type (DOMAIN_RULES; 支部条例; issue "Rosters by meeting type"): who is
expected when an activity is recorded without naming anyone, and which 列席 each type offers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from partyedu.core.models import AuditLog
from partyedu.members.services import member_leave_roll, member_transfer
from partyedu.organizations.models import Organization
from partyedu.study.models import Attendance
from partyedu.study.rosters import default_roster
from partyedu.study.services import central_group_add
from partyedu.testsupport.factories import Tree, make_member, make_org

from .conftest import record

pytestmark = pytest.mark.django_db


def roster(activity: Any, invitee: bool = False) -> set[str]:
    return set(
        Attendance.objects.filter(activity=activity, is_invitee=invitee).values_list(
            "member__name", flat=True
        )
    )


@pytest.fixture
def branch(tree: Tree) -> dict[str, Any]:
    """甲一支部 with its secretary and a 支部委员, two ordinary members (one probationary, one in
    the party group), an activist in the group and a candidate."""
    return {
        "secretary": make_member(tree.branch_a, "书记甲", categories=["secretary"]),
        "committee": make_member(tree.branch_a, "委员乙", categories=["committee", "employed"]),
        "full": make_member(tree.branch_a, "党员丙"),
        "probationary": make_member(tree.group_a, "预备丁", status="probationary"),
        "activist": make_member(tree.group_a, "积极分子戊", status="activist"),
        "candidate": make_member(tree.branch_a, "发展对象己", status="candidate"),
    }


PARTY = {"书记甲", "委员乙", "党员丙", "预备丁"}
CANDIDATES = {"积极分子戊", "发展对象己"}


# --- 支委会 --------------------------------------------------------------------------------------


def test_branch_committee_expects_the_secretary_and_committee_members_only(tree, branch):
    """DOMAIN_RULES 组织生活 支委会: the branch committee (书记、支部委员); 支部条例 第十二条."""
    activity = record(tree.branch_a, "branch_committee")
    assert roster(activity) == {"书记甲", "委员乙"}
    assert roster(activity, invitee=True) == set()


def test_branch_committee_without_registered_committee_expects_nobody(tree):
    """DOMAIN_RULES 组织生活 支委会: no 书记 or 支部委员 registered — no guessing; 支部条例 第十二条."""
    make_member(tree.branch_a, "普通党员")
    default = default_roster(tree.branch_a, "branch_committee")
    assert not default.members.exists()
    assert "未登记书记或支部委员" in default.notice


def test_committee_member_off_the_roll_is_not_expected(tree, branch):
    """DOMAIN_RULES 组织生活 支委会: only members on the roll; 支部条例 第十二条."""
    member_leave_roll(actor=None, member=branch["committee"], reason="调离")
    assert roster(record(tree.branch_a, "branch_committee")) == {"书记甲"}


# --- 党小组会 ------------------------------------------------------------------------------------


def test_group_meeting_expects_the_groups_party_members(tree, branch):
    """DOMAIN_RULES 组织生活 党小组会: the group held it, its members are expected; 支部条例."""
    activity = record(tree.group_a, "group_meeting")
    assert roster(activity) == {"预备丁"}
    assert roster(activity, invitee=True) == set()


def test_group_meeting_offers_the_groups_activists_unticked(tree, branch):
    """DOMAIN_RULES 组织生活 党小组会: activists may sit in, not by default; 支部条例."""
    default = default_roster(tree.group_a, "group_meeting")
    assert {m.name for m in default.invitees or []} == {"积极分子戊"}
    assert default.invitees_ticked is False


# --- 支部党员大会, 党课, 主题党日 ------------------------------------------------------------------


@pytest.mark.parametrize("activity_type", ["branch_assembly", "party_lecture", "theme_day"])
def test_party_meetings_expect_full_and_probationary_members_only(tree, branch, activity_type):
    """DOMAIN_RULES 组织生活: 正式党员 and 预备党员 are expected; activists are not members; 支部条例 第十一条."""
    activity = record(tree.branch_a, activity_type)
    assert roster(activity) == PARTY
    assert roster(activity, invitee=True) == set()  # not asked for: no invitees


@pytest.mark.parametrize(
    ("activity_type", "ticked"), [("branch_assembly", False), ("party_lecture", True), ("theme_day", True)]
)
def test_activists_and_candidates_are_offered_as_invitees(tree, branch, activity_type, ticked):
    """DOMAIN_RULES 组织生活: activists and candidates sit in (列席) — ticked for 党课 and 主题党日,
    unticked for 党员大会 where they do not vote; 支部条例 第十一条."""
    default = default_roster(tree.branch_a, activity_type)
    assert {m.name for m in default.invitees or []} == CANDIDATES
    assert default.invitees_ticked is ticked


def test_offered_invitees_join_when_asked_for(tree, branch):
    """DOMAIN_RULES 组织生活 党课: ``invite_suggested`` invites the activists and candidates; 支部条例."""
    activity = record(tree.branch_a, "party_lecture", invite_suggested=True)
    assert roster(activity) == PARTY
    assert roster(activity, invitee=True) == CANDIDATES


def test_other_types_expect_party_members_as_an_assembly(tree, branch):
    """DOMAIN_RULES 组织生活: other types default to the 正式 and 预备党员 of the subtree; 支部条例."""
    activity = record(tree.branch_a, "org_life_meeting")
    assert roster(activity) == PARTY
    assert default_roster(tree.branch_a, "site_visit").invitees_ticked is False


def test_default_roster_of_a_district_covers_party_members_of_its_branches(tree, branch):
    """DOMAIN_RULES 组织生活: the subtree's party members (the district's branches); 支部条例."""
    assert roster(record(tree.district_a, "theme_day")) == PARTY


# --- 送学上门 ------------------------------------------------------------------------------------


def test_home_delivery_has_no_default_roster(tree, branch):
    """DOMAIN_RULES 学时 送学上门: the secretary names the member visited; 条例 第二十三条."""
    with pytest.raises(ValidationError) as exc:
        record(tree.branch_a, "home_delivery")
    assert "roster" in exc.value.message_dict


def test_home_delivery_with_its_member_named(tree, branch):
    """DOMAIN_RULES 学时 送学上门: the named member is the roster; 条例 第二十三条."""
    activity = record(tree.branch_a, "home_delivery", roster=[branch["full"].pk])
    assert roster(activity) == {"党员丙"}


# --- explicit roster ------------------------------------------------------------------------------


def test_explicit_roster_wins_over_every_default(tree, branch):
    """DOMAIN_RULES 组织生活: the secretary's roster replaces the type's default; 支部条例."""
    activity = record(tree.branch_a, "branch_committee", roster=[branch["full"].pk, branch["activist"].pk])
    assert roster(activity) == {"党员丙", "积极分子戊"}


def test_the_audit_row_says_where_the_roster_came_from(tree, branch):
    """DOMAIN_RULES 组织生活 支委会: the record names the default used; 支部条例 第十二条."""
    activity = record(tree.branch_a, "branch_committee")
    row = AuditLog.objects.get(object_type="study.activity", object_id=str(activity.pk))
    assert row.changes["roster_source"] == "支委会成员"


# --- 中心组学习 ----------------------------------------------------------------------------------


@pytest.fixture
def leaders(tree: Tree, branch: dict[str, Any]) -> dict[str, Any]:
    """Leaders of 甲区委 registered in its organ branch, on its 中心组 list; a 列席 from 甲一支部."""
    organ = make_org(tree.district_a, "甲区委机关党支部")
    people = {
        "head": make_member(organ, "区委书记", categories=["leader"]),
        "deputy": make_member(organ, "区长", categories=["leader"]),
        "member": make_member(organ, "组织部长", categories=["leader"]),
        "other": make_member(organ, "机关干部"),
    }
    central_group_add(actor=None, organization=tree.district_a, members=[people["head"]], role="leader")
    central_group_add(actor=None, organization=tree.district_a, members=[people["deputy"]], role="deputy")
    central_group_add(actor=None, organization=tree.district_a, members=[people["member"]])
    central_group_add(
        actor=None, organization=tree.district_a, members=[branch["secretary"]], role="attendee"
    )
    return people


def test_central_group_study_expects_the_central_group_list(tree, leaders):
    """DOMAIN_RULES 组织生活 中心组学习: the standing 中心组 list is the roster; local (seed 001)."""
    activity = record(tree.district_a, "central_group_study")
    assert roster(activity) == {"区委书记", "区长", "组织部长"}


def test_central_group_attendees_are_offered_ticked(tree, leaders):
    """DOMAIN_RULES 组织生活 中心组学习: the list's 列席 are offered and ticked; local (seed 001)."""
    default = default_roster(tree.district_a, "central_group_study")
    assert {m.name for m in default.invitees or []} == {"书记甲"}
    assert default.invitees_ticked is True
    activity = record(tree.district_a, "central_group_study", invite_suggested=True)
    assert roster(activity, invitee=True) == {"书记甲"}


def test_central_group_study_without_a_list_falls_back_to_party_members(tree, branch):
    """DOMAIN_RULES 组织生活 中心组学习: no list yet — the organisation's active party members, with
    the notice 中心组成员名单未设置; local (seed 001)."""
    default = default_roster(tree.district_a, "central_group_study")
    assert default.notice.startswith("中心组成员名单未设置")
    assert default.central_group_unset is True
    assert roster(record(tree.district_a, "central_group_study")) == PARTY


def test_a_listed_member_who_moved_out_of_the_subtree_is_not_expected(tree, leaders):
    """DOMAIN_RULES 组织生活 中心组学习: the list covers the 党委's subtree only; local."""
    member_transfer(actor=None, member=leaders["deputy"], to_organization=tree.branch_b, reason="调动")
    assert roster(record(tree.district_a, "central_group_study")) == {"区委书记", "组织部长"}


def test_the_list_of_one_committee_is_not_the_default_of_another(tree, leaders):
    """DOMAIN_RULES 组织生活 中心组学习: each 党委 keeps its own list; local."""
    root: Organization = tree.root
    assert default_roster(root, "central_group_study").central_group_unset is True
