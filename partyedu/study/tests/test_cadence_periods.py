"""Cadence periods (week, month, quarter, half-year, year), the "at least N per period" count, and
how a period stands: ended without enough → 未达标; the period under way → 进行中, never missing.
Each case is checked in the report built row by row and in the SQL summary of the page."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date, datetime
from typing import Any

import pytest
from django.utils import timezone

from partyedu.study import migrations
from partyedu.study.selectors import cadence_report, cadence_summary, period_label
from partyedu.study.services import cadence_rule_set
from partyedu.testsupport.factories import Tree

from .conftest import TZ, at, record

pytestmark = pytest.mark.django_db
END_OF_YEAR = date(2026, 1, 1)


def row_of(user: Any, org: Any, name: str, as_of: date = END_OF_YEAR) -> Any:
    rows = cadence_report(user=user, organization=org, year=2025, as_of=as_of)
    return next(r for r in rows if r.organization.name == name)


def branches_compliant(user: Any, org: Any, as_of: date) -> int:
    return cadence_summary(user=user, organization=org, year=2025, as_of=as_of).figures["branch"].compliant


def test_period_labels_are_chinese() -> None:
    assert [period_label(p, n) for p, n in (("week", 3), ("month", 4), ("quarter", 2))] == [
        "第3周",
        "4月",
        "第2季度",
    ]
    assert [period_label("half_year", 1), period_label("half_year", 2), period_label("year", 1)] == [
        "上半年",
        "下半年",
        "全年",
    ]


@pytest.fixture
def weekly(tree: Tree, admin: Any) -> Any:
    """甲区委's branches hold a 现场教学 every ISO week (a local rule), and 甲一支部 holds everything
    else it must, so the weekly rule alone decides whether it is compliant."""
    cadence_rule_set(
        actor=admin,
        organization=tree.district_a,
        activity_type="site_visit",
        period="week",
        applies_to="branch",
    )
    for kind in (
        "theme_day",
        "branch_assembly",
        "party_lecture",
        "org_life_meeting",
        "democratic_evaluation",
    ):
        cadence_rule_set(
            actor=admin, organization=tree.district_a, activity_type=kind, period="year", min_count=0
        )
    # ISO week 1 of 2025 runs from Monday 30 December 2024 (GB/T 7408).
    record(tree.branch_a, "site_visit", start=datetime(2024, 12, 31, 10, tzinfo=TZ))
    record(tree.branch_a, "site_visit", start=at(1, day=8))
    return tree


def test_a_weekly_rule_counts_iso_weeks(weekly: Tree, admin: Any) -> None:
    """DOMAIN_RULES: cadence is configuration — a weekly rule counts ISO weeks (GB/T 7408)."""
    item = row_of(admin, weekly.district_a, "甲一支部", as_of=date(2025, 1, 20)).item("site_visit")
    assert item.counts[:4] == [1, 1, 0, 0]
    assert item.missing_labels == ["第3周"]
    assert item.pending  # week 4 began on Monday 20 January
    assert [m.status for m in item.periods[:5]] == ["met", "met", "missing", "in_progress", "upcoming"]


def test_the_summary_reads_the_same_weeks(weekly: Tree, admin: Any) -> None:
    """DOMAIN_RULES cadence: the page's SQL figures agree with the report."""
    assert branches_compliant(admin, weekly.district_a, date(2025, 1, 13)) == 1  # weeks 1 and 2 held
    assert branches_compliant(admin, weekly.district_a, date(2025, 1, 20)) == 0  # week 3 was not


def test_a_week_in_local_time(weekly: Tree, admin: Any) -> None:
    """An activity at 01:00 on Monday in China is Sunday in UTC: it counts for Monday's week."""
    record(weekly.branch_a, "site_visit", start=datetime(2025, 1, 13, 1, tzinfo=TZ))
    item = row_of(admin, weekly.district_a, "甲一支部", as_of=date(2025, 1, 20)).item("site_visit")
    assert item.counts[:3] == [1, 1, 1]


def test_a_half_year_rule(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 党课 (branch): local variants such as twice a year."""
    cadence_rule_set(
        actor=admin, organization=tree.district_a, activity_type="party_lecture", period="half_year"
    )
    record(tree.branch_a, "party_lecture", start=at(3))
    item = row_of(admin, tree.district_a, "甲一支部").item("party_lecture")
    assert item.counts == [1, 0]
    assert item.missing_labels == ["下半年"]


def test_at_least_two_a_month(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES: a rule sets "≥ N per period"; fewer than N in an ended period is missing."""
    cadence_rule_set(
        actor=admin, organization=tree.district_a, activity_type="theme_day", period="month", min_count=2
    )
    record(tree.branch_a, "theme_day", start=at(1))
    record(tree.branch_a, "theme_day", start=at(1, day=20))
    record(tree.branch_a, "theme_day", start=at(2))
    item = row_of(admin, tree.district_a, "甲一支部", as_of=date(2025, 3, 1)).item("theme_day")
    assert item.counts[:2] == [2, 1]
    assert item.missing == [2]
    assert [(m.label, m.count, m.met) for m in item.periods[:2]] == [("1月", 2, True), ("2月", 1, False)]


def test_the_period_under_way_is_in_progress_never_missing(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 支部党员大会 1 per quarter: 支部条例 第十一条 — the quarter under way is 进行中."""
    record(tree.branch_a, "branch_assembly", start=at(2))
    item = row_of(admin, tree.district_a, "甲一支部", as_of=date(2025, 5, 15)).item("branch_assembly")
    assert item.missing == []
    assert [(m.label, m.status_label) for m in item.periods] == [
        ("第1季度", "达标"),
        ("第2季度", "进行中"),
        ("第3季度", "未开始"),
        ("第4季度", "未开始"),
    ]


def test_a_period_under_way_already_met_is_met(tree: Tree, admin: Any) -> None:
    record(tree.branch_a, "branch_assembly", start=at(4))
    item = row_of(admin, tree.district_a, "甲一支部", as_of=date(2025, 5, 15)).item("branch_assembly")
    assert item.pending is False
    assert item.periods[1].status == "met"


def test_a_long_list_of_missing_weeks_is_shortened_in_a_cell(weekly: Tree, admin: Any) -> None:
    item = row_of(admin, weekly.district_a, "甲一支部").item("site_visit")
    assert item.missing_text == f"第3周、第4周、第5周、第6周、第7周等{len(item.missing)}周"


def test_the_migration_keeps_the_number_of_activities_a_year() -> None:
    """The old rules in months become periods without asking more a year than before: every 2
    months once → 3 a half-year, every 4 months once → 3 a year."""
    (name,) = [
        m.name
        for m in pkgutil.iter_modules(migrations.__path__)
        if m.name.endswith("_cadence_periods_and_levels")
    ]
    migration = importlib.import_module(f"partyedu.study.migrations.{name}")
    periods_a_year = {"month": 12, "quarter": 4, "half_year": 2, "year": 1}
    for per_months, (period, factor) in migration.PERIODS.items():
        assert periods_a_year[period] * factor == 12 // per_months, per_months


def test_the_report_defaults_to_today(tree: Tree, admin: Any) -> None:
    """The year under way always has a period in progress (全年 at least), never all missing."""
    year = timezone.localdate().year
    rows = cadence_report(user=admin, organization=tree.district_a, year=year)
    row = next(r for r in rows if r.organization == tree.branch_a)
    assert row.item("org_life_meeting").pending
    assert row.item("org_life_meeting").missing == []
