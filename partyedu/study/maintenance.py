"""The study app's rebuild on the 系统维护 page: the monthly counts of activities that the cadence
report (组织生活开展情况) reads, against the activities themselves.

One transaction. On PostgreSQL it first takes a SHARE lock on the activity table: the rebuild
counts every activity and then compares, so an activity recorded in between would otherwise be
counted by its own service and "repaired" away. Reads go on; recording, editing and deleting
activities wait the few seconds it takes.
"""

from __future__ import annotations

from django.db import connection, transaction

from partyedu.core.maintenance import Difference, Step, rebuild_register


@rebuild_register(
    "study.activity_counts",
    "组织生活开展次数",
    description=(
        "按学习活动重新统计各党组织每月开展各类组织生活的次数（党小组会计入党小组本身，党小组的其他活动计入所在党支部），"
        "与组织生活开展情况所用的汇总核对。"
        "修复期间登记、修改和删除活动会稍有等待。"
    ),
    order=30,
)
def activity_counts_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from .models import Activity
    from .services import activity_counts_rebuild

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(Activity._meta.db_table)} IN SHARE MODE"
                )
        step(0, 1, "正在统计学习活动")
        found = activity_counts_rebuild(apply=apply)
    return [Difference("组织生活开展次数（行）", found)]


@rebuild_register(
    "study.activity_figures",
    "活动与出勤月度汇总",
    description=(
        "按学习活动及其出勤记录重新统计各党组织（含下级组织）每月举办各类活动的次数和出勤人次（出席、迟到），"
        "与督导看板所用的汇总核对。修复期间登记活动和出勤会稍有等待。"
    ),
    order=31,
)
def activity_figures_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from .models import Activity, Attendance
    from .services import activity_figures_rebuild

    with transaction.atomic():
        if connection.vendor == "postgresql":
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {qn(Activity._meta.db_table)}, {qn(Attendance._meta.db_table)} IN SHARE MODE"
                )
        step(0, 1, "正在统计学习活动和出勤")
        found = activity_figures_rebuild(apply=apply)
    return [Difference("活动与出勤月度汇总（行）", found)]
