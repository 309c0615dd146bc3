"""Writers at the same moment (PostgreSQL only: SQLite serialises writers by locking the whole
database, so there is no race to test)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from partyedu.core.testing import make_member
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.services import learning_hours_sync_attendance, learning_members_changed
from partyedu.members.models import Member

from .factories import assert_ledger_equals_rebuild, attend, make_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def run_at_once(*calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait()
            with transaction.atomic():
                call()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_the_same_attendance_synced_at_once_is_awarded_once(tree):
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(5)]
    activity = make_activity(tree.branch_a)
    ids = [attend(activity, m, sync=False).pk for m in members]
    run_at_once(*(lambda: learning_hours_sync_attendance(attendance_ids=ids) for _ in range(3)))
    assert LearningHourEntry.objects.count() == 5
    assert set(MemberYearHours.objects.values_list("total", flat=True)) == {Decimal("2")}
    assert_ledger_equals_rebuild()


def test_two_activities_of_one_member_at_once_add_up(tree):
    member = make_member(tree.branch_a)
    learning_members_changed(member_ids=Member.objects.values_list("pk", flat=True))
    first = attend(make_activity(tree.branch_a, hours=8), member, sync=False)
    second = attend(make_activity(tree.branch_a, topic="党课", hours=8), member, sync=False)
    run_at_once(
        lambda: learning_hours_sync_attendance(attendance_ids=[first.pk]),
        lambda: learning_hours_sync_attendance(attendance_ids=[second.pk]),
    )
    assert MemberYearHours.objects.get(member=member).total == Decimal("16")
    assert_ledger_equals_rebuild()
