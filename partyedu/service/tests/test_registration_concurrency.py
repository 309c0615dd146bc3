"""Registrations, service records and sign-ups sent at the same moment (PostgreSQL only: SQLite
serialises writers, so there is no race to test there). A registration and a record lock the
member's row, a sign-up the activity's: two registrations at once leave one in force, two records
at once cannot pass 24 hours a day together, the last place of a volunteer activity is taken
once. They run in the PostgreSQL stage of CI; the SQLite stage skips them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.service.models import Registration, ServiceRecord
from partyedu.service.services import registration as services
from partyedu.study.models import Attendance

from .test_registration_factories import TODAY, make_units, member_user, volunteer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def _refused(call):
    def run():
        try:
            return call()
        except ValidationError as exc:
            return exc

    return run


def test_two_registrations_at_once_leave_one_in_force(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    results = run_at_once(
        _refused(
            lambda: services.registration_create(
                actor=user, member=member.pk, community=units.community.pk, post="甲"
            )
        ),
        _refused(
            lambda: services.registration_create(
                actor=user, member=member.pk, community_name="外市社区", post="乙"
            )
        ),
    )
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert Registration.objects.filter(member=member, ended_on__isnull=True).count() == 1


def test_two_records_at_once_never_pass_24_hours_a_day(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")

    def send():
        return services.service_record_create(
            actor=user, member=member.pk, date=TODAY, hours="14", kind="policy"
        )

    results = run_at_once(_refused(send), _refused(send))
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert ServiceRecord.objects.filter(member=member).count() == 1


def test_the_last_place_is_taken_once(tree):
    units = make_units(tree)
    found = volunteer(units.bureau, capacity=1)
    (first_user, first), (second_user, second) = (
        member_user(units.bureau, "甲"),
        member_user(units.bureau, "乙"),
    )
    results = run_at_once(
        _refused(lambda: services.volunteer_signup(actor=first_user, volunteer=found.pk, member=first.pk)),
        _refused(lambda: services.volunteer_signup(actor=second_user, volunteer=found.pk, member=second.pk)),
    )
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert Attendance.objects.filter(activity=found.activity).count() == 1


def test_records_confirmed_at_once_in_two_districts_add_up_in_the_citys_kept_figures(tree):
    from partyedu.organizations.models import SubtreeFigure
    from partyedu.service.services.figures import RECORDS, records_rebuild
    from partyedu.testsupport.factories import make_member

    from .test_registration_factories import record

    records = [
        record(make_member(org, f"党员{n}", categories=["employed"]))
        for n, org in enumerate([tree.branch_a, tree.branch_b] * 4)
    ]

    run_at_once(*(lambda r=r: services.service_record_confirm(actor=None, record=r.pk) for r in records))

    city = SubtreeFigure.objects.filter(organization=tree.root, name=RECORDS)
    assert sum(row.value for row in city) == 8
    assert records_rebuild(apply=False) == (0, 0)
