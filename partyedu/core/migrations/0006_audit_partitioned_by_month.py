"""On PostgreSQL the audit log becomes a table partitioned by month of ``created_at``
(``partyedu.core.partitions`` explains why). The rows are copied into the new table under the
same ids, with the same indexes (same names), the same append-only and no-TRUNCATE triggers, a
partition per month from the oldest row to three months ahead, and a DEFAULT partition.

The primary key of a partitioned table must contain the partition key, so the database's key is
``(id, created_at)``; ids still come from one sequence, so ``id`` stays unique and Django keeps it
as the model's primary key. The copy holds the table locked: on a large installation run this
migration in a maintenance window (docs/deployment.md). SQLite keeps one plain table."""

from datetime import date, datetime

from django.db import migrations
from django.utils import timezone

TABLE = "core_auditlog"
COLUMNS = (
    "id, created_at, username, action, success, object_type, object_id, object_repr, "
    "ip_address, changes, message, user_id"
)
INDEXES = f"""
CREATE INDEX audit_object_idx ON {TABLE} (object_type, object_id);
CREATE INDEX core_auditlog_action_978477aa ON {TABLE} (action);
CREATE INDEX core_auditlog_action_978477aa_like ON {TABLE} (action varchar_pattern_ops);
CREATE INDEX core_auditlog_created_at_3d40b819 ON {TABLE} (created_at);
CREATE INDEX core_auditlog_object_type_0be9ff90 ON {TABLE} (object_type);
CREATE INDEX core_auditlog_object_type_0be9ff90_like ON {TABLE} (object_type varchar_pattern_ops);
CREATE INDEX core_auditlog_user_id_3797aaab ON {TABLE} (user_id);
"""
TRIGGERS = f"""
CREATE TRIGGER core_auditlog_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only();
CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_no_truncate();
"""
MONTHS_AHEAD = 3


def _add_months(first, months):
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bound(first):
    return timezone.make_aware(
        datetime(first.year, first.month, 1), timezone.get_default_timezone()
    ).isoformat(sep=" ")


def _partition(first):
    name = f"{TABLE}_y{first.year:04d}m{first.month:02d}"
    return (
        f"CREATE TABLE {name} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{_bound(first)}') TO ('{_bound(_add_months(first, 1))}');\n"
        f"CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON {name} "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_no_truncate();\n"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT min(created_at), coalesce(max(id), 0) FROM {TABLE}")
        oldest, last_id = cursor.fetchone()
    run(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_unpartitioned")
    run(
        f"""CREATE TABLE {TABLE} (
            id bigint NOT NULL,
            created_at timestamp with time zone NOT NULL,
            username varchar(150) NOT NULL,
            action varchar(32) NOT NULL,
            success boolean NOT NULL,
            object_type varchar(64) NOT NULL,
            object_id varchar(64) NOT NULL,
            object_repr varchar(255) NOT NULL,
            ip_address inet NULL,
            changes jsonb NOT NULL,
            message varchar(500) NOT NULL,
            user_id bigint NULL,
            PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at)"""
    )
    run(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    run(
        f"CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON {TABLE}_default "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_no_truncate()"
    )
    current = timezone.localdate().replace(day=1)
    first = timezone.localtime(oldest).date().replace(day=1) if oldest else current
    first = min(first, current)
    while first <= _add_months(current, MONTHS_AHEAD):
        run(_partition(first))
        first = _add_months(first, 1)
    run(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_unpartitioned")
    # The old table takes its identity sequence, indexes and triggers with it.
    run(f"DROP TABLE {TABLE}_unpartitioned")
    run(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    run(f"SELECT setval('{TABLE}_id_seq', {int(last_id) + 1}, false)")
    run(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    run(INDEXES)
    run(TRIGGERS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    run(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_partitioned")
    run(
        f"""CREATE TABLE {TABLE} (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            created_at timestamp with time zone NOT NULL,
            username varchar(150) NOT NULL,
            action varchar(32) NOT NULL,
            success boolean NOT NULL,
            object_type varchar(64) NOT NULL,
            object_id varchar(64) NOT NULL,
            object_repr varchar(255) NOT NULL,
            ip_address inet NULL,
            changes jsonb NOT NULL,
            message varchar(500) NOT NULL,
            user_id bigint NULL
        )"""
    )
    run(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_partitioned")
    run(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )
    run(f"DROP TABLE {TABLE}_partitioned CASCADE")
    run(INDEXES)
    run(TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_jobs")]
    operations = [migrations.RunPython(forwards, backwards)]
