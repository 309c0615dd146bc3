"""Competition figures in the lectures app: a lecturer's record lists the awards of the member
they are, and the statistics of a subtree and year count competition entries, reviews done and
awards per organisation — against a hand-built case, with pinned query counts."""

from __future__ import annotations

import io
import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.competitions.models import Award, Certificate, Competition, Entry, Review, RoundEntry
from partyedu.competitions.services import competition_create, entry_create, entry_withdraw, round_create
from partyedu.lectures.selectors import _lecturer_awards, lecture_stats, lecturer_record
from partyedu.lectures.services import lecture_stats_export
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import lecturer

pytestmark = pytest.mark.django_db
RUBRIC = [{"name": "内容", "weight": 60}, {"name": "效果", "weight": 40}]
_codes = itertools.count(1)


def a_competition(org: Any, title: str, year: int = 2026) -> Competition:
    competition = competition_create(
        actor=None, data={"title": title, "organization": org, "criteria": RUBRIC, "year": year}
    )
    round_create(actor=None, competition=competition, data={"name": "评审", "reviews_per_entry": 3})
    return competition


def an_entry(competition: Competition, org: Any, lecturer_member: Any, title: str) -> Entry:
    return entry_create(
        actor=None,
        competition=competition,
        data={"title": title, "lecturer": lecturer_member, "organization": org},
    )


def reviews(entry: Entry, submitted: int, pending: int = 0) -> None:
    """``submitted`` submitted reviews and ``pending`` unsubmitted ones of the entry's round."""
    round_entry = RoundEntry.objects.get(entry=entry)
    for i in range(submitted + pending):
        Review.objects.create(
            round_entry=round_entry,
            reviewer=make_user(),
            total=Decimal("80") if i < submitted else None,
            submitted_at=timezone.now() if i < submitted else None,
        )


def award(
    competition: Competition,
    kind: str,
    *,
    entry: Entry | None = None,
    org: Any = None,
    on: date = date(2026, 6, 1),
    revoked: bool = False,
) -> Award:
    made = Award.objects.create(
        competition=competition,
        kind=kind,
        entry=entry,
        organization=org if org is not None else entry.organization if entry else None,
        recipient=entry.title if entry else org.name,
        awarded_on=on,
    )
    Certificate.objects.create(
        award=made,
        code=f"{competition.year}TEST{next(_codes):06d}",
        issued_at=timezone.now(),
        revoked_at=timezone.now() if revoked else None,
        revoked_reason="材料失实" if revoked else "",
    )
    return made


# --- a lecturer's record -------------------------------------------------------------------------


@pytest.fixture
def record_case(tree, members):
    """张三 (甲一支部) won 优秀党课 and 优秀主讲人 with one entry of the city's 2026 competition and
    优秀党课 of 甲区委's 2025 one; a third award of his was revoked. 李四's award and the
    organisation award are not his."""
    city = a_competition(tree.root, "2026年全市优秀党课评选")
    district = a_competition(tree.district_a, "2025年甲区微党课大赛", year=2025)
    mine = an_entry(city, tree.branch_a, members["zhang"], "红色家风代代传")
    old = an_entry(district, tree.branch_a, members["zhang"], "支部里的初心")
    revoked = an_entry(city, tree.branch_a, members["zhang"], "被撤销的党课")
    other = an_entry(city, tree.branch_a, members["li"], "李四的党课")
    lecture_award = award(city, "lecture", entry=mine)
    lecturer_award = award(city, "lecturer", entry=mine)
    old_award = award(district, "lecture", entry=old, on=date(2025, 12, 1))
    award(city, "lecture", entry=revoked, revoked=True)
    award(city, "lecture", entry=other)
    award(city, "organization", org=tree.district_a)
    return {
        "lecture": lecture_award,
        "lecturer": lecturer_award,
        "old": old_award,
    }


def test_the_record_lists_the_members_awards_newest_first(tree, admin, members, record_case):
    entry = lecturer(tree.district_a, members["zhang"])
    record = lecturer_record(user=admin, lecturer=entry)
    rows = [(a.competition, a.label, a.entry_title, a.awarded_on, a.certificate_code) for a in record.awards]
    assert rows == [
        (
            "2026年全市优秀党课评选",
            "优秀党课",
            "红色家风代代传",
            date(2026, 6, 1),
            record_case["lecture"].certificate.code,
        ),
        (
            "2026年全市优秀党课评选",
            "优秀主讲人",
            "红色家风代代传",
            date(2026, 6, 1),
            record_case["lecturer"].certificate.code,
        ),
        (
            "2025年甲区微党课大赛",
            "优秀党课",
            "支部里的初心",
            date(2025, 12, 1),
            record_case["old"].certificate.code,
        ),
    ]
    assert [a.year for a in record.awards] == [2026, 2026, 2025]


def test_every_pool_entry_of_the_member_shows_the_same_awards(tree, members, record_case):
    in_district = lecturer(tree.district_a, members["zhang"])
    in_city = lecturer(tree.root, members["zhang"])
    assert _lecturer_awards(in_district) == _lecturer_awards(in_city)
    assert len(_lecturer_awards(in_city)) == 3


def test_an_outside_lecturer_has_no_awards_and_costs_no_query(tree, record_case, django_assert_num_queries):
    guest = lecturer(tree.district_a, name="党校教师", category="party_school")
    with django_assert_num_queries(0):
        assert _lecturer_awards(guest) == []


def test_the_awards_are_read_in_one_query(tree, members, record_case, django_assert_num_queries):
    entry = lecturer(tree.district_a, members["zhang"])
    with django_assert_num_queries(1):
        assert len(_lecturer_awards(entry)) == 3


def test_the_lecturer_page_shows_the_awards_with_their_certificate_codes(
    client, tree, admin, members, record_case
):
    entry = lecturer(tree.district_a, members["zhang"])
    client.force_login(admin)
    html = client.get(reverse("lectures:lecturer_detail", args=[entry.pk])).content.decode()
    assert "评选获奖（3）" in html
    code = record_case["lecture"].certificate.code
    assert code in html and reverse("verify:certificate", args=[code]) in html
    for text in (
        "2026年全市优秀党课评选",
        "2025年甲区微党课大赛",
        "优秀主讲人",
        "2026-06-01",
        "红色家风代代传",
    ):
        assert text in html
    assert "被撤销的党课" not in html and "李四的党课" not in html


def test_a_lecturer_without_awards_has_no_awards_card(client, tree, admin, members):
    entry = lecturer(tree.district_a, members["li"])
    client.force_login(admin)
    html = client.get(reverse("lectures:lecturer_detail", args=[entry.pk])).content.decode()
    assert "评选获奖" not in html


# --- statistics ----------------------------------------------------------------------------------


@pytest.fixture
def contests(tree, members):
    """2026, under 甲区委 (hand-counted):

    - the city's competition: 甲一支部 entry E1 (3 reviews, 2 submitted; 优秀党课 and 优秀主讲人),
      its party group's entry E2 (2 submitted; 优秀党课), 甲区委's own entry E3 (of a member of
      机关支部, recommended by 甲区委 itself; 1 submitted;
      优秀党课 revoked), 甲区委机关支部's entry E4 (withdrawn), 乙一支部's E5 (2 submitted;
      优秀党课 — outside 甲区委); 优秀组织单位: 甲区委 and 乙区委;
    - 甲区委's competition: 机关支部's entry E6 (1 submitted, 1 pending);
    - 甲区委's 2025 competition: 甲一支部's E7 (1 submitted; 优秀党课) — another year.

    So for 甲区委 2026: 甲区委 itself 1 entry, 1 review, 1 优秀组织单位; 甲一支部 2 entries, 4
    reviews, 2 优秀党课, 1 优秀主讲人; 机关支部 1 entry, 1 review."""
    office = make_org(tree.district_a, "甲区委机关支部")
    district_member = make_member(office, "区委推荐党员")
    office_member = make_member(office, "机关党员")
    city = a_competition(tree.root, "2026年全市优秀党课评选")
    local = a_competition(tree.district_a, "2026年甲区党课比赛")
    earlier = a_competition(tree.district_a, "2025年甲区党课比赛", year=2025)
    e1 = an_entry(city, tree.branch_a, members["zhang"], "E1")
    e2 = an_entry(city, tree.group_a, members["wang"], "E2")
    e3 = an_entry(city, tree.district_a, district_member, "E3")
    e4 = an_entry(city, office, office_member, "E4")
    e5 = an_entry(city, tree.branch_b, members["zhao"], "E5")
    e6 = an_entry(local, office, office_member, "E6")
    e7 = an_entry(earlier, tree.branch_a, members["li"], "E7")
    entry_withdraw(actor=None, entry=e4)
    reviews(e1, 2, pending=1)
    reviews(e2, 2)
    reviews(e3, 1)
    reviews(e5, 2)
    reviews(e6, 1, pending=1)
    reviews(e7, 1)
    award(city, "lecture", entry=e1)
    award(city, "lecturer", entry=e1)
    award(city, "lecture", entry=e2)
    award(city, "lecture", entry=e3, revoked=True)
    award(city, "lecture", entry=e5)
    award(city, "organization", org=tree.district_a)
    award(city, "organization", org=tree.district_b)
    award(earlier, "lecture", entry=e7, on=date(2025, 12, 1))
    return {"office": office}


def figures(row: Any) -> tuple[int, ...]:
    return (
        row.entries,
        row.reviews,
        row.lecture_awards,
        row.lecturer_awards,
        row.organization_awards,
    )


def test_competition_figures_of_a_district_against_hand_counted_values(tree, admin, contests):
    stats = lecture_stats(user=admin, organization=tree.district_a, year=2026)
    assert stats is not None
    rows = {(r.organization.name, r.own_level): figures(r) for r in stats.rows}
    assert rows == {
        ("甲区委", True): (1, 1, 0, 0, 1),
        ("甲一支部", False): (2, 4, 2, 1, 0),
        ("甲区委机关支部", False): (1, 1, 0, 0, 0),
    }
    summary = stats.competitions
    assert (summary.entries, summary.reviews) == (4, 6)
    assert {r.code: r.count for r in summary.awards} == {"lecture": 2, "lecturer": 1, "organization": 1}
    assert summary.award_total == 4
    assert stats.lectures == 0  # no lectures were recorded: the rows come from the competitions


def test_competition_figures_of_the_city_roll_up_to_the_districts(tree, contests):
    city_admin = make_user("city_admin", role="org_admin", org=tree.root)
    stats = lecture_stats(user=city_admin, organization=tree.root, year=2026)
    assert stats is not None
    rows = {(r.organization.name, r.own_level): figures(r) for r in stats.rows}
    assert rows == {
        ("甲区委", False): (4, 6, 2, 1, 1),
        ("乙区委", False): (1, 2, 1, 0, 1),
    }
    assert (stats.competitions.entries, stats.competitions.reviews) == (5, 8)


def test_competition_figures_follow_the_year(tree, admin, contests):
    stats = lecture_stats(user=admin, organization=tree.district_a, year=2025)
    assert stats is not None
    rows = {r.organization.name: figures(r) for r in stats.rows}
    assert rows["甲一支部"] == (1, 1, 1, 0, 0)
    assert (stats.competitions.entries, stats.competitions.reviews) == (1, 1)


def test_a_branch_sees_its_own_figures_and_no_award_of_the_level_above(tree, contests):
    secretary = make_user("sec_a", role="branch_admin", org=tree.branch_a)
    stats = lecture_stats(user=secretary, organization=tree.branch_a, year=2026)
    assert stats is not None
    rows = {(r.organization.name, r.own_level): figures(r) for r in stats.rows}
    # E1 was recommended by the branch itself, E2 by its party group; 优秀组织单位 went to 甲区委.
    assert rows == {("甲一支部", True): (1, 2, 1, 1, 0), ("甲一第一党小组", False): (1, 2, 1, 0, 0)}


def test_the_statistics_page_shows_the_competition_figures(client, tree, admin, contests):
    client.force_login(admin)
    url = f"{reverse('lectures:stats')}?organization={tree.district_a.pk}&year=2026"
    html = client.get(url).content.decode()
    assert 'data-testid="entries">4<' in html
    assert 'data-testid="reviews">6<' in html
    assert 'data-testid="awards-lecture">2<' in html
    assert 'data-testid="awards-lecturer">1<' in html
    assert 'data-testid="awards-organization">1<' in html
    assert "党课评选" in html and "甲区委机关支部" in html


def test_the_statistics_export_has_the_competition_sheet(tree, admin, contests):
    book = load_workbook(
        io.BytesIO(lecture_stats_export(actor=admin, organization=tree.district_a, year=2026))
    )
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert (summary["评选参赛作品"], summary["评选完成评审"]) == (4, 6)
    assert (summary["获优秀党课"], summary["获优秀主讲人"], summary["获优秀组织单位"]) == (2, 1, 1)
    sheet = book["党课评选"]
    assert next(sheet.iter_rows(max_row=1, values_only=True)) == (
        "组织",
        "参赛作品",
        "完成评审",
        "优秀党课",
        "优秀主讲人",
        "优秀组织单位",
    )
    assert set(sheet.iter_rows(min_row=2, values_only=True)) == {
        ("甲区委（本级）", 1, 1, 0, 0, 1),
        ("甲一支部", 2, 4, 2, 1, 0),
        ("甲区委机关支部", 1, 1, 0, 0, 0),
    }


def test_the_statistics_page_queries_do_not_grow_with_entries(
    client, tree, admin, members, contests, django_assert_max_num_queries
):
    city = Competition.objects.get(title="2026年全市优秀党课评选")
    for i in range(15):
        extra = an_entry(city, tree.group_a, make_member(tree.group_a, f"参赛党员{i}"), f"加赛{i}")
        reviews(extra, 2)
        award(city, "lecture", entry=extra)
    client.force_login(admin)
    url = f"{reverse('lectures:stats')}?organization={tree.district_a.pk}&year=2026"
    client.get(url)  # warm the session
    # session, user, grants, picked organisation, children, summary figures, entries and
    # reviews, awards, session save (up to 3)
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert 'data-testid="entries">19<' in response.content.decode()
    assert 'data-testid="reviews">36<' in response.content.decode()
    assert 'data-testid="awards-lecture">17<' in response.content.decode()


def test_the_statistics_figures_are_two_queries(tree, admin, contests, django_assert_num_queries):
    from partyedu.lectures.selectors import _competition_prefix_counts
    from partyedu.organizations.models import SEGMENT_WIDTH

    width = len(tree.district_a.path) + SEGMENT_WIDTH
    with django_assert_num_queries(2):
        _competition_prefix_counts(None, tree.district_a, 2026, width)
