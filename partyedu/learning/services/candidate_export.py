"""Export of the 发展对象 training list (细则: ≥ 3 days or 24 学时 of concentrated training between
becoming 发展对象 and admission; see ``learning.candidates``)."""

from __future__ import annotations

from datetime import date

from partyedu.accounts.types import User
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..candidates import candidate_training_list
from ..models import LearningHourEntry
from ._common import APP

CANDIDATE_COLUMNS = [
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 30),
    ExportColumn("确定为发展对象日期", 16),
    ExportColumn("计算起止", 26),
    ExportColumn("集中培训学时", 12),
    ExportColumn("集中培训天数", 12),
    ExportColumn("要求", 16),
    ExportColumn("是否达到", 10),
    ExportColumn("尚差", 18),
]


def learning_candidate_export(
    *, actor: User, organization: Organization, only_short: bool = False, today: date | None = None
) -> bytes:
    """The 发展对象 of the subtree with their training, as xlsx (the rows of the page, no personal
    data beyond the name); one audit row."""
    require(actor, "export", organization, app_label=APP, message="您无权导出该组织的发展对象培训情况")
    book = XlsxExport()
    sheet = book.sheet("发展对象培训情况", CANDIDATE_COLUMNS)
    for row in candidate_training_list(
        user=actor, organization=organization, only_short=only_short, today=today
    ):
        t = row.training
        sheet.append(
            [
                row.member.name,
                row.member.organization.name,
                t.start if t.start_registered else "未登记",
                f"{t.start:%Y-%m-%d}至{t.end:%Y-%m-%d}" + ("" if t.start_registered else "（自1月1日起计）"),
                float(t.hours),
                t.days,
                t.requirement_text,
                "已达到" if t.met else "未达到",
                t.shortfall_text,
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=LearningHourEntry._meta.label_lower,
        object_repr=f"{organization.name} 发展对象培训情况"[:255],
        changes={"rows": sheet.rows, "organization": organization.pk, "only_short": only_short},
        message=f"导出发展对象培训情况{sheet.rows}名",
    )
    return book.to_bytes()
