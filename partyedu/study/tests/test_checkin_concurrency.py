"""QR check-ins at the same moment (PostgreSQL only: SQLite serialises writers by locking the
whole database, so there is no race to test). A check-in locks the member's attendance row and
the member's learning summaries, never the activity."""

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.core.testing import run_at_once
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.tests.factories import assert_ledger_equals_rebuild
from partyedu.study.checkin import checkin_token, checkin_with_token
from partyedu.study.models import Activity, ActivityFigures, Attendance
from partyedu.study.services import activity_figures_rebuild, activity_update, attendance_mark
from partyedu.testsupport.factories import make_member, make_user

from .conftest import record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def members_with_accounts(org, count):
    users = []
    for number in range(count):
        user = make_user(f"member{number}", role="member", org=org)
        member = make_member(org, f"党员{number}")
        member.user = user
        member.save()
        users.append(user)
    return users


def live_activity(org):
    """A two-hour 主题党日 (2 学时) that began five minutes ago; its roster is the org's members."""
    start = timezone.now() - timedelta(minutes=5)
    return record(org, start=start, end=start + timedelta(hours=2))


def in_thread(call, done, name):
    def run():
        try:
            done[name] = call()
        except Exception as exc:  # asserted by the test
            done[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def pausing_after(prefix, inside, release):
    """An execute wrapper that holds the transaction (locks and all) right after running a
    statement starting with ``prefix``, until ``release`` is set."""

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith(prefix) and not inside.is_set():
            inside.set()
            release.wait(15)
        return result

    return wrapper


def check_in(user, token):
    return lambda: checkin_with_token(user=user, token=token)


def ledger_lines(activity):
    ids = list(Attendance.objects.filter(activity=activity).values_list("pk", flat=True))
    return LearningHourEntry.objects.filter(source_type="attendance", source_id__in=ids)


def test_members_checking_in_at_once_each_get_one_row_and_one_ledger_line(tree):
    users = members_with_accounts(tree.branch_a, 12)
    activity = live_activity(tree.branch_a)
    token, _ = checkin_token(activity)

    rows = run_at_once(*(check_in(user, token) for user in users))

    assert sorted(row.status for row in rows) == ["present"] * 12
    assert Attendance.objects.filter(activity=activity, status="present").count() == 12
    assert Attendance.objects.filter(activity=activity).count() == 12
    assert ledger_lines(activity).count() == 12
    assert AuditLog.objects.filter(message="扫码签到").count() == 12
    assert_ledger_equals_rebuild()
    # the dashboards' figures counted every concurrent check-in once
    local = timezone.localtime(activity.start)
    figures = ActivityFigures.objects.get(organization=activity.organization, year=local.year)
    assert getattr(figures, f"a{local.month}") == 12
    assert activity_figures_rebuild() == 0


def test_check_ins_at_two_branches_at_once_add_up_in_the_city_they_share(tree):
    # Each check-in adds to its branch's figures and to every ancestor's: the city's row is
    # shared by both branches' transactions (locked in key order, never deadlocking).
    users_a = members_with_accounts(tree.branch_a, 6)
    users_b = [make_user(f"other{n}", role="member", org=tree.branch_b) for n in range(6)]
    for number, user in enumerate(users_b):
        member = make_member(tree.branch_b, f"乙党员{number}")
        member.user = user
        member.save()
    activity_a, activity_b = live_activity(tree.branch_a), live_activity(tree.branch_b)
    token_a, _ = checkin_token(activity_a)
    token_b, _ = checkin_token(activity_b)

    run_at_once(*(check_in(u, token_a) for u in users_a), *(check_in(u, token_b) for u in users_b))

    local = timezone.localtime(activity_a.start)
    city = ActivityFigures.objects.get(organization=tree.root, year=local.year, activity_type="theme_day")
    assert getattr(city, f"a{local.month}") == 12
    assert activity_figures_rebuild() == 0


def test_the_same_member_scanning_at_once_is_checked_in_once(tree):
    (user,) = members_with_accounts(tree.branch_a, 1)
    activity = live_activity(tree.branch_a)
    token, _ = checkin_token(activity)

    rows = run_at_once(*(check_in(user, token) for _ in range(4)))

    assert {row.pk for row in rows} == {Attendance.objects.get(activity=activity).pk}
    assert Attendance.objects.filter(activity=activity).count() == 1
    assert ledger_lines(activity).count() == 1
    assert AuditLog.objects.filter(message="扫码签到").count() == 1
    assert MemberYearHours.objects.get(member__user=user).total == Decimal("2")
    assert_ledger_equals_rebuild()


def test_a_check_in_does_not_wait_for_a_lock_on_the_activity(tree):
    (user,) = members_with_accounts(tree.branch_a, 1)
    activity = live_activity(tree.branch_a)
    token, _ = checkin_token(activity)
    done: dict[str, Any]
    holding, release, done = threading.Event(), threading.Event(), {}

    def hold_the_activity():
        with transaction.atomic():
            Activity.objects.select_for_update().get(pk=activity.pk)
            holding.set()
            release.wait(15)

    holder = in_thread(hold_the_activity, done, "holder")
    assert holding.wait(10)
    # while the activity row is locked FOR UPDATE (which conflicts with every row lock, FOR KEY
    # SHARE included), the check-in goes through
    checking_in = in_thread(check_in(user, token), done, "check-in")
    checking_in.join(10)
    finished = not checking_in.is_alive()
    release.set()
    holder.join(10)
    checking_in.join(10)
    assert finished, "the check-in waited for the activity's lock"
    assert not isinstance(done["check-in"], Exception), done["check-in"]
    assert done["check-in"].status == "present"


def test_a_check_in_in_flight_holds_its_own_row_and_not_the_activity(tree):
    (user,) = members_with_accounts(tree.branch_a, 1)
    activity = live_activity(tree.branch_a)
    row = Attendance.objects.get(activity=activity)
    token, _ = checkin_token(activity)
    done: dict[str, Any]
    inside, release, done = threading.Event(), threading.Event(), {}

    def check_in_and_hold():
        # held after its ledger line is written, before it commits: every lock it takes is held
        with connection.execute_wrapper(
            pausing_after('INSERT INTO "learning_learninghourentry"', inside, release)
        ):
            return checkin_with_token(user=user, token=token)

    thread = in_thread(check_in_and_hold, done, "check-in")
    try:
        assert inside.wait(10)
        with transaction.atomic():
            locked = len(Activity.objects.select_for_update(nowait=True).filter(pk=activity.pk))
        assert locked == 1, "the activity row is free"
        with pytest.raises(OperationalError), transaction.atomic():
            list(Attendance.objects.select_for_update(nowait=True).filter(pk=row.pk))
    finally:
        release.set()
        thread.join(10)
    assert not isinstance(done["check-in"], Exception), done["check-in"]
    assert done["check-in"].status == "present"


def test_an_hours_change_racing_a_check_in_leaves_the_ledger_right(tree):
    """The check-in has credited 2 学时 and holds the member's lock; meanwhile the activity is
    lengthened to 4 学时 and its sync waits for that lock. It must see the check-in once it gets
    the lock (it works out what the row credits under the lock), not its own earlier reading, which
    would reverse the check-in."""
    (user,) = members_with_accounts(tree.branch_a, 1)
    activity = live_activity(tree.branch_a)
    token, _ = checkin_token(activity)
    done: dict[str, Any]
    inside, release, done = threading.Event(), threading.Event(), {}

    def check_in_and_hold():
        with connection.execute_wrapper(
            pausing_after('INSERT INTO "learning_learninghourentry"', inside, release)
        ):
            return checkin_with_token(user=user, token=token)

    checking_in = in_thread(check_in_and_hold, done, "check-in")
    assert inside.wait(10)
    lengthen = {"end": activity.start + timedelta(hours=4)}
    updating = in_thread(
        lambda: activity_update(actor=None, activity=activity, data=lengthen), done, "update"
    )
    waiting = False
    for _ in range(100):  # until the update waits for a lock the check-in holds
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            waiting = cursor.fetchone()[0] > 0
        if waiting or not updating.is_alive():
            break
        threading.Event().wait(0.05)
    release.set()
    checking_in.join(10)
    updating.join(10)
    assert waiting
    assert not isinstance(done["check-in"], Exception), done["check-in"]
    assert not isinstance(done["update"], Exception), done["update"]
    assert MemberYearHours.objects.get(member__user=user).total == Decimal("4")
    assert_ledger_equals_rebuild()


def test_a_secretary_marking_while_members_check_in_never_deadlocks(tree):
    users = members_with_accounts(tree.branch_a, 6)
    secretary = make_user("secretary", role="branch_admin", org=tree.branch_a)
    activity = live_activity(tree.branch_a)
    token, _ = checkin_token(activity)
    members = list(
        Attendance.objects.filter(activity=activity)
        .order_by("-member_id")
        .values_list("member_id", flat=True)
    )
    records = [{"member": pk, "status": "leave"} for pk in members]

    run_at_once(
        *(check_in(user, token) for user in users),
        lambda: attendance_mark(actor=secretary, activity=activity, records=records),
    )

    # whichever came last stands for each member, and the ledger follows it
    assert Attendance.objects.filter(activity=activity).exclude(status__in=["present", "leave"]).count() == 0
    present = Attendance.objects.filter(activity=activity, status="present").count()
    assert MemberYearHours.objects.filter(total=Decimal("2")).count() == present
    assert_ledger_equals_rebuild()
