"""A long list of members short of their hour requirement is exported by a background job: the
view decides from the stored counts, the job re-checks the scope when it runs and keeps the same
file the direct download gives."""

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
from partyedu.learning import services
from partyedu.learning.jobs import SHORT_EXPORT_KIND, short_export_rows
from partyedu.learning.models import OrgRequirementCounts
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.fixture
def short(tree: Tree) -> None:
    """Three members of 甲一支部 and one of its party group, none with any hours this year."""
    for name in ("甲一", "甲二", "甲三"):
        make_member(tree.branch_a, name)
    make_member(tree.group_a, "甲四")


def export_url(org: Any, **extra: Any) -> str:
    return (
        reverse("learning:summary_export")
        + f"?organization={org.pk}"
        + "".join(f"&{key}={value}" for key, value in extra.items())
    )


def test_the_decision_reads_the_short_count_from_the_summary_rows(tree: Tree, short: None) -> None:
    assert (
        short_export_rows(
            user=make_user(role="org_admin", org=tree.root), organization=tree.branch_a, year=YEAR
        )
        == 4
    )


def test_without_complete_summary_rows_the_decision_takes_the_member_count(tree: Tree, short: None) -> None:
    # given: 4 members short and one exempt, and no summary row to say so
    make_member(tree.branch_a, "免学党员", is_exempt=True, exempt_reason="年老体弱")
    OrgRequirementCounts.objects.filter(organization=tree.branch_a).delete()
    tree.branch_a.refresh_from_db()

    # then: the stored member count, an upper bound
    assert (
        short_export_rows(
            user=make_user(role="org_admin", org=tree.root), organization=tree.branch_a, year=YEAR
        )
        == 5
    )


@override_settings(EXPORT_SYNC_MAX_ROWS=4)
def test_a_short_list_within_the_limit_downloads_at_once(
    client: Any, tree: Tree, short: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    # session, user, grants, organisation; the decision: the summary rows (2); the export: the
    # summary row check, the rows, audit; session save (3)
    with django_assert_max_num_queries(12):
        response = client.get(export_url(tree.branch_a, year=YEAR))

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert not Job.objects.exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_a_long_short_list_becomes_a_job_with_the_same_rows(
    client: Any, tree: Tree, short: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: 4 members short, above the synchronous limit of 3
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(export_url(tree.branch_a, year=YEAR))

    # then: sent to the page of a job that (inline in tests) kept the file of the direct download
    job = Job.objects.get(kind=SHORT_EXPORT_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by, job.done, job.total) == (JobStatus.SUCCEEDED, user, 4, 4)
    assert job.result == {"summary": "已导出学时未达标党员4名"}
    assert job.result_file.name.endswith(f"{YEAR}年学时未达标名单_{timezone.localdate():%Y%m%d}.xlsx")
    direct = services.learning_short_export(actor=user, organization=tree.branch_a, year=YEAR)
    assert sheet_rows(job.result_file.read()) == sheet_rows(direct)
    assert [row[0] for row in sheet_rows(direct)[1:]] == ["甲一", "甲三", "甲二", "甲四"]
    assert (
        job.params["back_url"] == f"{reverse('learning:summary')}?organization={tree.branch_a.pk}&year={YEAR}"
    )


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_the_scope_is_checked_again_when_the_job_runs(
    client: Any, tree: Tree, short: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: an export queued by an org_admin who loses the role before it runs
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get(export_url(tree.branch_a, year=YEAR))
    role_revoke(actor=None, assignment=user.role_assignments.get())

    # when
    for callback in callbacks:
        callback()

    # then: nothing exported
    job = Job.objects.get(kind=SHORT_EXPORT_KIND)
    assert (job.status, job.error) == (JobStatus.FAILED, "您无权导出该组织的学时情况")
    assert not job.result_file
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_the_same_export_asked_twice_while_unfinished_is_one_job(
    client: Any, tree: Tree, short: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(export_url(tree.branch_a))  # this year by default
        second = client.get(export_url(tree.branch_a, year=YEAR))
        other_year = client.get(export_url(tree.branch_a, year=YEAR - 1))

    assert first["Location"] == second["Location"] != other_year["Location"]
    assert Job.objects.filter(kind=SHORT_EXPORT_KIND).count() == 2
