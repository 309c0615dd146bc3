"""The recount after an hour requirement changed: a background job (``learning.requirement_recount``)
that counts the subtree's members under the new rule in set-based SQL (``recount.py``). Every
case ends with the summaries equal to a rebuild from the sources."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.choices import JobStatus
from partyedu.core.jobs import jobs_reap, run_job
from partyedu.core.models import AuditLog, Job
from partyedu.learning import recount
from partyedu.learning.jobs import RECOUNT_KIND
from partyedu.learning.models import HourRequirement, MemberRequirement, MemberYearHours
from partyedu.learning.selectors import (
    learning_summary_from_rows,
    learning_summary_live,
)
from partyedu.learning.services import (
    hour_requirement_delete,
    hour_requirement_set,
    learning_hours_record_manual,
)
from partyedu.members.models import Member
from partyedu.members.services import member_leave_roll, member_transfer, member_update
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, jobs_run

pytestmark = pytest.mark.django_db
D = Decimal


def hours(member: Member, amount: float, kind: str = "collective", year: int = 2026) -> None:
    learning_hours_record_manual(
        actor=None, member=member, year=year, kind=kind, hours=amount, description="测试学时"
    )


@pytest.fixture
def city(tree: Tree) -> dict[str, Member]:
    """Members of every requirement group, with hours on both sides of the thresholds."""
    m = {
        "done": make_member(tree.branch_a, "完成"),
        "mid": make_member(tree.branch_a, "三十四学时"),
        "short": make_member(tree.branch_a, "未完成"),
        "secretary": make_member(tree.branch_a, "书记", categories=["secretary"]),
        "no_training": make_member(tree.branch_a, "委员无集中培训", categories=["committee"]),
        "candidate": make_member(tree.branch_a, "发展对象", status="candidate"),
        "frail": make_member(
            tree.branch_a,
            "年老体弱",
            categories=["retired", "frail"],
            is_exempt=True,
            exempt_reason="年老体弱",
        ),
        "activist": make_member(tree.branch_a, "积极分子", status="activist"),
        "grouped": make_member(tree.group_a, "小组党员"),
        "other": make_member(tree.branch_b, "乙支部党员"),
        "frail_b": make_member(tree.branch_b, "乙支部免学", is_exempt=True, exempt_reason="重病"),
    }
    hours(m["done"], 40)
    hours(m["mid"], 34)
    hours(m["mid"], 32, year=2025)
    hours(m["short"], 10)
    hours(m["secretary"], 50)
    hours(m["secretary"], 8, "concentrated")
    hours(m["no_training"], 60)
    hours(m["candidate"], 30, "concentrated")
    hours(m["frail"], 40)
    hours(m["activist"], 10)
    hours(m["grouped"], 33)
    hours(m["other"], 31.5)
    return m


def set_rule(org: Any, **values: Any) -> Job | None:
    with jobs_run():
        change = hour_requirement_set(actor=None, organization=org, data=values)
    if change.job is not None:
        change.job.refresh_from_db()
    return change.job


def delete_rule(org: Any) -> Job | None:
    with jobs_run():
        change = hour_requirement_delete(
            actor=None, requirement=HourRequirement.objects.get(organization=org)
        )
    if change.job is not None:
        change.job.refresh_from_db()
    return change.job


def changed(job: Job | None) -> tuple[int, int]:
    assert job is not None and job.status == JobStatus.SUCCEEDED, job and job.error
    return job.result["members_changed"], job.result["completions_changed"]


def assert_consistent(tree: Tree) -> None:
    """The summaries equal a rebuild, and the rows the summary page reads equal the live query."""
    assert_ledger_equals_rebuild()
    viewer = make_user(role="org_admin", org=tree.root)
    for org in (tree.root, tree.district_a, tree.branch_a, tree.group_a, tree.district_b, tree.branch_b):
        for year in (2025, 2026):
            rows = learning_summary_from_rows(user=viewer, organization=org, year=year)
            live = learning_summary_live(user=None, organization=org, year=year)
            assert rows is not None
            assert (rows.members, rows.required_members, rows.completed, rows.exempt, rows.not_required) == (
                live.members,
                live.required_members,
                live.completed,
                live.exempt,
                live.not_required,
            )
            # and the breakdown by member category
            rows = learning_summary_from_rows(user=viewer, organization=org, year=year, by_category=True)
            assert rows is not None
            by_category = learning_summary_live(user=None, organization=org, year=year, by_category=True)
            assert rows.required_by_category == by_category.required_by_category
            assert rows.categories == by_category.categories


def required(member: Member) -> tuple[str, Decimal, bool]:
    state = MemberRequirement.objects.get(member=member)
    return state.group, state.required_hours, state.needs_concentrated


def completed(member: Member, year: int = 2026) -> bool:
    return MemberYearHours.objects.get(member=member, year=year).completed


# --- results ---------------------------------------------------------------------------------------


def test_a_root_rule_recounts_every_member_and_completion(tree: Tree, city: dict[str, Member]) -> None:
    job = set_rule(tree.root, general_hours=D("34"), cadre_hours=D("60"))
    # done, mid, short, grouped, other (general) and the two cadres; 三十四学时 still complete in
    # 2026 but not in 2025; 小组党员 (33) no longer; 书记 (58 < 60) no longer
    assert changed(job) == (7, 3)
    assert required(city["mid"]) == ("general", D("34"), False)
    assert required(city["secretary"]) == ("cadre", D("60"), True)
    assert (completed(city["mid"]), completed(city["mid"], 2025), completed(city["grouped"])) == (
        True,
        False,
        False,
    )
    assert not completed(city["secretary"])
    assert_consistent(tree)


def test_removing_the_rule_restores_the_defaults(tree: Tree, city: dict[str, Member]) -> None:
    set_rule(tree.root, general_hours=D("34"), cadre_hours=D("60"))
    assert changed(delete_rule(tree.root)) == (7, 3)
    assert required(city["mid"]) == ("general", D("32"), False)
    assert completed(city["mid"], 2025) and completed(city["grouped"]) and completed(city["secretary"])
    assert_consistent(tree)


def test_exempt_members_stay_apart_whatever_the_rule(tree: Tree, city: dict[str, Member]) -> None:
    before = learning_summary_from_rows(
        user=make_user(role="org_admin", org=tree.root), organization=tree.root, year=2026
    )
    job = set_rule(tree.root, general_hours=D("0"), cadre_hours=D("0"), cadre_needs_concentrated=False)
    # the general and cadre members now have no requirement (five of them had completed 2026 or
    # 2025); the exempt ones are unchanged
    assert changed(job) == (7, 5)
    assert required(city["frail"]) == ("exempt", D("0"), False)
    assert required(city["done"]) == ("none", D("0"), False)
    after = learning_summary_from_rows(
        user=make_user(role="org_admin", org=tree.root), organization=tree.root, year=2026
    )
    assert before is not None and after is not None
    assert (before.exempt, after.exempt) == (2, 2)
    # the candidate is on the roll with no annual requirement (the candidate period counts)
    assert (after.required_members, after.not_required, after.completed) == (0, 8, 0)
    assert not completed(city["frail"])
    assert_consistent(tree)


def test_a_candidate_rule_of_zero_moves_candidates_out_and_back(tree: Tree, city: dict[str, Member]) -> None:
    # the requirement moves; no yearly completion does (发展对象 are counted over the candidate period)
    assert changed(set_rule(tree.branch_a, candidate_hours=D("0"))) == (1, 0)
    assert required(city["candidate"]) == ("none", D("0"), False)
    assert_consistent(tree)
    assert changed(set_rule(tree.branch_a, candidate_hours=D("24"))) == (1, 0)
    assert required(city["candidate"]) == ("candidate", D("24"), False)
    assert_consistent(tree)


def test_nested_rules_at_district_and_branch(tree: Tree, city: dict[str, Member]) -> None:
    # the branch's own rule: its members and its group's
    assert changed(set_rule(tree.branch_a, general_hours=D("30"))) == (4, 0)  # complete under 32 already
    assert required(city["grouped"])[1] == D("30")
    # a district rule above it changes nothing below the branch's own rule
    assert changed(set_rule(tree.district_a, general_hours=D("36"))) == (0, 0)
    # the root's rule reaches only members without a nearer rule: 乙支部党员
    assert changed(set_rule(tree.root, general_hours=D("31"))) == (1, 1)
    assert (required(city["other"])[1], completed(city["other"])) == (D("31"), True)
    assert required(city["done"])[1] == D("30")
    assert_consistent(tree)
    # without the branch's rule, the district's applies to the branch
    # 三十四学时 (34, and 32 in 2025) and 小组党员 (33) are short of 36
    assert changed(delete_rule(tree.branch_a)) == (4, 3)
    assert required(city["grouped"])[1] == D("36")
    assert (completed(city["mid"]), completed(city["mid"], 2025), completed(city["done"])) == (
        False,
        False,
        True,
    )
    assert_consistent(tree)
    # and without the district's, the root's
    assert changed(delete_rule(tree.district_a)) == (4, 3)
    assert required(city["short"])[1] == D("31")
    assert_consistent(tree)


def test_a_batch_at_a_time_gives_the_same_result(tree: Tree, city: dict[str, Member]) -> None:
    HourRequirement.objects.create(organization=tree.root, general_hours=34, cadre_hours=60)
    tally = recount.requirements_recount(path=tree.root.path, batch_members=2)
    assert (tally.members_changed, tally.completions_changed) == (7, 3)
    assert_consistent(tree)
    # again: nothing left to change
    again = recount.requirements_recount(path=tree.root.path, batch_members=3)
    assert (again.members_changed, again.completions_changed) == (0, 0)


def test_members_the_hook_did_not_count_are_counted_by_the_recount(
    tree: Tree, city: dict[str, Member], monkeypatch: Any
) -> None:
    # written by something that does not call the learning hook (a bulk loader)
    monkeypatch.setattr("partyedu.members.services._learning_members_changed", lambda ids: None)
    newcomer = make_member(tree.branch_b, "新党员")
    member_transfer(actor=None, member=city["done"], to_organization=tree.branch_b, reason="工作调动")
    member_update(actor=None, member=city["short"], data={"status": "suspended"})
    member_leave_roll(actor=None, member=city["activist"], reason="出国定居")
    monkeypatch.undo()
    job = set_rule(tree.root, general_hours=D("33"))
    assert job is not None and job.status == JobStatus.SUCCEEDED
    assert required(newcomer) == ("general", D("33"), False)
    assert MemberRequirement.objects.get(member=city["done"]).organization == tree.branch_b
    assert required(city["short"]) == ("none", D("0"), False)
    assert not MemberRequirement.objects.filter(member=city["activist"]).exists()
    assert_consistent(tree)


# --- what a save does ----------------------------------------------------------------------------


def test_saving_the_same_values_is_a_no_op(
    tree: Tree, city: dict[str, Member], django_assert_max_num_queries: Any
) -> None:
    set_rule(tree.root, general_hours=D("34"))
    audits = AuditLog.objects.count()
    # the scope checks are skipped for the system actor: the rule (locked) and the starter's
    # unfinished recount, in a savepoint
    with django_assert_max_num_queries(4):
        change = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": "34"})
    assert (change.changed, change.job) == (False, None)
    assert AuditLog.objects.count() == audits
    assert Job.objects.filter(kind=RECOUNT_KIND).count() == 1


def test_a_change_of_the_daily_online_cap_alone_needs_no_recount(tree: Tree, city: dict[str, Member]) -> None:
    set_rule(tree.root, general_hours=D("34"))
    with jobs_run():
        change = hour_requirement_set(
            actor=None, organization=tree.root, data={"online_daily_cap_minutes": 60}
        )
    assert change.changed and change.job is None
    assert HourRequirement.objects.get(organization=tree.root).online_daily_cap_minutes == 60
    assert AuditLog.objects.filter(changes__online_daily_cap_minutes__isnull=False).exists()


def test_a_rule_equal_to_the_inherited_one_needs_no_recount(tree: Tree, city: dict[str, Member]) -> None:
    change = hour_requirement_set(actor=None, organization=tree.branch_a, data={"general_hours": D("32")})
    assert change.changed and change.job is None
    assert HourRequirement.objects.filter(organization=tree.branch_a).exists()


def test_the_rule_stands_at_once_and_the_recount_follows(tree: Tree, city: dict[str, Member]) -> None:
    change = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": D("34")})
    # before the commit: the rule is saved, the members are not counted yet
    assert change.job is not None and change.job.status == JobStatus.QUEUED
    assert required(city["mid"])[1] == D("32")
    run_job(change.job.pk)
    assert required(city["mid"])[1] == D("34")
    assert_consistent(tree)


# --- the job ---------------------------------------------------------------------------------------


def test_the_job_reports_its_progress_and_outcome(tree: Tree, city: dict[str, Member]) -> None:
    job = set_rule(tree.branch_a, general_hours=D("36"))
    assert job is not None
    assert (job.status, job.kind, job.label) == (
        JobStatus.SUCCEEDED,
        RECOUNT_KIND,
        "按学时要求重新核算“甲一支部”",
    )
    assert (job.done, job.total) == (9, 9)  # the active members of the subtree
    assert job.result == {
        "members_changed": 4,
        "completions_changed": 3,
        "summary": "已按现行学时要求核算“甲一支部”及下级党员；4名党员适用的学时要求随之调整；3人次的年度达标情况随之改变",
    }


def test_a_save_while_the_recount_runs_queues_another(tree: Tree, city: dict[str, Member]) -> None:
    first = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": D("34")}).job
    assert first is not None
    Job.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    # the running job may have read the rules already: this change gets its own recount
    second = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": D("36")}).job
    assert second is not None and second.pk != first.pk and second.key == f"{first.key}#2"
    # a third change while the second waits joins it
    third = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": D("30")}).job
    assert third is not None and third.pk == second.pk
    run_job(second.pk)
    assert required(city["mid"])[1] == D("30")


def test_a_rule_changed_during_the_recount_is_counted_too(
    tree: Tree, city: dict[str, Member], monkeypatch: Any
) -> None:
    HourRequirement.objects.create(organization=tree.root, general_hours=34)
    batch = recount._recount_batch
    calls: list[Any] = []

    def batch_then_change(*args: Any) -> Any:
        result = batch(*args)
        if not calls:
            # committed by another request after the recount read the rules
            HourRequirement.objects.filter(organization=tree.root).update(general_hours=36)
        calls.append(args)
        return result

    monkeypatch.setattr(recount, "_recount_batch", batch_then_change)
    recount.requirements_recount(path=tree.root.path, batch_members=4)
    assert required(city["mid"])[1] == D("36")
    assert_consistent(tree)


class Crash(BaseException):
    """The worker process dying in the middle of the job."""


def test_a_job_retried_after_a_crash_gives_the_same_outcome(
    tree: Tree, city: dict[str, Member], monkeypatch: Any
) -> None:
    job = hour_requirement_set(actor=None, organization=tree.root, data={"general_hours": D("34")}).job
    assert job is not None
    monkeypatch.setattr(recount, "BATCH_MEMBERS", 3)
    batch = recount._recount_batch
    calls = []

    def crash_on_the_third(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 3:
            raise Crash
        return batch(*args)

    monkeypatch.setattr(recount, "_recount_batch", crash_on_the_third)
    with pytest.raises(Crash):
        run_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.result["members_changed"] > 0  # two batches done
    monkeypatch.setattr(recount, "_recount_batch", batch)
    # the worker's heartbeat stops; the reaper queues the job again and another worker runs it
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs_reap(job_ids=[job.pk]) == 1
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    # as an uninterrupted run: general members done, mid, short, grouped, other; 小组党员 (33)
    # and 三十四学时's 2025 no longer complete
    assert (job.result["members_changed"], job.result["completions_changed"]) == (5, 2)
    assert_consistent(tree)


def test_the_job_of_a_deleted_organisation_fails_readably(tree: Tree) -> None:
    from partyedu.core.jobs import job_enqueue

    job = job_enqueue(actor=None, kind=RECOUNT_KIND, params={"organization": 999_999})
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "该党组织已不存在，无需核算")
