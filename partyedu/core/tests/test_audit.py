import pytest
from django.db import connection

from partyedu.core.audit import audit_record, diff
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import make_member


def test_service_write_leaves_an_audit_row(tree):
    member = make_member(tree.branch_a, "张三")
    row = AuditLog.objects.get(object_type="members.member", object_id=str(member.pk))
    assert row.action == "create"
    assert row.changes["after"]["name"] == "张三"


def test_personal_data_never_reaches_the_audit_log(tree):
    member = make_member(tree.branch_a, "张三", phone="13812345678")
    text = str(list(AuditLog.objects.values_list("changes", flat=True)))
    assert member.id_number not in text
    assert "13812345678" not in text


@pytest.mark.django_db
def test_audit_row_cannot_be_changed():
    row = audit_record(actor=None, action="create", object_type="x", object_id="1")
    row.message = "changed"
    with pytest.raises(PermissionError):
        row.save()


@pytest.mark.django_db
def test_audit_rows_cannot_be_deleted_in_bulk():
    audit_record(actor=None, action="create", object_type="x", object_id="1")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(message="x")


@pytest.mark.django_db
def test_database_refuses_raw_update_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("trigger exists on PostgreSQL only")
    from django.db import DatabaseError, transaction

    audit_record(actor=None, action="create", object_type="x", object_id="1")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET message = 'x'")


@pytest.mark.django_db
def test_database_refuses_truncate_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("trigger exists on PostgreSQL only")
    from django.db import DatabaseError, transaction

    audit_record(actor=None, action="create", object_type="x", object_id="1")
    with (  # noqa: PT012 - the statements must run inside the transaction and cursor this block opens
        pytest.raises(DatabaseError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # As in production: no maintenance setting (the test database has one, see conftest).
        cursor.execute("SET LOCAL partyedu.audit_maintenance = 'off'")
        cursor.execute("TRUNCATE core_auditlog")
    assert AuditLog.objects.exists()


def test_diff_lists_changed_fields_only():
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": [2, 3]}
