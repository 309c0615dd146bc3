"""The rebuild of organisation paths on the 系统维护 page: every organisation's path from the
parent links, each member's copy of its organisation's path, and each organisation's member
count (what ``manage.py rebuild_org_paths`` does, through the same services). It lives in the
members app, which may import organizations (not the reverse), because the paths and the
members' copies of them must be rebuilt in one transaction; its name stays
``organizations.paths``.

The services have no dry run and write only what differs, so 检查 runs them and rolls the
transaction back. Both modes run the two services in one transaction (the command runs them
one after the other), so nobody ever reads organisations with new paths and members with old
ones. On PostgreSQL the transaction first takes an EXCLUSIVE lock on the organisation table:
the services read every organisation without row locks and write what differs, so a
concurrent create, move or member count change could otherwise be overwritten or collide with
a renumbered path. EXCLUSIVE rather than SHARE ROW EXCLUSIVE, because those writers lock a row
(the parent, SELECT … FOR UPDATE) before they write: under the weaker lock such a writer could
hold a row the rebuild renumbers while it waits for the table (a deadlock; the PostgreSQL test
caught it). Plain reads go on; writes to organisations (and to member counts) wait the few
seconds the rebuild takes (about 2 s on the 100,000-member demo city).
"""

from __future__ import annotations

from django.db import connection, transaction

from partyedu.core.maintenance import Difference, Step, rebuild_register


@rebuild_register(
    "organizations.paths",
    "党组织路径与在册党员数",
    description=(
        "按上级关系重建全部党组织的路径（按排序号重新编号），并重算党员的组织路径副本和各组织的在册党员数。"
        "修复期间新建、移动党组织和党员入册会稍有等待。"
    ),
    order=10,
)
def organization_paths_maintenance(*, apply: bool, step: Step) -> list[Difference]:
    from partyedu.organizations.models import Organization
    from partyedu.organizations.services import rebuild_org_paths

    from .services import member_summaries_rebuild

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(Organization._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        step(0, 2, "正在核对党组织路径")
        paths = rebuild_org_paths()
        step(1, 2, "正在核对党员的组织路径和在册党员数")
        summary = member_summaries_rebuild()
        if not apply:
            transaction.set_rollback(True)
    return [
        Difference("党组织路径（个）", paths),
        Difference("党员的组织路径副本（条）", summary["member_paths"]),
        Difference("在册党员数（个组织）", summary["member_counts"]),
    ]
