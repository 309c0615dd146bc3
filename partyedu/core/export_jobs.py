"""Exports too long to build inside a request: above ``EXPORT_SYNC_MAX_ROWS`` rows the view queues
a background job and sends the user to its progress page, which offers the file when it is done.

The two halves every app's export shares:

* the view side, ``export_job_or_none``: given a cheap row count (a stored count, or
  ``export_row_count``, which stops counting past the limit), None means "build it now", else the
  queued job — the same one again while it is unfinished, so a second click queues nothing;
* the job side, ``@export_job_kind``: resolves the person who asked (still active), hands the
  app's function the saved query string, and stores the file it returns with the job.

A job keeps who asked and the export's query string (its filters, organisation, year), never a
queryset or a list of ids: when it runs — seconds or, after a worker restart, minutes later — the
rows are selected and the scope checked again for that person, so a role withdrawn in between
exports nothing and the job fails with the service's Chinese reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from .jobs import JobFailed, Progress, job_enqueue, job_kind
from .models import Job
from .types import BaseViewer

# How often (in rows written) an export service tells its ``progress`` callback how far it is.
EXPORT_PROGRESS_EVERY = 500


def export_row_count(queryset: QuerySet[Any], *, at_most: int | None = None) -> int:
    """How many rows ``queryset`` has, as far as the choice between a download and a job needs
    to know: counted up to one past ``EXPORT_SYNC_MAX_ROWS`` and no further (a city's 100,000
    members are not counted just to learn that they are many). ``at_most`` is a stored upper
    bound (an organisation's ``member_count``); when it is within the limit no query is made."""
    limit = settings.EXPORT_SYNC_MAX_ROWS
    if at_most is not None and at_most <= limit:
        return at_most
    return queryset.order_by()[: limit + 1].count()


def export_job_or_none(
    *, actor: BaseViewer, kind: str, label: str, query: str, rows: int, back_url: str = ""
) -> Job | None:
    """None when ``rows`` is small enough to export within the request; otherwise the queued
    export job (``export_job_enqueue``)."""
    if rows <= settings.EXPORT_SYNC_MAX_ROWS:
        return None
    return export_job_enqueue(actor=actor, kind=kind, label=label, query=query, back_url=back_url)


def export_job_enqueue(*, actor: BaseViewer, kind: str, label: str, query: str, back_url: str = "") -> Job:
    """Queue the export job of ``kind`` for ``query`` (the export's query string, which the job
    re-reads). The same person asking for the same export while it is unfinished gets that job
    back."""
    digest = hashlib.sha256(query.encode()).hexdigest()[:32]
    return job_enqueue(
        actor=actor,
        kind=kind,
        label=label,
        params={"query": query, "back_url": back_url},
        key=f"{kind}:{actor.pk}:{digest}",
    )


@dataclass(frozen=True)
class ExportFile:
    """What an export job made: the file (named ``<basename>_YYYYMMDD.xlsx``, as the direct
    download is) and the line its page shows."""

    basename: str
    content: bytes
    summary: str


ExportBuilder = Callable[..., ExportFile]


def export_job_kind(name: str, label: str) -> Callable[[ExportBuilder], ExportBuilder]:
    """Register ``build(*, user, query: QueryDict, progress: Progress) -> ExportFile`` as the export
    job ``name``. The job fails with a Chinese reason when the person who asked is gone or
    deactivated; the builder re-selects its rows for ``user`` (whose scope the export service
    checks again) and reports progress."""

    def register(build: ExportBuilder) -> ExportBuilder:
        @job_kind(name, label)
        def run(*, job: Job, progress: Progress) -> dict[str, Any]:
            user = None
            if job.created_by_id is not None:
                user = get_user_model().objects.filter(pk=job.created_by_id, is_active=True).first()
            if user is None:
                raise JobFailed("发起导出的账号已不存在或已停用")
            made = build(user=user, query=QueryDict(job.params.get("query", "")), progress=progress)
            progress.attach(f"{made.basename}_{timezone.localdate():%Y%m%d}.xlsx", made.content)
            return {"summary": made.summary}

        return build

    return register


class RowProgress:
    """The callback an export service is given: it calls it with the number of rows written so
    far (every EXPORT_PROGRESS_EVERY rows, and once at the end), which moves the job's progress
    bar towards ``total`` (an estimate may be passed: the bar stops short of it, never beyond)
    and keeps the last count in ``rows`` for the job's summary."""

    def __init__(self, progress: Progress, *, total: int, message: str) -> None:
        self.progress = progress
        self.total = total
        self.rows = 0
        progress(done=0, total=total, message=message)

    def __call__(self, rows: int) -> None:
        self.rows = rows
        self.progress(done=min(rows, self.total))


def query_int(query: QueryDict, name: str) -> int | None:
    """An integer parameter of a saved export query (None when absent or not a number)."""
    try:
        return int(query.get(name, ""))
    except ValueError:
        return None
