"""Exports of an exam's results: the members who have not taken it (by organisation) and the
scores. Each is audited as an export; 手机号 is masked unless the actor holds the personal-data
grant for the member's organisation, as the member list export does. Longer than
EXPORT_SYNC_MAX_ROWS rows they are built by a background job (``export_job_kind`` below; the
exams AppConfig must import this module so that a worker knows the kinds).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
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
from partyedu.core.scope import scope_for

from ..models import Exam
from ..selectors.results import exam_get_for_results, nonparticipants, result_rows

APP = "exams"
NONPARTICIPANTS_KIND = "exams.nonparticipants_export"
RESULTS_KIND = "exams.results_export"


def _pii(actor: Viewer) -> Callable[[str], bool]:
    from partyedu.accounts.selectors import can_see_pii

    seen: dict[str, bool] = {}

    def visible(path: str) -> bool:
        if path not in seen:
            seen[path] = actor is not None and can_see_pii(actor, path)
        return seen[path]

    return visible


def _require_export(actor: Viewer) -> None:
    if scope_for(actor, "export", APP).empty:
        raise PermissionDenied("您无权导出考试数据")


def exam_nonparticipants_export(
    *, actor: Viewer, exam: Exam, progress: Callable[[int], None] | None = None
) -> bytes:
    """Target members in the actor's scope who have not submitted an attempt, by organisation."""
    _require_export(actor)
    book = XlsxExport()
    sheet = book.sheet(
        "未参考人员",
        [
            ExportColumn("所属组织", 30),
            ExportColumn("姓名", 12),
            ExportColumn("手机号", 16),
            ExportColumn("组织代码", 14),
        ],
    )
    visible = _pii(actor)
    unmasked = 0
    for member in nonparticipants(user=actor, exam=exam).iterator(chunk_size=2000):
        clear = visible(member.org_path)
        unmasked += clear
        phone = member.phone if clear else member.phone_masked
        sheet.append([member.organization.name, member.name, phone, member.organization.code])
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=exam,
        changes={"rows": sheet.rows, "unmasked_rows": unmasked, "export": "nonparticipants"},
        message=f"导出未参考人员{sheet.rows}名",
    )
    return book.to_bytes()


def exam_results_export(*, actor: Viewer, exam: Exam, progress: Callable[[int], None] | None = None) -> bytes:
    """Each target member's counted attempt in the actor's scope, by organisation and name."""
    _require_export(actor)
    book = XlsxExport()
    sheet = book.sheet(
        "成绩",
        [
            ExportColumn("所属组织", 30),
            ExportColumn("姓名", 12),
            ExportColumn("第几次", 8),
            ExportColumn("得分", 10),
            ExportColumn("满分", 10),
            ExportColumn("是否及格", 10),
            ExportColumn("交卷时间", 18),
        ],
    )
    for attempt in result_rows(user=actor, exam=exam).iterator(chunk_size=2000):
        passed = "待阅卷" if attempt.passed is None else ("及格" if attempt.passed else "不及格")
        sheet.append(
            [
                attempt.member.organization.name,
                attempt.member.name,
                attempt.number,
                attempt.score,
                attempt.max_score,
                passed,
                attempt.submitted_at,
            ]
        )
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=exam,
        changes={"rows": sheet.rows, "export": "results"},
        message=f"导出考试成绩{sheet.rows}条",
    )
    return book.to_bytes()


def export_enqueue(*, actor: User, exam: Exam, kind: str) -> Job:
    label = "导出未参考人员" if kind == NONPARTICIPANTS_KIND else "导出考试成绩"
    return export_job_enqueue(
        actor=actor,
        kind=kind,
        label=f"{label}：{exam.title}"[:200],
        query=f"exam={exam.pk}",
        back_url=reverse("exams:exam_results", args=[exam.pk]),
    )


@export_job_kind(NONPARTICIPANTS_KIND, "导出未参考人员")
def nonparticipants_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    exam = exam_get_for_results(user=user, pk=query_int(query, "exam"))
    rows = RowProgress(progress, total=nonparticipants(user=user, exam=exam).count(), message="正在生成名单")
    content = exam_nonparticipants_export(actor=user, exam=exam, progress=rows)
    return ExportFile(f"{exam.title}_未参考人员", content, f"已导出未参考人员{rows.rows}名")


@export_job_kind(RESULTS_KIND, "导出考试成绩")
def results_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    exam = exam_get_for_results(user=user, pk=query_int(query, "exam"))
    rows = RowProgress(progress, total=result_rows(user=user, exam=exam).count(), message="正在生成成绩表")
    content = exam_results_export(actor=user, exam=exam, progress=rows)
    return ExportFile(f"{exam.title}_成绩", content, f"已导出成绩{rows.rows}条")
