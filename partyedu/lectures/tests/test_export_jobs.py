"""A long duty list and a long statistics workbook are exported by a background job: the view
decides from stored counts (the subtree's members, the duty list's summary count) or the number
of child organisations (the statistics), the job re-checks the export scope when it runs
and keeps the same file the direct download gives."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.accounts.services import role_revoke
from partyedu.core.choices import AuditAction, JobStatus
from partyedu.core.models import AuditLog, Job
from partyedu.lectures.jobs import DUTY_EXPORT_KIND, STATS_EXPORT_KIND, duty_export_rows
from partyedu.lectures.services import lecture_duty_export, lecture_stats_export
from partyedu.testsupport.factories import Tree, make_member

from .conftest import at, lecture, lecturer, party_lecture

pytestmark = pytest.mark.django_db
YEAR = 2025


def workbook_rows(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


@pytest.fixture
def duty(tree: Tree, members: dict[str, Any]) -> None:
    """甲区委's subtree: 5 members, 3 of them on the duty list (张三 lectured in 2025)."""
    make_member(tree.branch_a, "钱领导", categories=["leader"])
    make_member(tree.branch_a, "孙书记", categories=["secretary"], is_exempt=True, exempt_reason="年老体弱")
    lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a, members["zhang"]))


def url(name: str, org: Any, year: int = YEAR) -> str:
    return f"{reverse(name)}?organization={org.pk}&year={year}"


# --- the duty list --------------------------------------------------------------------------------


def test_the_duty_list_length_comes_from_stored_counts(
    tree: Tree, admin: Any, duty: None, django_assert_num_queries: Any
) -> None:
    # given: 5 members in 甲区委's subtree, 3 of them on the duty list
    tree.district_a.refresh_from_db()

    with override_settings(EXPORT_SYNC_MAX_ROWS=5), django_assert_num_queries(0):
        assert duty_export_rows(user=admin, organization=tree.district_a, year=YEAR) == 5
    # the user's grants (once per request), the summary count
    with override_settings(EXPORT_SYNC_MAX_ROWS=4), django_assert_num_queries(2):
        assert duty_export_rows(user=admin, organization=tree.district_a, year=YEAR) == 3


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_a_duty_list_within_the_limit_downloads_at_once(
    client: Any, tree: Tree, admin: Any, duty: None, django_assert_max_num_queries: Any
) -> None:
    # given: 5 members in the subtree (above the limit), 3 of them on the list (within it)
    client.force_login(admin)

    # session, user, grants, the form's organisation, the duty list's stored count, the rows, audit,
    # session save (3)
    with django_assert_max_num_queries(10):
        response = client.get(url("lectures:duty_export", tree.district_a))

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert not Job.objects.exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_a_long_duty_list_becomes_a_job_with_the_same_rows(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url("lectures:duty_export", tree.district_a))

    job = Job.objects.get(kind=DUTY_EXPORT_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by, job.done, job.total) == (JobStatus.SUCCEEDED, admin, 3, 3)
    assert job.result == {"summary": "已导出书记、领导干部3人"}
    assert job.params["back_url"] == url("lectures:duty", tree.district_a)
    direct = lecture_duty_export(actor=admin, organization=tree.district_a, year=YEAR)
    assert workbook_rows(job.result_file.read()) == workbook_rows(direct)
    assert len(workbook_rows(direct)[f"{YEAR}年书记讲党课情况"]) == 4


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_duty_export_scope_is_checked_again_when_the_job_runs(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: an export queued by an org_admin who loses the role before it runs
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get(url("lectures:duty_export", tree.district_a))
    role_revoke(actor=None, assignment=admin.role_assignments.get())

    # when
    for callback in callbacks:
        callback()

    # then: nothing exported
    job = Job.objects.get(kind=DUTY_EXPORT_KIND)
    assert (job.status, job.error) == (JobStatus.FAILED, "您无权导出该组织的讲党课情况")
    assert not job.result_file
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_same_duty_export_asked_twice_while_unfinished_is_one_job(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(url("lectures:duty_export", tree.district_a))
        second = client.get(url("lectures:duty_export", tree.district_a))
        other_year = client.get(url("lectures:duty_export", tree.district_a, YEAR - 1))

    assert first["Location"] == second["Location"] != other_year["Location"]
    assert Job.objects.filter(kind=DUTY_EXPORT_KIND).count() == 2


# --- the statistics -------------------------------------------------------------------------------


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_a_statistics_workbook_within_the_limit_downloads_at_once(
    client: Any, tree: Tree, admin: Any, duty: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin)

    # session, user, grants, the form's organisation, the child count, the statistics (children,
    # summary figures, competitions ×2), audit, session save (3)
    with django_assert_max_num_queries(13):
        response = client.get(url("lectures:stats_export", tree.district_a))

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert not Job.objects.exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_a_longer_statistics_workbook_becomes_a_job_with_the_same_rows(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: 甲区委 and its one child, a row each, above the limit of 1
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url("lectures:stats_export", tree.district_a))

    job = Job.objects.get(kind=STATS_EXPORT_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by) == (JobStatus.SUCCEEDED, admin)
    assert job.result == {"summary": f"已导出“甲区委”{YEAR}年党课统计"}
    direct = lecture_stats_export(actor=admin, organization=tree.district_a, year=YEAR)
    assert workbook_rows(job.result_file.read()) == workbook_rows(direct)
    assert dict(workbook_rows(direct)["汇总"][1:])["党课次数"] == 1


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_the_statistics_export_scope_is_checked_again_when_the_job_runs(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get(url("lectures:stats_export", tree.district_a))
    role_revoke(actor=None, assignment=admin.role_assignments.get())

    for callback in callbacks:
        callback()

    job = Job.objects.get(kind=STATS_EXPORT_KIND)
    assert (job.status, job.error) == (JobStatus.FAILED, "您无权导出该组织的党课统计")
    assert not job.result_file
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_the_same_statistics_export_asked_twice_while_unfinished_is_one_job(
    client: Any, tree: Tree, admin: Any, duty: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(url("lectures:stats_export", tree.district_a))
        second = client.get(url("lectures:stats_export", tree.district_a))

    assert first["Location"] == second["Location"]
    assert Job.objects.filter(kind=STATS_EXPORT_KIND).count() == 1
