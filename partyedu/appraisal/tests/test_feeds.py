"""The appraisal's result where the branch's other records show it: the page of the meeting that
held it (``study.activity_panels``) and the month's report (党建活动月报)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.appraisal.models import Appraisal
from partyedu.appraisal.services import appraisal_decide
from partyedu.study.services import activity_record
from partyedu.supervision.reports_derive import report_figures
from partyedu.testsupport.factories import make_user

from .conftest import THIS_YEAR, close_step, make_appraisal, open_step

pytestmark = pytest.mark.django_db


def _reported(branch, meeting=None) -> Appraisal:
    appraisal = make_appraisal(branch.org, meeting=meeting)
    appraisal = open_step(appraisal, "decide")
    grades = [{"member": m.pk, "grade": "qualified"} for n, m in branch.members.items() if n != "己"]
    grades[0] = {
        "member": grades[0]["member"],
        "grade": "unqualified",
        "measure": "rectify_by_deadline",
        "deadline": (timezone.localdate() + timedelta(days=90)).isoformat(),
    }
    appraisal_decide(actor=None, appraisal=appraisal, grades=grades)
    appraisal = close_step(appraisal, "decide")
    appraisal = open_step(appraisal, "report")
    return close_step(appraisal, "report")


def _meeting(org):
    start = timezone.now() - timedelta(days=1)
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "democratic_evaluation",
            "topic": "民主评议党员",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )


def test_the_months_report_lists_the_appraisal_reported_in_it(branch):
    appraisal = _reported(branch)
    today = timezone.localdate()

    figures, details = report_figures(branch.org, today.year, today.month)

    assert figures["appraisals_reported"] == 1
    [row] = details["appraisals"]
    assert (row["id"], row["participants"], row["open_follow_ups"]) == (appraisal.pk, 5, 1)
    assert {g["grade"]: g["count"] for g in row["grades"]} == {
        "excellent": 0,
        "qualified": 4,
        "basically_qualified": 0,
        "unqualified": 1,
    }


def test_an_appraisal_not_yet_reported_is_not_in_the_report(branch):
    open_step(make_appraisal(branch.org), "vote")
    today = timezone.localdate()

    figures, details = report_figures(branch.org, today.year, today.month)

    assert (figures["appraisals_reported"], details["appraisals"]) == (0, [])


def test_the_meeting_page_shows_the_appraisal_held_at_it(client, branch):
    meeting = _meeting(branch.org)
    _reported(branch, meeting=meeting)
    client.force_login(branch.secretary)

    page = client.get(f"/study/activities/{meeting.pk}/").content.decode()

    assert f"{THIS_YEAR}年度民主评议党员" in page
    assert "不合格1人" in page


def test_the_level_above_sees_the_appraisal_on_the_meeting_page(client, branch, tree):
    meeting = _meeting(branch.org)
    _reported(branch, meeting=meeting)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    page = client.get(f"/study/activities/{meeting.pk}/").content.decode()

    assert f"{THIS_YEAR}年度民主评议党员" in page
