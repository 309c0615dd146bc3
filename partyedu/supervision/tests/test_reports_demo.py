"""The demo's monthly reports: a year for the demo branches, most approved, some returned and
fixed, a few late; branch_sec's last month left to do; none showing "数据已变化"."""

from __future__ import annotations

import pytest
from django.utils import timezone

from partyedu.demo.supervision_reports import seed_reports
from partyedu.demo.testing import on_standard_demo
from partyedu.supervision.models import MonthlyReport, ReportEvent
from partyedu.supervision.reports_derive import figures_difference, report_figures

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker):
        yield


@pytest.fixture
def demo(seeded_demo, db):
    """The module's seed, seen from this test's own transaction."""


def test_no_submitted_demo_report_shows_that_its_figures_changed(demo):
    # The demo writes every record of the year before the reports, so the figures frozen when a
    # report was submitted are those its records give now.
    frozen = MonthlyReport.objects.exclude(status="draft").select_related("organization")
    changed = [
        (
            r.organization.name,
            r.month,
            figures_difference(r.figures, report_figures(r.organization, r.year, r.month)[0]),
        )
        for r in frozen
    ]
    assert frozen.exists()
    assert [c for c in changed if c[2]] == []


def test_demo_reports_are_mostly_approved_with_some_returned(demo):
    lines = seed_reports(seed=7, today=timezone.localdate(), say=lambda _line: None)
    assert lines and "党建活动月报" in lines[0]
    total = MonthlyReport.objects.count()
    approved = MonthlyReport.objects.filter(status="approved").count()
    assert total > 0 and approved > total / 2
    assert ReportEvent.objects.filter(kind="returned").exists()


def test_demo_leaves_branch_sec_last_month_to_do(demo):
    from partyedu.accounts.models import RoleAssignment

    today = timezone.localdate()
    seed_reports(seed=7, today=today, say=lambda _line: None)
    branch = RoleAssignment.objects.get(user__username="branch_sec").organization
    last_month = 12 if today.month == 1 else today.month - 1
    assert not MonthlyReport.objects.filter(organization=branch, month=last_month).exists()


def test_demo_covers_every_organisation_of_the_district_and_its_own_reports(demo):
    from partyedu.accounts.models import RoleAssignment
    from partyedu.core.models import Notification
    from partyedu.demo.supervision_reports import report_months
    from partyedu.organizations.models import Organization

    months = report_months(timezone.localdate())
    admin = RoleAssignment.objects.select_related("user", "organization").get(user__username="district_admin")
    district = admin.organization
    below = (
        Organization.objects.filter(district.subtree_q(), is_active=True)
        .exclude(pk=district.pk)
        .exclude(level="group")
    )
    for year, month in months[:-1]:
        done = MonthlyReport.objects.filter(organization__in=below, year=year, month=month, status="approved")
        assert done.count() == below.count()
        own = MonthlyReport.objects.get(organization=district, year=year, month=month)
        assert own.status == "approved" and own.figures["children_missing"] == 0
    newest = months[-1]
    assert not MonthlyReport.objects.filter(organization=district, year=newest[0], month=newest[1]).exists()
    # the only unread "待审核" notices are those of reports really awaiting review
    unread = Notification.objects.filter(user=admin.user, kind="report_submitted", read_at__isnull=True)
    awaiting = set(MonthlyReport.objects.filter(status="submitted").values_list("pk", flat=True))
    assert {int(key.split(":")[1]) for key in unread.values_list("key", flat=True)} <= awaiting
    assert unread.count() <= len(awaiting)
