"""``supervision.figures``: each figure equals the rows counted by hand on a small tree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.competitions.models import Award, Competition, Entry
from partyedu.learning.models import LearningHourEntry
from partyedu.learning.services.manual import learning_hours_record_manual
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.lectures.models import Lecture, Lecturer, LectureSpeaker
from partyedu.lectures.summaries import lectures_sync
from partyedu.organizations.models import Organization
from partyedu.study.services.counts import activity_counts_rebuild
from partyedu.supervision.figures import Period, figure_rows_url, monthly_series, subtree_figures
from partyedu.testsupport.factories import make_member

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 6)


def _refresh(*orgs: Organization) -> list[Organization]:
    return [Organization.objects.get(pk=o.pk) for o in orgs]


def test_members_are_the_active_roll_of_each_subtree(tree):
    make_member(tree.branch_a, "甲")
    make_member(tree.group_a, "乙")
    make_member(tree.branch_b, "丙")
    a, b, root = _refresh(tree.district_a, tree.district_b, tree.root)
    figures = subtree_figures(organizations=[a, b, root], year=2026, today=TODAY)
    assert (figures[a.pk].members, figures[b.pk].members, figures[root.pk].members) == (2, 1, 3)


def test_activities_count_held_ones_by_type_in_the_period(tree):
    make_activity(tree.branch_a, activity_type="theme_day", start=local(2026, 3, 5, 9))
    make_activity(tree.group_a, activity_type="group_meeting", start=local(2026, 3, 9, 9))
    make_activity(tree.branch_a, activity_type="theme_day", start=local(2026, 4, 5, 9))
    make_activity(tree.branch_b, activity_type="theme_day", start=local(2026, 3, 5, 9))
    a, b = _refresh(tree.district_a, tree.district_b)
    march = subtree_figures(organizations=[a, b], year=2026, month=3, today=TODAY)
    assert march[a.pk].activities == 2
    assert march[a.pk].activities_by_type == {"theme_day": 1, "group_meeting": 1}
    assert march[b.pk].activities == 1
    assert subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk].activities == 3


def test_future_activities_are_not_counted_as_held(tree):
    make_activity(tree.branch_a, start=local(2099, 1, 5, 9))
    make_activity(tree.branch_a, start=local(2026, 1, 5, 9))
    (a,) = _refresh(tree.district_a)
    assert subtree_figures(organizations=[a], year=2099, today=TODAY)[a.pk].activities == 0


def test_a_future_activitys_early_marks_are_not_counted_and_its_type_is_not_shown(tree):
    member = make_member(tree.branch_a, "甲")
    attend(make_activity(tree.branch_a, activity_type="party_lecture", start=local(2099, 1, 5, 9)), member)
    (a,) = _refresh(tree.district_a)
    figures = subtree_figures(organizations=[a], year=2099, today=TODAY)[a.pk]
    assert (figures.activities, figures.attendance_person_times, figures.activities_by_type) == (0, 0, {})
    assert monthly_series(organization=a, year=2099).attendance_person_times[0] == 0


def test_attendance_person_times_count_present_and_late_only(tree):
    m1, m2, m3 = (make_member(tree.branch_a, n) for n in ("甲", "乙", "丙"))
    activity = make_activity(tree.branch_a, start=local(2026, 3, 5, 9))
    attend(activity, m1, "present")
    attend(activity, m2, "late")
    attend(activity, m3, "absent")
    (a,) = _refresh(tree.district_a)
    assert subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk].attendance_person_times == 2


def test_theme_day_months_count_months_with_one_held(tree):
    for month in (1, 1, 3, 7):
        make_activity(tree.branch_a, activity_type="theme_day", start=local(2026, month, 5, 9))
    make_activity(tree.branch_a, activity_type="branch_assembly", start=local(2026, 2, 5, 9))
    activity_counts_rebuild(apply=True)
    (a,) = _refresh(tree.district_a)
    figures = subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk]
    assert (figures.theme_day_months, figures.months_elapsed) == (3, 12)
    assert subtree_figures(organizations=[a], year=2026, month=2, today=TODAY)[a.pk].theme_day_months == 0


def test_cadence_counts_branches_that_missed_no_period(tree):
    # branch_a holds every monthly 主题党日 and the quarterly meetings; branch_b nothing.
    for month in range(1, 13):
        make_activity(tree.branch_a, activity_type="theme_day", start=local(2026, month, 3, 9))
    for month in (1, 4, 7, 10):
        make_activity(tree.branch_a, activity_type="branch_assembly", start=local(2026, month, 4, 9))
        make_activity(tree.branch_a, activity_type="party_lecture", start=local(2026, month, 5, 9))
    activity_counts_rebuild(apply=True)
    a, b, root = _refresh(tree.district_a, tree.district_b, tree.root)
    figures = subtree_figures(organizations=[a, b, root], year=2026, month=6, today=TODAY)
    assert (figures[a.pk].cadence_branches, figures[a.pk].cadence_compliant) == (1, 1)
    assert (figures[b.pk].cadence_branches, figures[b.pk].cadence_compliant) == (1, 0)
    assert figures[root.pk].cadence_compliance_rate == 0.5


def test_hours_come_from_the_learning_summary_rows(tree):
    make_member(tree.branch_a, "甲")
    make_member(tree.branch_a, "乙")
    (a,) = _refresh(tree.district_a)
    figures = subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk]
    assert (figures.hours_required, figures.hours_completed, figures.members_short) == (2, 0, 2)
    assert figures.hours_completion_rate == 0.0


def test_lectures_count_secretaries_and_cross_lectures(tree):
    member = make_member(tree.branch_a, "讲者")
    secretary = Lecturer.objects.create(
        organization=tree.branch_a, member=member, name="书记", category="secretary"
    )
    plain = Lecturer.objects.create(organization=tree.branch_a, name="党员", category="member")
    for lecturer, cross in ((secretary, False), (plain, True), (plain, False)):
        activity = make_activity(tree.branch_a, activity_type="party_lecture", start=local(2026, 5, 5, 9))
        lecture = Lecture.objects.create(
            activity=activity, title="党课", organization=tree.branch_a, start=activity.start
        )
        LectureSpeaker.objects.create(lecture=lecture, lecturer=lecturer, is_cross=cross)
        lectures_sync(lecture_ids=[lecture.pk])  # as the lecture services do after a change
    (a,) = _refresh(tree.district_a)
    figures = subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk]
    assert (figures.lectures, figures.lectures_by_secretaries, figures.cross_lectures) == (3, 1, 1)


def test_online_hours_of_a_year_are_the_online_hours_credited_to_the_subtrees_members(tree):
    for org, hours in ((tree.branch_a, "3.5"), (tree.branch_b, "1")):
        learning_hours_record_manual(
            actor=None,
            member=make_member(org, "甲"),
            year=2026,
            kind="online",
            hours=hours,
            description="网上专题班",
        )
    (a,) = _refresh(tree.district_a)
    assert subtree_figures(organizations=[a], year=2026, today=TODAY)[a.pk].online_hours == Decimal("3.5")


def test_online_hours_of_a_month_sum_the_online_ledger_lines_written_in_it(tree):
    member = make_member(tree.branch_a, "甲")
    for source, (kind, hours) in enumerate((("online", "1.5"), ("online", "2.0"), ("collective", "3.0")), 1):
        LearningHourEntry.objects.create(
            member=member,
            year=2026,
            kind=kind,
            hours=Decimal(hours),
            source_type="manual",
            source_id=source,
            description="测试",
        )
    (a,) = _refresh(tree.district_a)
    month = timezone.localdate().month
    figures = subtree_figures(organizations=[a], year=2026, month=month, today=TODAY)[a.pk]
    assert figures.online_hours == (Decimal("3.5") if timezone.localdate().year == 2026 else Decimal("0"))


def test_competition_entries_and_awards_count_the_year(tree):
    competition = Competition.objects.create(organization=tree.root, title="评选", year=2026)
    lecturer = make_member(tree.branch_a, "讲者")
    entry = Entry.objects.create(
        competition=competition, organization=tree.branch_a, lecturer=lecturer, title="作品"
    )
    Entry.objects.create(
        competition=competition, organization=tree.branch_a, lecturer=lecturer, title="撤回", withdrawn=True
    )
    Award.objects.create(
        competition=competition,
        kind="lecture",
        entry=entry,
        organization=tree.branch_a,
        recipient="某",
        awarded_on=TODAY,
    )
    a, b = _refresh(tree.district_a, tree.district_b)
    figures = subtree_figures(organizations=[a, b], year=2026, today=TODAY)
    assert (figures[a.pk].competition_entries, figures[a.pk].awards) == (1, 1)
    assert (figures[b.pk].competition_entries, figures[b.pk].awards) == (0, 0)


def test_query_count_does_not_grow_with_the_number_of_children(tree, django_assert_max_num_queries):
    (root,) = _refresh(tree.root)
    few = list(Organization.objects.filter(parent=root))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        subtree_figures(organizations=few, year=2026, today=TODAY)
    from partyedu.testsupport.factories import make_org

    for n in range(8):
        make_org(root, f"新区{n}", "committee", "organ")
    many = list(Organization.objects.filter(parent=root))
    with django_assert_max_num_queries(len(small.captured_queries)):
        subtree_figures(organizations=many, year=2026, today=TODAY)


def test_monthly_series_puts_each_activity_in_its_local_month(tree):
    make_activity(tree.branch_a, start=local(2026, 3, 1, 0, 30))  # 2026-02-28 16:30 UTC
    make_activity(tree.branch_a, start=local(2026, 5, 5, 9))
    (a,) = _refresh(tree.district_a)
    series = monthly_series(organization=a, year=2026)
    assert series.activities[1] == 0 and series.activities[2] == 1 and series.activities[4] == 1


def test_activity_figures_link_to_the_rows_page_with_the_period(tree):
    url = figure_rows_url(
        "activities_by_type", organization=tree.district_a, year=2026, month=3, activity_type="theme_day"
    )
    assert url.startswith("/supervision/dashboard/rows/?")
    assert "month=3" in url and "activity_type=theme_day" in url


def test_period_month_bounds_are_local():
    period = Period(2026, 12)
    assert period.start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert period.end.isoformat() == "2027-01-01T00:00:00+08:00"
