"""Points written at the same moment (PostgreSQL only: SQLite serialises writers by locking the
whole database, so there is no race to test there). Every writer of a member's points locks the
member's row first, so a cap shared by two sources of one month holds, and two syncs of the same
member append one set of lines. They run in the PostgreSQL stage of CI, which fails when
PostgreSQL is missing (``.ci/ensure-postgres``); the SQLite stage skips them, as every other
concurrency test."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.testing import run_at_once
from partyedu.points.models import PointsEntry
from partyedu.points.services import points_sync_members
from partyedu.study.checkin import checkin_token, checkin_with_token
from partyedu.testsupport.factories import make_member, make_user

from .conftest import assert_ledger_equals_rebuild, items, mark, meeting, scheme

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def member_with_account(org):
    user = make_user("member0", role="member", org=org)
    member = make_member(org, "党员甲")
    member.user = user
    member.save()
    return user, member


def net(member, code):
    total = PointsEntry.objects.filter(member=member, item__code=code).aggregate(s=Sum("points"))
    return total["s"] or Decimal("0")


def test_two_check_ins_of_one_member_in_a_capped_month_never_exceed_the_cap(tree):
    # given: 2 points a meeting, at most 3 a month, and two meetings under way this month
    year = timezone.localdate().year
    scheme(tree.root, year=year)
    user, member = member_with_account(tree.branch_a)
    start = timezone.now() - timedelta(minutes=5)
    tokens = [checkin_token(meeting(tree.branch_a, start))[0] for _ in range(2)]

    # when: the member checks in at both at the same moment
    run_at_once(*(lambda token=token: checkin_with_token(user=user, token=token) for token in tokens))

    # then: 2 + 1, the cap of the month, never 2 + 2 (the meeting first by date then id gets the 2:
    # when the other check-in committed first, its 2 was corrected to 1 by an appended line)
    assert net(member, "meetings") == Decimal("3")
    per_source = (
        PointsEntry.objects.filter(member=member, item__code="meetings")
        .values("source_id")
        .annotate(net=Sum("points"))
        .order_by("source_id")
    )
    assert [row["net"] for row in per_source] == [Decimal("2"), Decimal("1")]
    assert_ledger_equals_rebuild()


def test_two_syncs_of_the_same_member_at_once_append_one_set_of_lines(tree, monkeypatch):
    # given: three meetings attended while the points hook was off (the ledger misses them)
    year = timezone.localdate().year
    scheme(tree.root, year=year, item_list=items())
    member = make_member(tree.branch_a, "党员甲")
    monkeypatch.setitem(
        hooks._hooks,
        "study.attendance_changed",
        [f for f in hooks._hooks["study.attendance_changed"] if f.__module__ != "partyedu.points.hooks"],
    )
    base = timezone.localtime().replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    for day in (0, 1, 2):
        mark(meeting(tree.branch_a, base + timedelta(days=day)), member)
    assert not PointsEntry.objects.filter(member=member).exists()

    # when: two syncs of the member's year run at the same moment
    appended = run_at_once(
        *(lambda: points_sync_members(pairs={(member.pk, year)}) for _ in range(2)), atomic=True
    )

    # then: one set of lines (2 + 1 under the monthly cap of 3; the third meeting credits nothing)
    assert sorted(appended) == [0, 2]
    assert PointsEntry.objects.filter(member=member).count() == 2
    assert net(member, "meetings") == Decimal("3")
    assert_ledger_equals_rebuild()
