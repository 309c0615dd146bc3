"""The award pages of rule 8: 评奖方案 (grades, award categories, numbers per grade) and 评定奖项
(the suggestion per category, the units with their figures, chosen units with reasons)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.competitions.choices import AwardKind, GradeSet
from partyedu.competitions.models import Award, AwardCategory, RoundEntry
from partyedu.competitions.services import round_close
from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.factories import make_org, make_user

from .conftest import make_competition, make_entry, make_round, panel, put_review, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


def _closed(tree: Any, entries: int = 3) -> Any:
    """A city competition with the categories 微党课 and 辅导性质专题党课, its final round closed:
    entries alternate between 甲一支部 and 乙一支部 and between the categories, best first."""
    competition = make_competition(tree.root, categories=["微党课", "辅导性质专题党课"])
    round_ = make_round(competition, "市级评审", reviews_per_entry=1)
    judge = reviewer(make_org(tree.root, "市委党校", "committee", "organ"))
    panel(round_, [judge])
    categories = list(competition.categories.order_by("id"))
    for i in range(entries):
        entry = make_entry(competition, (tree.branch_a, tree.branch_b)[i % 2], f"作品{i}")
        entry.category = categories[i % 2]
        entry.save(update_fields=["category"])
        put_review(RoundEntry.objects.get(entry=entry), judge, 95 - i)
    round_close(actor=None, round_=round_)
    return competition


def _plan_post(
    competition: Any, grade_set: str, rows: list[dict[str, Any]], shown: list[str]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "grade_set": grade_set,
        "custom_grades": "",
        "shown_grade": shown,
        "plan-TOTAL_FORMS": str(len(rows)),
        "plan-INITIAL_FORMS": "0",
        "plan-MIN_NUM_FORMS": "0",
        "plan-MAX_NUM_FORMS": "10",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"plan-{i}-{key}"] = value
    return data


def test_the_plan_page_saves_grades_and_categories(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): the organiser sets 精品/优秀 and two award categories like
    精品微党课 / 优秀辅导性质专题党课 — seed 001 (昆明)."""
    competition = make_competition(tree.root, categories=["微党课", "辅导性质专题党课"])
    micro, tutorial = competition.categories.order_by("id")
    client.force_login(organiser)
    url = reverse("competitions:award_plan", args=[competition.pk])
    rows = [
        {"name": "微党课", "scope": f"category:{micro.pk}", "count_0": "1", "count_1": "2"},
        {"name": "辅导性质专题党课", "scope": f"category:{tutorial.pk}", "count_0": "2", "count_1": "1"},
    ]
    response = client.post(url, _plan_post(competition, GradeSet.QUALITY, rows, ["精品", "优秀"]))
    assert response.status_code == 302, response.content.decode()[-2000:]
    competition.refresh_from_db()
    assert competition.grades == ["精品", "优秀"]
    saved = [(c.name, c.entry_category_id, c.counts) for c in AwardCategory.objects.order_by("sort_order")]
    assert saved == [
        ("微党课", micro.pk, {"精品": 1, "优秀": 2}),
        ("辅导性质专题党课", tutorial.pk, {"精品": 2, "优秀": 1}),
    ]
    detail = client.get(reverse("competitions:competition_detail", args=[competition.pk])).content.decode()
    assert "精品 1、优秀 2" in detail


def test_refreshing_the_grade_columns_keeps_the_numbers_of_shared_grades(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): switching the grade set redraws the number columns without saving — seed 001."""
    competition = make_competition(tree.root)
    client.force_login(organiser)
    url = reverse("competitions:award_plan", args=[competition.pk])
    rows = [{"name": "党课", "scope": "", "count_0": "3"}]
    data = _plan_post(competition, GradeSet.QUALITY, rows, ["优秀"])
    data["refresh"] = "1"
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.grades == ["精品", "优秀"]
    assert form.rows.forms[0]["count_1"].value() == "3"
    assert not AwardCategory.objects.exists()


def test_a_bad_plan_shows_the_services_message(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): a category without any number is refused with a message — seed 001."""
    competition = make_competition(tree.root)
    client.force_login(organiser)
    url = reverse("competitions:award_plan", args=[competition.pk])
    rows = [{"name": "微党课", "scope": "", "count_0": "0"}]
    response = client.post(url, _plan_post(competition, GradeSet.SINGLE, rows, ["优秀"]))
    assert response.status_code == 200
    assert "请为评奖类别“微党课”至少设置一个等次的名额" in response.content.decode()


def test_the_grant_page_suggests_grades_per_category(client, tree, organiser, django_assert_max_num_queries):
    """DOMAIN_RULES rule 8 (评选): the suggestion ranks entries within each category, with query
    counts that do not grow with the entries — seed 001."""
    competition = _closed(tree, entries=6)
    micro, tutorial = competition.categories.order_by("id")
    for name, category in (("微党课", micro), ("辅导性质专题党课", tutorial)):
        AwardCategory.objects.create(
            competition=competition, name=name, entry_category=category, counts={"优秀": 1}
        )
    client.force_login(organiser)
    url = reverse("competitions:award_grant", args=[competition.pk])
    client.get(url)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    categories = response.context["suggestion"].categories
    assert [[(r.candidate.title, r.grade) for r in c.awarded] for c in categories] == [
        [("作品0", "优秀")],
        [("作品1", "优秀")],
    ]
    body = response.content.decode()
    assert "甲区委" in body and "乙区委" in body


def test_the_grant_page_names_a_chosen_unit_with_its_reason(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): a unit is chosen on the page with a written reason — seed 002."""
    competition = _closed(tree)
    third = make_org(tree.root, "丙区委", "committee", "organ")
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:award_grant", args=[competition.pk]),
        {
            "lecture_count": "1",
            "lecturer_count": "0",
            "organization_count": "0",
            f"unit_{third.pk}": "on",
            f"reason_{third.pk}": "组织发动有力",
            "awarded_on": "2026-07-01",
        },
    )
    assert response.status_code == 302
    unit = Award.objects.get(kind=AwardKind.ORGANIZATION)
    assert (unit.recipient, unit.reason) == ("丙区委", "组织发动有力")


def test_the_grant_page_refuses_a_unit_without_award_or_reason(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): without a reason a unit holding no award is refused — seed 002."""
    competition = _closed(tree)
    third = make_org(tree.root, "丙区委", "committee", "organ")
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:award_grant", args=[competition.pk]),
        {
            "lecture_count": "1",
            "lecturer_count": "0",
            "organization_count": "0",
            f"unit_{third.pk}": "on",
            "awarded_on": "2026-07-01",
        },
    )
    assert response.status_code == 200
    assert "“丙区委”没有获奖作品，选定为优秀组织单位须填写评定理由" in response.content.decode()
    assert not Award.objects.exists()


def test_preview_grants_nothing(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): 预览 shows the suggestion for the numbers typed — seed 002."""
    competition = _closed(tree)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:award_grant", args=[competition.pk]),
        {
            "lecture_count": "2",
            "lecturer_count": "0",
            "organization_count": "1",
            "awarded_on": "2026-07-01",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    suggestion = response.context["suggestion"]
    assert [r.candidate.title for _, r in suggestion.lecture_awards] == ["作品0", "作品1"]
    assert [u.name for u in suggestion.units if u.automatic] == ["甲区委"]
    assert not Award.objects.exists()


def test_the_awards_page_shows_the_graded_title_and_the_reason(client, tree, organiser):
    """DOMAIN_RULES rule 8 (评选): an award is listed and printed under its graded name — seed 001."""
    from partyedu.competitions.services import award_plan_set, awards_grant

    competition = _closed(tree)
    third = make_org(tree.root, "丙区委", "committee", "organ")
    award_plan_set(
        actor=None,
        competition=competition,
        grade_set=GradeSet.QUALITY,
        categories=[{"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1}}],
    )
    awards_grant(
        actor=None,
        competition=competition,
        data={"units": [{"organization": third.pk, "reason": "发动全面"}]},
    )
    client.force_login(organiser)
    body = client.get(reverse("competitions:award_list", args=[competition.pk])).content.decode()
    assert "精品微党课" in body
    assert "评定理由：发动全面" in body
    code = Award.objects.get(kind=AwardKind.LECTURE).certificate.code
    verify = client.get(reverse("verify:certificate", args=[code])).content.decode()
    assert "精品微党课" in verify


class TestAwardPlanPage(ScopedEndpointTests):
    url_name = "competitions:award_plan"

    def make_object(self, org: Any) -> Any:
        return make_competition(org)

    def url(self, obj: Any) -> str:
        return reverse("competitions:award_plan", args=[obj.pk])
