"""Bookings of one room made at the same moment, and one pledge completed twice at once
(PostgreSQL only: SQLite serialises writers by locking the whole database, so there is no race to
test there). ``booking_create`` locks the Room row before it looks for a conflict, so of two
overlapping bookings one is made and the other refused naming it; ``pledge_complete`` locks the
pledge, so it is completed once with one set of photos. They run in the PostgreSQL stage of CI,
which fails when PostgreSQL is missing (``.ci/ensure-postgres``); the SQLite stage skips them, as
every other concurrency test of the project."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.service.choices import BookingStatus, PledgeStatus
from partyedu.service.models import Booking, Pledge, PledgePhoto
from partyedu.service.services.community import booking_create, pledge_complete

from .test_community_factories import make_centre, make_pledge, png, slot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def test_two_overlapping_bookings_at_once_make_one(tree):
    # given: an open room and two units wanting overlapping slots of it
    _centre, room = make_centre(tree.district_a)
    first_start, first_end = slot(hour=9, hours=2)
    second_start, second_end = slot(hour=10, hours=2)

    def book(org, start, end):
        def call():
            try:
                return booking_create(
                    actor=None,
                    room=room,
                    organization=org,
                    start=start,
                    end=end,
                    attendees=10,
                    purpose="主题党日",
                )
            except ValidationError as exc:
                return exc

        return call

    # when: both are submitted at the same moment
    results = run_at_once(
        book(tree.branch_a, first_start, first_end), book(tree.branch_b, second_start, second_end)
    )

    # then: one booking holds the room, the other was refused naming it
    made = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) == 1
    assert len(refused) == 1
    assert made[0].organization.name in refused[0].message_dict["start"][0]
    assert Booking.objects.filter(room=room, status=BookingStatus.PENDING).count() == 1


def test_many_bookings_of_one_slot_at_once_make_one(tree):
    _centre, room = make_centre(tree.district_a)
    start, end = slot(hour=14, hours=1)

    def book():
        try:
            return booking_create(
                actor=None,
                room=room,
                organization=tree.branch_a,
                start=start,
                end=end,
                attendees=5,
                purpose="会",
            )
        except ValidationError as exc:
            return exc

    results = run_at_once(*(book for _ in range(4)))
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert Booking.objects.filter(room=room).count() == 1


def test_a_pledge_completed_twice_at_once_is_completed_once(tree):
    pledge = make_pledge(tree.branch_a)

    def complete(name):
        def call():
            try:
                return pledge_complete(
                    actor=None, pledge=pledge, note=f"办结 {name}", photos=[png(f"{name}.png")]
                )
            except ValidationError as exc:
                return exc

        return call

    results = run_at_once(complete("a"), complete("b"))
    assert sum(isinstance(r, Pledge) for r in results) == 1
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.COMPLETED
    assert PledgePhoto.objects.filter(pledge=pledge).count() == 1
