"""The development cases as an xlsx in the vocabulary of the national member system
(全国党员管理信息系统): the columns its 发展党员 sheets use, so the organisation department can
report from it. The 公民身份号码 is masked unless the person exporting holds the personal-data
grant over the branch; one audit row records the count and whether anything was unmasked.

A list longer than ``EXPORT_SYNC_MAX_ROWS`` is built by a background job (``development.export``,
``partyedu.core.export_jobs``) that keeps who asked and the list's query string, and selects the
rows and checks the scope again when it runs."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import QueryDict
from django.urls import reverse

from partyedu.accounts.types import Actor, User
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import (
    EXPORT_PROGRESS_EVERY,
    ExportFile,
    RowProgress,
    export_job_enqueue,
    export_job_kind,
    export_row_count,
)
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.jobs import Progress
from partyedu.core.models import Job
from partyedu.core.scope import scope_for
from partyedu.members.models import Member

from .models import DevelopmentCase

APP = "development"
EXPORT_KIND = "development.export"
BASENAME = "发展党员名册"

# The national system's column names, in its order.
COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("姓名", 10),
    ExportColumn("性别", 6),
    ExportColumn("公民身份号码", 22),
    ExportColumn("出生日期", 12),
    ExportColumn("所在党支部", 24),
    ExportColumn("申请入党日期", 12),
    ExportColumn("确定为入党积极分子日期", 12),
    ExportColumn("确定为发展对象日期", 12),
    ExportColumn("接收为预备党员日期", 12),
    ExportColumn("转为正式党员日期", 12),
    ExportColumn("入党介绍人", 16),
    ExportColumn("培养联系人", 16),
    ExportColumn("发展阶段", 16),
    ExportColumn("延长预备期", 10),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)


def _names(people: list[Member]) -> str:
    return "、".join(m.name for m in sorted(people, key=lambda m: (m.name, m.pk)))


def case_row(case: DevelopmentCase, *, unmasked: bool) -> list[object]:
    """One case's cells in ``COLUMNS`` order (mentors and sponsors prefetched)."""
    return [
        case.name,
        case.get_gender_display(),
        case.id_number if unmasked else case.id_number_masked,
        case.birth_date,
        case.organization.name,
        case.applied_on,
        case.activist_on,
        case.candidate_on,
        case.admitted_on,
        case.full_member_on,
        _names(list(case.sponsors.all())),
        _names(list(case.mentors.all())),
        case.get_stage_display(),
        f"{case.extension_months}个月" if case.extension_months else "",
    ]


def case_export(
    *, actor: Actor, queryset: QuerySet[DevelopmentCase], progress: Callable[[int], None] | None = None
) -> bytes:
    """The cases of ``queryset`` the actor may export, as one xlsx sheet (see the module
    docstring). Three queries per 2,000 rows (the cases, their sponsors, their mentors)."""
    from partyedu.accounts.selectors import can_see_pii

    if actor is not None:
        scope = scope_for(actor, "export", APP)
        if not scope.paths:
            raise PermissionDenied("您无权导出发展党员名册")
        queryset = queryset.filter(scope.q("organization__path"))
    people = Member.objects.only("id", "name")
    rows = (
        queryset.select_related("organization")
        .prefetch_related(Prefetch("sponsors", queryset=people), Prefetch("mentors", queryset=people))
        .order_by("organization__path", "applied_on", "id")
    )
    book = XlsxExport()
    sheet = book.sheet("发展党员", COLUMNS)
    visible: dict[str, bool] = {}
    unmasked_rows = 0
    for case in rows.iterator(chunk_size=2000):
        path = case.organization.path
        if path not in visible:
            # The system (no actor) holds no personal-data grant: its exports are masked.
            visible[path] = actor is not None and can_see_pii(actor, path)
        unmasked_rows += visible[path]
        sheet.append(case_row(case, unmasked=visible[path]))
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=DevelopmentCase._meta.label_lower,
        object_repr="发展党员名册导出",
        changes={"rows": sheet.rows, "unmasked": unmasked_rows > 0, "unmasked_rows": unmasked_rows},
        message=f"导出发展党员{sheet.rows}名"
        + (f"，其中{unmasked_rows}名含未脱敏公民身份号码" if unmasked_rows else ""),
    )
    return book.to_bytes()


def case_export_job_or_none(*, actor: User, queryset: QuerySet[DevelopmentCase], query: str) -> Job | None:
    """None when the list is short enough to download at once (counted no further than the
    limit); otherwise its export job (the same one while unfinished)."""
    if export_row_count(queryset) <= settings.EXPORT_SYNC_MAX_ROWS:
        return None
    return export_job_enqueue(
        actor=actor,
        kind=EXPORT_KIND,
        label="导出发展党员名册",
        query=query,
        back_url=reverse("development:index") + (f"?{query}" if query else ""),
    )


@export_job_kind(EXPORT_KIND, "导出发展党员名册")
def case_export_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    from .forms import CaseFilterForm
    from .selectors_overview import case_list_filtered

    form = CaseFilterForm(query, user=user)
    queryset = case_list_filtered(user=user, filters=form.filters())
    total = queryset.count()
    rows = RowProgress(progress, total=total, message="正在生成发展党员名册")
    content = case_export(actor=user, queryset=queryset, progress=rows)
    return ExportFile(BASENAME, content, f"已导出发展党员{rows.rows}名")
