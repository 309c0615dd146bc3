"""The monthly report: derivation, idempotence, freezing, review rules, aggregation upward."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.study.services import activity_record, attendance_mark
from partyedu.supervision.models import MonthlyReport, ReportEvent
from partyedu.supervision.reports_derive import figures_difference, report_figures
from partyedu.supervision.services.reports import (
    report_approve,
    report_generate,
    report_narrative_update,
    report_regenerate,
    report_return,
    report_submit,
)
from partyedu.testsupport.factories import make_member, make_user

pytestmark = pytest.mark.django_db

YEAR, MONTH = 2025, 3


def _at(day: int, hour: int = 14) -> datetime:
    return datetime(YEAR, MONTH, day, hour, tzinfo=timezone.get_current_timezone())


def _activity(org, activity_type="theme_day", day=5, topic="学习全会精神"):
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": topic,
            "start": _at(day),
            "end": _at(day, 16),
        },
    )


@pytest.fixture
def branch(tree):
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(4)]
    activity = _activity(tree.branch_a)
    attendance_mark(
        actor=None,
        activity=activity,
        records=[
            {"member": members[0].pk, "status": "present"},
            {"member": members[1].pk, "status": "late"},
            {"member": members[2].pk, "status": "absent"},
            {"member": members[3].pk, "status": "leave"},
        ],
    )
    _activity(tree.branch_a, "branch_committee", day=12, topic="支委会")
    return tree


@pytest.fixture
def secretary(tree):
    return make_user("sec", role="branch_admin", org=tree.branch_a)


@pytest.fixture
def district_admin(tree):
    return make_user("dadmin", role="org_admin", org=tree.district_a)


def test_figures_count_the_branch_activities_by_type(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    assert report.figures["activities_total"] == 2
    assert report.figures["activities_by_type"] == {"branch_committee": 1, "theme_day": 1}


def test_person_times_count_present_and_late_only(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    assert report.figures["attendance_person_times"] == 2
    assert report.figures["absentees"] == 2


def test_hours_credited_come_from_the_ledger(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    assert float(report.figures["hours_credited"]) > 0


def test_generation_is_idempotent(branch, secretary):
    first, created = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    second, created_again = report_generate(
        actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH
    )
    assert created and not created_again
    assert first.pk == second.pk
    assert MonthlyReport.objects.count() == 1


def test_future_month_is_refused(tree, secretary):
    with pytest.raises(ValidationError):
        report_generate(
            actor=secretary, organization=tree.branch_a, year=timezone.localdate().year + 1, month=1
        )
    assert not MonthlyReport.objects.exists()


def test_frozen_figures_equal_a_regeneration_from_the_same_records(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    fresh, _details = report_figures(branch.branch_a, YEAR, MONTH)
    assert report.figures == fresh
    assert figures_difference(report.figures, fresh) == []


def test_a_changed_record_shows_a_difference(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    _activity(branch.branch_a, "party_lecture", day=20, topic="党课")
    fresh, _details = report_figures(branch.branch_a, YEAR, MONTH)
    keys = {d["key"] for d in figures_difference(report.figures, fresh)}
    assert "activities_total" in keys and "activities_by_type.party_lecture" in keys


def test_regenerating_a_submitted_report_returns_it_to_draft(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    report = report_regenerate(actor=secretary, report=report)
    assert report.status == "draft"


def test_narrative_cannot_change_after_submission(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    with pytest.raises(ValidationError):
        report_narrative_update(actor=secretary, report=report, data={"problems": "新的问题"})
    report.refresh_from_db()
    assert report.problems == ""


def test_figures_cannot_be_typed(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    with pytest.raises(ValidationError):
        report_narrative_update(actor=secretary, report=report, data={"figures": {"activities_total": 99}})


def test_return_requires_a_reason(branch, secretary, district_admin):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    with pytest.raises(ValidationError):
        report_return(actor=district_admin, report=report, reason="  ")
    report.refresh_from_db()
    assert report.status == "submitted"


def test_secretary_cannot_approve_own_report(branch, secretary):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    with pytest.raises(PermissionDenied):
        report_approve(actor=secretary, report=report)


def test_org_admin_at_the_organisation_itself_cannot_approve(branch, secretary):
    own_admin = make_user(role="org_admin", org=branch.branch_a)
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    with pytest.raises(PermissionDenied):
        report_approve(actor=own_admin, report=report)


def test_submit_return_fix_resubmit_approve(branch, secretary, district_admin):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    report = report_return(actor=district_admin, report=report, reason="请补充问题")
    assert report.status == "returned" and report.return_reason == "请补充问题"
    report_narrative_update(actor=secretary, report=report, data={"problems": "已补充"})
    report = report_submit(actor=secretary, report=report)
    report = report_approve(actor=district_admin, report=report)
    assert report.status == "approved"
    kinds = list(ReportEvent.objects.filter(report=report).values_list("kind", flat=True))
    assert kinds == ["generated", "submitted", "returned", "submitted", "approved"]


def test_higher_report_adds_approved_children_only(branch, secretary, district_admin):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    district, _ = report_generate(
        actor=district_admin, organization=branch.district_a, year=YEAR, month=MONTH
    )
    assert district.figures["activities_total"] == 0
    assert district.figures["children_missing"] == 1
    report_approve(actor=district_admin, report=report_submit(actor=secretary, report=report))
    district = report_regenerate(actor=district_admin, report=district)
    assert district.figures["activities_total"] == 2
    assert district.figures["children_approved"] == 1


# --- the reviewers' "待审核" notices are settled once the report no longer awaits review ------


def _review_notices(user, report, unread=True):
    from partyedu.core.models import Notification

    rows = Notification.objects.filter(user=user, key__startswith=f"report_submitted:{report.pk}:")
    return rows.filter(read_at__isnull=True) if unread else rows


def test_return_and_approve_settle_the_reviewers_unread_notices(branch, secretary, district_admin):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    other, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH - 1)
    report_submit(actor=secretary, report=other)
    report = report_submit(actor=secretary, report=report)
    assert _review_notices(district_admin, report).count() == 1
    report = report_return(actor=district_admin, report=report, reason="请补充问题")
    assert not _review_notices(district_admin, report).exists()
    report = report_submit(actor=secretary, report=report)
    assert _review_notices(district_admin, report).count() == 1
    report_approve(actor=district_admin, report=report)
    assert not _review_notices(district_admin, report).exists()
    assert _review_notices(district_admin, report, unread=False).count() == 2
    # another report still awaiting review keeps its notice
    assert _review_notices(district_admin, other).count() == 1


def test_regenerating_a_submitted_report_settles_its_notices(branch, secretary, district_admin):
    report, _ = report_generate(actor=secretary, organization=branch.branch_a, year=YEAR, month=MONTH)
    report = report_submit(actor=secretary, report=report)
    assert _review_notices(district_admin, report).count() == 1
    report = report_regenerate(actor=secretary, report=report)
    assert report.status == "draft"
    assert not _review_notices(district_admin, report).exists()
