"""The appraisal's evidence: each figure against records made through the services of the apps
that own them, the card's lines, the members it covers, and a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from partyedu.appraisal.evidence import branch_evidence
from partyedu.exams.tests.conftest import make_exam, taker
from partyedu.exams.tests.test_hours_credit import take
from partyedu.learning.services import learning_hours_record_manual
from partyedu.lectures.tests.conftest import lecture, lecturer, party_lecture
from partyedu.members.models import Member
from partyedu.points.selectors import year_totals
from partyedu.points.tests.conftest import YEAR, at, mark, meeting, scheme
from partyedu.study.models import Attendance
from partyedu.study.services import attendance_makeup_request, attendance_makeup_settle
from partyedu.testsupport.factories import make_member

pytestmark = pytest.mark.django_db


QUERIES = 10


def hours(member: Member, kind: str, amount: str, year: int = YEAR) -> None:
    learning_hours_record_manual(
        actor=None, member=member, year=year, kind=kind, hours=amount, description="专题学习"
    )


def row(activity: Any, member: Member) -> Attendance:
    return Attendance.objects.get(activity=activity, member=member)


def one(organization: Any, member: Member, year: int = YEAR) -> Any:
    return branch_evidence(organization=organization, year=year, member_ids=[member.pk])[member.pk]


# --- hours ----------------------------------------------------------------------------------------


def test_hours_earned_are_every_kind_and_counted_only_what_the_requirement_counts(tree):
    member = make_member(tree.branch_a, "李四")
    hours(member, "collective", "20")
    hours(member, "online", "10")  # 网络学习 does not count under the default rule
    evidence = one(tree.branch_a, member)
    assert (evidence.hours_earned, evidence.hours_counted) == (Decimal("30"), Decimal("20"))


def test_hours_required_is_the_members_requirement_for_the_year(tree):
    general = make_member(tree.branch_a, "李四")
    secretary = make_member(tree.branch_a, "张三", categories=["secretary"])
    found = branch_evidence(organization=tree.branch_a, year=YEAR)
    assert (found[general.pk].hours_required, found[secretary.pk].hours_required) == (
        Decimal("32"),
        Decimal("56"),
    )


def test_hours_of_another_year_do_not_count(tree):
    member = make_member(tree.branch_a, "李四")
    hours(member, "collective", "6", year=YEAR - 1)
    assert one(tree.branch_a, member).hours_earned == Decimal("0")


def test_the_hours_line_shows_earned_counted_and_required(tree):
    member = make_member(tree.branch_a, "李四")
    hours(member, "collective", "30")
    hours(member, "online", "6")
    assert one(tree.branch_a, member).lines[0] == "学时 36.0（计入 30.0 / 应 32）"


# --- organisational life and 补学 ------------------------------------------------------------------


def test_attendance_counts_present_and_late_of_the_expected_by_type(tree):
    member = make_member(tree.branch_a, "李四")
    first, second = meeting(tree.branch_a, at(3)), meeting(tree.branch_a, at(6))
    day = meeting(tree.branch_a, at(4), "theme_day")
    mark(first, member, "present")
    mark(second, member, "absent")
    mark(day, member, "late")
    assert one(tree.branch_a, member).attendance == (("支部党员大会", 1, 2), ("主题党日", 1, 1))


def test_the_attendance_line_sums_the_types(tree):
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.branch_a, at(3)), member, "present")
    mark(meeting(tree.branch_a, at(6)), member, "leave")
    mark(meeting(tree.branch_a, at(4), "theme_day"), member, "late")
    assert "组织生活出勤 2/3" in one(tree.branch_a, member).lines


def test_activities_that_are_not_organisational_life_are_left_out(tree):
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.branch_a, at(3), "site_visit"), member, "present")
    mark(meeting(tree.branch_a, at(4), "org_life_meeting"), member, "present")
    assert one(tree.branch_a, member).attendance == ()


def test_a_party_group_member_counts_the_branch_and_group_meetings_not_those_above(tree):
    member = make_member(tree.group_a, "王五")
    mark(meeting(tree.branch_a, at(3)), member, "present")
    mark(meeting(tree.group_a, at(4), "group_meeting"), member, "present")
    mark(meeting(tree.district_a, at(5), "party_lecture"), member, "present")
    assert one(tree.group_a, member).attendance == (("支部党员大会", 1, 1), ("党小组会", 1, 1))


def test_a_branch_member_counts_the_meetings_of_the_branchs_party_group(tree):
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.group_a, at(4), "group_meeting", roster=[member.pk]), member, "late")
    assert one(tree.branch_a, member).attendance == (("党小组会", 1, 1),)


def test_activities_of_another_year_are_left_out(tree):
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.branch_a, at(3, year=YEAR - 1)), member, "present")
    assert one(tree.branch_a, member).attendance == ()


def test_confirmed_makeups_are_counted_apart_from_attendance(tree):
    member = make_member(tree.branch_a, "李四")
    confirmed, reported = meeting(tree.branch_a, at(3)), meeting(tree.branch_a, at(5))
    mark(confirmed, member, "absent")
    mark(reported, member, "leave")
    attendance_makeup_settle(actor=None, attendance=row(confirmed, member))
    attendance_makeup_request(actor=None, attendance=row(reported, member))
    evidence = one(tree.branch_a, member)
    assert (evidence.makeups, evidence.attendance) == (1, (("支部党员大会", 0, 2),))
    assert "补学 1 次" in evidence.lines


# --- lectures -------------------------------------------------------------------------------------


def test_lectures_given_as_speaker_in_the_year_are_counted(tree):
    member = make_member(tree.branch_a, "李四")
    speaker = lecturer(tree.district_a, member)
    lecture(party_lecture(tree.branch_a, at(3)), speaker)
    lecture(party_lecture(tree.branch_b, at(9)), speaker)
    lecture(party_lecture(tree.branch_a, at(3, year=YEAR - 1)), speaker)
    evidence = one(tree.branch_a, member)
    assert (evidence.lectures, "讲党课 2 次" in evidence.lines) == (2, True)


# --- exams ----------------------------------------------------------------------------------------


def test_exams_taken_and_passed_follow_the_counted_attempt(tree):
    user = taker(tree.branch_a)
    take(user, make_exam(tree.district_a, title="党章测试"))
    take(user, make_exam(tree.district_a, title="条例测试"), correct=False)
    member = Member.objects.get(user=user)
    evidence = one(tree.branch_a, member, year=timezone.localdate().year)
    assert (evidence.exams_taken, evidence.exams_passed) == (2, 1)
    assert "考试 2 次，合格 1 次" in evidence.lines


def test_a_retake_that_passes_counts_one_exam_passed(tree):
    user = taker(tree.branch_a)
    exam = make_exam(tree.district_a, attempts_allowed=2, grading="highest")
    take(user, exam, correct=False)
    take(user, exam)
    evidence = one(tree.branch_a, Member.objects.get(user=user), year=timezone.localdate().year)
    assert (evidence.exams_taken, evidence.exams_passed) == (1, 1)


def test_practice_sets_are_not_exams(tree):
    user = taker(tree.branch_a)
    take(user, make_exam(tree.district_a, kind="practice"))
    evidence = one(tree.branch_a, Member.objects.get(user=user), year=timezone.localdate().year)
    assert evidence.exams_taken == 0


# --- points ---------------------------------------------------------------------------------------


def test_points_total_is_the_schemes_base_plus_the_ledger(tree):
    scheme(tree.root)
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.branch_a, at(3)), member, "present")  # +2 under the default items
    evidence = one(tree.branch_a, member)
    assert (evidence.points_total, "积分 62.0" in evidence.lines) == (Decimal("62"), True)


def test_a_vetoed_year_shows_a_points_total_of_zero(tree):
    from partyedu.points.services.veto import veto_record

    scheme(tree.root)
    member = make_member(tree.branch_a, "李四")
    mark(meeting(tree.branch_a, at(3)), member, "present")
    veto_record(actor=None, member=member, year=YEAR, category="discipline", reason="受到党纪处分")
    assert one(tree.branch_a, member).points_total == Decimal("0")


def test_points_total_is_none_where_no_scheme_applies(tree):
    scheme(tree.branch_a)
    member = make_member(tree.branch_b, "赵六")
    evidence = one(tree.branch_b, member)
    assert evidence.points_total is None
    assert not any(line.startswith("积分") for line in evidence.lines)


def test_year_totals_gives_base_plus_net_and_none_without_a_scheme(tree):
    scheme(tree.branch_a, base="50")
    inside, outside = make_member(tree.branch_a, "李四"), make_member(tree.branch_b, "赵六")
    mark(meeting(tree.branch_a, at(3)), inside, "present")
    assert year_totals(members=[inside, outside], year=YEAR) == {inside.pk: Decimal("52"), outside.pk: None}


# --- exemption ------------------------------------------------------------------------------------


def test_a_frail_member_is_exempt_without_a_requirement(tree):
    member = make_member(tree.branch_a, "老党员", categories=["frail"])
    evidence = one(tree.branch_a, member)
    assert (evidence.exempt, evidence.hours_required) == (True, None)
    assert evidence.lines[:2] == ("学时 0.0（计入 0.0）", "免于学时要求（年老体弱）")


def test_an_exempt_member_is_shown_with_the_recorded_reason(tree):
    member = make_member(tree.branch_a, "病休党员", is_exempt=True, exempt_reason="长期患病")
    assert "免于学时要求（长期患病）" in one(tree.branch_a, member).lines


# --- which members --------------------------------------------------------------------------------


def test_the_organisations_own_party_members_are_covered(tree):
    full = make_member(tree.branch_a, "正式")
    probationary = make_member(tree.branch_a, "预备", status="probationary")
    make_member(tree.branch_a, "积极分子", status="activist")
    make_member(tree.group_a, "小组党员")  # in the branch's party group, not directly in it
    make_member(tree.branch_b, "他支部")
    assert set(branch_evidence(organization=tree.branch_a, year=YEAR)) == {full.pk, probationary.pk}


def test_given_member_ids_are_covered_wherever_they_are(tree):
    elsewhere = make_member(tree.branch_b, "赵六")
    in_group = make_member(tree.group_a, "王五")
    make_member(tree.branch_a, "李四")
    found = branch_evidence(organization=tree.branch_a, year=YEAR, member_ids=[elsewhere.pk, in_group.pk])
    assert set(found) == {elsewhere.pk, in_group.pk}


def test_a_member_without_records_gets_zeros_and_the_hours_and_attendance_lines(tree):
    member = make_member(tree.branch_a, "李四")
    evidence = one(tree.branch_a, member)
    figures = (
        evidence.exempt,
        evidence.hours_earned,
        evidence.hours_counted,
        evidence.attendance,
        evidence.makeups,
        evidence.lectures,
        evidence.exams_taken,
        evidence.exams_passed,
        evidence.points_total,
    )
    assert figures == (False, Decimal("0"), Decimal("0"), (), 0, 0, 0, 0, None)
    assert evidence.lines == ("学时 0.0（计入 0.0 / 应 32）", "组织生活出勤 0/0")


# --- queries --------------------------------------------------------------------------------------


def _branch_with_records(organization: Any, size: int) -> None:
    members = [make_member(organization, f"党员{i}") for i in range(size)]
    assembly = meeting(organization, at(3))
    for i, member in enumerate(members):
        mark(assembly, member, "present" if i % 2 else "absent")
        if i % 3 == 0:
            hours(member, "collective", "4")
    lecture(party_lecture(organization, at(5)), lecturer(organization, members[0]))


@pytest.mark.parametrize("size", [3, 20])
def test_the_number_of_queries_does_not_grow_with_the_members(tree, size, django_assert_num_queries):
    scheme(tree.root)
    _branch_with_records(tree.branch_a, size)
    with django_assert_num_queries(QUERIES):
        found = branch_evidence(organization=tree.branch_a, year=YEAR)
    assert len(found) == size
