"""The points area's demo data on a small demo city: the city's scheme for the demo year, the
points derived from member1's attendance, branch_sec's manual records with their reasons, the
half-year publication with member1's two objections, the candidates' scheme, and a ledger that a
rebuild proves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.demo.points import (
    AWARD_REASON,
    DEDUCT_REASON,
    MEMBER1_REASON,
    POINTS_YEAR,
    PUBLICATION_DAYS,
    SCHEME_NAME,
    UPHELD_ANSWER,
    _candidate_branch,
    seed_points,
)
from partyedu.demo.testing import on_standard_demo
from partyedu.members.models import Member
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.points.choices import AUDIENCE_STATUSES
from partyedu.points.models import ManualPoints, PointsEntry, PointsObjection, PointsPublication, PointsScheme
from partyedu.points.selectors import candidates_ranked, member_points
from partyedu.points.services import points_rebuild

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


def city_scheme():
    return PointsScheme.objects.select_related("organization").get(name=SCHEME_NAME)


def member1():
    return Member.objects.get(user__username="member1")


def test_the_city_has_one_scheme_for_the_demo_year_with_base_60(demo_lines):
    scheme = city_scheme()
    assert scheme.organization.parent_id is None
    assert scheme.year == POINTS_YEAR
    assert scheme.base == Decimal(60)
    assert PointsScheme.objects.filter(audience="members").count() == 1
    assert any(line.startswith("积分方案") for line in demo_lines)


def test_the_scheme_earns_for_meetings_lectures_exams_and_online_study_with_caps(demo_lines):
    items = {i.code: i for i in city_scheme().items.all()}
    org_life = items["org_life"]
    assert (org_life.kind, org_life.source, org_life.cap_period) == ("earn", "attendance", "month")
    assert org_life.cap is not None and {"theme_day", "branch_assembly"} <= set(org_life.activity_types)
    assert (items["lecture"].source, items["lecture"].cap_period) == ("lecture", "year")
    assert items["lecture"].cap is not None
    assert items["exam_pass"].source == "exam_pass"
    assert items["resource"].source == "resource" and items["resource"].cap is not None


def test_the_negative_list_deducts_absence_from_organisational_life_with_a_cap(demo_lines):
    absence = city_scheme().items.get(code="absence")
    assert (absence.kind, absence.source, absence.statuses) == ("deduct", "attendance", ["absent"])
    assert absence.cap is not None


def test_member1_has_points_from_attendance(demo_lines):
    lines = PointsEntry.objects.filter(member=member1(), year=POINTS_YEAR, source_type="attendance")
    assert lines.filter(item__code="org_life", points__gt=0).count() >= 3


def test_member1s_year_totals_more_than_the_base(demo_lines):
    user = User.objects.get(username="member1")
    result = member_points(user=user, member=member1(), year=POINTS_YEAR)
    assert result.scheme == city_scheme()
    assert result.total > result.base == Decimal(60)
    assert result.total == result.base + result.earned - result.deducted


def test_the_monthly_cap_shows_on_the_lines_it_cut(demo_lines):
    assert PointsEntry.objects.filter(item__code="org_life", description__contains="已达本月上限").exists()


def test_lecturers_and_those_who_passed_an_exam_earn_points(demo_lines):
    assert PointsEntry.objects.filter(source_type="lecture", points__gt=0).exists()
    assert PointsEntry.objects.filter(source_type="exam_pass", points__gt=0).exists()


def test_volunteers_earn_points_for_their_service_hours(demo_lines):
    earned = PointsEntry.objects.filter(item__code="service", points__gt=0)
    assert earned.filter(source_type="service_hours").exists()
    assert earned.filter(source_type="volunteer").exists()


def test_absentees_are_deducted_but_never_an_exempt_member(demo_lines):
    deducted = PointsEntry.objects.filter(item__code="absence")
    assert deducted.filter(points__lt=0).exists()
    assert not deducted.filter(member__is_exempt=True).exists()


def test_branch_sec_recorded_two_awards_and_one_deduction_in_their_branch(demo_lines):
    branch = RoleAssignment.objects.get(user__username="branch_sec").organization
    records = ManualPoints.objects.filter(item__scheme__audience="members").select_related(
        "item", "member", "actor"
    )
    assert sorted((r.item.code, r.reason) for r in records) == sorted(
        [("award", MEMBER1_REASON), ("award", AWARD_REASON), ("penalty", DEDUCT_REASON)]
    )
    assert {r.actor.username for r in records} == {"branch_sec"}
    assert {r.member.organization_id for r in records} == {branch.pk}
    assert {r.year for r in records} == {POINTS_YEAR}


def test_member1s_award_is_on_their_ledger_with_its_reason(demo_lines):
    line = PointsEntry.objects.get(member=member1(), source_type="manual")
    assert line.points > 0
    assert MEMBER1_REASON in line.description


def test_the_deduction_takes_points_off_a_member_who_is_not_exempt(demo_lines):
    record = ManualPoints.objects.select_related("member").get(item__code="penalty")
    assert not record.member.is_exempt
    line = PointsEntry.objects.get(source_type="manual", source_id=record.pk)
    assert line.points == -record.points


def test_the_ledger_equals_a_rebuild(demo_lines):
    report = points_rebuild()
    assert report.differences == 0, report.samples


def test_seeding_again_adds_nothing(demo_lines):
    def counts():
        return (
            PointsScheme.objects.count(),
            PointsEntry.objects.count(),
            ManualPoints.objects.count(),
            PointsPublication.objects.count(),
            PointsObjection.objects.count(),
        )

    before = counts()
    assert seed_points(seed=SEED, say=lambda message: None) == []
    assert counts() == before


# --- The half-year publication and member1's objections ----------------------------------------------


def branch_sec_branch():
    return RoleAssignment.objects.get(user__username="branch_sec").organization


def publication():
    return PointsPublication.objects.select_related("organization", "published_by").get()


def test_branch_sec_published_their_branchs_first_half_year(demo_lines):
    published = publication()
    assert published.organization == branch_sec_branch()
    assert (published.year, published.period) == (POINTS_YEAR, "h1")
    assert published.published_by.username == "branch_sec"
    assert published.rows.filter(member=member1()).exists()
    assert any(line.startswith("积分公示") for line in demo_lines)


def test_the_publication_runs_from_a_few_days_ago_to_a_few_days_ahead(demo_lines):
    published = publication()
    today = timezone.localdate()
    assert published.starts_on < today < published.ends_on
    assert (published.ends_on - published.starts_on).days + 1 == PUBLICATION_DAYS


def test_member1_raised_one_objection_upheld_and_one_rejected(demo_lines):
    objections = PointsObjection.objects.filter(publication=publication(), member=member1())
    assert sorted(objections.values_list("status", flat=True)) == ["rejected", "upheld"]
    assert {o.raised_by.username for o in objections} == {"member1"}
    assert {o.answered_by.username for o in objections} == {"branch_sec"}


def test_the_upheld_objection_has_its_answer_and_a_correcting_amount(demo_lines):
    upheld = PointsObjection.objects.get(status="upheld")
    assert upheld.answer == UPHELD_ANSWER
    assert upheld.points == Decimal(2)


def test_the_rejected_objection_on_a_line_of_member1_shows_its_reason(demo_lines):
    rejected = PointsObjection.objects.select_related("entry").get(status="rejected")
    assert rejected.entry.member == member1()
    assert rejected.entry.source_date <= publication().period_end
    assert rejected.answer and rejected.points is None


def test_the_upheld_objection_appended_its_correction_to_member1s_ledger(demo_lines):
    upheld = PointsObjection.objects.get(status="upheld")
    line = PointsEntry.objects.get(source_type="objection", source_id=upheld.pk)
    assert (line.member, line.points) == (member1(), upheld.points)


# --- The candidates' scheme (积分择优) ------------------------------------------------------------------


def candidates_scheme():
    return PointsScheme.objects.select_related("organization").get(audience="candidates")


def has_candidates(organization):
    return Member.objects.filter(
        organization.subtree_q("org_path"), is_active=True, status__in=AUDIENCE_STATUSES["candidates"]
    ).exists()


def test_the_candidates_scheme_is_branch_secs_when_their_branch_has_candidates(demo_lines):
    scheme = candidates_scheme()
    home = branch_sec_branch()
    assert scheme.year == POINTS_YEAR
    assert has_candidates(scheme.organization)
    assert (scheme.organization == home) == has_candidates(home)
    assert any(line.startswith("积分择优方案") for line in demo_lines)


def test_without_candidates_in_branch_secs_branch_the_nearest_branch_with_some_is_chosen(demo_lines):
    home = branch_sec_branch()
    Member.objects.filter(home.subtree_q("org_path"), status__in=AUDIENCE_STATUSES["candidates"]).update(
        status="full"
    )
    chosen = _candidate_branch(home)

    def shared(branch):
        return len(set(ancestor_paths(branch.path)) & set(ancestor_paths(home.path)))

    assert chosen != home and has_candidates(chosen)
    assert not any(
        has_candidates(b) and shared(b) > shared(chosen)
        for b in Organization.objects.filter(level="branch").exclude(pk=home.pk)
    )


def test_the_candidates_scheme_scores_sitting_in_study_exams_and_the_secretarys_assessment(demo_lines):
    items = {i.code: i for i in candidates_scheme().items.all()}
    sit_in = items["sit_in"]
    assert (sit_in.source, sorted(sit_in.statuses)) == ("attendance", ["late", "present"])
    assert set(sit_in.activity_types) == {"branch_assembly", "party_lecture", "theme_day"}
    assert items["resource"].cap is not None
    assert items["exam_pass"].source == "exam_pass"
    assert items["assessment"].source == "manual"


def test_candidates_earn_points_for_sitting_in(demo_lines):
    lines = PointsEntry.objects.filter(item__scheme=candidates_scheme(), item__code="sit_in", points__gt=0)
    assert lines.exists()
    assert set(lines.values_list("member__status", flat=True)) <= set(AUDIENCE_STATUSES["candidates"])


def test_the_secretary_assessed_candidates_with_a_reason(demo_lines):
    records = ManualPoints.objects.filter(item__scheme=candidates_scheme()).select_related("member")
    assert records.exists()
    assert all(r.reason and r.member.status in AUDIENCE_STATUSES["candidates"] for r in records)


def test_the_candidates_list_shows_the_branchs_candidates_with_their_points(demo_lines):
    scheme = candidates_scheme()
    user = User.objects.get(username="city_admin")
    ranked = candidates_ranked(user=user, organization=scheme.organization, year=POINTS_YEAR)
    assert ranked.rows
    assert ranked.rows[0].total > scheme.base
    assert [r.total for r in ranked.rows] == sorted((r.total for r in ranked.rows), reverse=True)
