"""The 学时台账与汇总 rebuild on the 系统维护 page: 检查 reports a broken summary and changes
nothing; 修复 repairs it (and appends ledger corrections, never edits a line); a second run then
finds nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.choices import JobStatus
from partyedu.core.maintenance import rebuild_get
from partyedu.core.models import Job
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, attend, make_activity

pytestmark = pytest.mark.django_db

URL = reverse("core:maintenance_start", args=["learning.hours"])


@pytest.fixture
def sysadmin(tree: Tree) -> Any:
    return make_user(role="sysadmin", org=tree.root)


@pytest.fixture
def member(tree: Tree) -> Any:
    member = make_member(tree.branch_a, "张学时")
    attend(make_activity(tree.branch_a), member)
    return member


def run(client: Any, mode: str, capture: Any) -> Job:
    with capture(execute=True):
        client.post(URL, {"mode": mode})
    job = Job.objects.order_by("-created_at").first()
    assert job is not None and job.status == JobStatus.SUCCEEDED, job and job.error
    return job


def counts(job: Job) -> dict[str, int]:
    return {row["label"]: row["count"] for row in job.result["counts"]}


def test_the_rebuild_is_registered_by_the_learning_app() -> None:
    rebuild = rebuild_get("learning.hours")
    assert rebuild is not None and rebuild.label == "学时台账与汇总"


def test_check_reports_a_broken_summary_and_changes_nothing(
    client: Any, sysadmin: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a yearly summary that no longer matches the ledger
    MemberYearHours.objects.filter(member=member).update(total=99)
    client.force_login(sysadmin)

    # when
    job = run(client, "check", django_capture_on_commit_callbacks)

    # then
    assert counts(job)["年度学时汇总与台账不符（条）"] == 1
    assert job.result["found"] >= 1 and job.result["fixed"] == 0
    assert "未作修改" in job.result["summary"]
    assert MemberYearHours.objects.get(member=member).total == Decimal("99")


def test_apply_repairs_the_summary_and_a_second_check_finds_nothing(
    client: Any, sysadmin: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    MemberYearHours.objects.filter(member=member).update(total=99)
    client.force_login(sysadmin)

    job = run(client, "apply", django_capture_on_commit_callbacks)
    assert counts(job)["年度学时汇总与台账不符（条）"] == 1
    assert job.result["fixed"] == job.result["found"] >= 1
    assert MemberYearHours.objects.get(member=member).total == Decimal("2")

    again = run(client, "check", django_capture_on_commit_callbacks)
    assert again.result["found"] == 0
    assert "0处差异" in again.result["summary"]
    assert_ledger_equals_rebuild()


def test_apply_corrects_the_ledger_by_appending_once(
    client: Any, tree: Tree, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given: attendance changed behind the services' back (the ledger still credits it)
    member = make_member(tree.branch_a, "李学时")
    row = attend(make_activity(tree.branch_a), member)
    Attendance.objects.filter(pk=row.pk).update(status="leave")
    client.force_login(sysadmin)

    check = run(client, "check", django_capture_on_commit_callbacks)
    assert counts(check)["学时台账与来源不符（处）"] == 1
    assert LearningHourEntry.objects.count() == 1

    run(client, "apply", django_capture_on_commit_callbacks)
    run(client, "apply", django_capture_on_commit_callbacks)  # a repeated repair appends nothing more
    assert LearningHourEntry.objects.count() == 2
    assert_ledger_equals_rebuild()


def test_the_job_reports_the_rebuild_steps(
    client: Any, sysadmin: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)
    job = run(client, "check", django_capture_on_commit_callbacks)
    assert (job.done, job.total) == (4, 4)
