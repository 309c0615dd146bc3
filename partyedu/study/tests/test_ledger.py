"""The learning ledger stays equal to what the sources credit after every change made here (the
ledger itself is tested in the learning app; this proves the study services call it rightly)."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from partyedu.study.checkin import checkin_token, checkin_with_token
from partyedu.study.models import Attendance
from partyedu.study.services import (
    activity_delete,
    activity_update,
    attendance_makeup_confirm,
    attendance_makeup_request,
    attendance_mark,
)

from .conftest import record


def ledger() -> dict[tuple[int, str, int], Decimal]:
    from partyedu.learning.models import LearningHourEntry

    rows = (
        LearningHourEntry.objects.filter(source_type="attendance")
        .values("source_id", "kind", "year")
        .annotate(s=Sum("hours"))
        .order_by()
    )
    return {(r["source_id"], r["kind"], r["year"]): r["s"] for r in rows if r["s"]}


def assert_ledger_matches_sources():
    from partyedu.learning.services import desired_for_attendance

    stored = ledger()
    ids = sorted(set(Attendance.objects.values_list("pk", flat=True)) | {key[0] for key in stored})
    expected = {
        (pk, kind, year): hours
        for pk, desired in desired_for_attendance(ids).items()
        for (kind, year), hours in desired.hours.items()
    }
    assert stored == expected


def hours_of(member) -> Decimal:
    return sum(
        (h for (pk, _, _), h in ledger().items() if Attendance.objects.filter(pk=pk, member=member).exists()),
        Decimal(0),
    )


def test_ledger_follows_every_change(tree, members, admin):
    start = timezone.now() - timedelta(hours=1)
    activity = record(tree.branch_a, start=start, end=start + timedelta(hours=2))
    zhang, li, wang = members["zhang"], members["li"], members["wang"]

    attendance_mark(
        actor=admin,
        activity=activity,
        records=[{"member": zhang.pk, "status": "present"}, {"member": li.pk, "status": "absent"}],
    )
    assert hours_of(zhang) == 2
    assert_ledger_matches_sources()

    # double submit
    attendance_mark(actor=admin, activity=activity, records=[{"member": zhang.pk, "status": "present"}])
    assert_ledger_matches_sources()

    # the activity turns out to have lasted four hours (a half day)
    activity_update(actor=admin, activity=activity, data={"end": start + timedelta(hours=4)})
    assert hours_of(zhang) == 4
    assert_ledger_matches_sources()

    # 补学 credits once confirmed
    row = Attendance.objects.get(activity=activity, member=li)
    attendance_makeup_request(actor=admin, attendance=row)
    assert hours_of(li) == 0
    attendance_makeup_confirm(actor=admin, attendance=row)
    assert hours_of(li) == 4
    assert_ledger_matches_sources()

    # QR check-in
    from partyedu.testsupport.factories import make_user

    wang.user = make_user("wang", role="member", org=tree.group_a)
    wang.save()
    token, _ = checkin_token(activity)
    checkin_with_token(user=wang.user, token=token)
    assert_ledger_matches_sources()

    # correcting a mark and removing a member from the roster
    attendance_mark(actor=admin, activity=activity, records=[{"member": zhang.pk, "status": "leave"}])
    activity_update(actor=admin, activity=activity, data={"roster": [zhang.pk, wang.pk]})
    assert_ledger_matches_sources()

    activity_delete(actor=admin, activity=activity)
    assert ledger() == {}
    assert_ledger_matches_sources()
