"""The lectures app's rebuild on the 系统维护 page: the summary rows of the lecture statistics
(per-lecture tallies, the duty list, the cumulative figures of every organisation) against the
lectures, their speakers and ratings, the activities and the members (what ``manage.py
rebuild_lecture_figures`` does, through the same service).

``lecture_figures_rebuild`` is one transaction. 检查 only reads, without locks: a lecture recorded
while it runs may show as a passing difference (check again). 修复 locks the summary tables for the
length of the transaction, so recording lectures and ratings, and changing members, waits until it
commits; the rows are overwritten with the values recomputed in the same transaction.
"""

from __future__ import annotations

from partyedu.core.maintenance import Difference, Step, rebuild_register


@rebuild_register(
    "lectures.figures",
    "党课统计汇总",
    description=(
        "从党课记录、主讲人、评价、活动日期和党员信息重算党课统计（党课次数、交叉讲党课、评价、"
        "按类型和主讲人类别的次数、书记和领导干部讲党课情况），与各组织的统计汇总逐一核对；"
        "修复时以重算结果更正汇总。修复期间登记党课、评价和修改党员信息会稍有等待。"
    ),
    order=40,
)
def lecture_figures_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from .summaries import lecture_figures_rebuild

    report = lecture_figures_rebuild(apply=apply, progress=step)
    return [
        Difference("党课时间、组织与活动不符（次）", report.copies),
        Difference("党课统计计数与党课记录不符（次）", report.tallies),
        Difference("讲党课责任人与党员信息不符（人）", report.duty_members),
        Difference("组织党课统计汇总不符（项）", report.figures),
    ]
