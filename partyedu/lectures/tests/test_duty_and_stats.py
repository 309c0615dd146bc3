"""Leaders' duty to lecture and the statistics of a subtree, against hand-computed numbers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.lectures.selectors import lecture_duty, lecture_duty_counts, lecture_duty_summary, lecture_stats
from partyedu.lectures.services import lecture_duty_export, lecture_rate, lecture_stats_export
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import at, lecture, lecturer, link, mark, party_lecture

pytestmark = pytest.mark.django_db


@pytest.fixture
def duty(tree, members):
    """甲一支部: 张三 (secretary) lectured twice in 2025 — once at home, once in 乙一支部 (cross) —
    and once in 2024; 钱领导 (leading cadre) has not lectured; 孙书记 (secretary, exempt) has not.
    乙一支部: 赵六 (secretary) lectured once in 2025."""
    qian = make_member(tree.branch_a, "钱领导", categories=["leader"])
    sun = make_member(
        tree.branch_a, "孙书记", categories=["secretary"], is_exempt=True, exempt_reason="年老体弱"
    )
    zhang = lecturer(tree.district_a, members["zhang"])
    zhao = lecturer(tree.district_b, members["zhao"])
    lecture(party_lecture(tree.branch_a, at(3)), zhang)
    lecture(party_lecture(tree.branch_b, at(6)), zhang)
    lecture(party_lecture(tree.branch_a, at(6, year=2024)), zhang)
    lecture(party_lecture(tree.branch_b, at(9)), zhao)
    return {"qian": qian, "sun": sun}


def test_duty_lists_secretaries_and_leaders_with_their_lectures_of_the_year(tree, admin, members, duty):
    duty_list: Any = lecture_duty(user=admin, organization=tree.district_a, year=2025)
    rows = [(m.name, m.lecture_count, m.cross_count, m.is_exempt) for m in duty_list]
    assert sorted(rows) == sorted([("张三", 2, 1, False), ("钱领导", 0, 0, False), ("孙书记", 0, 0, True)])


def test_duty_filters_those_who_have_and_have_not_lectured(tree, admin, duty):
    done = lecture_duty(user=admin, organization=tree.district_a, year=2025, lectured=True)
    not_yet = lecture_duty(user=admin, organization=tree.district_a, year=2025, lectured=False)
    assert [m.name for m in done] == ["张三"]
    assert sorted(m.name for m in not_yet) == sorted(["钱领导", "孙书记"])


def test_duty_summary_reports_the_exempt_apart(tree, admin, duty):
    summary = lecture_duty_summary(user=admin, organization=tree.district_a, year=2025)
    assert (summary.total, summary.lectured, summary.exempt, summary.not_lectured) == (3, 1, 1, 1)


def test_duty_of_another_year_counts_that_years_lectures(tree, admin, duty):
    duty_list: Any = lecture_duty(user=admin, organization=tree.district_a, year=2024)
    rows = {m.name: m.lecture_count for m in duty_list}
    assert rows == {"张三": 1, "钱领导": 0, "孙书记": 0}


def test_the_counts_set_on_a_page_equal_the_annotated_counts(tree, admin, duty):
    annotated: Any = lecture_duty(user=admin, organization=tree.district_a, year=2025)
    page: list[Any] = list(
        lecture_duty(user=admin, organization=tree.district_a, year=2025, with_counts=False)
    )
    lecture_duty_counts(user=admin, members=page, year=2025)
    assert [(m.pk, m.lecture_count, m.cross_count) for m in page] == [
        (m.pk, m.lecture_count, m.cross_count) for m in annotated
    ]


def test_duty_stays_within_scope(tree, admin, duty):
    assert not lecture_duty(user=admin, organization=tree.root, year=2025).filter(name="赵六").exists()
    root_admin = make_user(role="org_admin", org=tree.root)
    assert lecture_duty(user=root_admin, organization=tree.root, year=2025).count() == 4


def test_duty_export_lists_every_row_and_is_audited(tree, admin, duty):
    content = lecture_duty_export(actor=admin, organization=tree.district_a, year=2025)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "所在党组织", "类别", "本年讲党课次数", "其中交叉讲党课", "情况")
    assert sorted(rows[1:]) == sorted(
        [
            ("张三", "甲一支部", "基层党组织书记", 2, 1, "已讲党课"),
            ("钱领导", "甲一支部", "领导干部", 0, 0, "尚未讲党课"),
            ("孙书记", "甲一支部", "基层党组织书记", 0, 0, "免于要求"),
        ]
    )
    assert AuditLog.objects.filter(action="export", message="导出书记讲党课情况3人").exists()


# --- statistics ----------------------------------------------------------------------------------


@pytest.fixture
def stats_data(tree, members):
    """In 2025, under 甲区委: 甲一支部 3 lectures (a 乡味 one by 张三 and a guest together; a
    standard one by 李四; a 微党课 in its party group by the guest), 甲区委 itself 1 (by 赵六, cross);
    乙一支部 1 (by 张三, cross, outside 甲区委). Ratings: 5 and 3 on the first, 4 on 甲区委's."""
    office = make_org(tree.district_a, "甲区委机关支部")
    raters = [make_member(tree.branch_a, f"评价人{i}") for i in range(2)]
    office_rater = make_member(office, "机关党员")
    zhang = lecturer(tree.district_a, members["zhang"])
    guest = lecturer(tree.root, name="党校教师", category="party_school")
    li = lecturer(tree.branch_a, members["li"])
    zhao = lecturer(tree.district_b, members["zhao"])
    first = lecture(party_lecture(tree.branch_a, at(3)), zhang, guest, lecture_type="rural")
    lecture(party_lecture(tree.branch_a, at(4)), li)
    lecture(party_lecture(tree.group_a, at(5)), guest, lecture_type="micro")
    district = lecture(party_lecture(tree.district_a, at(6)), zhao)
    lecture(party_lecture(tree.branch_b, at(7)), zhang)
    lecture(party_lecture(tree.branch_a, at(7, year=2024)), li)
    for rater, score in zip(raters, [5, 3], strict=True):
        mark(first.activity, rater)
        lecture_rate(actor=link(rater), lecture=first, score=score)
    mark(district.activity, office_rater)
    lecture_rate(actor=link(office_rater), lecture=district, score=4)
    return {"office": office}


def test_stats_of_a_district_against_hand_computed_values(tree, admin, stats_data):
    stats = lecture_stats(user=admin, organization=tree.district_a, year=2025)
    assert stats is not None
    assert (stats.lectures, stats.cross_lectures) == (4, 1)
    assert {r.code: r.count for r in stats.by_type if r.count} == {"rural": 1, "standard": 2, "micro": 1}
    assert {r.code: r.count for r in stats.by_category if r.count} == {
        "secretary": 2,  # 张三's and 赵六's
        "party_school": 2,
        "member": 1,
    }
    assert (stats.ratings, stats.rating_average) == (3, 4.0)
    assert (stats.duty.total, stats.duty.lectured) == (1, 1)  # 张三 (赵六 is not of 甲区委)
    rows = {
        (r.organization.name, r.own_level): (r.lectures, r.cross_lectures, r.ratings, r.rating_average)
        for r in stats.rows
    }
    assert rows == {
        ("甲区委", True): (1, 1, 1, 4.0),
        ("甲一支部", False): (3, 0, 2, 4.0),
        ("甲区委机关支部", False): (0, 0, 0, None),
    }


def test_stats_outside_scope_are_none(tree, admin, stats_data):
    assert lecture_stats(user=admin, organization=tree.district_b, year=2025) is None
    assert lecture_stats(user=admin, organization=tree.root, year=2025) is None


def test_stats_export_has_the_summary_and_the_rows(tree, admin, stats_data):
    content = lecture_stats_export(actor=admin, organization=tree.district_a, year=2025)
    book = load_workbook(io.BytesIO(content))
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert (summary["党课次数"], summary["交叉讲党课次数"], summary["评价人次"], summary["平均评分"]) == (
        4,
        1,
        3,
        4,
    )
    below = list(book["下级组织"].iter_rows(min_row=2, values_only=True))
    assert ("甲区委（本级）", 1, 1, 1, 4) in below
    assert AuditLog.objects.filter(action="export", message="导出党课统计").exists()


def test_exports_outside_scope_are_refused(tree, secretary, stats_data):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        lecture_stats_export(actor=secretary, organization=tree.district_a, year=2025)
    with pytest.raises(PermissionDenied):
        lecture_duty_export(
            actor=make_user(role="member", org=tree.branch_a), organization=tree.branch_a, year=2025
        )
