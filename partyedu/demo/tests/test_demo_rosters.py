"""The demo's rosters follow the default rosters by meeting type (DOMAIN_RULES 组织生活; 支部条例;
issue "Rosters by meeting type"), and every 党委 of the demo keeps a 中心组 list."""

from __future__ import annotations

import pytest

from partyedu.demo.testing import on_standard_demo
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.study.models import Activity, CentralGroupMembership
from partyedu.study.rosters import default_roster

MEMBERS = 300
SEED = 7
# Types whose demo roster is exactly the record page's default.
DEFAULT_TYPES = (
    "branch_committee",
    "group_meeting",
    "branch_assembly",
    "party_lecture",
    "theme_day",
    "org_life_meeting",
    "central_group_study",
)


pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker):
        yield


@pytest.fixture
def seeded(seeded_demo, db):
    """The module's seed, seen from this test's own transaction."""


def test_every_committee_with_members_keeps_a_central_group_list(seeded):
    """DOMAIN_RULES 组织生活 中心组学习: each 党委 of the demo has its 中心组 list; seed 001."""
    committees = Organization.objects.filter(level=OrgLevel.COMMITTEE, member_count__gt=0)
    assert committees.exists()
    for org in committees:
        roles = set(CentralGroupMembership.objects.filter(organization=org).values_list("role", flat=True))
        assert "leader" in roles, org.name


def test_demo_rosters_are_the_default_rosters_of_their_types(seeded):
    """DOMAIN_RULES 组织生活: the committee at 支委会, the group at 党小组会, party members at the
    others with activists as 列席, the 中心组 list at 中心组学习; 支部条例 第十一、十二条."""
    checked = set()
    # The people the development demo takes onto the roll (each has a case) joined after the year's
    # rosters were drawn; its own meetings list them as of the meeting's day (demo.development).
    added = set(Member.objects.filter(development_case__isnull=False).values_list("pk", flat=True))
    for activity in Activity.objects.filter(activity_type__in=DEFAULT_TYPES).select_related("organization"):
        default = default_roster(activity.organization, activity.activity_type)
        rows = [
            row for row in activity.attendances.values_list("member_id", "is_invitee") if row[0] not in added
        ]
        expected = set(default.members.values_list("pk", flat=True)) - added
        offered = (
            set(default.invitees.values_list("pk", flat=True)) if default.invitees is not None else set()
        )
        where = (activity.activity_type, activity.organization.name)
        assert {m for m, invitee in rows if not invitee} == expected, where
        assert {m for m, invitee in rows if invitee} <= offered, where
        checked.add(activity.activity_type)
    assert checked == set(DEFAULT_TYPES)
