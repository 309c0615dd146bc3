from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from partyedu.core.audit import audit_record
from partyedu.core.housekeeping import housekeeping
from partyedu.core.partitions import audit_partitions, audit_partitions_ensure, partition_name

pytestmark = pytest.mark.django_db


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the audit log is partitioned on PostgreSQL only")


def _table_of(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM core_auditlog WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_new_audit_row_lands_in_this_months_partition():
    _postgresql_only()
    row = audit_record(actor=None, action="create", object_type="x", object_id="1")
    assert _table_of(row.pk) == partition_name(timezone.localdate().replace(day=1))


def test_coming_months_are_created_ahead_once():
    _postgresql_only()
    created = audit_partitions_ensure(today=date(2031, 5, 17), months_ahead=2)
    assert created == ["core_auditlog_y2031m05", "core_auditlog_y2031m06", "core_auditlog_y2031m07"]
    assert audit_partitions_ensure(today=date(2031, 5, 17), months_ahead=2) == []


def test_nightly_housekeeping_keeps_the_coming_months():
    _postgresql_only()
    housekeeping()
    names = {p.name for p in audit_partitions()}
    assert partition_name(timezone.localdate().replace(day=1)) in names
    assert "core_auditlog_default" in names


def test_truncating_one_partition_is_refused():
    _postgresql_only()
    row = audit_record(actor=None, action="create", object_type="x", object_id="1")
    partition = _table_of(row.pk)
    with (  # noqa: PT012 - the statements must run inside the transaction and cursor this block opens
        pytest.raises(DatabaseError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL partyedu.audit_maintenance = 'off'")
        cursor.execute(f"TRUNCATE {partition}")


def test_changing_a_row_in_a_partition_is_refused():
    _postgresql_only()
    row = audit_record(actor=None, action="create", object_type="x", object_id="1")
    partition = _table_of(row.pk)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {partition} WHERE id = %s", [row.pk])


def test_sqlite_keeps_one_plain_table():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert audit_partitions_ensure() == []
    assert audit_partitions() == []
