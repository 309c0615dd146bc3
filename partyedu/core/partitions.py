"""Monthly partitions of the audit log on PostgreSQL.

The audit log is the one table that only ever grows — every change, sign-in and view of personal
data adds a row, and rows may never be changed or deleted — while the law asks that logs be kept
for at least six months (网络安全法 第二十一条), not for ever. On PostgreSQL it is therefore a
table partitioned by month of ``created_at`` (migration ``core.0006``): a month that is past its
retention period is detached and archived as a whole (``docs/deployment.md``), with no DELETE that
the append-only trigger would refuse anyway, and the page's newest-first reading stays an ordered
scan of the newest partitions.

Month bounds are local midnight (``TIME_ZONE``) of the first day of the month. A DEFAULT partition
takes any row outside the months that exist, so an audit write never fails for want of a
partition; ``audit_partitions_ensure`` (nightly housekeeping) creates the coming months ahead of
time so that the DEFAULT partition normally stays empty. SQLite keeps one plain table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .housekeeping import housekeeping_step

logger = logging.getLogger(__name__)

AUDIT_TABLE = "core_auditlog"
DEFAULT_PARTITION = f"{AUDIT_TABLE}_default"


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(first: date) -> str:
    return f"{AUDIT_TABLE}_y{first.year:04d}m{first.month:02d}"


def _bound(first: date) -> str:
    """The month's first local midnight as a timestamptz literal with its UTC offset."""
    moment = datetime(first.year, first.month, 1, tzinfo=timezone.get_default_timezone())
    return moment.isoformat(sep=" ")


def create_partition_sql(first: date) -> str:
    """The statements that create the month starting at ``first`` with the TRUNCATE guard of its
    own (a statement trigger of the parent does not fire for a TRUNCATE of one partition)."""
    name = partition_name(first)
    return (
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {AUDIT_TABLE} "
        f"FOR VALUES FROM ('{_bound(first)}') TO ('{_bound(_add_months(first, 1))}');\n"
        f"DROP TRIGGER IF EXISTS core_auditlog_no_truncate ON {name};\n"
        f"CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON {name} "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_no_truncate();\n"
    )


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid))",
            [AUDIT_TABLE],
        )
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class Partition:
    name: str
    bounds: str
    rows: int  # the planner's estimate (reltuples), not a count


def audit_partitions() -> list[Partition]:
    """The audit log's partitions, oldest first, with their bounds; empty on SQLite."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [AUDIT_TABLE],
        )
        return [Partition(name, bounds, rows) for name, bounds, rows in cursor.fetchall()]


def audit_partitions_ensure(*, months_ahead: int | None = None, today: date | None = None) -> list[str]:
    """Create the partitions of this month and the next ``months_ahead`` months that do not
    exist yet; returns their names. Nothing to do on SQLite or on an unpartitioned table.

    A month whose rows already went to the DEFAULT partition (the nightly run was missed for
    months) cannot get its partition while they are there; it is logged and skipped, and those
    rows stay in the DEFAULT partition, readable as any other."""
    if not is_partitioned():
        return []
    ahead = settings.AUDIT_PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    current = (today or timezone.localdate()).replace(day=1)
    existing = {p.name for p in audit_partitions()}
    created = []
    for n in range(ahead + 1):
        first = _add_months(current, n)
        name = partition_name(first)
        if name in existing:
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(create_partition_sql(first))
        except Exception:
            logger.exception("audit log partition %s could not be created", name)
            continue
        created.append(name)
    return created


@housekeeping_step("audit_partitions")
def audit_partitions_housekeeping() -> int:
    return len(audit_partitions_ensure())
