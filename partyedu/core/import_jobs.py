"""Large spreadsheet imports as background jobs (the same two steps as the page: a check that
writes nothing, then the all-or-nothing import). ``ImportFlow`` queues them for files of more than
``IMPORT_JOB_MIN_ROWS`` rows; the import function itself (a domain service, by dotted path) is the
same one the page calls for small files.

Retrying is safe: a check writes nothing, and an import matches rows by their natural keys (ID
number, organisation code) in one transaction, so running it twice updates the same rows to the
same values."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.utils.module_loading import import_string

from .importing import ImportFileError
from .jobs import JobFailed, job_kind
from .models import Job

# Errors kept with a check's result for the page; the count says how many there were in all.
MAX_ERRORS_SHOWN = 500
EXPIRED = "待导入的文件已失效，请重新上传"


def _run(job: Job, progress: Any, *, dry_run: bool) -> Any:
    params = job.params
    run = import_string(params["runner"])
    if not default_storage.exists(params["name"]):
        raise JobFailed(EXPIRED)
    progress(message="正在检查文件…" if dry_run else "正在导入…")
    try:
        with default_storage.open(params["name"], "rb") as handle:
            return run(
                actor=job.created_by,
                file=handle,
                filename=params["filename"],
                dry_run=dry_run,
                **params.get("runner_params", {}),
            )
    except ImportFileError as exc:
        default_storage.delete(params["name"])
        raise JobFailed(exc.message) from None


def _report(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "total_rows": report.total_rows,
        "created": report.created,
        "updated": report.updated,
        "errors": [str(error) for error in report.errors[:MAX_ERRORS_SHOWN]],
        "error_count": len(report.errors),
        "preview": report.preview,
    }


@job_kind("core.import_check", "导入前检查", result_template="core/_import_job_result.html")
def import_check(*, job: Job, progress: Any) -> dict[str, Any]:
    report = _run(job, progress, dry_run=True)
    if not report.ok:
        default_storage.delete(job.params["name"])  # nothing to confirm: do not keep the data
    result = _report(report)
    result["summary"] = (
        f"检查通过：共{report.total_rows}行，将新增{report.created}条，更新{report.updated}条"
        if report.ok
        else f"检查发现{len(report.errors)}个问题，请修改文件后重新上传"
    )
    return result


@job_kind("core.import_commit", "导入", result_template="core/_import_job_result.html")
def import_commit(*, job: Job, progress: Any) -> dict[str, Any]:
    try:
        report = _run(job, progress, dry_run=False)
    finally:
        if default_storage.exists(job.params["name"]):
            default_storage.delete(job.params["name"])
    result = _report(report)
    result["committed"] = True
    result["summary"] = (
        f"导入完成：共{report.total_rows}行，新增{report.created}条，更新{report.updated}条"
        if report.ok
        else "导入未完成，数据未做任何修改"
    )
    return result
