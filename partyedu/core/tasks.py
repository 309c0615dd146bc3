"""Celery tasks: the job runner and the scheduled housekeeping. Only imported when Celery is the
job backend (``config/celery.py`` discovers it); the functions they call work without Celery."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job_task(job_id: str) -> None:
    # acks_late + reject_on_worker_lost: a worker killed mid-job gives the message back to the
    # broker, and run_job's claim decides whether the job is still worth running.
    from .jobs import run_job

    run_job(job_id)


@shared_task(ignore_result=True)
def reap_jobs_task() -> int:
    from .jobs import jobs_reap

    return jobs_reap()


@shared_task(ignore_result=True)
def housekeeping_task() -> dict[str, Any]:
    from .housekeeping import housekeeping

    return housekeeping()


@shared_task(ignore_result=True)
def frequent_task() -> dict[str, Any]:
    from .housekeeping import frequent

    return frequent()
