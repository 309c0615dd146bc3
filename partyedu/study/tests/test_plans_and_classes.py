from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from partyedu.study.models import Attendance, ClassEnrollment
from partyedu.study.selectors import (
    class_completion,
    education_base_list,
    education_base_visits,
    plan_coverage,
    study_plan_get,
    study_plan_list,
    teaching_site_choices,
    teaching_site_list,
)
from partyedu.study.services import (
    attendance_mark,
    education_base_create,
    study_plan_issue,
    teaching_site_create,
    teaching_site_update,
    training_class_create,
    training_class_enroll,
    training_class_unenroll,
)
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import START, at, record

# --- study plans ---------------------------------------------------------------------------------


def issue(org, actor=None, topics=("学习党章", "学习条例")):
    return study_plan_issue(
        actor=actor,
        data={
            "organization": org,
            "title": f"{org.name}2025年学习计划",
            "year": 2025,
            "topics": [{"title": t} for t in topics],
        },
    )


def test_plan_is_issued_with_its_topics_in_order(tree, admin):
    plan = issue(tree.district_a, admin)
    assert [t.title for t in plan.topics.all()] == ["学习党章", "学习条例"]
    assert plan.issued_by == admin


def test_plan_outside_scope_cannot_be_issued(tree, admin):
    with pytest.raises(PermissionDenied):
        issue(tree.root, admin)


def test_topic_without_a_title_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        study_plan_issue(
            actor=admin,
            data={"organization": tree.district_a, "title": "计划", "year": 2025, "topics": [{"title": ""}]},
        )
    assert "第1个专题" in exc.value.message_dict["topics"][0]


def test_branch_sees_plans_issued_above_and_not_by_siblings(tree, secretary):
    city = issue(tree.root)
    district = issue(tree.district_a)
    issue(tree.district_b)
    assert set(study_plan_list(user=secretary)) == {city, district}


def test_plan_of_another_district_is_404(tree, secretary):
    other = issue(tree.district_b)
    with pytest.raises(Http404):
        study_plan_get(user=secretary, pk=other.pk)


def test_coverage_shows_which_branches_covered_each_topic(tree, admin, django_assert_max_num_queries):
    branch_a2 = make_org(tree.district_a, "甲二支部")
    plan = issue(tree.root)
    first, second = plan.topics.all()
    record(tree.group_a, "group_meeting", required_topic=first)  # a group's activity counts for its branch
    record(branch_a2, required_topic=second)
    record(tree.branch_b, required_topic=first)  # outside the admin's scope
    with django_assert_max_num_queries(4):
        coverage = plan_coverage(plan, admin)
    assert [b.name for b in coverage.branches] == ["甲一支部", "甲二支部"]
    by_topic = {c.topic.title: c for c in coverage.topics}
    assert [b.name for b in by_topic["学习党章"].covered] == ["甲一支部"]
    assert [b.name for b in by_topic["学习党章"].missing] == ["甲二支部"]
    assert [b.name for b in by_topic["学习条例"].covered] == ["甲二支部"]
    assert by_topic["学习条例"].rate == 0.5


# --- training classes ----------------------------------------------------------------------------


@pytest.fixture
def training_class(tree, members, admin):
    return training_class_create(
        actor=admin,
        data={
            "organization": tree.district_a,
            "name": "两新组织党员培训班",
            "start_date": date(2025, 3, 1),
            "end_date": date(2025, 4, 30),
            "completion_ratio": Decimal("0.75"),
            "members": [members["zhang"].pk, members["li"].pk],
        },
    )


def session(tc, start):
    return record(tc.organization, "training_session", start=start, training_class=tc)


def test_session_roster_is_the_enrolled_members(training_class):
    activity = session(training_class, START)
    assert set(Attendance.objects.filter(activity=activity).values_list("member__name", flat=True)) == {
        "张三",
        "李四",
    }


def test_session_type_must_be_a_class_type(training_class):
    with pytest.raises(ValidationError) as exc:
        record(training_class.organization, "theme_day", training_class=training_class)
    assert "activity_type" in exc.value.message_dict


def test_enrolling_twice_changes_nothing(training_class, members, admin):
    assert (
        training_class_enroll(actor=admin, training_class=training_class, members=[members["zhang"].pk]) == []
    )
    assert ClassEnrollment.objects.filter(training_class=training_class).count() == 2


def test_enrolling_outside_scope_is_refused(training_class, members, admin):
    with pytest.raises(ValidationError):
        training_class_enroll(actor=admin, training_class=training_class, members=[members["zhao"].pk])


def test_late_enrollee_joins_upcoming_sessions_only(training_class, members, admin):
    past = session(training_class, timezone.now() - timedelta(days=1))
    upcoming = session(training_class, timezone.now() + timedelta(days=1))
    training_class_enroll(actor=admin, training_class=training_class, members=[members["wang"].pk])
    assert not Attendance.objects.filter(activity=past, member=members["wang"]).exists()
    assert Attendance.objects.filter(activity=upcoming, member=members["wang"]).exists()


def test_withdrawn_member_leaves_upcoming_sessions(training_class, members, admin):
    upcoming = session(training_class, timezone.now() + timedelta(days=1))
    training_class_unenroll(actor=admin, training_class=training_class, members=[members["li"].pk])
    assert not Attendance.objects.filter(activity=upcoming, member=members["li"]).exists()


def test_completion_counts_attended_sessions_against_those_held(
    training_class, members, admin, django_assert_max_num_queries
):
    sessions = [session(training_class, at(3, day)) for day in (4, 6, 11, 13)]
    zhang, li = members["zhang"].pk, members["li"].pk
    for s in sessions[:3]:
        attendance_mark(actor=admin, activity=s, records=[{"member": zhang, "status": "present"}])
    attendance_mark(
        actor=admin,
        activity=sessions[3],
        records=[{"member": zhang, "status": "late"}, {"member": li, "status": "present"}],
    )
    attendance_mark(actor=admin, activity=sessions[0], records=[{"member": li, "status": "makeup"}])
    attendance_mark(actor=admin, activity=sessions[1], records=[{"member": li, "status": "leave"}])
    # The sessions held, the enrollees with their attendance, and the class's required exams
    # (``study.class_completion_exams``).
    with django_assert_max_num_queries(3):
        rows = {
            r.member.name: r
            for r in class_completion(user=admin, training_class=training_class, at=at(3, 20))
        }
    assert (rows["张三"].attended, rows["张三"].held, rows["张三"].completed) == (4, 4, True)
    assert (rows["李四"].attended, rows["李四"].completed) == (2, False)
    assert rows["李四"].ratio == 0.5


def test_sessions_not_yet_held_do_not_count(training_class, members, admin):
    held = session(training_class, at(3, 4))
    session(training_class, at(4, 4))
    attendance_mark(
        actor=admin, activity=held, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    rows = {
        r.member.name: r for r in class_completion(user=admin, training_class=training_class, at=at(3, 20))
    }
    assert (rows["张三"].held, rows["张三"].completed) == (1, True)


def test_class_end_before_start_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        training_class_create(
            actor=admin,
            data={
                "organization": tree.district_a,
                "name": "x",
                "start_date": date(2025, 5, 1),
                "end_date": date(2025, 4, 1),
            },
        )
    assert "end_date" in exc.value.message_dict


# --- teaching sites and education bases ----------------------------------------------------------


def test_site_is_registered_and_listed_within_scope(tree, admin, secretary):
    site = teaching_site_create(actor=admin, data={"organization": tree.district_a, "name": "街道党校"})
    teaching_site_create(actor=None, data={"organization": tree.district_b, "name": "乙区党校"})
    assert list(teaching_site_list(user=admin)) == [site]
    assert list(teaching_site_list(user=secretary)) == []  # run above the branch…
    assert list(teaching_site_choices(user=secretary)) == [site]  # …but usable by it


def test_site_outside_scope_cannot_be_registered(tree, secretary):
    with pytest.raises(PermissionDenied):
        teaching_site_create(actor=secretary, data={"organization": tree.branch_b, "name": "x"})


def test_deactivated_site_leaves_the_choices(tree, admin):
    site = teaching_site_create(actor=admin, data={"organization": tree.district_a, "name": "街道党校"})
    teaching_site_update(actor=admin, site=site, data={"is_active": False})
    assert not teaching_site_choices(user=admin).exists()


def test_base_visits_are_activities_held_there(tree, admin):
    base = education_base_create(actor=None, data={"organization": tree.root, "name": "红色教育基地"})
    visit = record(tree.branch_a, "site_visit", education_base=base)
    record(tree.branch_b, "site_visit", education_base=base)
    assert list(education_base_visits(user=admin, base=base)) == [visit]
    root_admin = make_user("root", role="org_admin", org=tree.root)
    assert education_base_list(user=root_admin).get().visit_count == 2


def test_member_account_sees_no_sites(tree):
    # A member account holds no study scope: no site is listed.
    user = make_user(role="member", org=tree.branch_a)
    make_member(tree.branch_a, "x")
    assert not teaching_site_list(user=user).exists()
