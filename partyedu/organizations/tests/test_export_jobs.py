"""A long organisation list is exported by a background job: the view counts no further than the
limit, the job selects the list again for the person who asked and keeps the same file the direct
download gives."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.accounts.services import role_revoke
from partyedu.core.choices import AuditAction, JobStatus
from partyedu.core.models import AuditLog, Job
from partyedu.organizations.jobs import EXPORT_KIND
from partyedu.organizations.selectors import organization_list
from partyedu.organizations.services import organization_export
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_a_list_within_the_limit_downloads_at_once(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    # given: 甲区委's subtree, 3 organisations
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    # session, user, grants, the count (at most 4 rows), the rows, audit, session save (3)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("organizations:export"))

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert len(sheet_rows(response.content)) == 4
    assert not Job.objects.exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_a_long_list_becomes_a_job_with_the_same_rows(
    client: Any, tree: Tree, django_capture_on_commit_callbacks: Any
) -> None:
    # given: 3 organisations in scope, above the synchronous limit of 2
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("organizations:export"))

    # then: sent to the page of a job that (inline in tests) kept the file of the direct download
    job = Job.objects.get(kind=EXPORT_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by, job.done, job.total) == (JobStatus.SUCCEEDED, user, 3, 3)
    assert job.result == {"summary": "已导出党组织3个"}
    assert job.result_file.name.endswith(f"党组织名单_{timezone.localdate():%Y%m%d}.xlsx")
    direct = organization_export(actor=user, queryset=organization_list(user=user, action="export"))
    assert sheet_rows(job.result_file.read()) == sheet_rows(direct)
    assert [row[0] for row in sheet_rows(direct)[1:]] == ["甲区委", "甲一支部", "甲一第一党小组"]


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_job_keeps_the_search_and_the_subtree(
    client: Any, tree: Tree, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))

    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("organizations:export"), {"within": tree.district_a.pk, "q": "甲"})

    job = Job.objects.get(kind=EXPORT_KIND)
    assert job.params["query"] == f"q=%E7%94%B2&within={tree.district_a.pk}"
    assert job.label == "导出“甲区委”及下级党组织名单"
    assert [row[0] for row in sheet_rows(job.result_file.read())[1:]] == [
        "甲区委",
        "甲一支部",
        "甲一第一党小组",
    ]


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_scope_is_checked_again_when_the_job_runs(
    client: Any, tree: Tree, django_capture_on_commit_callbacks: Any
) -> None:
    # given: an export queued by an org_admin who loses the role before it runs
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get(reverse("organizations:export"))
    role_revoke(actor=None, assignment=user.role_assignments.get())

    # when
    for callback in callbacks:
        callback()

    # then: nothing exported
    job = Job.objects.get(kind=EXPORT_KIND)
    assert (job.status, job.error) == (JobStatus.FAILED, "您无权导出党组织")
    assert not job.result_file
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_same_export_asked_twice_while_unfinished_is_one_job(
    client: Any, tree: Tree, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))

    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(reverse("organizations:export"))
        second = client.get(reverse("organizations:export"), {"q": ""})
        subtree = client.get(reverse("organizations:export"), {"within": tree.district_a.pk})

    assert first["Location"] == second["Location"] != subtree["Location"]
    assert Job.objects.filter(kind=EXPORT_KIND).count() == 2
