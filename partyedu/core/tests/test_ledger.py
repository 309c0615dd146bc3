"""The append-only base (``partyedu.core.ledger``): model and queryset guards, shown on the audit
log, and the PostgreSQL triggers that ``append_only_trigger_operations`` installs, shown on a
throwaway table created inside the test's transaction (plain and partitioned)."""

import pytest
from django.db import DatabaseError, connection, transaction

from partyedu.core.audit import audit_record
from partyedu.core.ledger import (
    PURGE_SETTING,
    TRUNCATE_SETTING,
    AppendOnlyError,
    AppendOnlyQuerySet,
    ScopedAppendOnlyQuerySet,
    append_only_purge,
    append_only_trigger_operations,
    append_only_truncate_sql,
)
from partyedu.core.models import AuditLog, Job
from partyedu.core.scope import ScopedQuerySet

pytestmark = pytest.mark.django_db


def _row() -> AuditLog:
    return audit_record(actor=None, action="create", object_type="x", object_id="1")


# --- model and queryset ---------------------------------------------------------------------------


def test_the_error_is_a_permission_error_that_names_the_table():
    row = _row()
    row.message = "changed"
    with pytest.raises(AppendOnlyError, match="审计日志不可修改") as refused:
        row.save()
    assert isinstance(refused.value, PermissionError)


def test_instance_delete_is_refused():
    row = _row()
    with pytest.raises(AppendOnlyError, match="审计日志不可删除"):
        row.delete()
    assert AuditLog.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    "write",
    [
        lambda qs: qs.update(message="x"),
        lambda qs: qs.delete(),
        lambda qs: qs._raw_delete(qs.db),
        lambda qs: qs.bulk_update(list(qs), ["message"]),
        lambda qs: qs.bulk_create(
            [AuditLog(action="create", object_type="x")], update_conflicts=True, unique_fields=["id"]
        ),
    ],
    ids=["update", "delete", "raw_delete", "bulk_update", "upsert"],
)
def test_queryset_writes_other_than_insert_are_refused(write):
    row = _row()
    with pytest.raises(AppendOnlyError):
        write(AuditLog.objects.all())
    assert AuditLog.objects.get(pk=row.pk).message == ""


def test_plain_inserts_still_work():
    AuditLog.objects.bulk_create(
        [AuditLog(action="create", object_type="x", object_id=str(i)) for i in range(3)]
    )
    assert AuditLog.objects.filter(object_type="x").count() == 3


def test_the_scoped_queryset_is_both():
    assert issubclass(ScopedAppendOnlyQuerySet, AppendOnlyQuerySet)
    assert issubclass(ScopedAppendOnlyQuerySet, ScopedQuerySet)
    assert ScopedAppendOnlyQuerySet.update is AppendOnlyQuerySet.update


# --- the purge ------------------------------------------------------------------------------------


def test_the_audit_log_admits_no_purge():
    row = _row()
    with pytest.raises(AppendOnlyError), append_only_purge(AuditLog, reason="试图清空"):
        pass
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_a_purge_needs_a_reason_and_append_only_models():
    with pytest.raises(ValueError, match="needs a reason"), append_only_purge(AuditLog, reason=" "):
        pass
    # Job is deliberately no append-only model.
    with pytest.raises(TypeError), append_only_purge(Job, reason="清理"):  # type: ignore[arg-type]
        pass


# --- PostgreSQL triggers, on a throwaway table ----------------------------------------------------

PROBE = "core_ledger_probe"


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")


def _install(*, partitioned: bool = False) -> None:
    """The probe table with the triggers of ``append_only_trigger_operations``; the test's
    transaction rolls all of it back."""
    with connection.cursor() as cursor:
        if partitioned:
            cursor.execute(f"CREATE TABLE {PROBE} (id int, year int) PARTITION BY RANGE (year)")
            cursor.execute(
                f"CREATE TABLE {PROBE}_y2026 PARTITION OF {PROBE} FOR VALUES FROM (2026) TO (2027)"
            )
        else:
            cursor.execute(f"CREATE TABLE {PROBE} (id int, year int)")
        for operation in append_only_trigger_operations(PROBE):
            for statement in connection.ops.prepare_sql_script(operation.sql):
                cursor.execute(statement)
        if partitioned:
            # Created after the triggers: the row trigger is cloned, the TRUNCATE one is not.
            cursor.execute(
                f"CREATE TABLE {PROBE}_y2027 PARTITION OF {PROBE} FOR VALUES FROM (2027) TO (2028)"
            )
            for partition in ("y2026", "y2027"):
                cursor.execute(append_only_truncate_sql(PROBE, on=f"{PROBE}_{partition}"))
        cursor.execute(f"INSERT INTO {PROBE} VALUES (1, 2026), (2, 2027)")


def _refused(sql: str, *settings: tuple[str, str]) -> None:
    with (  # noqa: PT012 - the statements must run inside the transaction and cursor this block opens
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # As in production: the test database may TRUNCATE (conftest), this transaction may not.
        cursor.execute("SELECT set_config(%s, 'off', true)", [TRUNCATE_SETTING])
        for name, value in settings:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute(sql)


def _count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {PROBE}")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [f"UPDATE {PROBE} SET id = 3", f"DELETE FROM {PROBE}", f"TRUNCATE {PROBE}"],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_raw_sql(sql):
    _postgresql_only()
    _install()
    _refused(sql)
    assert _count() == 2


@pytest.mark.postgres
def test_a_purge_of_another_table_does_not_open_this_one():
    _postgresql_only()
    _install()
    _refused(f"DELETE FROM {PROBE}", (PURGE_SETTING, "learning_learninghourentry"))


@pytest.mark.postgres
def test_a_purge_of_this_table_allows_delete_but_never_update():
    _postgresql_only()
    _install()
    _refused(f"UPDATE {PROBE} SET id = 3", (PURGE_SETTING, PROBE))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [PURGE_SETTING, f"other,{PROBE}"])
        cursor.execute(f"DELETE FROM {PROBE}")
    assert _count() == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {PROBE}_y2027 SET id = 3",
        f"DELETE FROM {PROBE}_y2026",
        f"TRUNCATE {PROBE}_y2026",
        f"TRUNCATE {PROBE}_y2027",
        f"TRUNCATE {PROBE}",
    ],
)
def test_every_partition_refuses_too(sql):
    _postgresql_only()
    _install(partitioned=True)
    _refused(sql)
    assert _count() == 2


@pytest.mark.postgres
def test_the_operations_are_reversible():
    _postgresql_only()
    _install()
    with connection.cursor() as cursor:
        for operation in append_only_trigger_operations(PROBE):
            for statement in connection.ops.prepare_sql_script(operation.reverse_sql):
                cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM pg_trigger WHERE tgrelid = '{PROBE}'::regclass")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"UPDATE {PROBE} SET id = 3")


def test_unsuitable_table_names_are_refused():
    with pytest.raises(ValueError, match="unsuitable table name"):
        append_only_trigger_operations("x; DROP TABLE core_auditlog")
