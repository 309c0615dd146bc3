"""The learning app's rebuild on the 系统维护 page: the hours ledger, the yearly hours, the
requirement states and the organisation counts against attendance and online study (what
``manage.py rebuild_learning_hours`` does, through the same service).

``learning_hours_rebuild`` is one transaction. 检查 only reads, without locks: work committed
while it runs may show as a passing difference (check again). 修复 appends ledger lines under
the members' row locks, as every writer of hours does, and keeps those locks to the end of the
transaction, so crediting hours (attendance, check-in, online study) waits until it commits;
the summaries are overwritten with values recomputed in the same transaction.
"""

from __future__ import annotations

from partyedu.core.maintenance import Difference, Step, rebuild_register


@rebuild_register(
    "learning.hours",
    "学时台账与汇总",
    description=(
        "从出勤记录和网上学习进度重算学时，与学时台账、年度学时汇总、学时要求与达标标记、"
        "组织学时汇总逐一核对。修复时追加更正记录（从不改动已有记录）并更正汇总；"
        "修复期间记录出勤和学习进度会稍有等待，宜在业务较少时进行。"
    ),
    order=20,
)
def learning_hours_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from .services import learning_hours_rebuild

    report = learning_hours_rebuild(apply=apply, progress=step)
    return [
        Difference("学时台账与来源不符（处）", report.ledger),
        Difference("年度学时汇总与台账不符（条）", report.year_hours),
        Difference("学时要求与达标标记不符（处）", report.requirements),
        Difference("组织学时汇总不符（行）", report.summaries),
    ]
