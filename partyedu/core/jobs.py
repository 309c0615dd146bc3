"""Background jobs: work that can take seconds or minutes (recounts, large imports and exports,
reports) runs outside the request, and the person who started it watches a progress page.

One mechanism for every footprint:

* ``job_enqueue`` writes a ``Job`` row in the caller's transaction and, once that commits, hands
  the job's id to the runner: Celery (``JOBS_BACKEND = "celery"``, when a broker is configured),
  a thread of this process (``"thread"``, the embedded default: ``make run`` needs nothing), or
  the committing thread itself (``"inline"``, tests and commands).
* ``run_job`` claims the row, calls the function registered for its kind with a ``Progress`` to
  report on, and records the outcome. The function must be idempotent — a retry after a crash
  redoes the same work (set-based recounts, all-or-nothing imports, exports rebuilt from scratch).
* A job whose worker died is never left "running": its heartbeat stops, and ``jobs_reap`` (run
  every minute by the scheduler, and whenever someone looks at the job) puts it back in the queue
  or, after ``max_attempts``, marks it failed with the reason.

Apps register their kinds in ``AppConfig.ready()`` with ``@job_kind("app.name", "中文名")`` — the
same hook pattern by which a lower app reaches work defined higher up.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from .choices import JobStatus
from .models import Job
from .types import BaseActor

logger = logging.getLogger(__name__)

# Progress is written at most this often (seconds), so that a loop over 100,000 rows does not
# turn into 100,000 UPDATEs; the heartbeat goes with it.
PROGRESS_EVERY = 0.5


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    run: Callable[..., dict[str, Any] | None]
    max_attempts: int = 2
    # A template that shows a finished job's result on its page (with the job as ``job``).
    result_template: str = ""


_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, label: str, *, max_attempts: int = 2, result_template: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function(job=Job, progress=Progress) -> dict | None`` as the work of ``name``."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _KINDS[name] = JobKind(name, label, function, max_attempts, result_template)
        return function

    return register


def registered_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


class JobFailed(Exception):
    """Raised by a job function for an outcome the user must read (in Chinese); not retried."""


class Progress:
    """What a running job reports: how much of how much is done, and a line saying what it is
    doing. Writes are throttled; ``attach`` stores a result file (an export) with the job."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._written = 0.0

    def __call__(self, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
        if done is not None:
            self.job.done = max(0, done)
        if total is not None:
            self.job.total = max(0, total)
        if message is not None:
            self.job.message = message[:500]
        now = time.monotonic()
        if now - self._written >= PROGRESS_EVERY or (total is not None and done == total):
            self._written = now
            self.flush()

    def advance(self, step: int = 1, message: str | None = None) -> None:
        self(done=self.job.done + step, message=message)

    def flush(self) -> None:
        self.job.heartbeat_at = timezone.now()
        Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            done=self.job.done,
            total=self.job.total,
            message=self.job.message,
            heartbeat_at=self.job.heartbeat_at,
        )

    def attach(self, filename: str, content: bytes) -> None:
        if self.job.result_file:
            self.job.result_file.delete(save=False)  # a retry replaces the earlier attempt's file
        self.job.result_file.save(filename, ContentFile(content), save=False)
        Job.objects.filter(pk=self.job.pk).update(result_file=self.job.result_file.name)


# --- starting ----------------------------------------------------------------------------------------


def job_enqueue(
    *,
    actor: BaseActor,
    kind: str,
    label: str = "",
    params: dict[str, Any] | None = None,
    key: str = "",
) -> Job:
    """Queue ``kind`` with JSON ``params``; it starts once the caller's transaction commits. With a
    ``key``, an unfinished job of the same key is returned instead of queueing a second one."""
    if kind not in _KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    if key:
        existing = Job.objects.filter(key=key, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        label=(label or _KINDS[kind].label)[:200],
        params=params or {},
        created_by=actor if isinstance(actor, get_user_model()) and actor.pk else None,
        key=key,
    )
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        # Another request queued the same key a moment ago.
        return Job.objects.get(key=key, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id: Any) -> None:
    backend = settings.JOBS_BACKEND
    if backend == "celery":
        # The project's Celery app must be loaded before a shared task is sent, or the task
        # goes to Celery's unconfigured default app (amqp://localhost) instead of our broker.
        # Web processes import it here, on their first job, not at start-up.
        import config.celery  # noqa: F401

        from .tasks import run_job_task

        run_job_task.delay(str(job_id))
    elif backend == "thread":
        threading.Thread(target=_run_in_thread, args=(job_id,), name=f"job-{job_id}", daemon=True).start()
    else:
        run_job(job_id)


def _run_in_thread(job_id: Any) -> None:
    try:
        run_job(job_id)
    finally:
        close_old_connections()


# --- running -----------------------------------------------------------------------------------------


def run_job(job_id: Any) -> Job | None:
    """Claim and run one job. Safe to call twice for the same id (a redelivered message): a job
    that is finished, or running with a live heartbeat elsewhere, is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    kind = _KINDS.get(job.kind)
    if kind is None:
        return _finish(job, error=f"未知的任务类型：{job.kind}")
    if job.attempts > kind.max_attempts:
        return _finish(job, error=f"任务已中断{job.attempts - 1}次，不再重试，请重新发起")
    progress = Progress(job)
    try:
        result = kind.run(job=job, progress=progress) or {}
    except (JobFailed, ValidationError, PermissionDenied) as exc:
        return _finish(job, error=_readable(exc))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        return _finish(job, error=f"任务执行出错：{type(exc).__name__}，请稍后重试或联系系统管理员")
    return _finish(job, result=result)


def _claim(job_id: Any) -> Job | None:
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if job.status == JobStatus.RUNNING and job.heartbeat_at and job.heartbeat_at > stale:
            return None  # alive in another worker
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])
    return job


def _finish(job: Job, *, result: dict[str, Any] | None = None, error: str = "") -> Job:
    job.status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
    job.result = result or {}
    job.error = error
    job.finished_at = timezone.now()
    if not error and job.total:
        job.done = job.total
    Job.objects.filter(pk=job.pk).update(
        status=job.status,
        result=job.result,
        error=job.error,
        finished_at=job.finished_at,
        done=job.done,
        total=job.total,
        message=job.message,
    )
    return job


def _readable(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "；".join(message for messages in exc.message_dict.values() for message in messages)
        return "；".join(exc.messages)
    return str(exc) or "任务未能完成"


# --- keeping the queue honest ------------------------------------------------------------------------


def jobs_reap(*, job_ids: list[Any] | None = None) -> int:
    """Jobs whose worker stopped beating: queue them again, or fail them once they have used
    their attempts. Returns how many were handled. Queued jobs that never started (their message
    was lost with a broker restart) are handed to the runner again too."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    lost = now - timedelta(seconds=settings.JOB_STALE_SECONDS * 5)
    candidates = Job.objects.filter(
        Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale) | Q(status=JobStatus.QUEUED, created_at__lt=lost)
    )
    if job_ids is not None:
        candidates = candidates.filter(pk__in=job_ids)
    handled = 0
    for job in candidates:
        kind = _KINDS.get(job.kind)
        if job.status == JobStatus.RUNNING and (kind is None or job.attempts >= kind.max_attempts):
            updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=stale).update(
                status=JobStatus.FAILED,
                finished_at=now,
                error=f"执行任务的进程已退出（已尝试{job.attempts}次），请重新发起",
            )
        else:
            updated = Job.objects.filter(pk=job.pk, status=job.status).update(
                status=JobStatus.QUEUED, heartbeat_at=None
            )
            if updated:
                transaction.on_commit(functools.partial(dispatch, job.pk))
        handled += updated
    return handled


def jobs_housekeeping() -> dict[str, int]:
    """Nightly: delete finished jobs (and their files) older than JOB_KEEP_DAYS."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_KEEP_DAYS)
    old = Job.objects.filter(finished_at__lt=cutoff)
    files = 0
    for job in old.exclude(result_file=""):
        job.result_file.delete(save=False)
        files += 1
    deleted, _ = old.delete()
    return {"jobs": deleted, "files": files}
