"""Which activities credit hours: the per-type table (defaults, subtree rules, the per-activity
override), the correcting rows a change of it appends (inline or by a job), and its pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from partyedu.core.choices import JobStatus
from partyedu.core.models import AuditLog, Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.conversion import activity_hours, study_part_hours
from partyedu.learning.jobs import CREDIT_RESYNC_KIND
from partyedu.learning.models import ActivityCreditRule, LearningHourEntry, MemberYearHours
from partyedu.learning.services import (
    activity_credit_rule_delete,
    activity_credit_rule_set,
    credit_rules,
)
from partyedu.study.models import Activity
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, attend, jobs_run, local, make_activity

pytestmark = pytest.mark.django_db
D = Decimal


def meeting(org: Any, activity_type: str, *, hours: float = 2, **fields: Any) -> Activity:
    activity = make_activity(org, activity_type=activity_type, hours=hours)
    if fields:
        Activity.objects.filter(pk=activity.pk).update(**fields)
        activity.refresh_from_db()
    return activity


def total(member: Any, year: int = 2026) -> Decimal:
    row = MemberYearHours.objects.filter(member=member, year=year).first()
    return row.total if row is not None else D("0")


def set_mode(org: Any, activity_type: str, mode: str, actor: Any = None) -> credit_rules.CreditRuleChange:
    with jobs_run():
        return activity_credit_rule_set(actor=actor, organization=org, activity_type=activity_type, mode=mode)


@pytest.fixture
def zhang(tree: Tree) -> Any:
    return make_member(tree.branch_a, "张三")


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("credit_admin", role="org_admin", org=tree.district_a)


# --- the defaults ---------------------------------------------------------------------------------


def test_branch_committee_attendance_credits_nothing_by_default(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours" (local): 支委会 — no."""
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    assert total(zhang) == 0
    assert not LearningHourEntry.objects.exists()
    assert_ledger_equals_rebuild()


def test_party_lecture_credits_by_time(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours" (local): 党课 — yes, by clock time."""
    attend(meeting(tree.branch_a, "party_lecture", hours=2), zhang)
    assert total(zhang) == D("2")


def test_branch_assembly_credits_its_study_part(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours" (local): 支部党员大会 — only the study part."""
    attend(meeting(tree.branch_a, "branch_assembly", hours=2, study_minutes=60), zhang)
    assert total(zhang) == D("1")
    line = LearningHourEntry.objects.get(member=zhang)
    assert line.description.endswith("（出席，计学习部分60分钟）")
    assert_ledger_equals_rebuild()


def test_branch_assembly_without_study_minutes_credits_nothing(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours" (local): no study part recorded counts 0."""
    attend(meeting(tree.branch_a, "branch_assembly", hours=2), zhang)
    assert total(zhang) == 0


def test_other_keeps_crediting_by_time(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 (local): 其他 is not in the list and keeps crediting as before the table."""
    attend(meeting(tree.branch_a, "other", hours=2), zhang)
    assert total(zhang) == D("2")


def test_study_part_uses_the_session_rounding() -> None:
    """DOMAIN_RULES 学时 "Conversion of time": minutes/60 to the half hour, 3.5–4.5 h = 4."""
    assert study_part_hours(45) == D("1")
    assert study_part_hours(40) == D("0.5")
    assert study_part_hours(230) == D("4")
    assert study_part_hours(None) == D("0")


def test_conversion_without_a_mode_applies_the_default_of_the_type() -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the default table when no rule is given."""
    from types import SimpleNamespace

    start = local(2026, 3, 1, 9)
    committee = SimpleNamespace(
        start=start, end=local(2026, 3, 1, 11), credited_hours=None, activity_type="branch_committee"
    )
    assert activity_hours(committee) == {}
    assert activity_hours(committee, mode="full") == {2026: D("2")}


# --- the per-activity override ----------------------------------------------------------------------


def test_credited_hours_override_a_type_that_credits_nothing(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the per-activity 认定学时 wins."""
    attend(meeting(tree.branch_a, "branch_committee", credited_hours=D("1.5")), zhang)
    assert total(zhang) == D("1.5")


def test_credited_hours_of_zero_override_a_type_that_credits(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": an explicit 0 wins over "by time"."""
    attend(meeting(tree.branch_a, "party_lecture", credited_hours=D("0")), zhang)
    assert total(zhang) == 0


def test_credited_hours_survive_a_table_change(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the override stands whatever the table."""
    attend(meeting(tree.branch_a, "party_lecture", credited_hours=D("3")), zhang)
    change = set_mode(tree.root, "party_lecture", "none")
    assert total(zhang) == D("3")
    assert change.attendance == 0
    assert LearningHourEntry.objects.count() == 1


# --- subtree rules --------------------------------------------------------------------------------


def test_a_subtree_rule_applies_below_it_not_beside_it(tree: Tree) -> None:
    """DOMAIN_RULES 学时 (every rule a default an org_admin can override for a subtree): the
    nearest rule up the tree wins."""
    set_mode(tree.branch_a, "branch_committee", "full")
    below = make_member(tree.group_a, "李四")
    beside = make_member(tree.branch_b, "王五")
    attend(meeting(tree.group_a, "branch_committee"), below)
    attend(meeting(tree.branch_b, "branch_committee"), beside)
    assert total(below) == D("2")
    assert total(beside) == 0
    assert_ledger_equals_rebuild()


def test_the_nearest_rule_wins_over_one_above(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时: nearest rule up the tree wins (a branch's rule over its district's)."""
    set_mode(tree.district_a, "party_lecture", "none")
    set_mode(tree.branch_a, "party_lecture", "full")
    attend(meeting(tree.branch_a, "party_lecture"), zhang)
    assert total(zhang) == D("2")


# --- changing the table ---------------------------------------------------------------------------


def test_a_change_appends_corrections_and_edits_no_row(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 (ledger append-only; 条例 第二十条 hours explained line by line): a
    change of the table re-derives the hours through correcting rows."""
    # given a 支委会 credited 2 hours under a branch's "full" rule, and a 党课
    set_mode(tree.branch_a, "branch_committee", "full")
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    attend(meeting(tree.branch_a, "party_lecture", hours=1), zhang)
    before = list(
        LearningHourEntry.objects.order_by("id").values_list("id", "hours", "version", "description")
    )
    assert total(zhang) == D("3")
    # when the rule goes back to "none"
    change = set_mode(tree.branch_a, "branch_committee", "none")
    # then one correcting row is appended, the first rows unchanged
    after = list(
        LearningHourEntry.objects.order_by("id").values_list("id", "hours", "version", "description")
    )
    assert after[: len(before)] == before
    assert [(hours, version) for _id, hours, version, _d in after[len(before) :]] == [(D("-2"), 2)]
    assert "学时认定调整" in after[-1][3] and "支委会不计学时" in after[-1][3]
    assert (change.attendance, change.rows, change.job) == (1, 1, None)
    assert total(zhang) == D("1")
    assert_ledger_equals_rebuild()


def test_removing_a_rule_restores_the_inherited_mode(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时: without its own rule a subtree follows the rule above (or the default)."""
    change = set_mode(tree.branch_a, "branch_committee", "full")
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    with jobs_run():
        removed = activity_credit_rule_delete(actor=None, rule=change.rule)
    assert removed.rows == 1
    assert total(zhang) == 0
    assert not ActivityCreditRule.objects.exists()
    assert_ledger_equals_rebuild()


def test_running_the_resync_twice_adds_nothing(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时 (ledger): re-deriving is idempotent."""
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    set_mode(tree.branch_a, "branch_committee", "full")
    count = LearningHourEntry.objects.count()
    tally = credit_rules.activity_credit_resync(
        actor=None, organization=tree.branch_a, activity_type="branch_committee"
    )
    assert (tally.attendance, tally.rows) == (1, 0)
    assert LearningHourEntry.objects.count() == count


def test_saving_the_same_mode_again_is_a_no_op(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时: a double submit writes, audits and re-derives nothing."""
    set_mode(tree.branch_a, "branch_committee", "full")
    audits = AuditLog.objects.count()
    change = set_mode(tree.branch_a, "branch_committee", "full")
    assert not change.changed
    assert AuditLog.objects.count() == audits


def test_a_rule_equal_to_the_inherited_mode_needs_no_resync(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时: a rule that changes nothing in force re-derives nothing."""
    attend(meeting(tree.branch_a, "party_lecture"), zhang)
    change = set_mode(tree.branch_a, "party_lecture", "full")
    assert change.changed and change.attendance == 0 and change.job is None


def test_the_change_is_audited(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (policy set by organisation departments, audited like every policy)."""
    set_mode(tree.branch_a, "branch_committee", "full", actor=admin)
    log = AuditLog.objects.filter(object_type="learning.activitycreditrule").latest("id")
    assert log.user == admin and log.action == "create"


def test_a_deeper_rule_keeps_its_subtree_out_of_the_change(tree: Tree) -> None:
    """DOMAIN_RULES 学时: nearest rule wins — a district's change leaves a branch with its own rule."""
    set_mode(tree.branch_a, "party_lecture", "full")
    kept = make_member(tree.group_a, "李四")
    changed = make_member(tree.branch_a, "赵六")  # at the district's own activity
    attend(meeting(tree.group_a, "party_lecture"), kept)
    attend(meeting(tree.district_a, "party_lecture"), changed)
    change = set_mode(tree.district_a, "party_lecture", "none")
    assert change.attendance == 1
    assert total(kept) == D("2") and total(changed) == 0
    assert_ledger_equals_rebuild()


def test_a_subtree_moved_under_another_parent_follows_its_new_rules(tree: Tree, zhang: Any) -> None:
    """DOMAIN_RULES 学时: the nearest rule up the tree wins — after a move, the new tree's."""
    from partyedu.organizations.services import organization_move

    set_mode(tree.district_a, "branch_committee", "full")
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    assert total(zhang) == D("2")
    with jobs_run():
        organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert total(zhang) == 0
    assert_ledger_equals_rebuild()


def test_changing_the_study_minutes_of_a_meeting_corrects_the_hours(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the study part follows the record."""
    from partyedu.study.services import activity_update

    member = make_member(tree.branch_a, "钱七")
    activity = meeting(tree.branch_a, "group_meeting", study_minutes=30)
    attend(activity, member)
    assert total(member) == D("0.5")
    activity_update(actor=admin, activity=activity, data={"study_minutes": 90})
    assert total(member) == D("1.5")
    assert_ledger_equals_rebuild()


def test_a_large_change_runs_as_a_job(tree: Tree, monkeypatch: Any, admin: Any) -> None:
    """DOMAIN_RULES 学时: many attendance rows are re-derived by a background job after commit."""
    monkeypatch.setattr(credit_rules, "CREDIT_INLINE_MAX", 2)
    members = [make_member(tree.branch_a, f"党员{n}") for n in range(3)]
    activity = meeting(tree.branch_a, "branch_committee")
    for member in members:
        attend(activity, member)
    change = set_mode(tree.district_a, "branch_committee", "full", actor=admin)
    assert change.job is not None and change.attendance == 0
    job = Job.objects.get(pk=change.job.pk)
    assert job.kind == CREDIT_RESYNC_KIND and job.status == JobStatus.SUCCEEDED
    assert job.result["attendance"] == 3 and job.result["rows"] == 3
    assert "追加更正学时记录3条" in job.result["summary"]
    assert all(total(m) == D("2") for m in members)
    assert LearningHourEntry.objects.filter(actor=admin).count() == 3
    assert_ledger_equals_rebuild()


def test_the_job_run_again_adds_nothing(tree: Tree, monkeypatch: Any) -> None:
    """DOMAIN_RULES 学时 (ledger): a job retried after a crash writes nothing twice."""
    from partyedu.core.jobs import run_job

    monkeypatch.setattr(credit_rules, "CREDIT_INLINE_MAX", 0)
    attend(meeting(tree.branch_a, "branch_committee"), make_member(tree.branch_a, "孙八"))
    change = set_mode(tree.branch_a, "branch_committee", "full")
    assert change.job is not None
    count = LearningHourEntry.objects.count()
    Job.objects.filter(pk=change.job.pk).update(status=JobStatus.QUEUED, finished_at=None)
    run_job(change.job.pk)
    assert LearningHourEntry.objects.count() == count


# --- who may change it ----------------------------------------------------------------------------


def test_a_branch_secretary_may_not_change_the_table(tree: Tree) -> None:
    """DOMAIN_RULES 学时 (local rules are set by org_admins — 组织部门 — for a subtree)."""
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        activity_credit_rule_set(
            actor=secretary, organization=tree.branch_a, activity_type="branch_committee", mode="full"
        )


def test_an_org_admin_may_not_change_the_table_outside_the_subtree(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时: a department sets policy for its own subtree only."""
    with pytest.raises(PermissionDenied):
        activity_credit_rule_set(actor=admin, organization=tree.branch_b, activity_type="other", mode="none")


def test_an_unknown_mode_is_refused(tree: Tree, admin: Any) -> None:
    with pytest.raises(ValidationError):
        activity_credit_rule_set(actor=admin, organization=tree.branch_a, activity_type="other", mode="half")


# --- pages ----------------------------------------------------------------------------------------


class TestCreditRulesScope(ScopedEndpointTests):
    url_name = "learning:credit_rules"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:credit_rules')}?organization={obj.pk}"


class TestCreditRuleSetScope(ScopedEndpointTests):
    url_name = "learning:credit_rule_set"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:credit_rule_set')}?organization={obj.pk}&activity_type=branch_committee"


def test_the_table_says_where_each_mode_comes_from(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时: the table in force — default, inherited or the organisation's own."""
    set_mode(tree.district_a, "branch_committee", "full")
    set_mode(tree.branch_a, "theme_day", "none")
    client.force_login(admin)
    html = client.get(f"{reverse('learning:credit_rules')}?organization={tree.branch_a.pk}").content.decode()
    committee = html.split('data-type="branch_committee"')[1].split("</tr>")[0]
    theme = html.split('data-type="theme_day"')[1].split("</tr>")[0]
    lecture = html.split('data-type="party_lecture"')[1].split("</tr>")[0]
    assert (
        "按时长计学时" in committee and "沿用“甲区委”的规定" in committee and "默认为：不计学时" in committee
    )
    assert "不计学时" in theme and "本组织规定" in theme
    assert "按时长计学时" in lecture and "默认" in lecture
    assert "修改" in committee


def test_the_table_lists_the_rules_below(client: Any, tree: Tree, admin: Any) -> None:
    set_mode(tree.group_a, "group_meeting", "full")
    client.force_login(admin)
    html = client.get(
        f"{reverse('learning:credit_rules')}?organization={tree.district_a.pk}"
    ).content.decode()
    below = html.split('data-testid="credit-below"')[1].split("</ul>")[0]
    assert "甲一第一党小组：党小组会按时长计学时" in below


def test_a_branch_secretary_sees_the_table_without_edit(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.get(f"{reverse('learning:credit_rules')}?organization={tree.branch_a.pk}")
    assert response.status_code == 200
    assert reverse("learning:credit_rule_set") not in response.content.decode()
    assert "由组织部门" in response.content.decode()


def test_a_branch_secretary_cannot_open_the_edit_page(client: Any, tree: Tree) -> None:
    """DOMAIN_RULES 学时: only organisation departments (policy) set the table."""
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    url = f"{reverse('learning:credit_rule_set')}?organization={tree.branch_a.pk}&activity_type=other"
    assert client.get(url).status_code == 403


def test_the_table_page_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, admin: Any, django_assert_max_num_queries: Any
) -> None:
    for org in (tree.root, tree.district_a, tree.branch_a, tree.group_a):
        set_mode(org, "branch_committee", "full")
        set_mode(org, "theme_day", "none")
    client.force_login(admin)
    # session, user, grants; the organisation; the table; the rules below; session save (up to 3),
    # and the picker's selected organisation. Whatever the number of rules.
    with django_assert_max_num_queries(12):
        response = client.get(f"{reverse('learning:credit_rules')}?organization={tree.district_a.pk}")
    assert response.status_code == 200


def test_setting_a_mode_on_the_page_corrects_the_hours(
    client: Any, tree: Tree, admin: Any, zhang: Any
) -> None:
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    client.force_login(admin)
    url = f"{reverse('learning:credit_rule_set')}?organization={tree.branch_a.pk}&activity_type=branch_committee"
    with jobs_run():
        response = client.post(url, {"mode": "full"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('learning:credit_rules')}?organization={tree.branch_a.pk}"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("追加更正学时记录1条" in m for m in messages)
    assert total(zhang) == D("2")


def test_choosing_the_rule_above_on_the_page_removes_the_own_rule(
    client: Any, tree: Tree, admin: Any, zhang: Any
) -> None:
    set_mode(tree.branch_a, "branch_committee", "full")
    attend(meeting(tree.branch_a, "branch_committee"), zhang)
    client.force_login(admin)
    url = f"{reverse('learning:credit_rule_set')}?organization={tree.branch_a.pk}&activity_type=branch_committee"
    page = client.get(url).content.decode()
    assert "按默认规定（不计学时）" in page
    with jobs_run():
        client.post(url, {"mode": "inherit"})
    assert not ActivityCreditRule.objects.exists()
    assert total(zhang) == 0


def test_a_large_change_on_the_page_leads_to_the_job(
    client: Any, tree: Tree, admin: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(credit_rules, "CREDIT_INLINE_MAX", 0)
    attend(meeting(tree.branch_a, "branch_committee"), make_member(tree.branch_a, "周九"))
    client.force_login(admin)
    url = f"{reverse('learning:credit_rule_set')}?organization={tree.branch_a.pk}&activity_type=branch_committee"
    with jobs_run():
        response = client.post(url, {"mode": "full"})
    job = Job.objects.get(kind=CREDIT_RESYNC_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.params["back_url"].endswith(f"?organization={tree.branch_a.pk}")
