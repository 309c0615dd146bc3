"""Background work of the members app: the member list export, when it is too long to build
inside a request (more than EXPORT_SYNC_MAX_ROWS members).

The job keeps who asked and the list's filters (the query string), never a queryset or a list of
ids: when it runs — seconds or, after a worker restart, minutes later — the list is selected and
the scope checked again for that user, so a role withdrawn in between exports nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from partyedu.core.jobs import JobFailed, Progress, job_enqueue, job_kind
from partyedu.core.models import Job

EXPORT_KIND = "members.export"


def member_export_enqueue(*, actor: Any, query: str, total: int) -> Job:
    """Queue the export of the member list filtered by ``query`` (the list page's query string).
    The same list asked for again while its export is unfinished returns that job."""
    back = reverse("members:list") + (f"?{query}" if query else "")
    return job_enqueue(
        actor=actor,
        kind=EXPORT_KIND,
        label=f"导出党员名单（{total}名）",
        params={"query": query, "back_url": back},
        key=f"{EXPORT_KIND}:{actor.pk}:{hashlib.sha256(query.encode()).hexdigest()[:32]}",
    )


@job_kind(EXPORT_KIND, "导出党员名单")
def member_export_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from .forms import MemberFilterForm
    from .selectors import member_list
    from .services import member_export

    user = get_user_model().objects.filter(pk=job.created_by_id, is_active=True).first()
    if user is None:
        raise JobFailed("发起导出的账号已不存在或已停用")
    form = MemberFilterForm(QueryDict(job.params.get("query", "")), user=user)
    queryset = member_list(user=user, filters=form.filters(), action="export")
    total = queryset.count()
    progress(done=0, total=total, message="正在生成党员名单")
    content = member_export(
        actor=user, queryset=queryset, progress=lambda rows: progress(done=min(rows, total))
    )
    progress.attach(f"党员名单_{timezone.localdate():%Y%m%d}.xlsx", content)
    return {"summary": f"已导出党员{total}名"}
