"""Papers drawn by rule: previews, rules that cannot be filled, reproducible draws."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partyedu.exams import selectors
from partyedu.exams.drawing import draw
from partyedu.exams.models import Paper, PaperRule
from partyedu.exams.services import exam_create, paper_create
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_question

pytestmark = pytest.mark.django_db


def city_bank(tree, count=5):
    bank = make_bank(tree.root, "全市题库")
    for n in range(count):
        make_question(bank, stem=f"党史题{n}", difficulty=2, tags=["党史"])
    return bank


def test_a_rule_that_cannot_be_filled_is_refused_naming_the_rule(tree):
    city_bank(tree, count=3)
    with pytest.raises(ValidationError) as caught:
        paper_create(
            actor=None,
            organization=tree.district_a,
            title="试卷",
            rules=[{"qtype": "single", "tag": "党史", "difficulty_max": 3, "count": 10, "score": 2}],
        )
    assert caught.value.message_dict["rules"] == ["第1条规则（单选题）只有3道符合条件的试题，需要10道"]


def test_a_preview_shows_a_sample_draw_and_warns_about_a_short_rule(tree):
    city_bank(tree, count=3)
    paper = Paper.objects.create(organization=tree.district_a, title="草稿", kind="rule")
    PaperRule.objects.create(paper=paper, position=1, qtype="single", count=5, score_each=2)
    preview = selectors.paper_preview(
        user=make_user(role="org_admin", org=tree.district_a), paper=paper, seed=7
    )
    assert len(preview.items) == 3
    assert preview.warnings == ["第1条规则（单选题）只有3道符合条件的试题，需要5道"]


def test_a_draw_is_reproduced_by_its_seed(tree):
    city_bank(tree, count=5)
    paper = paper_create(
        actor=None,
        organization=tree.district_a,
        title="试卷",
        rules=[{"qtype": "single", "tag": "党史", "count": 3, "score": 2}],
    )
    first, again = draw(paper, 12345), draw(paper, 12345)
    assert [(i.version_id, i.option_order) for i in first.items] == [
        (i.version_id, i.option_order) for i in again.items
    ]
    assert first.max_score == 6


def test_an_exam_over_a_rule_paper_draws_only_from_banks_shared_down(tree):
    make_bank(tree.district_b, "乙区题库")
    sibling_bank = make_bank(tree.district_b, "乙区题库二")
    make_question(sibling_bank, stem="乙区独有")
    city_bank(tree, count=2)
    with pytest.raises(ValidationError):
        exam_create(
            actor=None,
            organization=tree.district_a,
            data={
                "title": "测试",
                "opens_at": timezone.now(),
                "closes_at": timezone.now() + timedelta(days=1),
                "rules": [{"qtype": "single", "count": 3, "score": 2}],
            },
        )
