"""系统维护: the rebuilds that check derived data (ledgers, summaries, organisation paths and
counts) against its sources and repair it, started from a page as background jobs.

Core knows no rebuild. An app registers its own in ``AppConfig.ready()`` with
``@rebuild_register("app.name", "中文名", description=…)``: a function
``run(*, apply: bool, step: Step) -> list[Difference]`` that calls the app's rebuild service.
``apply=False`` is 检查 (report, change nothing), ``apply=True`` is 修复.

Who may: the 系统管理员 (``sysadmin``). The rebuilds cover the whole system — they take no
organisation and touch every subtree — which is the sysadmin's scope (DESIGN §2: accounts and
configuration, whole system). An 组织部管理员's roles reach one subtree, and the 安全管理员 and
审计管理员 keep to security and audit (三员分立). The page shows counts only, no personal data.

One rebuild of a kind at a time, whoever asks and whether 检查 or 修复: the job's key is the
rebuild's name, so a second request gets the unfinished job back.

A rebuild service runs as one database transaction that can outlast the job's heartbeat, and
progress written on the job's own connection would sit invisible inside that transaction. So
while the service runs, a thread with its own connection writes the job's heartbeat and the
last step the service reported (``keep_alive``); a worker that dies stops it, and the reaper
hands the job to another worker, which runs the rebuild again from the start (the dead
worker's transaction was rolled back with its connection).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from .choices import JobStatus
from .jobs import JobFailed, Progress, job_enqueue, job_kind
from .models import Job
from .scope import has_role
from .types import BaseViewer

logger = logging.getLogger(__name__)

# Who may: the role code that ``accounts.choices.RoleCode.SYSADMIN`` stores (core names it without
# importing accounts; a test holds the two equal).
MAINTAINER_ROLE = "sysadmin"

REBUILD_KIND = "core.rebuild"
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
# How often (seconds) the keep-alive thread writes the heartbeat and the reported step; well
# inside settings.JOB_STALE_SECONDS.
BEAT_SECONDS = 5.0


class Step(Protocol):
    """What a rebuild reports while it runs: step ``done`` of ``total``, and what it does."""

    def __call__(self, done: int, total: int, message: str) -> None: ...


@dataclass(frozen=True)
class Difference:
    """One kind of derived data a rebuild compared: how many rows or places differed from the
    sources (and, for 修复, were repaired)."""

    label: str
    count: int


@dataclass(frozen=True)
class Rebuild:
    name: str
    label: str
    description: str
    run: Callable[..., list[Difference]]
    order: int = 100


_REBUILDS: dict[str, Rebuild] = {}


def rebuild_register(
    name: str, label: str, *, description: str, order: int = 100
) -> Callable[[Callable[..., list[Difference]]], Callable[..., list[Difference]]]:
    """Register ``run(*, apply, step) -> list[Difference]`` as the rebuild ``name``."""

    def register(run: Callable[..., list[Difference]]) -> Callable[..., list[Difference]]:
        _REBUILDS[name] = Rebuild(name, label, description, run, order)
        return run

    return register


def registered_rebuilds() -> list[Rebuild]:
    return sorted(_REBUILDS.values(), key=lambda rebuild: (rebuild.order, rebuild.name))


def rebuild_get(name: str) -> Rebuild | None:
    return _REBUILDS.get(name)


def can_maintain(user: BaseViewer) -> bool:
    """Whether the user may see the 系统维护 page and start rebuilds."""
    return has_role(user, MAINTAINER_ROLE)


def rebuild_key(name: str) -> str:
    return f"{REBUILD_KIND}:{name}"


def rebuild_latest(names: list[str]) -> dict[str, Job]:
    """The newest job of each named rebuild, whoever started it."""
    latest: dict[str, Job] = {}
    keys = {rebuild_key(name): name for name in names}
    jobs = Job.objects.filter(kind=REBUILD_KIND, key__in=list(keys)).select_related("created_by")
    # The newest per key, in one query: rebuilds are started by hand and finished jobs are
    # deleted after JOB_KEEP_DAYS, so there are only ever a few rows.
    for job in jobs.order_by("-created_at"):
        latest.setdefault(keys[job.key], job)
    return latest


def rebuild_enqueue(*, actor: BaseViewer, rebuild: Rebuild, apply: bool) -> tuple[Job, bool]:
    """Queue the rebuild as 检查 or 修复. Returns the job and whether it is new: while a job of
    the same rebuild is unfinished, that job is returned instead."""
    key = rebuild_key(rebuild.name)
    running = Job.objects.filter(key=key, status__in=UNFINISHED).first()
    if running is not None:
        return running, False
    verb = "修复" if apply else "检查"
    job = job_enqueue(
        actor=actor,
        kind=REBUILD_KIND,
        label=f"系统维护：{verb}{rebuild.label}",
        params={"rebuild": rebuild.name, "apply": apply, "back_url": reverse("core:maintenance")},
        key=key,
    )
    return job, job.created_by_id == actor.pk and job.params.get("apply") == apply


def rebuild_summary(*, label: str, apply: bool, differences: list[Difference]) -> str:
    found = sum(d.count for d in differences)
    if not found:
        return f"{label}：检查完毕，与来源数据一致（0处差异）"
    if apply:
        return f"{label}：发现并修复{found}处差异"
    return f"{label}：发现{found}处差异，未作修改（可点击“修复”更正）"


# --- running -----------------------------------------------------------------------------------------


class _Tracker:
    """The step a rebuild last reported, kept in memory for the keep-alive thread to write."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lock = threading.Lock()

    def __call__(self, done: int, total: int, message: str) -> None:
        with self.lock:
            self.job.done, self.job.total, self.job.message = max(0, done), max(0, total), message[:500]

    def beat(self) -> int:
        """Write the heartbeat and the step; returns how many rows it updated (0 once the job
        is no longer running here)."""
        with self.lock:
            done, total, message = self.job.done, self.job.total, self.job.message
        return Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            heartbeat_at=timezone.now(), done=done, total=total, message=message
        )


@contextlib.contextmanager
def keep_alive(job: Job, *, every: float | None = None) -> Iterator[_Tracker]:
    """While the block runs, a thread writes the job's heartbeat and the step reported to the
    yielded tracker every ``every`` seconds, on its own database connection (outside any
    transaction the block holds)."""
    tracker = _Tracker(job)
    stop = threading.Event()
    interval = BEAT_SECONDS if every is None else every

    def run() -> None:
        try:
            while not stop.wait(interval):
                try:
                    tracker.beat()
                except Exception:  # a busy SQLite file, a lost connection: try again next time
                    logger.warning("heartbeat of job %s failed", job.pk, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=f"job-{job.pk}-beat", daemon=True)
    thread.start()
    try:
        yield tracker
    finally:
        stop.set()
        thread.join()


@job_kind(REBUILD_KIND, "系统维护", result_template="core/_maintenance_result.html")
def rebuild_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    rebuild = rebuild_get(job.params.get("rebuild", ""))
    if rebuild is None:
        raise JobFailed("该维护项目已不存在")
    starter = job.created_by_id
    user = None if starter is None else get_user_model().objects.filter(pk=starter, is_active=True).first()
    if user is None or not can_maintain(user):
        raise JobFailed("发起维护的账号已停用或已不是系统管理员")
    apply = bool(job.params.get("apply"))
    progress(done=0, total=1, message=f"正在{'修复' if apply else '检查'}{rebuild.label}")
    with keep_alive(job) as step:
        differences = rebuild.run(apply=apply, step=step)
    found = sum(d.count for d in differences)
    return {
        "apply": apply,
        "found": found,
        "fixed": found if apply else 0,
        "counts": [{"label": d.label, "count": d.count} for d in differences],
        "summary": rebuild_summary(label=rebuild.label, apply=apply, differences=differences),
    }
