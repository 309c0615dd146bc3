"""试卷 pages: every URL's permission cases, a fixed paper and a rule-drawn one made on the page,
a rule that cannot be filled refused with its counts, the rules check, the preview (reproducible
by its seed, warning for every rule that cannot be filled), and the list's query count."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import ScopedEndpointTests
from partyedu.exams.models import Paper, PaperRule
from partyedu.exams.services import bank_update, paper_create
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_question

pytestmark = pytest.mark.django_db


def fixed_paper_at(org: Any, title: str = "标记试卷") -> Paper:
    bank = make_bank(org, f"题库{title}")
    questions = [make_question(bank, qtype="judge", stem=f"判断{n}。", answer=True) for n in range(3)]
    return paper_create(
        actor=None,
        organization=org,
        title=title,
        questions=[{"question": q.pk, "score": 5} for q in questions],
    )


# --- permission classes --------------------------------------------------------------------------------


class _PaperPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return fixed_paper_at(org)


class TestPaperList(_PaperPage):
    url_name = "exams:paper_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("exams:paper_list")


class TestPaperListForAnExaminer(TestPaperList):
    role = "examiner"


class TestPaperDetail(_PaperPage):
    url_name = "exams:paper_detail"

    def url(self, obj: Any) -> str:
        return reverse("exams:paper_detail", args=[obj.pk])


class TestPaperCreate(ScopedEndpointTests):
    url_name = "exams:paper_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("exams:paper_create")


class TestPaperQuestionSearch(ScopedEndpointTests):
    """The questions offered for a fixed paper: a branch's bank is offered to its district, not
    to the sibling district."""

    url_name = "exams:paper_question_search"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return make_question(make_bank(org), qtype="judge", stem="标记可选试题。", answer=True)

    def marker(self, obj: Any) -> str:
        return "标记可选试题"

    def url(self, obj: Any) -> str:
        return reverse("exams:paper_question_search")


# --- making papers on the page -----------------------------------------------------------------------


@pytest.fixture
def district_admin(client, tree):
    user = make_user(role="org_admin", org=tree.district_a)
    client.force_login(user)
    return user


def management(total: int = 3) -> dict[str, Any]:
    return {
        "rules-TOTAL_FORMS": str(total),
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "20",
    }


def blank_rule(index: int) -> dict[str, Any]:
    return {
        f"rules-{index}-qtype": "",
        f"rules-{index}-bank": "",
        f"rules-{index}-tag": "",
        f"rules-{index}-difficulty_min": "1",
        f"rules-{index}-difficulty_max": "5",
        f"rules-{index}-count": "",
        f"rules-{index}-score": "",
    }


def paper_post(org: Any, **data: Any) -> dict[str, Any]:
    base = {
        "organization": org.pk,
        "title": "党史测试卷",
        "kind": "fixed",
        "items": "",
        "shuffle_options": "on",
        **management(),
        **blank_rule(0),
        **blank_rule(1),
        **blank_rule(2),
    }
    base.update(data)
    return base


def rule(index: int, qtype: str, count: int, score: str = "2", **extra: Any) -> dict[str, Any]:
    return {
        **blank_rule(index),
        f"rules-{index}-qtype": qtype,
        f"rules-{index}-count": str(count),
        f"rules-{index}-score": score,
        **{f"rules-{index}-{k}": v for k, v in extra.items()},
    }


@pytest.fixture
def judges(tree):
    """Four judge questions tagged 党史 (difficulty 2) and two single ones in a district bank."""
    bank = make_bank(tree.district_a)
    found = [
        make_question(bank, qtype="judge", stem=f"党史判断{n}。", answer=True, tags=["党史"], difficulty=2)
        for n in range(4)
    ]
    found += [make_question(bank, qtype="single", stem=f"单选{n}？", difficulty=4) for n in range(2)]
    return bank, found


def test_a_fixed_paper_is_made_from_picked_questions_with_points(client, tree, district_admin, judges):
    _bank, questions = judges
    items = f"{questions[0].pk} 5\n{questions[4].pk}，2.5\n"
    response = client.post(reverse("exams:paper_create"), paper_post(tree.district_a, items=items))
    paper = Paper.objects.get()
    assert response["Location"] == reverse("exams:paper_detail", args=[paper.pk])
    assert [(i.question_id, i.score) for i in paper.items.order_by("position")] == [
        (questions[0].pk, Decimal("5.00")),
        (questions[4].pk, Decimal("2.50")),
    ]


def test_a_badly_written_item_line_is_named(client, tree, district_admin):
    response = client.post(reverse("exams:paper_create"), paper_post(tree.district_a, items="12 两分"))
    assert "第1行“12 两分”应写成“试题编号 分值”" in response.content.decode()
    assert not Paper.objects.exists()


def test_a_question_of_a_sibling_districts_bank_is_refused(client, tree, district_admin):
    other = make_question(make_bank(tree.district_b), qtype="judge", stem="乙区题。", answer=True)
    response = client.post(reverse("exams:paper_create"), paper_post(tree.district_a, items=f"{other.pk} 2"))
    assert f"试题{other.pk}不存在或不能在该组织使用" in response.content.decode()
    assert not Paper.objects.exists()


def test_a_rule_paper_is_made_from_its_rows(client, tree, district_admin, judges):
    data = paper_post(tree.district_a, kind="rule", **rule(0, "judge", 3, tag="党史", difficulty_max="3"))
    client.post(reverse("exams:paper_create"), data)
    paper = Paper.objects.get()
    assert paper.kind == "rule"
    saved = paper.rules.get()
    assert (saved.qtype, saved.count, saved.tag.name, saved.difficulty_max) == ("judge", 3, "党史", 3)


def test_a_rule_can_be_limited_to_one_bank(client, tree, district_admin, judges):
    bank, _questions = judges
    make_question(make_bank(tree.root, "全市题库"), qtype="judge", stem="市级判断。", answer=True)
    client.post(
        reverse("exams:paper_create"),
        paper_post(tree.district_a, kind="rule", **rule(0, "judge", 4, bank=bank.pk)),
    )
    assert PaperRule.objects.get().bank == bank


def test_a_rule_limited_to_a_bank_too_small_is_refused(client, tree, district_admin, judges):
    bank, _questions = judges
    make_question(make_bank(tree.root, "全市题库"), qtype="judge", stem="市级判断。", answer=True)
    response = client.post(
        reverse("exams:paper_create"),
        paper_post(tree.district_a, kind="rule", **rule(0, "judge", 5, bank=bank.pk)),
    )
    assert "第1条规则（判断题）只有4道符合条件的试题，需要5道" in response.content.decode()
    assert not Paper.objects.exists()


def test_a_rule_that_cannot_be_filled_is_refused_with_the_counts(client, tree, district_admin, judges):
    data = paper_post(tree.district_a, kind="rule", **rule(0, "judge", 2), **rule(1, "single", 3))
    response = client.post(reverse("exams:paper_create"), data)
    assert "第2条规则（单选题）只有2道符合条件的试题，需要3道" in response.content.decode()
    assert not Paper.objects.exists()


def test_an_unknown_tag_is_named_on_its_rule(client, tree, district_admin, judges):
    data = paper_post(tree.district_a, kind="rule", **rule(0, "judge", 2, tag="不存在的标签"))
    response = client.post(reverse("exams:paper_create"), data)
    assert "没有标签“不存在的标签”" in response.content.decode()
    assert not Paper.objects.exists()


def test_the_rules_check_counts_what_each_rule_could_draw_and_saves_nothing(
    client, tree, district_admin, judges
):
    data = paper_post(tree.district_a, kind="rule", check="1", **rule(0, "judge", 2), **rule(1, "single", 3))
    response = client.post(reverse("exams:paper_create"), data)
    rows = [(r.position, r.available, r.short) for r in response.context["availability"]]
    assert rows == [(1, 4, False), (2, 2, True)]
    assert not Paper.objects.exists()


# --- the preview -------------------------------------------------------------------------------------


@pytest.fixture
def rule_paper(tree, judges):
    return paper_create(
        actor=None,
        organization=tree.district_a,
        title="随机卷",
        rules=[{"qtype": "judge", "count": 2, "score": 5}, {"qtype": "single", "count": 1, "score": 10}],
    )


def test_the_preview_shows_a_draw_and_the_total(client, district_admin, rule_paper):
    response = client.get(reverse("exams:paper_detail", args=[rule_paper.pk]), {"seed": "7"})
    assert len(response.context["preview"]) == 3
    assert response.context["max_score"] == Decimal("20")
    assert 'data-testid="paper-total">20<' in response.content.decode()
    assert not response.context["warnings"]


def test_the_same_seed_shows_the_same_draw(client, district_admin, rule_paper):
    url = reverse("exams:paper_detail", args=[rule_paper.pk])
    first = [row["item"].question_id for row in client.get(url, {"seed": "42"}).context["preview"]]
    again = [row["item"].question_id for row in client.get(url, {"seed": "42"}).context["preview"]]
    assert first == again


def test_another_seed_is_offered_to_draw_again(client, district_admin, rule_paper):
    response = client.get(reverse("exams:paper_detail", args=[rule_paper.pk]), {"seed": "42"})
    assert f'href="?seed={response.context["next_seed"]}"' in response.content.decode()


def test_the_preview_warns_for_a_rule_that_can_no_longer_be_filled(
    client, district_admin, rule_paper, judges
):
    bank, _questions = judges
    bank_update(actor=None, bank=bank, data={"is_active": False})
    response = client.get(reverse("exams:paper_detail", args=[rule_paper.pk]))
    assert response.context["warnings"] == [
        "第1条规则（判断题）只有0道符合条件的试题，需要2道",
        "第2条规则（单选题）只有0道符合条件的试题，需要1道",
    ]
    assert 'data-testid="preview-warnings"' in response.content.decode()


def test_a_fixed_paper_preview_lists_its_questions_in_order(client, tree, district_admin):
    paper = fixed_paper_at(tree.district_a)
    response = client.get(reverse("exams:paper_detail", args=[paper.pk]))
    assert [row["version"].stem for row in response.context["preview"]] == ["判断0。", "判断1。", "判断2。"]
    assert response.context["max_score"] == Decimal("15")


def test_the_question_search_offers_a_city_bank_below(client, tree, district_admin):
    make_question(make_bank(tree.root, "全市题库"), qtype="judge", stem="市级可选题。", answer=True)
    response = client.get(reverse("exams:paper_question_search"), {"q": "市级"}, HTTP_HX_REQUEST="true")
    assert "市级可选题" in response.content.decode()
    assert "data-pick-question" in response.content.decode()


def test_the_paper_list_runs_a_fixed_number_of_queries(
    client, tree, district_admin, django_assert_max_num_queries
):
    for n in range(6):
        fixed_paper_at(tree.district_a if n % 2 else tree.branch_a, title=f"试卷{n}")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("exams:paper_list"))
    assert "试卷5" in response.content.decode()
    assert "15" in response.content.decode()
