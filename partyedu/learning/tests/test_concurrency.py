"""Writers at the same moment (PostgreSQL only: SQLite serialises writers by locking the whole
database, so there is no race to test)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from partyedu.core.testing import run_at_once
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.services import learning_hours_sync_attendance, learning_members_changed
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_member

from .factories import assert_ledger_equals_rebuild, attend, make_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def test_the_same_attendance_synced_at_once_is_awarded_once(tree):
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(5)]
    activity = make_activity(tree.branch_a)
    ids = [attend(activity, m, sync=False).pk for m in members]
    run_at_once(*(lambda: learning_hours_sync_attendance(attendance_ids=ids) for _ in range(3)), atomic=True)
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
        atomic=True,
    )
    assert MemberYearHours.objects.get(member=member).total == Decimal("16")
    assert_ledger_equals_rebuild()


# --- the recount after a rule change, beside check-ins ---------------------------------------------


def test_the_recount_locks_no_member_and_a_check_in_waits_only_for_its_batch(tree, monkeypatch):
    from partyedu.learning import recount
    from partyedu.learning.models import HourRequirement, MemberRequirement
    from partyedu.learning.services import learning_hours_record_manual

    members = [make_member(tree.branch_a, f"党员{i}") for i in range(4)]
    learning_hours_record_manual(
        actor=None, member=members[0], year=2026, kind="collective", hours=4, description="集体学习"
    )
    activity = make_activity(tree.branch_a, hours=4)
    row = attend(activity, members[0], sync=False)
    # 4 hours now complete the requirement: the recount sets the member's flag and counts it
    HourRequirement.objects.create(organization=tree.root, general_hours=4)
    inside, release = threading.Event(), threading.Event()
    batch = recount._recount_batch

    def batch_and_hold(*args):
        def hold_after_locking(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if "FOR UPDATE" in sql:
                inside.set()  # the batch holds its locks and has not written yet
                release.wait(10)
            return result

        with connection.execute_wrapper(hold_after_locking):
            return batch(*args)

    monkeypatch.setattr(recount, "_recount_batch", batch_and_hold)
    done = {}

    def in_thread(name, call):
        def run():
            try:
                with transaction.atomic():
                    done[name] = call()
            except Exception as exc:  # reported below
                done[name] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    recounting = in_thread("recount", lambda: recount.requirements_recount(path=tree.root.path))
    assert inside.wait(10)
    # members are not locked: a member's own write would not wait
    locking = in_thread(
        "members",
        lambda: len(Member.objects.select_for_update(nowait=True).filter(pk__in=[m.pk for m in members])),
    )
    locking.join(10)
    assert done["members"] == 4
    # a check-in of a member of the batch waits for the batch, then counts on top of it
    checking_in = in_thread("check-in", lambda: learning_hours_sync_attendance(attendance_ids=[row.pk]))
    checking_in.join(0.5)
    assert checking_in.is_alive()
    release.set()
    recounting.join(10)
    checking_in.join(10)
    assert not isinstance(done["recount"], Exception), done["recount"]
    assert done["check-in"] == 1
    assert MemberRequirement.objects.get(member=members[0]).required_hours == Decimal("4")
    assert MemberYearHours.objects.get(member=members[0]).total == Decimal("8")
    # counted once: by the recount, not again by the check-in
    assert_ledger_equals_rebuild()


@pytest.mark.parametrize("attempt", [1, 2])
def test_check_ins_during_a_recount_keep_every_summary_right(tree, attempt):
    from partyedu.learning import recount
    from partyedu.learning.models import HourRequirement
    from partyedu.learning.services import learning_hours_record_manual

    members = [make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i}") for i in range(24)]
    for member in members[::2]:
        learning_hours_record_manual(
            actor=None, member=member, year=2026, kind="collective", hours=32, description="集体学习"
        )
    activities = [make_activity(tree.branch_a, topic=f"学习{i}", hours=2) for i in range(3)]
    rows = [[attend(a, m, sync=False).pk for m in members] for a in activities]
    HourRequirement.objects.create(organization=tree.root, general_hours=34)
    run_at_once(
        lambda: recount.requirements_recount(path=tree.root.path, batch_members=5),
        *(lambda ids=ids: learning_hours_sync_attendance(attendance_ids=ids) for ids in rows),
        atomic=True,
    )
    # 32 + 3 × 2 hours complete the new 34, 3 × 2 alone do not
    complete = set(MemberYearHours.objects.filter(completed=True).values_list("member_id", flat=True))
    assert complete == {m.pk for m in members[::2]}
    assert_ledger_equals_rebuild()
