"""The exams panel of a member's record for a year, and the per-minute closing step."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from partyedu.exams.models import Attempt
from partyedu.exams.selectors.record import member_year_results
from partyedu.exams.services import attempt_start, attempt_submit
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_user

from .conftest import make_exam, taker

pytestmark = pytest.mark.django_db


def _took(tree, **exam_data):
    user = taker(tree.branch_a, "孙党员")
    exam = make_exam(tree.district_a, **exam_data)
    attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    return user, Member.objects.get(user=user), exam


def test_the_year_record_lists_a_submitted_exam_with_its_score(tree):
    user, member, exam = _took(tree)
    results = member_year_results(user=user, member=member, year=timezone.localdate().year)
    assert [(r.exam.pk, r.score, r.passed) for r in results] == [(exam.pk, 0, False)]


def test_the_year_record_leaves_out_practice(tree):
    user, member, _exam = _took(tree, kind="practice")
    assert member_year_results(user=user, member=member, year=timezone.localdate().year) == []


def test_the_year_record_is_empty_for_another_year(tree):
    user, member, _exam = _took(tree)
    assert member_year_results(user=user, member=member, year=timezone.localdate().year - 1) == []


def test_the_year_record_is_hidden_from_an_organiser_of_another_district(tree):
    _user, member, _exam = _took(tree)
    outsider = make_user(role="org_admin", org=tree.district_b)
    assert member_year_results(user=outsider, member=member, year=timezone.localdate().year) == []


def test_the_member_page_shows_the_exam_results_panel_to_an_organiser(tree, client):
    _user, member, exam = _took(tree)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "考试成绩" in html
    assert exam.title in html


def test_the_per_minute_command_submits_an_attempt_whose_time_is_up(tree):
    exam = make_exam(tree.district_a, time_limit_minutes=5, grace_seconds=0)
    attempt = attempt_start(actor=taker(tree.branch_a), exam=exam)
    out = StringIO()
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("django.utils.timezone.now", return_value=later):
        call_command("housekeeping", "--frequent", stdout=out)
    assert "exam_attempts_close_expired: 1" in out.getvalue()
    assert Attempt.objects.get(pk=attempt.pk).status == "graded"
