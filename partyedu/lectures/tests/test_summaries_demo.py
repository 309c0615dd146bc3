"""The lecture statistics of the demo city agree with the records they are counted from."""

import pytest

from partyedu.demo.testing import on_standard_demo
from partyedu.lectures.selectors import lecture_stats

from .test_summaries import assert_rebuild_finds_nothing, assert_stats_agree

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def standard_demo(django_db_setup, django_db_blocker):
    """The standard demo city, seeded once for consecutive modules (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker):
        yield


class TestTheDemoCity:
    def test_statistics_agree_with_the_sources(self, standard_demo, db):
        # given: the demo city of 300 members with its year of lectures, ratings and competition
        from partyedu.accounts.models import RoleAssignment
        from partyedu.demo.lectures import DEMO_YEAR
        from partyedu.organizations.models import Organization

        city_admin = RoleAssignment.objects.get(user__username="city_admin", role__code="org_admin")
        root = city_admin.organization
        # then
        assert_rebuild_finds_nothing()
        orgs = [root, *Organization.objects.filter(parent=root)]
        stats = lecture_stats(user=city_admin.user, organization=root, year=DEMO_YEAR)
        assert stats is not None and stats.lectures > 0 and stats.duty.total > 0
        assert_stats_agree(city_admin.user, *orgs, years=(DEMO_YEAR - 1, DEMO_YEAR))
