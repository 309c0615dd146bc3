"""Background work of the members app: the member list export, when it is too long to build
inside a request (more than EXPORT_SYNC_MAX_ROWS members).

The job keeps who asked and the list's filters (the query string), never a queryset or a list of
ids: when it runs — seconds or, after a worker restart, minutes later — the list is selected and
the scope checked again for that user, so a role withdrawn in between exports nothing
(``partyedu.core.export_jobs``).
"""

from __future__ import annotations

from django.http import QueryDict
from django.urls import reverse

from partyedu.accounts.types import User
from partyedu.core.export_jobs import ExportFile, RowProgress, export_job_enqueue, export_job_kind
from partyedu.core.jobs import Progress
from partyedu.core.models import Job

EXPORT_KIND = "members.export"


def member_export_enqueue(*, actor: User, query: str, total: int | None = None) -> Job:
    """Queue the export of the member list filtered by ``query`` (the list page's query string).
    The same list asked for again while its export is unfinished returns that job."""
    return export_job_enqueue(
        actor=actor,
        kind=EXPORT_KIND,
        label=f"导出党员名单（{total}名）" if total else "导出党员名单",
        query=query,
        back_url=reverse("members:list") + (f"?{query}" if query else ""),
    )


@export_job_kind(EXPORT_KIND, "导出党员名单")
def member_export_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    from .forms import MemberFilterForm
    from .selectors import member_list
    from .services import member_export

    form = MemberFilterForm(query, user=user)
    queryset = member_list(user=user, filters=form.filters(), action="export")
    total = queryset.count()
    content = member_export(
        actor=user, queryset=queryset, progress=RowProgress(progress, total=total, message="正在生成党员名单")
    )
    return ExportFile("党员名单", content, f"已导出党员{total}名")
