"""Two secretaries submitting at the same moment (PostgreSQL only: SQLite serialises writers by
locking the whole database, so there is no race to test)."""

import pytest
from django.db import connection

from partyedu.core.models import AuditLog
from partyedu.core.testing import run_at_once
from partyedu.study.models import Attendance
from partyedu.study.services import attendance_mark
from partyedu.testsupport.factories import make_user

from .conftest import record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def test_same_marks_submitted_at_once_are_written_once(tree, members):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    activity = record(tree.branch_a)
    first = make_user("s1", role="branch_admin", org=tree.branch_a)
    second = make_user("s2", role="branch_admin", org=tree.branch_a)
    records = [
        {"member": members["zhang"].pk, "status": "present"},
        {"member": members["li"].pk, "status": "late"},
    ]
    run_at_once(
        lambda: attendance_mark(actor=first, activity=activity, records=records),
        lambda: attendance_mark(actor=second, activity=activity, records=records),
    )
    assert Attendance.objects.filter(activity=activity).count() == 3
    assert AuditLog.objects.filter(object_type="study.activity", action="update").count() == 1


def test_different_marks_at_once_are_both_kept(tree, members):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    activity = record(tree.branch_a)
    first = make_user("s1", role="branch_admin", org=tree.branch_a)
    second = make_user("s2", role="branch_admin", org=tree.branch_a)
    run_at_once(
        lambda: attendance_mark(
            actor=first, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
        ),
        lambda: attendance_mark(
            actor=second, activity=activity, records=[{"member": members["li"].pk, "status": "absent"}]
        ),
    )
    statuses = dict(Attendance.objects.filter(activity=activity).values_list("member__name", "status"))
    assert statuses == {"张三": "present", "李四": "absent", "王五": ""}
