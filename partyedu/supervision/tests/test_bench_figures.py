"""The dashboard's speed-ups (issue 12 benchmark) change no figure: an organisation passed with
its children is counted in one pass over its subtree, and the year view's trend reuses the year's
attendance by month — both give what counting each organisation alone gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partyedu.learning.models import LearningHourEntry
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.organizations.models import Organization
from partyedu.study.services.counts import activity_counts_rebuild
from partyedu.supervision.figures import monthly_series, subtree_figures
from partyedu.supervision.selectors.dashboard import dashboard_get
from partyedu.testsupport.factories import make_member, make_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 6)


@pytest.fixture
def city(tree):
    """Records at every level: the root's own, a district's, two branches', a party group's."""
    members = [make_member(tree.branch_a, n) for n in ("甲", "乙", "丙")] + [make_member(tree.branch_b, "丁")]
    for org, month, kind in (
        (tree.root, 2, "central_group_study"),
        (tree.district_a, 3, "party_lecture"),
        (tree.branch_a, 3, "theme_day"),
        (tree.branch_a, 4, "theme_day"),
        (tree.group_a, 3, "group_meeting"),
        (tree.branch_b, 5, "branch_assembly"),
    ):
        activity = make_activity(org, activity_type=kind, start=local(2026, month, 5, 9))
        if org in (tree.branch_a, tree.group_a):
            for member, status in zip(members[:3], ("present", "late", "absent"), strict=True):
                attend(activity, member, status)
        elif org == tree.branch_b:
            attend(activity, members[3], "present")
    for source, (member, hours) in enumerate(((members[0], "1.5"), (members[3], "2.0")), 1):
        LearningHourEntry.objects.create(
            member=member,
            year=2026,
            kind="online",
            hours=Decimal(hours),
            source_type="manual",
            source_id=source,
            description="测试",
        )
    activity_counts_rebuild(apply=True)
    return tree


def _alone(orgs: list[Organization], month: int | None) -> dict[int, dict]:
    return {
        org.pk: subtree_figures(organizations=[org], year=2026, month=month, today=TODAY)[org.pk].indicators()
        for org in orgs
    }


@pytest.mark.parametrize("month", [None, 3])
def test_an_organisation_with_its_children_counts_as_each_counted_alone(city, month):
    orgs = [Organization.objects.get(pk=o.pk) for o in (city.root, city.district_a, city.district_b)]
    together = subtree_figures(organizations=orgs, year=2026, month=month, today=TODAY)
    assert {pk: f.indicators() for pk, f in together.items()} == _alone(orgs, month)


def test_a_branch_with_its_party_groups_counts_as_each_counted_alone(city):
    orgs = [Organization.objects.get(pk=o.pk) for o in (city.branch_a, city.group_a)]
    together = subtree_figures(organizations=orgs, year=2026, today=TODAY)
    assert {pk: f.indicators() for pk, f in together.items()} == _alone(orgs, None)


def test_the_year_views_attendance_by_month_is_the_trend_of_attendance(city):
    root = Organization.objects.get(pk=city.root.pk)
    figures = subtree_figures(organizations=[root], year=2026, today=TODAY)[root.pk]
    assert figures.attendance_by_month[2] == 4 and figures.attendance_by_month[3] == 2
    assert sum(figures.attendance_by_month) == figures.attendance_person_times == 7
    assert monthly_series(organization=root, year=2026).attendance_person_times == figures.attendance_by_month


def test_the_dashboard_of_a_year_reads_the_attendance_once(city):
    admin = make_user("city_admin_bench", role="org_admin", org=city.root)
    root = Organization.objects.get(pk=city.root.pk)
    with CaptureQueriesContext(connection) as captured:
        board = dashboard_get(user=admin, organization=root, year=2026)
    # The service family reads the attendance of volunteer activities only (through the
    # activity's type and start): not the city's attendance a second time.
    attendance = [
        q
        for q in captured.captured_queries
        if 'FROM "study_attendance"' in q["sql"] and "volunteer_service" not in q["sql"]
    ]
    assert len(attendance) == 1
    assert board.series is not None and sum(board.series.attendance_person_times) == 7
