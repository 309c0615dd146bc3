"""The learning-hours ledger refuses what it must never do (``partyedu.core.ledger``): no line is
changed or deleted — through the model, the queryset, a cascade or, on PostgreSQL, raw SQL — and
a mistake is corrected by a new line. The one exit is ``append_only_purge``."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from partyedu.core.ledger import TRUNCATE_SETTING, AppendOnlyError, append_only_purge
from partyedu.learning.models import LearningHourEntry
from partyedu.learning.services import learning_hours_manual_reverse, learning_hours_record_manual
from partyedu.testsupport.factories import make_member, make_user

from .factories import assert_ledger_equals_rebuild

TABLE = LearningHourEntry._meta.db_table


@pytest.fixture
def admin(tree):
    return make_user(role="branch_admin", org=tree.branch_a)


@pytest.fixture
def entry(tree, admin):
    member = make_member(tree.branch_a, "张三")
    return learning_hours_record_manual(
        actor=admin, member=member, year=2026, kind="self", hours="3", description="自学《党章》"
    )


def _unchanged(entry: LearningHourEntry) -> None:
    fresh = LearningHourEntry.objects.get(pk=entry.pk)
    assert (fresh.hours, fresh.description) == (Decimal("3"), entry.description)


# --- model and queryset ---------------------------------------------------------------------------


def test_changing_a_line_is_refused(entry):
    entry.hours = Decimal("5")
    with pytest.raises(AppendOnlyError, match="学时记录不可修改"):
        entry.save()
    _unchanged(entry)


def test_deleting_a_line_is_refused(entry):
    with pytest.raises(AppendOnlyError, match="学时记录不可删除"):
        entry.delete()
    _unchanged(entry)


@pytest.mark.parametrize(
    "write",
    [
        lambda qs: qs.update(hours=5),
        lambda qs: qs.delete(),
        lambda qs: qs._raw_delete(qs.db),
        lambda qs: qs.bulk_update(list(qs), ["hours"]),
    ],
    ids=["update", "delete", "raw_delete", "bulk_update"],
)
def test_queryset_changes_are_refused(entry, write):
    with pytest.raises(AppendOnlyError):
        write(LearningHourEntry.objects.filter(pk=entry.pk))
    _unchanged(entry)


def test_the_member_related_manager_refuses_too(entry):
    with pytest.raises(AppendOnlyError):
        entry.member.hour_entries.all().delete()
    _unchanged(entry)


def test_a_restricted_queryset_is_still_append_only(entry, admin):
    # given the scoped reading that views and the API start from
    rows = LearningHourEntry.objects.restrict(admin, "view")
    assert list(rows) == [entry]
    # then it refuses changes like any other
    with pytest.raises(AppendOnlyError):
        rows.update(hours=5)


def test_a_mistake_is_corrected_by_a_new_line(entry, admin):
    correction = learning_hours_manual_reverse(actor=admin, entry=entry, reason="重复登记")
    assert (correction.hours, correction.version) == (Decimal("-3"), 2)
    _unchanged(entry)
    assert_ledger_equals_rebuild()


# --- nothing deleted elsewhere reaches the ledger -------------------------------------------------


def test_a_member_with_ledger_lines_cannot_be_deleted(entry):
    with pytest.raises(ProtectedError):
        entry.member.delete()
    _unchanged(entry)


def test_an_account_that_booked_lines_cannot_be_deleted(entry, admin):
    with pytest.raises(ProtectedError):
        admin.delete()
    assert LearningHourEntry.objects.get(pk=entry.pk).actor_id == admin.pk


# --- the purge ------------------------------------------------------------------------------------


def test_a_purge_deletes_lines_for_its_block_only(entry):
    with append_only_purge(LearningHourEntry, reason="测试：清除演示数据"):
        with pytest.raises(AppendOnlyError):
            LearningHourEntry.objects.update(hours=5)
        LearningHourEntry.objects.filter(pk=entry.pk).delete()
    assert not LearningHourEntry.objects.exists()
    other = learning_hours_record_manual(
        actor=None, member=entry.member, year=2026, kind="self", hours="1", description="再登记"
    )
    with pytest.raises(AppendOnlyError):
        other.delete()


# --- PostgreSQL: the database refuses raw SQL -----------------------------------------------------


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")


def _raw(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # As in production: the test database may TRUNCATE (conftest), this transaction may not.
        cursor.execute("SELECT set_config(%s, 'off', true)", [TRUNCATE_SETTING])
        # The line's deferred foreign-key checks first: PostgreSQL refuses to TRUNCATE a table
        # with pending trigger events before it would fire ours.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [f"UPDATE {TABLE} SET hours = 5", f"DELETE FROM {TABLE}", f"TRUNCATE {TABLE} CASCADE"],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_raw_sql(entry, sql):
    _postgresql_only()
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql)
    _unchanged(entry)


@pytest.mark.postgres
def test_the_database_honours_the_purge_within_its_block_only(entry):
    _postgresql_only()
    with transaction.atomic():
        with append_only_purge(LearningHourEntry, reason="测试：清除演示数据"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                _raw(f"UPDATE {TABLE} SET hours = 5")
            _raw(f"DELETE FROM {TABLE} WHERE id = {int(entry.pk)}")
        assert not LearningHourEntry.objects.exists()
        other = learning_hours_record_manual(
            actor=None, member=entry.member, year=2026, kind="self", hours="1", description="再登记"
        )
        # the same transaction, after the block: refused again
        with pytest.raises(DatabaseError, match="append-only"):
            _raw(f"DELETE FROM {TABLE} WHERE id = {int(other.pk)}")
    assert LearningHourEntry.objects.filter(pk=other.pk).exists()
