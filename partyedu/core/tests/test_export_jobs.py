"""The shared halves of a background export: the view's decision (a count that stops past the
limit, stored counts first) and the job that resolves who asked and keeps the file."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.test import override_settings
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.choices import JobStatus
from partyedu.core.export_jobs import (
    ExportFile,
    RowProgress,
    export_job_kind,
    export_job_or_none,
    export_row_count,
)
from partyedu.core.jobs import Progress
from partyedu.core.models import Job
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db

KIND = "test.export"


@export_job_kind(KIND, "测试导出")
def build(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    rows = RowProgress(progress, total=2, message="正在导出")
    rows(2)
    return ExportFile("测试名单", f"{user.username}:{query.get('n')}".encode(), f"已导出{rows.rows}行")


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_the_row_count_stops_one_past_the_limit(tree: Tree) -> None:
    assert export_row_count(Organization.objects.all()) == 3
    assert export_row_count(Organization.objects.filter(pk=tree.root.pk)) == 1


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_a_stored_count_within_the_limit_spares_the_query(tree: Tree, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert export_row_count(Organization.objects.all(), at_most=2) == 2
    with django_assert_num_queries(1):
        assert export_row_count(Organization.objects.all(), at_most=3) == 3


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_only_more_rows_than_the_limit_make_a_job(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    user = make_user()
    with django_capture_on_commit_callbacks(execute=False):
        assert export_job_or_none(actor=user, kind=KIND, label="测试导出", query="n=1", rows=2) is None
        job = export_job_or_none(actor=user, kind=KIND, label="测试导出", query="n=1", rows=3, back_url="/x/")

    assert job is not None and job.params == {"query": "n=1", "back_url": "/x/"}
    assert Job.objects.count() == 1


@override_settings(EXPORT_SYNC_MAX_ROWS=0)
def test_the_job_keeps_the_file_under_its_dated_name(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user("exporter")
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_or_none(actor=user, kind=KIND, label="测试导出", query="n=7", rows=1)

    assert job is not None
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.result) == (
        JobStatus.SUCCEEDED,
        2,
        2,
        {"summary": "已导出2行"},
    )
    assert job.result_file.name.endswith(f"测试名单_{timezone.localdate():%Y%m%d}.xlsx")
    assert job.result_file.read() == b"exporter:7"


@override_settings(EXPORT_SYNC_MAX_ROWS=0)
def test_a_job_of_a_deactivated_account_exports_nothing(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_or_none(actor=user, kind=KIND, label="测试导出", query="", rows=1)
    user.is_active = False
    user.save(update_fields=["is_active"])

    for callback in callbacks:
        callback()

    assert job is not None
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "发起导出的账号已不存在或已停用")
    assert not job.result_file
