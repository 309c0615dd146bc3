"""The service app's rebuild on the 系统维护 page: the kept figures of service records and pledges
that the supervision dashboards read, against the records and pledges themselves.

One transaction. On PostgreSQL it first takes a SHARE lock on both tables: the rebuild counts
every row and then compares, so a row changed in between would otherwise be counted by its own
service and "repaired" away. Reads go on; confirming records and pledges waits."""

from __future__ import annotations

from django.db import connection, transaction

from partyedu.core.maintenance import Difference, Step, rebuild_register


@rebuild_register(
    "service.record_figures",
    "服务记录与办实事汇总",
    description=(
        "按社区已确认的服务记录和“我为群众办实事”承诺，重新统计各党组织（含下级组织）每月的服务次数、"
        "服务时长、承诺实事、已办结和已确认办结的件数，与督导看板所用的汇总核对。"
        "修复期间确认和删除服务记录、登记和办结承诺会稍有等待。"
    ),
    order=60,
)
def record_figures_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from .models import Pledge, ServiceRecord
    from .services.figures import pledges_rebuild, records_rebuild

    with transaction.atomic():
        if connection.vendor == "postgresql":
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {qn(ServiceRecord._meta.db_table)}, {qn(Pledge._meta.db_table)} IN SHARE MODE"
                )
        step(0, 2, "正在统计服务记录")
        copies, figures = records_rebuild(apply=apply)
        step(1, 2, "正在统计办实事承诺")
        pledge_copies, pledge_figures = pledges_rebuild(apply=apply)
    return [
        Difference("服务记录计入的组织不符（条）", copies),
        Difference("组织服务记录汇总不符（项）", figures),
        Difference("办实事承诺计入的组织或状态不符（件）", pledge_copies),
        Difference("组织办实事汇总不符（项）", pledge_figures),
    ]
