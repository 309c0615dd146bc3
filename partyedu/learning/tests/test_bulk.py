"""The ledger's bulk paths: many lines written as plain rows (COPY / executemany), many distinct
increments of year summaries and organisation counts by ``UPDATE … FROM (VALUES …)``. They must
leave exactly what the one-statement-per-change paths leave."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from partyedu.learning import services
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.selectors import learning_summary_from_rows, learning_summary_live
from partyedu.learning.services import learning_hours_rebuild, learning_hours_sync_attendance
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

from .factories import assert_ledger_equals_rebuild, local, make_activity


def people(tree, n):
    orgs = [tree.branch_a, tree.branch_b, tree.group_a]
    return [
        make_member(
            orgs[i % 3], f"党员{i}", id_number=valid_id_number(date(1970, 1, 1) + timedelta(days=i), True)
        )
        for i in range(n)
    ]


def attend_many(members, activities):
    """Member i attends the first 8 + 2i activities; nothing synced yet."""
    rows = []
    for i, member in enumerate(members):
        for activity in activities[: 8 + 2 * i]:
            rows.append(Attendance(activity=activity, member=member, status="present"))
    return Attendance.objects.bulk_create(rows)


@pytest.fixture
def activities(tree):
    return [
        make_activity(
            tree.branch_a, start=local(2026, 1 + n % 11, 10, 9), credited_hours=Decimal("1.5") + n % 3
        )
        for n in range(30)
    ]


def totals(members):
    return {m.pk: MemberYearHours.objects.get(member=m, year=2026).total for m in members}


def expected_totals(members, activities):
    return {
        m.pk: sum((a.credited_hours for a in activities[: 8 + 2 * i]), Decimal("0"))
        for i, m in enumerate(members)
    }


def test_one_sync_of_many_rows_takes_the_bulk_paths_and_is_exact(tree, activities):
    members = people(tree, 12)
    rows = attend_many(members, activities)
    assert len(rows) >= services.PLAIN_INSERT_MIN
    appended = learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows])
    assert appended == len(rows) == LearningHourEntry.objects.count()
    assert totals(members) == expected_totals(members, activities)
    # Some of them are past 32 hours, some not: completion counts up the tree are exact too.
    summary = learning_summary_from_rows(
        user=make_user(role="org_admin", org=tree.root), organization=tree.root, year=2026
    )
    live = learning_summary_live(user=None, organization=tree.root, year=2026)
    assert summary is not None and 0 < summary.completed < summary.required_members
    assert (summary.completed, summary.required_members) == (live.completed, live.required_members)
    assert_ledger_equals_rebuild()


def test_forced_bulk_paths_follow_changes_exactly(tree, activities, monkeypatch):
    monkeypatch.setattr("partyedu.learning.services.summaries.GROUPED_UPDATES_MAX", 0)
    monkeypatch.setattr("partyedu.learning.services.ledger.PLAIN_INSERT_MIN", 1)
    members = people(tree, 6)  # member creation updates the organisation counts by the VALUES path
    rows = attend_many(members, activities)
    learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows])
    # Half absent, then a few back, then an activity deleted: each sync appends corrections.
    Attendance.objects.filter(pk__in=[r.pk for r in rows[::2]]).update(status="absent")
    learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows])
    Attendance.objects.filter(pk__in=[r.pk for r in rows[::4]]).update(status="late")
    learning_hours_sync_attendance(attendance_ids=[r.pk for r in rows])
    gone = list(activities[0].attendances.values_list("pk", flat=True))
    activities[0].delete()
    learning_hours_sync_attendance(attendance_ids=gone)
    assert_ledger_equals_rebuild()
    summary = learning_summary_from_rows(
        user=make_user(role="org_admin", org=tree.root), organization=tree.root, year=2026
    )
    live = learning_summary_live(user=None, organization=tree.root, year=2026)
    assert summary is not None and summary.members == live.members
    assert (summary.completed, summary.exempt) == (live.completed, live.exempt)


def test_a_rebuild_from_an_empty_ledger_derives_every_line_once(tree, activities):
    members = people(tree, 9)
    attend_many(members, activities)  # written behind the ledger's back, as a bulk loader does
    report = learning_hours_rebuild(apply=True)
    assert report.ledger == report.ledger_rows_appended == Attendance.objects.count()
    assert report.year_hours == 0 and report.summaries == 0
    assert totals(members) == expected_totals(members, activities)
    assert "核对更正" not in LearningHourEntry.objects.first().description
    assert learning_hours_rebuild(apply=False).differences == 0
