from decimal import Decimal

import pytest
from django.http import Http404

from partyedu.learning.models import HourRequirement, OrgRequirementCounts
from partyedu.learning.selectors import (
    learning_short_list,
    learning_summary,
    learning_summary_live,
    member_learning_hours,
    member_requirement,
)
from partyedu.learning.services import (
    hour_requirement_delete,
    hour_requirement_set,
    learning_hours_record_manual,
    learning_members_changed,
)
from partyedu.members.models import Member
from partyedu.members.services import member_update
from partyedu.testsupport.factories import make_member, make_org, make_user

from .factories import assert_ledger_equals_rebuild, attend, jobs_run, make_activity

D = Decimal


def hours_for(member, kind="collective", hours=32, year=2026):
    return learning_hours_record_manual(
        actor=None, member=member, year=year, kind=kind, hours=hours, description="测试学时"
    )


@pytest.fixture
def admin(tree):
    return make_user("root_admin", role="org_admin", org=tree.root)


# --- the rule for each member --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "group", "hours", "needs"),
    [
        ({}, "general", 32, False),
        ({"status": "probationary"}, "general", 32, False),
        ({"categories": ["employed", "secretary"]}, "cadre", 56, True),
        ({"categories": ["committee"]}, "cadre", 56, True),
        ({"status": "candidate"}, "candidate", 24, False),
        ({"is_exempt": True, "exempt_reason": "年老体弱", "categories": ["frail"]}, "exempt", 0, False),
        ({"status": "activist"}, "none", 0, False),
        ({"status": "suspended"}, "none", 0, False),
    ],
)
def test_requirement_by_status_and_category(tree, data, group, hours, needs):
    member = make_member(tree.branch_a, **data)
    req = member_requirement(member)
    assert (req.group, req.required_hours, req.needs_concentrated) == (group, D(hours), needs)


def test_a_subtree_rule_overrides_the_defaults(tree):
    HourRequirement.objects.create(organization=tree.district_a, general_hours=40, cadre_hours=60)
    assert member_requirement(make_member(tree.group_a)).required_hours == D(40)
    assert member_requirement(make_member(tree.branch_b)).required_hours == D(32)


def test_the_nearest_rule_wins(tree):
    HourRequirement.objects.create(organization=tree.root, general_hours=30)
    HourRequirement.objects.create(organization=tree.branch_a, general_hours=36)
    assert member_requirement(make_member(tree.branch_a)).required_hours == D(36)
    assert member_requirement(make_member(tree.branch_b)).required_hours == D(30)


# --- my hours ------------------------------------------------------------------------------------


def test_general_member_hours(tree, admin):
    member = make_member(tree.branch_a)
    attend(make_activity(tree.branch_a, hours=2), member)
    attend(make_activity(tree.branch_a, activity_type="training_session", hours=8), member)
    hours_for(member, "self", 3)
    result = member_learning_hours(user=admin, member=member, year=2026)
    assert result.required == D(32)
    assert result.earned == D(13)
    assert result.by_kind == {"concentrated": D(8), "collective": D(2), "online": D(0), "self": D(3)}
    assert result.counted == D(10)  # 自学 is shown apart by default
    assert result.missing == D(22)
    assert not result.exempt
    assert not result.completed
    assert result.entries[0].source == "2026-03-15 主题党日：学习二十届三中全会精神（出席）"


def test_secretary_needs_a_concentrated_training(tree, admin):
    member = make_member(tree.branch_a, categories=["secretary"])
    hours_for(member, "collective", 56)
    result = member_learning_hours(user=admin, member=member, year=2026)
    assert result.missing == 0
    assert not result.concentrated_ok
    assert not result.completed
    hours_for(member, "concentrated", 8)
    assert member_learning_hours(user=admin, member=member, year=2026).completed


def test_candidate_counts_concentrated_hours_only(tree, admin):
    member = make_member(tree.branch_a, status="candidate")
    hours_for(member, "collective", 30)
    hours_for(member, "concentrated", 16)
    result = member_learning_hours(user=admin, member=member, year=2026)
    # No annual requirement: the 24 学时 are counted over the candidate period (learning.candidates).
    assert result.required == D(0)
    assert result.counted == D(16)
    assert result.missing == D(0)


def test_exempt_member_is_reported_apart(tree, admin):
    member = make_member(tree.branch_a, is_exempt=True, exempt_reason="重病")
    result = member_learning_hours(user=admin, member=member, year=2026)
    assert result.exempt
    assert result.missing == 0
    assert not result.completed


def test_a_member_sees_own_hours_only(tree):
    own_user = make_user(role="member", org=tree.branch_a)
    member = make_member(tree.branch_a)
    Member.objects.filter(pk=member.pk).update(user=own_user)
    member.refresh_from_db()
    other = make_member(tree.branch_a, "李四")
    assert member_learning_hours(user=own_user, member=member, year=2026).required == D(32)
    with pytest.raises(Http404):
        member_learning_hours(user=own_user, member=other, year=2026)


def test_member_hours_take_two_queries(tree, admin, django_assert_num_queries):
    member = make_member(tree.branch_a)
    attend(make_activity(tree.branch_a), member)
    admin.refresh_from_db()
    member_learning_hours(user=admin, member=member, year=2026)  # loads the admin's grants
    with django_assert_num_queries(2):
        member_learning_hours(user=admin, member=member, year=2026)


# --- completion of a subtree ----------------------------------------------------------------------


@pytest.fixture
def population(tree):
    """branch_a: 2 general (1 complete), 1 secretary (complete), 1 candidate (short), 1 exempt,
    1 activist; group_a: 1 general (complete); branch_b: 1 general (short)."""
    done = make_member(tree.branch_a, "完成甲")
    short = make_member(tree.branch_a, "未完成甲")
    secretary = make_member(tree.branch_a, "书记", categories=["secretary"])
    candidate = make_member(tree.branch_a, "发展对象", status="candidate")
    make_member(tree.branch_a, "免学", is_exempt=True, exempt_reason="年老体弱")
    make_member(tree.branch_a, "积极分子", status="activist")
    grouped = make_member(tree.group_a, "小组完成")
    other = make_member(tree.branch_b, "乙支部")
    hours_for(done)
    hours_for(short, hours=10)
    hours_for(secretary, "collective", 50)
    hours_for(secretary, "concentrated", 8)
    hours_for(candidate, "collective", 40)
    hours_for(grouped, "collective", 32)
    hours_for(other, hours=31.5)
    # what the member services do once they call the hook
    learning_members_changed(member_ids=Member.objects.values_list("pk", flat=True))
    return {"done": done, "short": short, "candidate": candidate, "other": other}


def numbers(summary):
    return (
        summary.members,
        summary.required_members,
        summary.completed,
        summary.exempt,
        summary.completion_rate,
    )


def test_summary_of_a_small_tree(tree, admin, population):
    root = learning_summary(user=admin, organization=tree.root, year=2026)
    # The 发展对象 is on the roll but has no annual requirement (their training runs over the
    # candidate period): 5 required, 3 complete.
    assert numbers(root) == (8, 5, 3, 1, 0.6)
    assert root.not_required == 1
    branch = learning_summary(user=admin, organization=tree.branch_a, year=2026)
    assert numbers(branch) == (7, 4, 3, 1, 0.75)
    assert {g: (c.members, c.completed) for g, c in branch.groups.items()} == {
        "general": (3, 2),
        "cadre": (1, 1),
    }
    other_year = learning_summary(user=admin, organization=tree.root, year=2025)
    assert numbers(other_year) == (8, 5, 0, 1, 0.0)


def test_summary_rows_agree_with_the_live_query(tree, admin, population):
    for org in (tree.root, tree.district_a, tree.branch_a, tree.group_a, tree.branch_b):
        summary = learning_summary(user=admin, organization=org, year=2026)
        assert summary.source == "summary"
        assert numbers(summary) == numbers(learning_summary_live(user=None, organization=org, year=2026))


def test_summary_by_category(tree, admin, population):
    summary = learning_summary(user=admin, organization=tree.root, year=2026, by_category=True)
    assert summary.categories["secretary"].members == 1
    assert summary.categories["secretary"].completed == 1


def test_member_service_keeps_the_summary_in_step(tree, admin, population):
    make_member(tree.branch_b, "新党员")
    summary = learning_summary(user=admin, organization=tree.root, year=2026)
    assert summary.source == "summary"
    assert numbers(summary) == (9, 6, 3, 1, 0.5)


def test_summary_falls_back_to_members_it_does_not_count(tree, admin, population, monkeypatch):
    # a member written by something that does not tell the learning summaries (a bulk loader)
    monkeypatch.setattr("partyedu.members.services._learning_members_changed", lambda ids: None)
    make_member(tree.branch_b, "新党员")
    summary = learning_summary(user=admin, organization=tree.root, year=2026)
    assert summary.source == "live"
    assert numbers(summary) == (9, 6, 3, 1, 0.5)


def test_member_change_is_counted_after_the_hook(tree, admin, population):
    member = member_update(
        actor=None, member=population["short"], data={"is_exempt": True, "exempt_reason": "重病"}
    )
    learning_members_changed(member_ids=[member.pk])
    summary = learning_summary(user=admin, organization=tree.root, year=2026)
    assert summary.source == "summary"
    assert numbers(summary) == (8, 4, 3, 2, 0.75)
    assert_ledger_equals_rebuild()


def test_a_rule_change_recounts_the_subtree(tree, admin, population):
    with jobs_run():
        hour_requirement_set(actor=admin, organization=tree.branch_b, data={"general_hours": D(30)})
    summary = learning_summary(user=admin, organization=tree.root, year=2026)
    assert summary.source == "summary"
    assert summary.completed == 4
    assert_ledger_equals_rebuild()
    with jobs_run():
        hour_requirement_delete(
            actor=admin, requirement=HourRequirement.objects.get(organization=tree.branch_b)
        )
    assert learning_summary(user=admin, organization=tree.root, year=2026).completed == 3
    assert_ledger_equals_rebuild()


def test_summary_outside_scope_is_404(tree, population):
    admin_b = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(Http404):
        learning_summary(user=admin_b, organization=tree.district_a, year=2026)
    with pytest.raises(Http404):
        learning_summary(user=admin_b, organization=tree.root, year=2026)


def test_summary_from_rows_takes_two_queries(tree, admin, population, django_assert_num_queries):
    learning_summary(user=admin, organization=tree.root, year=2026)
    with django_assert_num_queries(2):
        learning_summary(user=admin, organization=tree.root, year=2026)


def test_live_summary_is_one_grouped_query(tree, admin, population, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the rules above, the rules inside, the members
        learning_summary_live(user=None, organization=tree.root, year=2026)


def test_live_summary_applies_each_subtrees_rule(tree, admin, population):
    HourRequirement.objects.create(organization=tree.branch_b, general_hours=30)
    HourRequirement.objects.create(organization=tree.group_a, general_hours=40)
    live = learning_summary_live(user=None, organization=tree.root, year=2026)
    assert live.completed == 3  # branch_b's member now complete (31.5 ≥ 30), group_a's not (32 < 40)
    learning_members_changed(member_ids=Member.objects.values_list("pk", flat=True))
    assert numbers(learning_summary(user=admin, organization=tree.root, year=2026)) == numbers(live)


def test_short_list(tree, admin, population):
    short = learning_short_list(user=admin, organization=tree.root, year=2026)
    rows = {m.name: (m.lh_group, m.lh_required, m.lh_missing) for m in short}
    assert rows == {
        # The 发展对象 is listed on 发展对象培训情况, by the candidate period, not here.
        "未完成甲": ("general", D(32), D(22)),
        "乙支部": ("general", D(32), D("0.5")),
    }


def test_new_org_appears_in_summary_rows(tree, admin):
    branch = make_org(tree.district_b, "乙二支部")
    member = make_member(branch)
    hours_for(member)
    assert OrgRequirementCounts.objects.filter(organization=branch).exists()
    summary = learning_summary(user=admin, organization=tree.district_b, year=2026)
    assert (summary.source, summary.members, summary.completed) == ("summary", 1, 1)


def short_rows(queryset):
    return sorted((m.name, m.lh_group, m.lh_required, m.lh_total, m.lh_missing) for m in queryset)


def test_short_list_from_states_equals_the_live_list(tree, admin, population):
    from partyedu.learning.choices import REQUIRED_GROUPS
    from partyedu.learning.selectors import members_with_requirement

    live = members_with_requirement(user=admin, organization=tree.root, year=2026).filter(
        lh_group__in=[g.value for g in REQUIRED_GROUPS],  # type: ignore[misc]  # django-stubs: __in on an annotation
        lh_ok=0,
    )
    from_states = learning_short_list(user=admin, organization=tree.root, year=2026)
    assert "learning_memberrequirement" in str(from_states.query)
    assert short_rows(from_states) == short_rows(live)


def test_short_list_includes_members_the_summaries_do_not_count_yet(tree, admin, population):
    make_member(tree.branch_b, "新党员")
    names = {m.name for m in learning_short_list(user=admin, organization=tree.root, year=2026)}
    assert "新党员" in names


def test_org_move_moves_the_learning_counts(tree, admin, population):
    from partyedu.organizations.services import organization_move

    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    district_b = learning_summary(user=admin, organization=tree.district_b, year=2026)
    assert district_b.source == "summary"
    assert (district_b.members, district_b.completed) == (8, 3)
    assert learning_summary(user=admin, organization=tree.district_a, year=2026).members == 0
    assert_ledger_equals_rebuild()


def test_requirement_change_needs_scope_and_valid_hours(tree):
    from django.core.exceptions import PermissionDenied, ValidationError

    admin_b = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        hour_requirement_set(actor=admin_b, organization=tree.branch_a, data={"general_hours": D(30)})
    with pytest.raises(ValidationError) as exc:
        hour_requirement_set(actor=admin_b, organization=tree.branch_b, data={"general_hours": D(-1)})
    assert "general_hours" in exc.value.message_dict
    with pytest.raises(ValidationError):
        hour_requirement_set(actor=admin_b, organization=tree.branch_b, data={"organization": tree.root})


def test_short_list_export_is_audited_and_has_no_personal_data(tree, admin, population):
    from io import BytesIO

    from openpyxl import load_workbook

    from partyedu.core.models import AuditLog
    from partyedu.learning.services import learning_short_export

    content = learning_short_export(actor=admin, organization=tree.root, year=2026)
    sheet = load_workbook(BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "姓名",
        "所在党组织",
        "要求类别",
        "应修学时",
        "已修学时（计入要求）",
        "本年共学学时",
        "还差学时",
        "说明",
    )
    assert ("未完成甲", "甲一支部", "党员", 32, 10, 10, 22) in [r[:7] for r in rows]
    assert len(rows) == 3
    log = AuditLog.objects.get(action="export")
    assert log.changes["rows"] == 2


def test_short_list_export_needs_the_export_action(tree, population):
    from django.core.exceptions import PermissionDenied

    from partyedu.learning.services import learning_short_export

    with pytest.raises(PermissionDenied):
        learning_short_export(
            actor=make_user(role="member", org=tree.root), organization=tree.root, year=2026
        )


def test_a_rule_without_candidate_hours_moves_candidates_out_of_the_required(tree, admin, population):
    with jobs_run():
        hour_requirement_set(actor=admin, organization=tree.branch_a, data={"candidate_hours": D(0)})
    summary = learning_summary(user=admin, organization=tree.root, year=2026)
    assert summary.source == "summary"
    assert (summary.required_members, summary.not_required, summary.completed) == (5, 2, 3)
    assert numbers(summary) == numbers(learning_summary_live(user=None, organization=tree.root, year=2026))
    assert_ledger_equals_rebuild()


def categories_of(summary):
    return (
        {c: (n.members, n.completed) for c, n in summary.categories.items() if n.members},
        {c: n for c, n in summary.required_by_category.items() if n},
    )


@pytest.fixture
def categorised(tree, population):
    """The population with categories: a retired member, a farmer who is also a committee
    member (cadre), and the frail exempt member."""
    for name, categories in (
        ("完成甲", ["retired"]),
        ("未完成甲", ["farmer", "committee"]),
        ("免学", ["frail"]),
    ):
        member = Member.objects.get(name=name)
        member_update(actor=None, member=member, data={"categories": categories})
    return population


def test_categories_from_the_summary_rows_agree_with_the_live_query(tree, admin, categorised):
    for org in (tree.root, tree.district_a, tree.branch_a, tree.branch_b):
        summary = learning_summary(user=admin, organization=org, year=2026, by_category=True)
        assert summary.source == "summary"
        live = learning_summary_live(user=None, organization=org, year=2026, by_category=True)
        assert categories_of(summary) == categories_of(live)
    root = learning_summary(user=admin, organization=tree.root, year=2026, by_category=True)
    assert categories_of(root)[0]["committee"] == (1, 0) and categories_of(root)[0]["frail"] == (1, 0)


def test_categories_follow_a_rule_change(tree, admin, categorised):
    with jobs_run():
        hour_requirement_set(actor=admin, organization=tree.branch_a, data={"general_hours": D(10)})
    summary = learning_summary(user=admin, organization=tree.root, year=2026, by_category=True)
    live = learning_summary_live(user=None, organization=tree.root, year=2026, by_category=True)
    assert categories_of(summary) == categories_of(live)
    assert summary.categories["retired"].completed == 1


def test_categories_from_the_summary_rows_take_four_queries(
    tree, admin, categorised, django_assert_num_queries
):
    learning_summary(user=admin, organization=tree.root, year=2026)
    with django_assert_num_queries(4):  # the two summary rows and the two by category
        learning_summary(user=admin, organization=tree.root, year=2026, by_category=True)


def assert_categories_match_live(tree, admin):
    for org in (tree.root, tree.district_a, tree.district_b, tree.branch_a, tree.branch_b, tree.group_a):
        org.refresh_from_db()  # a move rewrites paths
        rows = learning_summary(user=admin, organization=org, year=2026, by_category=True)
        live = learning_summary_live(user=None, organization=org, year=2026, by_category=True)
        assert categories_of(rows) == categories_of(live), org.name


def test_categories_follow_member_changes_transfers_and_moves(tree, categorised):
    from partyedu.members.services import member_leave_roll, member_transfer
    from partyedu.organizations.services import organization_move

    root_admin = make_user(role="org_admin", org=tree.root)
    member_update(
        actor=None, member=Member.objects.get(name="完成甲"), data={"categories": ["retired", "farmer"]}
    )
    member_transfer(
        actor=None,
        member=Member.objects.get(name="未完成甲"),
        to_organization=tree.branch_b,
        reason="工作调动",
    )
    member_leave_roll(actor=None, member=Member.objects.get(name="书记"), reason="出国定居")
    assert_categories_match_live(tree, root_admin)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert_categories_match_live(tree, root_admin)
    assert_ledger_equals_rebuild()


def test_categories_follow_hours_that_complete_a_requirement(tree, admin, categorised):
    hours_for(Member.objects.get(name="未完成甲"), hours=50)  # a committee member: 56 needed
    hours_for(Member.objects.get(name="未完成甲"), "concentrated", 8)
    summary = learning_summary(user=admin, organization=tree.root, year=2026, by_category=True)
    assert summary.categories["committee"].completed == 1
    assert categories_of(summary) == categories_of(
        learning_summary_live(user=None, organization=tree.root, year=2026, by_category=True)
    )
    assert_ledger_equals_rebuild()


def test_the_rebuild_repairs_the_counts_by_category(tree, categorised):
    from partyedu.learning.models import OrgCategoryCounts, OrgYearCategoryCompletion
    from partyedu.learning.services import learning_hours_rebuild

    OrgCategoryCounts.objects.filter(organization=tree.root, category="retired").update(members=9)
    OrgYearCategoryCompletion.objects.filter(organization=tree.branch_a).delete()
    report = learning_hours_rebuild(apply=False)
    assert report.summaries >= 2 and any("类别" in line for line in report.samples)
    learning_hours_rebuild(apply=True)
    assert_ledger_equals_rebuild()
