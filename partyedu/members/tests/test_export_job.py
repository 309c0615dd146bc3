"""A long member list export runs as a background job: the view sends the user to the job's page,
the job selects the list again for that user (scope checked when it runs) and keeps the file."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.accounts.services import role_revoke
from partyedu.core.choices import AuditAction, JobStatus
from partyedu.core.jobs import run_job
from partyedu.core.models import AuditLog, Job
from partyedu.members.jobs import EXPORT_KIND, member_export_enqueue
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db


def names(content: bytes) -> list[str]:
    rows = list(load_workbook(io.BytesIO(content))["党员信息"].values)
    column = rows[0].index("姓名")
    return sorted(row[column] for row in rows[1:])


@pytest.fixture
def members(tree: Tree) -> None:
    for name in ("甲一", "甲二", "甲三"):
        make_member(tree.branch_a, name)
    make_member(tree.branch_b, "乙一")


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_a_long_export_becomes_a_job_with_the_file(
    client: Any, tree: Tree, members: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a list of 3 members in scope, above the synchronous limit of 2
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("members:export"))

    # then: sent to the progress page of a job that (inline in tests) has finished with the file
    job = Job.objects.get(kind=EXPORT_KIND)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by, job.total, job.done) == (JobStatus.SUCCEEDED, user, 3, 3)
    assert job.result == {"summary": "已导出党员3名"}
    page = client.get(response["Location"]).content.decode()
    assert "已导出党员3名" in page and reverse("core:job_download", args=[job.pk]) in page
    download = client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert names(b"".join(download.streaming_content)) == ["甲一", "甲三", "甲二"]
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, user=user).count() == 1


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_job_keeps_the_filters_not_the_rows(
    client: Any, tree: Tree, members: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))

    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("members:export"), {"organization": tree.branch_a.pk})

    job = Job.objects.get(kind=EXPORT_KIND)
    assert job.params["query"] == f"organization={tree.branch_a.pk}"
    assert job.params["back_url"] == f"{reverse('members:list')}?organization={tree.branch_a.pk}"
    assert names(job.result_file.read()) == ["甲一", "甲三", "甲二"]


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_a_short_export_still_downloads_at_once(client: Any, tree: Tree, members: None) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.get(reverse("members:export"))

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert not Job.objects.exists()


def test_the_scope_is_checked_when_the_job_runs(
    tree: Tree, members: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: an export queued by an org_admin who loses the role before it runs
    user = make_user(role="org_admin", org=tree.district_a)
    with django_capture_on_commit_callbacks(execute=False):
        job = member_export_enqueue(actor=user, query="", total=3)
    role_revoke(actor=None, assignment=user.role_assignments.get())

    # when
    run_job(job.pk)

    # then: nothing exported
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "您无权导出党员"
    assert not job.result_file
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_second_click_returns_the_unfinished_job(
    tree: Tree, members: None, django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user(role="org_admin", org=tree.district_a)
    with django_capture_on_commit_callbacks(execute=False):
        first = member_export_enqueue(actor=user, query="status=full", total=3)
        second = member_export_enqueue(actor=user, query="status=full", total=3)
        other = member_export_enqueue(actor=user, query="status=probationary", total=0)

    assert first.pk == second.pk != other.pk
