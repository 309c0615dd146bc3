"""Background work of the organisations app: the export of the organisation list when it is too
long to build inside a request (a city has some 16,000 organisations; see
``partyedu.core.export_jobs``). The job keeps the list's search text and subtree, and selects the
organisations again for the person who asked when it runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import QueryDict
from django.urls import reverse

from partyedu.core.export_jobs import (
    ExportFile,
    RowProgress,
    export_job_kind,
    export_job_or_none,
    query_int,
)
from partyedu.core.jobs import JobFailed, Progress
from partyedu.core.models import Job
from partyedu.core.types import BaseViewer

from .models import Organization

EXPORT_KIND = "organizations.export"


def organization_export_query(*, q: str, within: Organization | None) -> str:
    """The export's query string as the job keeps it: only what narrows the list."""
    params: dict[str, Any] = {}
    if q:
        params["q"] = q
    if within is not None:
        params["within"] = within.pk
    return urlencode(params)


def organization_export_filters(*, q: str, within: Organization | None) -> dict[str, Any]:
    """The ``organization_list`` filters of the export (the view and the job use the same)."""
    filters: dict[str, Any] = {"q": q}
    if within is not None:
        filters["within"] = within
    return filters


def organization_export_job_or_none(
    *, actor: BaseViewer, q: str, within: Organization | None, rows: int
) -> Job | None:
    """None when ``rows`` organisations are few enough to download at once; otherwise the export
    job (the same one while unfinished)."""
    return export_job_or_none(
        actor=actor,
        kind=EXPORT_KIND,
        label=f"导出“{within.name}”及下级党组织名单" if within is not None else "导出党组织名单",
        query=organization_export_query(q=q, within=within),
        rows=rows,
        back_url=reverse("organizations:tree"),
    )


@export_job_kind(EXPORT_KIND, "导出党组织名单")
def organization_export_job(*, user: AbstractBaseUser, query: QueryDict, progress: Progress) -> ExportFile:
    from .selectors import organization_list
    from .services import organization_export

    within = None
    if query.get("within"):
        pk = query_int(query, "within")
        within = Organization.objects.filter(pk=pk).first() if pk is not None else None
        if within is None:
            raise JobFailed("该党组织已不存在，无法导出")
    # Restricted to the person's export scope as it is now (the service checks it again).
    queryset = organization_list(
        user=user, filters=organization_export_filters(q=query.get("q", ""), within=within), action="export"
    ).order_by("path")
    rows = RowProgress(progress, total=queryset.count(), message="正在生成党组织名单")
    content = organization_export(actor=user, queryset=queryset, progress=rows)
    return ExportFile("党组织名单", content, f"已导出党组织{rows.rows}个")
