"""The organiser's selectors of banks, papers, exams and contests take the requesting user: an
object outside the user's scope yields nothing (or 404), inside it the same rows as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from partyedu.exams.models import PaperRule
from partyedu.exams.selectors import banks, contests, results
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.exams.services.live import live_create
from partyedu.study.models import ClassEnrollment, TrainingClass
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_bank, make_exam, make_question, taker
from .test_contests import add_round, make_contest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(tree: Any) -> dict[str, Any]:
    """An organiser of district A (where the objects live) and one of its sibling district B."""
    return {
        "own": make_user(role="org_admin", org=tree.district_a),
        "sibling": make_user(role="org_admin", org=tree.district_b),
    }


# --- banks and papers --------------------------------------------------------------------------------


def test_bank_tags_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    bank = make_bank(tree.district_a)
    make_question(bank, tags=["党史"])
    assert banks.bank_tags(user=admins["own"], bank=bank) == ["党史"]
    assert banks.bank_tags(user=admins["sibling"], bank=bank) == []


def test_tag_names_leave_out_another_subtrees_tags(tree: Any, admins: dict[str, Any]) -> None:
    make_question(make_bank(tree.district_a), tags=["甲区专题"])
    make_question(make_bank(tree.root, "全市题库"), tags=["全市专题"])
    assert banks.tag_names(user=admins["own"]) == ["全市专题", "甲区专题"]
    assert banks.tag_names(user=admins["sibling"]) == ["全市专题"]


def test_question_versions_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    question = make_question(make_bank(tree.district_a))
    assert len(banks.question_versions(user=admins["own"], question=question)) == 1
    assert banks.question_versions(user=admins["sibling"], question=question) == []


def test_paper_items_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    paper = make_exam(tree.district_a).paper
    assert len(banks.paper_items(user=admins["own"], paper=paper)) == 4
    assert banks.paper_items(user=admins["sibling"], paper=paper) == []


def test_paper_rules_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    paper = make_exam(tree.district_a).paper
    PaperRule.objects.create(paper=paper, position=1, qtype="single", count=1, score_each=2)
    assert len(banks.paper_rules(user=admins["own"], paper=paper)) == 1
    assert banks.paper_rules(user=admins["sibling"], paper=paper) == []


def test_versions_by_id_leave_out_unseen_questions(tree: Any, admins: dict[str, Any]) -> None:
    question = make_question(make_bank(tree.district_a))
    ids = [question.current_version_id]
    assert list(banks.versions_by_id(user=admins["own"], ids=ids)) == ids
    assert banks.versions_by_id(user=admins["sibling"], ids=ids) == {}


def test_rule_availability_is_empty_outside_the_scope(tree: Any, admins: dict[str, Any]) -> None:
    make_question(make_bank(tree.district_a))
    rule = PaperRule(position=1, qtype="single", count=1, score_each=2)
    rows = banks.rule_availability(user=admins["own"], organization=tree.district_a, rules=[rule])
    assert [r.available for r in rows] == [1]
    assert banks.rule_availability(user=admins["sibling"], organization=tree.district_a, rules=[rule]) == []


# --- exams -------------------------------------------------------------------------------------------


def test_exam_counts_are_zero_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    member = make_member(tree.branch_a, "甲党员")
    exam = make_exam(tree.district_a, target_kind="members", target_members=[member.pk])
    assert results.exam_target_count(user=admins["own"], exam=exam) == 1
    assert results.exam_named_count(user=admins["own"], exam=exam) == 1
    assert results.exam_target_count(user=admins["sibling"], exam=exam) == 0
    assert results.exam_named_count(user=admins["sibling"], exam=exam) == 0


def test_item_stems_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    exam = make_exam(tree.district_a)
    question = exam.paper.items.first().question
    items = [{"question": question.pk}]
    assert results.item_stems(user=admins["own"], exam=exam, items=items) == {
        question.pk: question.current_version.stem
    }
    assert results.item_stems(user=admins["sibling"], exam=exam, items=items) == {}


# --- contests ----------------------------------------------------------------------------------------


def test_contest_reads_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    contest = make_contest(tree.district_a)
    live_create(actor=None, round_=add_round(contest), team_names=["一队", "二队"], seconds_per_question=20)
    own, sibling = admins["own"], admins["sibling"]
    assert len(contests.contest_rounds(user=own, contest=contest)) == 1
    assert len(contests.live_list(user=own, contest=contest)) == 1
    assert contests.contest_rounds(user=sibling, contest=contest) == []
    assert contests.live_list(user=sibling, contest=contest) == []
    assert contests.contest_awards(user=sibling, contest=contest) == []


def test_contest_scores_are_404_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    contest = make_contest(tree.district_a)
    with pytest.raises(Http404):
        contests.contest_scores(user=admins["sibling"], contest=contest)


def test_tier_reads_are_empty_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    contest = make_contest(tree.district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    add_round(contest, "决赛")
    assert contests.next_round(user=admins["own"], round_=first) is not None
    assert contests.next_round(user=admins["sibling"], round_=first) is None
    assert contests.advance_proposal(user=admins["sibling"], round_=first) == []


def test_live_state_is_404_for_a_sibling(tree: Any, admins: dict[str, Any]) -> None:
    contest = make_contest(tree.district_a)
    session = live_create(
        actor=None, round_=add_round(contest), team_names=["一队", "二队"], seconds_per_question=20
    )
    assert contests.live_state(user=admins["own"], session=session).count == 4
    with pytest.raises(Http404):
        contests.live_state(user=admins["sibling"], session=session)


# --- exams of a level above that reach the viewer's members ------------------------------------------


def _reaching_ids(user: Any) -> set[int]:
    return set(results.exams_reaching(user=user).values_list("pk", flat=True))


def test_a_city_exam_reaches_a_branch_secretary(tree: Any) -> None:
    exam = make_exam(tree.root)
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_a)) == {exam.pk}


def test_an_exam_of_the_viewers_own_scope_is_not_reaching(tree: Any, admins: dict[str, Any]) -> None:
    city = make_exam(tree.root)
    make_exam(tree.district_a)
    assert _reaching_ids(admins["own"]) == {city.pk}
    assert _reaching_ids(make_user(role="org_admin", org=tree.root)) == set()


def test_a_sibling_districts_exam_does_not_reach_a_branch(tree: Any) -> None:
    make_exam(tree.district_a)
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_b)) == set()


def test_a_list_exam_reaches_only_the_scopes_of_its_named_members(tree: Any) -> None:
    named = make_member(tree.branch_a, "指名党员")
    exam = make_exam(tree.root, target_kind="members", target_members=[named.pk])
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_a)) == {exam.pk}
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_b)) == set()


def test_a_named_member_outside_a_sibling_exams_subtree_brings_it_to_their_branch(tree: Any) -> None:
    named = make_member(tree.branch_b, "跨区指名")
    exam = make_exam(tree.district_a, target_members=[named.pk])
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_b)) == {exam.pk}


def test_a_class_exam_reaches_the_scopes_of_its_enrolled_members(tree: Any) -> None:
    today = timezone.localdate()
    klass = TrainingClass.objects.create(
        organization=tree.root, name="市委培训班", start_date=today, end_date=today
    )
    ClassEnrollment.objects.create(training_class=klass, member=make_member(tree.branch_a, "学员"))
    exam = make_exam(tree.root, training_class=klass)
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_a)) == {exam.pk}
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_b)) == set()


def test_practice_sets_and_contest_rounds_do_not_reach_down(tree: Any) -> None:
    make_exam(tree.root, kind="practice")
    add_round(make_contest(tree.root))
    assert _reaching_ids(make_user(role="branch_admin", org=tree.branch_a)) == set()


def test_a_member_is_reached_by_nothing(tree: Any) -> None:
    make_exam(tree.root)
    assert _reaching_ids(make_user(role="member", org=tree.branch_a)) == set()


def test_exam_get_for_results_finds_own_and_reached_exams_and_404s_the_rest(tree: Any) -> None:
    city, district = make_exam(tree.root), make_exam(tree.district_a)
    secretary = make_user(role="branch_admin", org=tree.branch_b)
    assert results.exam_get_for_results(user=secretary, pk=city.pk) == city
    with pytest.raises(Http404):
        results.exam_get_for_results(user=secretary, pk=district.pk)


def test_exam_reached_tells_a_reached_exam_from_an_own_one(tree: Any, admins: dict[str, Any]) -> None:
    assert results.exam_reached(user=admins["own"], exam=make_exam(tree.root))
    assert not results.exam_reached(user=admins["own"], exam=make_exam(tree.district_a))


def test_the_reached_list_counts_targets_and_attempts_in_scope_only(tree: Any) -> None:
    exam = make_exam(tree.root)
    for org, name in ((tree.branch_a, "甲"), (tree.branch_a, "乙"), (tree.branch_b, "丙")):
        user = taker(org, name)
        attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    make_member(tree.branch_a, "未考")
    row = results.exam_reached_list_filtered(user=make_user(role="branch_admin", org=tree.branch_a)).get()
    assert (row.target_total, row.attempted_total) == (3, 2)  # type: ignore[attr-defined]


def test_a_reached_exam_leaves_the_grading_queue(tree: Any) -> None:
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="简述", reference_answer="要点", rubric="每点五分")
    exam = make_exam(tree.root, questions=[essay], scores=[10])
    user = taker(tree.branch_a, "甲")
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="我的理解")
    attempt_submit(actor=user, attempt=attempt)
    assert results.grading_queue(user=make_user(role="org_admin", org=tree.root)).count() == 1
    assert results.grading_queue(user=make_user(role="branch_admin", org=tree.branch_a)).count() == 0
