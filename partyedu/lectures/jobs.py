"""Background work of the lectures app: the exports of an organisation's duty list (书记、领导干部讲
党课情况) and of its lecture statistics when they are too large to build inside a request (see
``partyedu.core.export_jobs``). Each job keeps the organisation's id and the year, and runs the
export service for the person who asked, which checks their export scope again."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from partyedu.accounts.types import User, Viewer
from partyedu.core.export_jobs import (
    ExportFile,
    RowProgress,
    export_job_kind,
    export_job_or_none,
    query_int,
)
from partyedu.core.jobs import JobFailed, Progress
from partyedu.core.models import Job
from partyedu.organizations.models import Organization

DUTY_EXPORT_KIND = "lectures.duty_export"
STATS_EXPORT_KIND = "lectures.stats_export"


def _query(organization: Organization, year: int) -> str:
    return urlencode({"organization": organization.pk, "year": year})


def _organization_year(query: QueryDict) -> tuple[Organization, int]:
    """The organisation (wherever it now is; the export service checks the scope) and the year
    of a saved export query."""
    pk, year = query_int(query, "organization"), query_int(query, "year")
    organization = Organization.objects.filter(pk=pk).first() if pk is not None else None
    if organization is None or year is None:
        raise JobFailed("该党组织已不存在，无法导出")
    return organization, year


def duty_export_rows(*, user: Viewer, organization: Organization, year: int) -> int:
    """The length of the duty list from stored counts: the subtree's member count when that is
    already within the limit, else the duty list's own count, which the duty page shows (read
    from the statistics summary rows when the user sees every member of the subtree)."""
    from .selectors import lecture_duty_summary

    if organization.member_count <= settings.EXPORT_SYNC_MAX_ROWS:
        return organization.member_count
    return lecture_duty_summary(user=user, organization=organization, year=year).total


def duty_export_job_or_none(*, actor: User, organization: Organization, year: int) -> Job | None:
    """None when the duty list is short enough to download at once; otherwise its export job
    (the same one while unfinished)."""
    query = _query(organization, year)
    return export_job_or_none(
        actor=actor,
        kind=DUTY_EXPORT_KIND,
        label=f"导出“{organization.name}”{year}年书记讲党课情况",
        query=query,
        rows=duty_export_rows(user=actor, organization=organization, year=year),
        back_url=f"{reverse('lectures:duty')}?{query}",
    )


@export_job_kind(DUTY_EXPORT_KIND, "导出书记讲党课情况")
def duty_export_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    from .selectors import lecture_duty_summary
    from .services import lecture_duty_export

    organization, year = _organization_year(query)
    rows = RowProgress(
        progress,
        total=lecture_duty_summary(user=user, organization=organization, year=year).total,
        message="正在生成书记讲党课情况",
    )
    content = lecture_duty_export(actor=user, organization=organization, year=year, progress=rows)
    return ExportFile(f"{year}年书记讲党课情况", content, f"已导出书记、领导干部{rows.rows}人")


def stats_export_rows(organization: Organization) -> int:
    """The length of the statistics workbook's longest sheets: a row per direct child of the
    organisation and one for itself (the other sheets have a fixed handful). One indexed count.
    The figures themselves come from the statistics summary rows, whose cost does not grow with
    the subtree."""
    return Organization.objects.filter(parent=organization).count() + 1


def stats_export_job_or_none(*, actor: User, organization: Organization, year: int) -> Job | None:
    """None when the statistics workbook is short enough to download at once; otherwise its
    export job (the same one while unfinished)."""
    query = _query(organization, year)
    return export_job_or_none(
        actor=actor,
        kind=STATS_EXPORT_KIND,
        label=f"导出“{organization.name}”{year}年党课统计",
        query=query,
        rows=stats_export_rows(organization),
        back_url=f"{reverse('lectures:stats')}?{query}",
    )


@export_job_kind(STATS_EXPORT_KIND, "导出党课统计")
def stats_export_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    from .services import lecture_stats_export

    organization, year = _organization_year(query)
    progress(done=0, total=1, message="正在统计党课情况")
    content = lecture_stats_export(actor=user, organization=organization, year=year)
    return ExportFile(f"{year}年党课统计", content, f"已导出“{organization.name}”{year}年党课统计")
