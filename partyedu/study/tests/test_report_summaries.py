"""The study reports at city scale: the monthly activity counts kept with the activities (and
proved by their rebuild), the cadence report's figures counted in SQL from them, and the plan
coverage counted in SQL — each checked against the row-by-row report it replaces on the page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from partyedu.core.maintenance import registered_rebuilds
from partyedu.organizations.services import organization_move
from partyedu.study.models import ActivityMonthCount
from partyedu.study.selectors import (
    CADENCE_KINDS,
    cadence_report,
    cadence_rows,
    cadence_summary,
    plan_branches,
    plan_coverage,
    plan_coverage_summary,
)
from partyedu.study.services import (
    activity_counts_rebuild,
    activity_delete,
    activity_update,
    cadence_rule_set,
    study_plan_issue,
)
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import at, record

pytestmark = pytest.mark.django_db
JIT_OFF = 1 if connection.vendor == "postgresql" else 0
END_OF_YEAR = date(2025, 12, 31)


def months(org: Any, activity_type: str, year: int = 2025) -> list[int]:
    row = ActivityMonthCount.objects.filter(organization=org, year=year, activity_type=activity_type).first()
    return row.months if row is not None else [0] * 12


# --- the monthly counts -------------------------------------------------------------------------


def test_recording_an_activity_counts_it_in_its_month(tree: Any) -> None:
    record(tree.branch_a, "theme_day", start=at(3))
    record(tree.branch_a, "theme_day", start=at(3, day=20))
    assert months(tree.branch_a, "theme_day")[2] == 2
    assert activity_counts_rebuild() == 0


def test_a_party_groups_activity_counts_for_its_branch(tree: Any) -> None:
    record(tree.group_a, "theme_day", start=at(5))
    assert months(tree.branch_a, "theme_day")[4] == 1
    assert not ActivityMonthCount.objects.filter(organization=tree.group_a).exists()
    assert activity_counts_rebuild() == 0


def test_the_month_is_the_local_one(tree: Any) -> None:
    # 00:30 on 1 April in China is still 31 March in UTC
    record(tree.branch_a, "theme_day", start=at(4, day=1, hour=0).replace(minute=30))
    assert months(tree.branch_a, "theme_day")[3] == 1
    assert activity_counts_rebuild() == 0


def test_changing_the_type_or_month_moves_the_count(tree: Any) -> None:
    activity = record(tree.branch_a, "theme_day", start=at(3))
    activity_update(
        actor=None,
        activity=activity,
        data={"activity_type": "party_lecture", "start": at(6), "end": at(6, hour=16)},
    )
    assert months(tree.branch_a, "theme_day") == [0] * 12
    assert months(tree.branch_a, "party_lecture")[5] == 1
    assert activity_counts_rebuild() == 0


def test_deleting_an_activity_takes_its_count_away(tree: Any) -> None:
    activity = record(tree.branch_a, "theme_day", start=at(3))
    activity_delete(actor=None, activity=activity)
    assert months(tree.branch_a, "theme_day") == [0] * 12
    assert activity_counts_rebuild() == 0


def test_a_group_moved_to_another_branch_takes_its_counts_along(tree: Any) -> None:
    branch_a2 = make_org(tree.district_a, "甲二支部")
    record(tree.group_a, "theme_day", start=at(5))
    record(tree.branch_a, "theme_day", start=at(5))
    organization_move(actor=None, org=tree.group_a, new_parent=branch_a2)
    assert months(tree.branch_a, "theme_day")[4] == 1
    assert months(branch_a2, "theme_day")[4] == 1
    assert activity_counts_rebuild() == 0


def test_moving_a_branch_changes_no_count(tree: Any) -> None:
    record(tree.group_a, "theme_day", start=at(5))
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert months(tree.branch_a, "theme_day")[4] == 1
    assert activity_counts_rebuild() == 0


def test_the_rebuild_finds_and_repairs_wrong_and_missing_counts(tree: Any) -> None:
    record(tree.branch_a, "theme_day", start=at(3))
    record(tree.branch_b, "theme_day", start=at(4))
    ActivityMonthCount.objects.filter(organization=tree.branch_a).update(m3=5)
    ActivityMonthCount.objects.filter(organization=tree.branch_b).delete()
    ActivityMonthCount.objects.create(organization=tree.district_a, year=2025, activity_type="other", m1=1)
    assert activity_counts_rebuild() == 3
    assert activity_counts_rebuild(apply=True) == 3
    assert activity_counts_rebuild() == 0
    assert months(tree.branch_a, "theme_day")[2] == 1 and months(tree.branch_b, "theme_day")[3] == 1


def test_the_rebuild_is_offered_on_the_maintenance_page() -> None:
    assert "study.activity_counts" in {rebuild.name for rebuild in registered_rebuilds()}


# --- the cadence report -------------------------------------------------------------------------


@pytest.fixture
def city(tree: Any, admin: Any) -> dict[str, Any]:
    """Three branches of 甲区委 under different rules (甲一 and 甲三 with a committee), one of
    them holding everything; two party groups, one meeting monthly; 甲区委 studying once a
    quarter (short of twice) and weekly under a rule of its own."""
    branch_a2 = make_org(tree.district_a, "甲二支部")
    branch_a3 = make_org(tree.district_a, "甲三支部")
    group_a3 = make_org(branch_a3, "甲三第一党小组", "group")
    make_member(tree.branch_a, "委员甲", categories=["committee"])
    make_member(group_a3, "委员丙", categories=["committee"])
    cadence_rule_set(actor=None, organization=tree.root, activity_type="party_lecture", period="half_year")
    cadence_rule_set(actor=admin, organization=branch_a2, activity_type="party_lecture", period="year")
    cadence_rule_set(actor=admin, organization=branch_a3, activity_type="branch_committee", period="quarter")
    cadence_rule_set(
        actor=admin, organization=branch_a3, activity_type="theme_day", period="month", min_count=0
    )
    cadence_rule_set(
        actor=admin,
        organization=tree.district_a,
        activity_type="reading_class",
        period="week",
        applies_to="committee",
    )
    for month in range(1, 13):
        record(tree.branch_a if month != 7 else tree.group_a, "theme_day", start=at(month))
        record(tree.branch_a, "branch_committee", start=at(month, day=3))
        record(tree.group_a, "group_meeting", start=at(month, day=5))
    for quarter in range(1, 5):
        record(tree.branch_a, "branch_assembly", start=at(quarter * 3))
        record(branch_a2, "branch_assembly", start=at(quarter * 3))
        record(tree.district_a, "central_group_study", start=at(quarter * 3))
    record(tree.branch_a, "party_lecture", start=at(2))
    record(tree.branch_a, "party_lecture", start=at(8))
    record(tree.branch_a, "org_life_meeting", start=at(1))
    record(tree.branch_a, "democratic_evaluation", start=at(1, day=20))
    record(branch_a3, "branch_committee", start=at(1))
    for day in (6, 13, 20):
        record(tree.district_a, "reading_class", start=at(1, day=day))
    return {"a2": branch_a2, "a3": branch_a3, "group_a3": group_a3}


def test_summary_counts_what_the_report_lists(tree: Any, admin: Any, city: dict[str, Any]) -> None:
    for org in (tree.district_a, tree.root, city["a3"], tree.group_a):
        for as_of in (END_OF_YEAR, date(2025, 5, 20)):
            report = cadence_report(user=admin, organization=org, year=2025, as_of=as_of)
            summary = cadence_summary(user=admin, organization=org, year=2025, as_of=as_of)
            for kind in CADENCE_KINDS:
                rows = [row for row in report if row.kind == kind]
                figures = summary.figures[kind]
                assert figures.total == len(rows), (org, kind)
                assert figures.compliant == sum(1 for row in rows if row.compliant), (org, kind, as_of)
                missing = list(summary.organizations(kind, missing_only=True))
                assert missing == [row.organization for row in rows if not row.compliant]
                shown = {item.activity_type for row in rows for item in row.items}
                exempt = {t for row in rows for t in row.exempt}
                assert set(figures.shown) == shown | exempt


def test_summary_rows_are_the_reports_rows(tree: Any, admin: Any, city: dict[str, Any]) -> None:
    as_of = date(2025, 8, 15)
    report = cadence_report(user=admin, organization=tree.district_a, year=2025, as_of=as_of)
    summary = cadence_summary(user=admin, organization=tree.district_a, year=2025, as_of=as_of)
    organizations = [o for kind in CADENCE_KINDS for o in summary.organizations(kind)]
    rows = sorted(
        cadence_rows(user=admin, summary=summary, organizations=organizations),
        key=lambda r: r.organization.path,
    )
    assert [(r.organization, r.items, r.notes) for r in rows] == [
        (r.organization, r.items, r.notes) for r in report
    ]
    assert summary.figures["branch"].compliant == sum(
        1 for row in report if row.compliant and row.kind == "branch"
    )


def test_cadence_page_pages_through_branches_with_fixed_queries(
    client: Any, tree: Any, admin: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(55):
        branch = make_org(tree.district_a, f"甲{i:02d}支部")
        if i % 2:
            record(branch, "theme_day", start=at(1, year=2024))
    client.force_login(admin)
    url = reverse("study:cadence")
    # session, user, grants, the organisation, the rules, the figures, the page of branches, their
    # and the organisation's own counts, the branches' committees, session save (PostgreSQL: one
    # more, JIT off for the figures)
    with django_assert_max_num_queries(12 + JIT_OFF):
        html = client.get(url, {"organization": tree.district_a.pk, "year": 2024}).content.decode()
    assert "共 56 个党支部，0 个按要求开展" in html and "第 1 / 2 页" in html
    second = client.get(url, {"organization": tree.district_a.pk, "year": 2024, "page": 2}).content.decode()
    # 6 branches without a committee, five required types each (主题党日, 党员大会, 党课,
    # 组织生活会, 民主评议)
    assert second.count("缺：") == 6 * 5


def test_cadence_page_lists_only_branches_with_gaps_when_asked(tree: Any, admin: Any, client: Any) -> None:
    for month in range(1, 13):
        record(tree.branch_a, "theme_day", start=at(month, year=2024))
    for quarter in range(1, 5):
        record(tree.branch_a, "branch_assembly", start=at(quarter * 3, year=2024))
        record(tree.branch_a, "party_lecture", start=at(quarter * 3, year=2024))
    record(tree.branch_a, "org_life_meeting", start=at(11, year=2024))
    record(tree.branch_a, "democratic_evaluation", start=at(11, day=20, year=2024))
    make_org(tree.district_a, "甲二支部")
    client.force_login(admin)
    html = client.get(
        reverse("study:cadence"), {"organization": tree.district_a.pk, "year": 2024, "missing": "1"}
    ).content.decode()
    table = html.split("<tbody>")[1]
    assert "共 2 个党支部，1 个按要求开展" in html and "甲二支部" in table and "甲一支部" not in table


# --- the plan coverage --------------------------------------------------------------------------


def issue(org: Any) -> Any:
    return study_plan_issue(
        actor=None,
        data={
            "organization": org,
            "title": "2025年学习计划",
            "year": 2025,
            "topics": [{"title": "学习党章"}, {"title": "学习条例"}],
        },
    )


@pytest.fixture
def plan(tree: Any) -> Any:
    branch_a2 = make_org(tree.district_a, "甲二支部")
    plan = issue(tree.root)
    first, second = plan.topics.all()
    record(tree.group_a, "group_meeting", required_topic=first)  # counts for 甲一支部
    record(tree.branch_a, required_topic=second)
    record(tree.branch_a, required_topic=second)
    record(branch_a2, required_topic=second)
    record(tree.branch_b, required_topic=first)  # outside 甲区委
    record(tree.district_a, "central_group_study", required_topic=first)  # not a branch
    return plan


def test_plan_summary_counts_what_the_coverage_lists(tree: Any, admin: Any, plan: Any) -> None:
    for user in (admin, make_user(role="org_admin", org=tree.root)):
        coverage = plan_coverage(plan, user)
        summary = plan_coverage_summary(plan, user)
        assert summary.branch_count == len(coverage.branches)
        assert [(t.topic, t.covered) for t in summary.topics] == [
            (t.topic, len(t.covered)) for t in coverage.topics
        ]
        complete = [b for b in coverage.branches if all(b in t.covered for t in coverage.topics)]
        assert summary.complete_count == len(complete)
        incomplete = [b for b in coverage.branches if b not in complete]
        assert list(plan_branches(user=user, summary=summary, incomplete_only=True)) == incomplete


def test_plan_page_marks_each_branch_and_filters_the_incomplete(
    client: Any, tree: Any, admin: Any, plan: Any
) -> None:
    client.force_login(admin)
    url = reverse("study:plan_detail", args=[plan.pk])
    html = client.get(url).content.decode()
    assert html.count("1 / 2 个支部已学") == 1 and html.count("2 / 2 个支部已学") == 1
    rows = html.split("<tbody>")[1]
    assert rows.index("甲一支部") < rows.index("甲二支部") and rows.count("✓") == 3
    incomplete = client.get(url, {"missing": "1"}).content.decode().split("<tbody>")[1]
    assert "甲二支部" in incomplete and "甲一支部" not in incomplete


def test_plan_page_runs_a_fixed_number_of_queries(
    client: Any, tree: Any, admin: Any, plan: Any, django_assert_max_num_queries: Any
) -> None:
    first = plan.topics.first()
    for i in range(55):
        record(make_org(tree.district_a, f"甲{i:02d}支部"), required_topic=first)
    client.force_login(admin)
    # session, user, grants, the plan, its topics, the branch count, the coverage figures, the
    # page of branches, their marks, session save
    with django_assert_max_num_queries(12):
        html = client.get(reverse("study:plan_detail", args=[plan.pk])).content.decode()
    assert "56 / 57 个支部已学" in html and "第 1 / 2 页" in html


# --- list pages ---------------------------------------------------------------------------------


def test_base_list_counts_its_bases_without_joining_the_activities(
    client: Any, tree: Any, admin: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partyedu.study.services import education_base_create

    base = education_base_create(
        actor=admin, data={"organization": tree.branch_a, "name": "革命纪念馆", "base_type": "红色教育基地"}
    )
    record(tree.branch_a, "site_visit", education_base=base)
    record(tree.branch_a, "site_visit", education_base=base)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(reverse("study:base_list")).content.decode()
    assert "参观学习 2 次" in html
    (count,) = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert "study_activity" not in count and "LIMIT" in count


def test_activity_list_runs_a_fixed_number_of_queries(
    client: Any, tree: Any, admin: Any, django_assert_max_num_queries: Any
) -> None:
    for day in range(1, 29):
        record(tree.branch_a, "theme_day", start=at(2, day=day))
        record(tree.group_a, "group_meeting", start=at(3, day=day))
    client.force_login(admin)
    # session, user, grants, the bounded count, the page, its attendance counts, session save
    with django_assert_max_num_queries(10):
        html = client.get(reverse("study:activity_list")).content.decode()
    assert "共 56 次活动" in html and "第 1 / 2 页" in html
