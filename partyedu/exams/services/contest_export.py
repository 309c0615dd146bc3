"""The xlsx export of a contest's results as its organiser sees them: one sheet of members (name,
organisation, each round's counted score, total, rank) and one of the units one level below the
organiser (participation rate and the participants' average, as the results page compares them).
Only members in the actor's "export" scope are written. The practice privacy rule does not apply:
a contest's scores are the organiser's to see.

Audited as an export. With more participants than EXPORT_SYNC_MAX_ROWS it is built by a
background job (``export_job_kind`` below; the exams AppConfig imports this module so that a
worker knows the kind), re-selecting the contest and checking scope for the person who asked.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import QueryDict
from django.urls import reverse

from partyedu.accounts.types import User, Viewer
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import (
    EXPORT_PROGRESS_EVERY,
    ExportFile,
    RowProgress,
    export_job_enqueue,
    export_job_kind,
    query_int,
)
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.jobs import Progress
from partyedu.core.models import Job
from partyedu.core.scope import require

from ..models import Contest
from ..selectors.contests import contest_export_results, contest_get, contest_participants

APP = "exams"
CONTEST_RESULTS_KIND = "exams.contest_results_export"


def contest_results_export(
    *, actor: Viewer, contest: Contest, progress: Callable[[int], None] | None = None
) -> bytes:
    """Two sheets: 党员成绩 (best first; a round the member did not take is left blank) and
    各单位成绩 (in the results page's order: participation rate, then average)."""
    require(actor, "export", contest.organization, app_label=APP, message="您无权导出该竞赛的成绩")
    results = contest_export_results(user=actor, contest=contest)
    book = XlsxExport()
    members = book.sheet(
        "党员成绩",
        [
            ExportColumn("名次", 8),
            ExportColumn("姓名", 12),
            ExportColumn("所属组织", 30),
            *(ExportColumn(r.name, 12) for r in results.rounds),
            ExportColumn("总分", 10),
        ],
    )
    for score in results.members:
        members.append(
            [
                score.rank,
                score.name,
                score.organization,
                *(score.rounds.get(r.pk) for r in results.rounds),
                score.total,
            ]
        )
        if progress is not None and members.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(members.rows)
    units = book.sheet(
        "各单位成绩",
        [
            ExportColumn("单位", 30),
            ExportColumn("应参赛人数", 12),
            ExportColumn("参赛人数", 10),
            ExportColumn("参与率（%）", 12),
            ExportColumn("参赛者平均分", 14),
        ],
    )
    for unit in results.units:
        units.append([unit.name, unit.targets, unit.participants, unit.rate, unit.mean])
    if progress is not None:
        progress(members.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=contest,
        changes={"rows": members.rows, "units": units.rows, "export": "contest_results"},
        message=f"导出竞赛成绩{members.rows}人",
    )
    return book.to_bytes()


def contest_export_enqueue(*, actor: User, contest: Contest) -> Job:
    return export_job_enqueue(
        actor=actor,
        kind=CONTEST_RESULTS_KIND,
        label=f"导出竞赛成绩：{contest.title}"[:200],
        query=f"contest={contest.pk}",
        back_url=reverse("exams:contest_results", args=[contest.pk]),
    )


@export_job_kind(CONTEST_RESULTS_KIND, "导出竞赛成绩")
def contest_results_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    contest = contest_get(user=user, pk=query_int(query, "contest"), action="export")
    rows = RowProgress(
        progress, total=contest_participants(user=user, contest=contest).count(), message="正在生成成绩表"
    )
    content = contest_results_export(actor=user, contest=contest, progress=rows)
    return ExportFile(f"{contest.title}_竞赛成绩", content, f"已导出竞赛成绩{rows.rows}人")
