"""The community area's demo data on a small demo city: a year of pledges (about half done, some
waiting for district_admin's and branch_sec's confirmation), branch_sec's community grid with
member1 as a 楼长 and solved requests, and the district's service centre with about fifty held
bookings, none overlapping, one the place of a 主题党日, a few waiting for approval. Deterministic
for a seed; the figures come out of the summary from the records."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.db.models import Q
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.todo import todos_for
from partyedu.demo.service_community import HELD_BOOKINGS, seed_service_community
from partyedu.demo.testing import on_standard_demo
from partyedu.members.models import Member
from partyedu.service.choices import HOLDING_STATUSES, BookingStatus, PledgeStatus, RequestStatus
from partyedu.service.models import Booking, Centre, GridUnit, Pledge, ResidentRequest, Room
from partyedu.service.selectors_community import my_grid_units, pledge_stats
from partyedu.service.selectors_summary import service_summary

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

MEMBERS = 300
SEED = 7


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output.splitlines()


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def user(name):
    return User.objects.get(username=name)


def home():
    return Member.objects.select_related("organization").get(user__username="branch_sec").organization


def test_the_seed_prints_the_three_lines(demo_lines):
    text = "\n".join(demo_lines)
    assert "为群众办实事" in text
    assert "联户解难" in text
    assert "党群服务中心" in text


def test_a_year_of_pledges_about_half_done(demo_lines):
    year = timezone.localdate().year
    pledges = Pledge.objects.filter(year=year)
    total = pledges.count()
    done = pledges.exclude(status=PledgeStatus.OPEN).count()
    assert total > 100
    assert 0.35 <= done / total <= 0.65
    assert pledges.filter(member__isnull=True).exists()
    assert pledges.filter(member__isnull=False).exists()
    assert pledges.filter(status=PledgeStatus.CONFIRMED).exists()
    # every done pledge has its note and a day not after today; open ones have none
    assert not pledges.exclude(status=PledgeStatus.OPEN).filter(completion_note="").exists()
    assert not pledges.filter(completed_on__gt=timezone.localdate()).exists()
    assert not pledges.filter(status=PledgeStatus.OPEN, completed_on__isnull=False).exists()


def test_the_statistics_match_the_rows(demo_lines):
    admin = user("city_admin")
    root = home().path[:4]
    from partyedu.organizations.models import Organization

    city = Organization.objects.get(path=root)
    stats = pledge_stats(user=admin, organization=city, year=timezone.localdate().year)
    year = Pledge.objects.filter(year=timezone.localdate().year)
    assert stats.total.org_planned == year.filter(member__isnull=True).count()
    assert (
        stats.total.member_done == year.filter(member__isnull=False).exclude(status=PledgeStatus.OPEN).count()
    )
    summary = service_summary(user=admin, organization=city, year=timezone.localdate().year)
    assert summary["pledges_planned"] == year.count()
    assert (
        summary["requests_solved"]
        == ResidentRequest.objects.filter(
            status=RequestStatus.RESOLVED, resolved_on__year=timezone.localdate().year
        ).count()
    )


def test_member1_and_branch_sec_have_their_pledges(demo_lines):
    mine = Pledge.objects.filter(member__user__username="member1")
    assert set(mine.values_list("status", flat=True)) == {PledgeStatus.OPEN, PledgeStatus.CONFIRMED}
    branch = Pledge.objects.filter(organization=home(), member__isnull=True)
    assert branch.filter(status=PledgeStatus.COMPLETED).exists()  # waiting for district_admin
    keys = {item.key for item in todos_for(user=user("district_admin"))}
    assert "service.pledges_to_confirm" in keys
    assert "service.bookings_pending" in keys


def test_the_grid_of_branch_secs_community_with_member1_as_contact(demo_lines):
    community = GridUnit.objects.values_list("community", flat=True).distinct().get()
    cells = GridUnit.objects.filter(community=community)
    assert set(cells.values_list("role", flat=True)) == {"area", "group", "building"}
    if community == home().pk:  # branch_sec's branch is a community one: member1 is a 楼长
        assert [u.role for u in my_grid_units(user=user("member1"))] == ["building"]
    else:  # the nearest community of the district
        assert cells.first().community.path.startswith(home().path[:8])
    assert not cells.filter(role="building", contact__isnull=True).exists()
    requests = ResidentRequest.objects.filter(unit__community=community)
    assert requests.filter(status=RequestStatus.RESOLVED).exists()
    assert requests.exclude(status=RequestStatus.RESOLVED).exists()
    assert not ResidentRequest.objects.filter(household__regex=r"\d{11}").exists()


def test_the_centre_and_its_bookings(demo_lines):
    centre = Centre.objects.get()
    assert centre.organization.path == home().path[:8]
    assert Room.objects.filter(centre=centre).count() == 4
    held = Booking.objects.filter(
        room__centre=centre, status=BookingStatus.APPROVED, start__lt=timezone.now()
    )
    assert held.count() >= HELD_BOOKINGS
    assert Booking.objects.filter(status=BookingStatus.PENDING, start__gt=timezone.now()).count() == 3
    # no two bookings holding a room overlap
    for room in Room.objects.filter(centre=centre):
        slots = list(
            Booking.objects.filter(room=room, status__in=HOLDING_STATUSES)
            .order_by("start")
            .values_list("start", "end")
        )
        for (_s1, e1), (s2, _e2) in pairwise(slots):
            assert e1 <= s2
    linked = Booking.objects.filter(activity__isnull=False).select_related("activity", "room").first()
    if linked is not None:
        assert linked.activity.place == f"{centre.name} {linked.room.name}"


def test_seeding_again_adds_nothing_and_the_seed_is_deterministic(demo_lines):
    """Seeding again adds nothing; seeding the area afresh gives the same rows (members added by
    the seeds that run after it — the development area's — are left out: each organisation's and
    member's pledges come from a generator of their own)."""
    assert seed_service_community(seed=SEED, today=timezone.localdate(), say=lambda _line: None) == []
    seeded_members = set(Pledge.objects.filter(member__isnull=False).values_list("member_id", flat=True))

    def fingerprint():
        pledges = Pledge.objects.filter(Q(member__isnull=True) | Q(member_id__in=seeded_members))
        return (
            list(
                pledges.order_by("organization_id", "member_id", "due", "title").values_list(
                    "organization_id", "member_id", "title", "due", "status"
                )
            ),
            list(
                ResidentRequest.objects.order_by("logged_on", "household").values_list(
                    "household", "logged_on", "status"
                )
            ),
            list(
                Booking.objects.order_by("start", "room__name").values_list("room__name", "start", "status")
            ),
        )

    before = fingerprint()
    Booking.objects.all().delete()
    Room.objects.all().delete()
    Centre.objects.all().delete()
    ResidentRequest.objects.all().delete()
    GridUnit.objects.all().delete()
    Pledge.objects.all().delete()
    seed_service_community(seed=SEED, today=timezone.localdate(), say=lambda _line: None)
    assert fingerprint() == before
