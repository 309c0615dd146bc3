"""Background jobs: queued after commit, run once, progress and results kept, dead workers
reaped, and visible only to the person who started them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partyedu.core import jobs
from partyedu.core.choices import JobStatus
from partyedu.core.jobs import JobFailed, job_enqueue, job_kind, jobs_reap, run_job
from partyedu.core.models import Job
from partyedu.testsupport.factories import make_user

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []


@job_kind("test.count", "测试计数")
def count_job(*, job, progress):
    CALLS.append(job.params)
    total = job.params.get("n", 3)
    for i in range(total):
        progress(done=i + 1, total=total, message=f"第{i + 1}步")
    progress.attach("结果.txt", b"done")
    return {"summary": f"数了{total}个"}


@job_kind("test.refuse", "测试拒绝")
def refuse_job(*, job, progress):
    raise ValidationError({"year": ["年度超出范围"]})


@job_kind("test.fail", "测试失败")
def fail_job(*, job, progress):
    raise JobFailed("文件中没有数据")


@job_kind("test.crash", "测试出错")
def crash_job(*, job, progress):
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


@pytest.fixture
def user(db):
    return make_user("starter")


def test_a_job_runs_after_the_transaction_commits(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_enqueue(actor=user, kind="test.count", params={"n": 2})
        assert CALLS == []  # nothing runs inside the caller's transaction

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.result) == (
        JobStatus.SUCCEEDED,
        2,
        2,
        {"summary": "数了2个"},
    )
    assert job.result_file.read() == b"done"


def test_a_rolled_back_request_runs_no_job(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - the failure must happen inside the transaction
        job_enqueue(actor=user, kind="test.count")
        raise RuntimeError("request failed")

    assert CALLS == []
    assert not Job.objects.exists()


def test_the_same_key_queues_one_job(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = job_enqueue(actor=user, kind="test.count", key="recount:1")
        second = job_enqueue(actor=user, kind="test.count", key="recount:1")

    assert first.pk == second.pk
    assert Job.objects.count() == 1


def test_a_finished_job_is_not_run_again_on_redelivery(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(actor=user, kind="test.count")

    assert run_job(job.pk) is None
    assert len(CALLS) == 1


def test_a_validation_error_fails_the_job_with_its_chinese_message(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(actor=user, kind="test.refuse")

    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "年度超出范围")


def test_a_job_failure_message_is_kept(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(actor=user, kind="test.fail")

    job.refresh_from_db()
    assert job.error == "文件中没有数据"


def test_an_unexpected_error_fails_without_leaking_details(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(actor=user, kind="test.crash")

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "RuntimeError" in job.error and "boom" not in job.error


def dead_running_job(user, *, attempts):
    job = Job.objects.create(
        kind="test.count",
        label="测试计数",
        created_by=user,
        status=JobStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    return job


def test_a_job_whose_worker_died_is_run_again(user, django_capture_on_commit_callbacks):
    job = dead_running_job(user, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap() == 1

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


def test_a_job_that_died_on_every_attempt_is_failed_with_the_reason(user):
    job = dead_running_job(user, attempts=jobs.registered_kinds()["test.count"].max_attempts)

    jobs_reap()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "进程已退出" in job.error


def test_a_running_job_with_a_live_heartbeat_is_left_alone(user):
    job = Job.objects.create(
        kind="test.count", label="x", created_by=user, status=JobStatus.RUNNING, heartbeat_at=timezone.now()
    )

    assert jobs_reap() == 0
    assert run_job(job.pk) is None
    assert CALLS == []


def test_the_progress_page_shows_the_outcome_and_the_download(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(actor=user, kind="test.count", params={"back_url": "/members/"})
    client.force_login(user)

    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()

    assert "已完成" in html and "数了3个" in html
    assert reverse("core:job_download", args=[job.pk]) in html
    assert client.get(reverse("core:job_download", args=[job.pk])).getvalue() == b"done"


def test_a_running_job_page_polls_for_progress(client, user):
    job = Job.objects.create(kind="test.count", label="测试计数", created_by=user, status=JobStatus.QUEUED)
    client.force_login(user)

    html = client.get(
        reverse("core:job_detail", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert 'hx-trigger="every 1s"' in html


def test_someone_elses_job_is_404(client, user):
    job = Job.objects.create(kind="test.count", label="测试计数", created_by=user)
    client.force_login(make_user("other"))

    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job_download", args=[job.pk])).status_code == 404


def test_the_job_pages_need_sign_in(client, user):
    job = Job.objects.create(kind="test.count", label="测试计数", created_by=user)

    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 302
    assert client.get(reverse("core:job_list")).status_code == 302


def test_my_jobs_lists_only_my_jobs(client, user):
    Job.objects.create(kind="test.count", label="我的统计", created_by=user)
    Job.objects.create(kind="test.count", label="别人的统计", created_by=make_user("other"))
    client.force_login(user)

    html = client.get(reverse("core:job_list")).content.decode()

    assert "我的统计" in html and "别人的统计" not in html
