"""Rule 8.1: awards by grade (一等奖/二等奖/三等奖, or 精品/优秀, chosen per competition) and per
award category (精品微党课, 优秀辅导性质专题党课), each category ranking its own entries; existing
awards keep their meaning (the default grade set, 优秀党课)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from partyedu.competitions.choices import AwardKind, GradeSet
from partyedu.competitions.models import Award, AwardCategory, RoundEntry
from partyedu.competitions.selectors import award_suggestion
from partyedu.competitions.services import (
    award_plan_set,
    award_title,
    awards_grant,
    round_close,
)
from partyedu.core.audit import AuditLog
from partyedu.testsupport.factories import make_org

from .conftest import Setup, make_competition, make_entry, make_round, panel, put_review, reviewer

pytestmark = pytest.mark.django_db

CATEGORIES = ["微党课", "辅导性质专题党课"]


@pytest.fixture
def graded(tree: Any) -> Setup:
    """A city competition with the grades 精品/优秀 and two entry categories, one round."""
    from partyedu.testsupport.factories import make_user

    competition = make_competition(tree.root, categories=CATEGORIES, grade_set=GradeSet.QUALITY)
    round_ = make_round(competition, "市级评审", reviews_per_entry=1)
    admin = make_user("organiser", role="org_admin", org=tree.root)
    return Setup(tree, competition, round_, admin)


def _category(setup: Setup, name: str) -> int:
    return setup.competition.categories.get(name=name).pk


def _scored(setup: Setup, rows: list[tuple[str, str, Any, int]]) -> dict[str, Any]:
    """Entries (title, category name, recommending organisation, total) scored by one judge at a
    city unit, the final round closed. Returns the entries by title."""
    judge = reviewer(make_org(setup.tree.root, "市委党校", "committee", "organ"))
    panel(setup.round, [judge])
    made = {}
    for title, category, org, total in rows:
        entry = make_entry(setup.competition, org, title)
        entry.category_id = _category(setup, category)
        entry.save(update_fields=["category"])
        put_review(RoundEntry.objects.get(entry=entry, round=setup.round), judge, total)
        made[title] = entry
    round_close(actor=setup.admin, round_=setup.round)
    return made


def _plan(setup: Setup, categories: list[dict[str, Any]], grade_set: str = GradeSet.QUALITY) -> None:
    award_plan_set(
        actor=setup.admin, competition=setup.competition, grade_set=grade_set, categories=categories
    )


def test_award_title_puts_a_prize_after_and_a_quality_before_the_category():
    """DOMAIN_RULES rule 8 (评选): 精品微党课, 优秀辅导性质专题党课 and 精品党课三等奖 — seed 001."""
    assert award_title("精品", "微党课") == "精品微党课"
    assert award_title("优秀", "辅导性质专题党课") == "优秀辅导性质专题党课"
    assert award_title("三等奖", "精品党课") == "精品党课三等奖"


def test_grades_and_categories_name_awards_within_each_category(graded):
    """DOMAIN_RULES rule 8 (评选): 精品辅导性质专题党课2部、精品微党课1部、优秀辅导性质专题党课1部 — each
    category ranks its own entries, not a cut of the overall rank — seed 001 (昆明)."""
    t = graded.tree
    _scored(
        graded,
        [
            ("辅导一", "辅导性质专题党课", t.branch_a, 95),
            ("辅导二", "辅导性质专题党课", t.branch_b, 93),
            ("辅导三", "辅导性质专题党课", t.branch_a, 91),
            ("辅导四", "辅导性质专题党课", t.branch_b, 60),
            ("微课一", "微党课", t.branch_a, 70),  # 5th overall, first of the 微党课
            ("微课二", "微党课", t.branch_b, 65),
        ],
    )
    _plan(
        graded,
        [
            {
                "name": "辅导性质专题党课",
                "entry_category": "辅导性质专题党课",
                "counts": {"精品": 2, "优秀": 1},
            },
            {"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1}},
        ],
    )
    awards = awards_grant(actor=graded.admin, competition=graded.competition, data={})
    named = {(a.title, a.recipient.split("》")[0].lstrip("《")) for a in awards}
    assert named == {
        ("精品辅导性质专题党课", "辅导一"),
        ("精品辅导性质专题党课", "辅导二"),
        ("优秀辅导性质专题党课", "辅导三"),
        ("精品微党课", "微课一"),
    }
    assert all(a.kind == AwardKind.LECTURE for a in awards)


def test_ranked_grades_fill_cumulative_cut_offs_with_ties_included(graded):
    """DOMAIN_RULES rule 8 (评选): 一等奖/二等奖/三等奖 by number per grade; entries tied at a cut-off all
    receive that grade, as tied entries all advance — seed 001 (云南 精品党课三等奖)."""
    t = graded.tree
    _scored(
        graded,
        [
            ("甲", "微党课", t.branch_a, 95),
            ("乙", "微党课", t.branch_a, 90),
            ("丙", "微党课", t.branch_b, 90),
            ("丁", "微党课", t.branch_b, 80),
            ("戊", "微党课", t.branch_b, 70),
        ],
    )
    _plan(
        graded,
        [{"name": "微党课", "counts": {"一等奖": 1, "二等奖": 1, "三等奖": 1}}],
        grade_set=GradeSet.RANKED,
    )
    awards = awards_grant(actor=graded.admin, competition=graded.competition, data={})
    by_title = {a.recipient.split("》")[0].lstrip("《"): (a.title, a.rank) for a in awards}
    assert by_title == {
        "甲": ("微党课一等奖", 1),
        "乙": ("微党课二等奖", 2),
        "丙": ("微党课二等奖", 2),
    }


def test_an_entry_is_named_in_the_first_category_only(graded):
    """DOMAIN_RULES rule 8 (评选): overlapping categories do not name one lecture twice — seed 001."""
    t = graded.tree
    _scored(graded, [("甲", "微党课", t.branch_a, 95), ("乙", "微党课", t.branch_b, 90)])
    _plan(
        graded,
        [
            {"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1}},
            {"name": "党课", "counts": {"优秀": 1}},
        ],
    )
    awards = awards_grant(actor=graded.admin, competition=graded.competition, data={})
    assert sorted((a.title, a.recipient[:3]) for a in awards) == [
        ("优秀党课", "《乙》"),
        ("精品微党课", "《甲》"),
    ]


def test_a_category_filtered_by_lecture_type_ranks_only_that_type(graded):
    """DOMAIN_RULES rule 8 (评选): a category may take one lecture type (情景党课) — seed 001/002."""
    t = graded.tree
    made = _scored(graded, [("甲", "微党课", t.branch_a, 95), ("乙", "微党课", t.branch_b, 90)])
    lecture = _recorded_lecture(made["乙"].lecturer, "scenario")
    made["乙"].lecture = lecture
    made["乙"].save(update_fields=["lecture"])
    _plan(graded, [{"name": "情景党课", "lecture_type": "scenario", "counts": {"精品": 5}}])
    awards = awards_grant(actor=graded.admin, competition=graded.competition, data={})
    assert [(a.title, a.entry_id) for a in awards] == [("精品情景党课", made["乙"].pk)]


def _recorded_lecture(member: Any, lecture_type: str) -> Any:
    """A lecture of the given type recorded at the member's branch, given by the member."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from partyedu.lectures.models import Lecturer
    from partyedu.lectures.services import lecture_record, lecturer_create
    from partyedu.study.services import activity_record

    org = member.organization
    speaker = Lecturer.objects.filter(organization=org, member=member).first() or lecturer_create(
        actor=None, data={"organization": org, "member": member.pk}
    )
    from django.utils import timezone

    # In the competitions' year (the current one by default).
    start = datetime(timezone.localdate().year, 3, 6, 14, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    activity = activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "party_lecture",
            "topic": f"{lecture_type}党课",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    return lecture_record(
        actor=None,
        activity=activity,
        data={"title": "情景党课", "lecture_type": lecture_type, "lecturers": [speaker.pk]},
    )


def test_the_plan_refuses_a_grade_the_competition_does_not_have(graded):
    """DOMAIN_RULES rule 8 (评选): the organiser chooses the grade set; counts are per grade of it — seed 001."""
    with pytest.raises(ValidationError, match="不是本次评选的等次"):
        _plan(graded, [{"name": "微党课", "counts": {"一等奖": 1}}])


def test_the_plan_needs_a_number_for_some_grade(graded):
    """DOMAIN_RULES rule 8 (评选): an award category names a number per grade — seed 001."""
    with pytest.raises(ValidationError, match="至少设置一个等次的名额"):
        _plan(graded, [{"name": "微党课", "counts": {"精品": 0}}])


def test_custom_grades_are_kept_best_first(graded):
    """DOMAIN_RULES rule 8 (评选): the organiser chooses the grade set (特等奖 … ) — seed 001."""
    award_plan_set(
        actor=graded.admin,
        competition=graded.competition,
        grade_set=GradeSet.CUSTOM,
        grades=["特等奖", "一等奖"],
        categories=[{"name": "微党课", "counts": {"特等奖": 1, "一等奖": 2}}],
    )
    graded.competition.refresh_from_db()
    assert graded.competition.grades == ["特等奖", "一等奖"]
    assert AwardCategory.objects.get(competition=graded.competition).counts == {"特等奖": 1, "一等奖": 2}


def test_the_plan_is_audited(graded):
    """DOMAIN_RULES rule 8 (评选): the award plan is a decision of the organiser, kept in the audit log — seed 002."""
    _plan(graded, [{"name": "微党课", "counts": {"精品": 1}}])
    assert AuditLog.objects.filter(message="设置评奖方案", object_id=str(graded.competition.pk)).exists()


def test_the_plan_cannot_change_once_awards_are_granted(graded):
    """DOMAIN_RULES rule 8 (评选): awards are granted once — seed 002."""
    t = graded.tree
    _scored(graded, [("甲", "微党课", t.branch_a, 95)])
    _plan(graded, [{"name": "微党课", "counts": {"精品": 1}}])
    awards_grant(actor=graded.admin, competition=graded.competition, data={})
    with pytest.raises(ValidationError, match="不能再修改评奖方案"):
        _plan(graded, [{"name": "微党课", "counts": {"精品": 2}}])


def test_lecture_count_is_refused_when_a_plan_exists(graded):
    """DOMAIN_RULES rule 8 (评选): with a plan the numbers are the plan's — seed 001."""
    t = graded.tree
    _scored(graded, [("甲", "微党课", t.branch_a, 95)])
    _plan(graded, [{"name": "微党课", "counts": {"精品": 1}}])
    with pytest.raises(ValidationError, match="评奖方案"):
        awards_grant(actor=graded.admin, competition=graded.competition, data={"lecture_count": 1})


def test_without_a_plan_lecture_count_names_the_default_grade(setup):
    """DOMAIN_RULES rule 8 (评选): a competition without grades keeps today's 优秀党课 (top N, ties
    included) — seed 002 (济南 市级优秀党课35个)."""
    judge = reviewer(make_org(setup.tree.root, "市委党校", "committee", "organ"))
    panel(setup.round, [judge])
    for title, total in (("甲", 90), ("乙", 80), ("丙", 80)):
        entry = make_entry(setup.competition, setup.tree.branch_a, title)
        put_review(RoundEntry.objects.get(entry=entry), judge, total)
    round_close(actor=setup.admin, round_=setup.round)
    awards = awards_grant(actor=setup.admin, competition=setup.competition, data={"lecture_count": 2})
    # 乙 and 丙 tie at the cut-off: both are named.
    ranks = [(a.title, a.grade, a.rank) for a in awards]
    assert ranks == [("优秀党课", "优秀", 1), ("优秀党课", "优秀", 2), ("优秀党课", "优秀", 2)]
    assert AwardCategory.objects.get(competition=setup.competition).counts == {"优秀": 2}


def test_the_suggestion_shows_the_entries_below_the_cut_without_a_grade(graded):
    """DOMAIN_RULES rule 8 (评选): the suggestion ranks entries within each category — seed 001."""
    t = graded.tree
    _scored(graded, [("甲", "微党课", t.branch_a, 95), ("乙", "微党课", t.branch_b, 90)])
    _plan(graded, [{"name": "微党课", "counts": {"精品": 1}}])
    suggestion = award_suggestion(user=graded.admin, competition=graded.competition, action="change")
    (category,) = suggestion.categories
    assert [(r.candidate.title, r.category_rank, r.grade) for r in category.rows] == [
        ("甲", 1, "精品"),
        ("乙", 2, ""),
    ]


def test_existing_awards_map_to_the_default_grade_set(setup):
    """DOMAIN_RULES rule 8 (评选): existing top-N awards keep their meaning: grade 优秀 of an award
    category 党课, printed 优秀党课 — seed 002."""
    judge = reviewer(make_org(setup.tree.root, "市委党校", "committee", "organ"))
    panel(setup.round, [judge])
    entry = make_entry(setup.competition, setup.tree.branch_a, "甲")
    put_review(RoundEntry.objects.get(entry=entry), judge, 90)
    round_close(actor=setup.admin, round_=setup.round)
    awards_grant(
        actor=setup.admin, competition=setup.competition, data={"lecture_count": 1, "lecturer_count": 1}
    )
    # given: awards as they were before grades (no title, grade, category or rank)
    Award.objects.update(title="", grade="", award_category=None, rank=None)
    AwardCategory.objects.all().delete()
    # when: the data migration runs
    migration = importlib.import_module(
        "partyedu.competitions.migrations.0003_award_grades_categories_conflict_rule"
    )
    migration.name_existing_awards(apps, None)
    # then
    lecture = Award.objects.get(kind=AwardKind.LECTURE)
    assert (lecture.title, lecture.grade, lecture.rank, lecture.award_category.name) == (
        "优秀党课",
        "优秀",
        1,
        "党课",
    )
    assert lecture.award_category.counts == {"优秀": 1}
    assert Award.objects.get(kind=AwardKind.LECTURER).title == "优秀主讲人"
    setup.competition.refresh_from_db()
    assert setup.competition.grades == ["优秀"]
