"""The xlsx exports of the statistics pages: the statistics of a subtree and the duty list of
its secretaries and leading cadres."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import EXPORT_PROGRESS_EVERY
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.scope import require
from partyedu.members.choices import MemberCategory
from partyedu.organizations.models import Organization

from ..models import Lecture
from ..selectors import DUTY_CATEGORIES, lecture_duty, lecture_stats
from ._common import APP

STATS_COLUMNS = (
    ExportColumn("组织", 30),
    ExportColumn("党课次数", 10),
    ExportColumn("交叉讲党课次数", 14),
    ExportColumn("评价人次", 10),
    ExportColumn("平均评分", 10),
)
COMPETITION_STATS_COLUMNS = (
    ExportColumn("组织", 30),
    ExportColumn("参赛作品", 10),
    ExportColumn("完成评审", 10),
    ExportColumn("优秀党课", 10),
    ExportColumn("优秀主讲人", 10),
    ExportColumn("优秀组织单位", 12),
)
DUTY_COLUMNS = (
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 30),
    ExportColumn("类别", 24),
    ExportColumn("本年讲党课次数", 14),
    ExportColumn("其中交叉讲党课", 14),
    ExportColumn("情况", 14),
)


def duty_state(*, is_exempt: bool, lecture_count: int) -> str:
    if is_exempt:
        return "免于要求"
    return "已讲党课" if lecture_count else "尚未讲党课"


def lecture_stats_export(*, actor: Actor, organization: Organization, year: int) -> bytes:
    """The statistics page as xlsx (summary, by type, by lecturer category, per organisation
    below, and the competitions of the year per organisation below); one audit row."""
    require(actor, "export", organization, app_label=APP, message="您无权导出该组织的党课统计")
    stats = lecture_stats(user=actor, organization=organization, year=year)
    if stats is None:
        raise PermissionDenied("您无权导出该组织的党课统计")
    book = XlsxExport()
    summary = book.sheet("汇总", [ExportColumn("项目", 24), ExportColumn("数值", 12)])
    for label, value in (
        ("组织", organization.name),
        ("年度", year),
        ("党课次数", stats.lectures),
        ("交叉讲党课次数", stats.cross_lectures),
        ("书记、领导干部人数", stats.duty.total),
        ("其中已讲党课", stats.duty.lectured),
        ("其中尚未讲党课", stats.duty.not_lectured),
        ("其中免于要求", stats.duty.exempt),
        ("评价人次", stats.ratings),
        ("平均评分", stats.rating_average if stats.rating_average is not None else ""),
        ("评选参赛作品", stats.competitions.entries),
        ("评选完成评审", stats.competitions.reviews),
        *((f"获{row.label}", row.count) for row in stats.competitions.awards),
    ):
        summary.append([label, value])
    by_type = book.sheet("按党课类型", [ExportColumn("党课类型", 16), ExportColumn("次数", 10)])
    for row in stats.by_type:
        by_type.append([row.label, row.count])
    by_category = book.sheet("按主讲人类别", [ExportColumn("主讲人类别", 16), ExportColumn("党课次数", 10)])
    for row in stats.by_category:
        by_category.append([row.label, row.count])
    below = book.sheet("下级组织", STATS_COLUMNS)
    for org_row in stats.rows:
        name = f"{org_row.organization.name}（本级）" if org_row.own_level else org_row.organization.name
        average = org_row.rating_average if org_row.rating_average is not None else ""
        below.append([name, org_row.lectures, org_row.cross_lectures, org_row.ratings, average])
    contests = book.sheet("党课评选", COMPETITION_STATS_COLUMNS)
    for org_row in stats.rows:
        name = f"{org_row.organization.name}（本级）" if org_row.own_level else org_row.organization.name
        contests.append(
            [
                name,
                org_row.entries,
                org_row.reviews,
                org_row.lecture_awards,
                org_row.lecturer_awards,
                org_row.organization_awards,
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Lecture._meta.label_lower,
        object_repr=f"{organization.name} {year}年党课统计"[:255],
        changes={"organization": organization.pk, "year": year},
        message="导出党课统计",
    )
    return book.to_bytes()


def lecture_duty_export(
    *, actor: Actor, organization: Organization, year: int, progress: Callable[[int], None] | None = None
) -> bytes:
    """The secretaries and leading cadres of the subtree with the lectures they gave in the year
    (names only, no other personal data); one audit row. ``progress`` is told the number of rows
    written, every EXPORT_PROGRESS_EVERY rows and at the end (a background export shows it)."""
    require(actor, "export", organization, app_label=APP, message="您无权导出该组织的讲党课情况")
    labels = dict(MemberCategory.choices)
    book = XlsxExport()
    sheet = book.sheet(f"{year}年书记讲党课情况", DUTY_COLUMNS)
    member: Any
    for member in lecture_duty(user=actor, organization=organization, year=year).iterator(chunk_size=2000):
        categories = "、".join(str(labels[c]) for c in member.categories or [] if c in DUTY_CATEGORIES)
        state = duty_state(is_exempt=member.is_exempt, lecture_count=member.lecture_count)
        sheet.append(
            [
                member.name,
                member.organization.name,
                categories,
                member.lecture_count,
                member.cross_count,
                state,
            ]
        )
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Lecture._meta.label_lower,
        object_repr=f"{organization.name} {year}年书记讲党课情况"[:255],
        changes={"organization": organization.pk, "year": year, "rows": sheet.rows},
        message=f"导出书记讲党课情况{sheet.rows}人",
    )
    return book.to_bytes()
