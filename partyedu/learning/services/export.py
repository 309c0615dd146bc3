"""Exports of the learning app: the members still short of their requirement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import EXPORT_PROGRESS_EVERY
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..choices import RequirementGroup
from ..models import LearningHourEntry
from ..selectors import _short_list_for
from ._common import APP

# --- export ---------------------------------------------------------------------------------------

SHORT_COLUMNS = [
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 30),
    ExportColumn("要求类别", 22),
    ExportColumn("应修学时", 10),
    ExportColumn("已修学时（计入要求）", 12),
    ExportColumn("本年共学学时", 10),
    ExportColumn("还差学时", 10),
    ExportColumn("说明", 24),
]


def learning_short_export(
    *, actor: Actor, organization: Organization, year: int, progress: Callable[[int], None] | None = None
) -> bytes:
    """The members of the subtree still short of their requirement, as xlsx, with no personal
    data beyond the name; one audit row. ``progress`` is told the number of rows written, every
    EXPORT_PROGRESS_EVERY rows and at the end (a background export shows it)."""
    require(actor, "export", organization, app_label=APP, message="您无权导出该组织的学时情况")
    book = XlsxExport()
    sheet = book.sheet(f"{year}年学时未达标", SHORT_COLUMNS)
    member: Any  # annotated by the selector
    for member in _short_list_for(organization=organization, year=year).iterator(chunk_size=2000):
        note = ""
        if member.lh_group == RequirementGroup.CANDIDATE:
            note = "只计集中培训学时"
        elif member.lh_missing <= 0:
            note = "尚未完成一次集中培训（培训班结业或集中培训满规定学时）"
        sheet.append(
            [
                member.name,
                member.organization.name,
                str(RequirementGroup(member.lh_group).label),
                float(member.lh_required),
                float(member.lh_counted),
                float(member.lh_total),
                float(member.lh_missing),
                note,
            ]
        )
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=LearningHourEntry._meta.label_lower,
        object_repr=f"{organization.name} {year}年学时未达标名单"[:255],
        changes={"rows": sheet.rows, "organization": organization.pk, "year": year},
        message=f"导出学时未达标党员{sheet.rows}名",
    )
    return book.to_bytes()
