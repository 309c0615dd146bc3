"""Exam results: participation by organisation, grading rule, item difficulty and discrimination."""

from decimal import Decimal

import pytest

from partyedu.exams import selectors
from partyedu.exams.selectors import results as fast
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


def judge_exam(tree, **data):
    bank = make_bank(tree.root)
    good = make_question(bank, qtype="judge", stem="好题", answer=True)
    bad = make_question(bank, qtype="judge", stem="坏题", answer=True)
    return (
        make_exam(tree.district_a, questions=[good, bad], scores=[50, 50], pass_score=50, **data),
        good,
        bad,
    )


def take(user, exam, answers):
    attempt = attempt_start(actor=user, exam=exam)
    for question, response in answers.items():
        answer_save(actor=user, attempt=attempt, question=question.pk, response=response)
    return attempt_submit(actor=user, attempt=attempt)


def test_item_difficulty_and_discrimination_flag_a_question_the_strong_get_wrong(tree):
    bank = make_bank(tree.root)
    first, second, bad = (make_question(bank, qtype="judge", stem=s, answer=True) for s in ("一", "二", "坏"))
    exam = make_exam(tree.district_a, questions=[first, second, bad], scores=[40, 40, 20], pass_score=50)
    # The strong get the two good questions right and the bad one wrong; the weakest the reverse.
    take(taker(tree.branch_a, "甲"), exam, {first: True, second: True, bad: False})  # 80
    take(taker(tree.branch_a, "乙"), exam, {first: True, second: True, bad: False})  # 80
    take(taker(tree.branch_a, "丙"), exam, {first: True, second: False, bad: False})  # 40
    take(taker(tree.branch_a, "丁"), exam, {first: False, second: False, bad: True})  # 20
    results = selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    items = {item["question"]: item for item in results["items"]}
    assert (items[first.pk]["difficulty"], items[bad.pk]["difficulty"]) == (0.75, 0.25)
    assert items[first.pk]["discrimination"] > 0.5
    assert not items[first.pk]["flagged"]
    assert items[bad.pk]["discrimination"] < 0
    assert items[bad.pk]["flagged"]
    assert (results["attempted"], results["passed"], results["mean_score"]) == (4, 2, Decimal("55.00"))


def test_the_highest_attempt_counts_when_grading_takes_the_highest(tree):
    exam, good, bad = judge_exam(tree, attempts_allowed=2, grading="highest")
    user = taker(tree.branch_a)
    take(user, exam, {good: True, bad: True})
    take(user, exam, {good: False, bad: False})
    results = selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    assert (results["attempted"], results["mean_score"]) == (1, Decimal("100.00"))


def test_the_last_attempt_counts_when_grading_takes_the_last(tree):
    exam, good, bad = judge_exam(tree, attempts_allowed=2, grading="last")
    user = taker(tree.branch_a)
    take(user, exam, {good: True, bad: True})
    take(user, exam, {good: False, bad: False})
    results = selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    assert results["mean_score"] == Decimal("0.00")


def test_a_branch_secretary_sees_only_their_branch_in_the_results(tree):
    exam, good, _bad = judge_exam(tree)
    take(taker(tree.branch_a, "甲"), exam, {good: True})
    secretary = make_user(role="branch_admin", org=tree.group_a)
    assert selectors.exam_results(user=secretary, exam=exam)["targets"] == 0


def test_a_question_nobody_answers_right_is_flagged_once_enough_have_answered(tree):
    exam, good, bad = judge_exam(tree)
    for n in range(selectors.NOBODY_RIGHT_FLAG_MIN):
        take(taker(tree.branch_a, f"党员{n}"), exam, {good: n % 2 == 0, bad: False})
    results = selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    items = {item["question"]: item for item in results["items"]}
    assert (items[bad.pk]["difficulty"], items[bad.pk]["flagged"]) == (0.0, True)


def test_a_practice_set_reports_upward_only_who_has_practised(tree):
    exam, good, bad = judge_exam(tree, kind="practice")
    take(taker(tree.branch_a, "甲"), exam, {good: True, bad: True})
    results = selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)
    assert (results["attempted"], results["passed"], results["mean_score"], results["items"]) == (
        1,
        0,
        None,
        [],
    )


def test_an_organiser_cannot_read_a_members_practice_attempt(tree):
    exam, good, bad = judge_exam(tree, kind="practice")
    attempt = take(taker(tree.branch_a, "甲"), exam, {good: True, bad: True})
    organiser = make_user(role="org_admin", org=tree.root)
    assert not selectors.attempt_list(user=organiser).filter(pk=attempt.pk).exists()


# --- an exam of a level above, seen by a lower level ---------------------------------------------------


def city_exam(tree):
    """A city exam of its whole subtree: branch A scores 100 and 0 (one pass), branch B 100."""
    bank = make_bank(tree.root)
    good = make_question(bank, qtype="judge", stem="好题", answer=True)
    bad = make_question(bank, qtype="judge", stem="坏题", answer=True)
    exam = make_exam(tree.root, questions=[good, bad], scores=[50, 50], pass_score=60)
    take(taker(tree.branch_a, "甲"), exam, {good: True, bad: True})
    take(taker(tree.branch_a, "乙"), exam, {good: False, bad: False})
    take(taker(tree.branch_b, "丙"), exam, {good: True, bad: True})
    return exam


def test_a_branch_secretary_sees_a_city_exams_figures_for_their_branch_only(tree):
    exam = city_exam(tree)
    results = selectors.exam_results(user=make_user(role="branch_admin", org=tree.branch_a), exam=exam)
    assert (results["targets"], results["attempted"], results["passed"], results["mean_score"]) == (
        2,
        2,
        1,
        Decimal("50.00"),
    )
    assert [row["organization"] for row in results["by_organization"]] == [tree.branch_a.pk]


def test_a_reached_exam_has_no_item_analysis(tree):
    exam = city_exam(tree)
    assert (
        selectors.exam_results(user=make_user(role="branch_admin", org=tree.branch_a), exam=exam)["items"]
        == []
    )
    assert (
        len(selectors.exam_results(user=make_user(role="org_admin", org=tree.root), exam=exam)["items"]) == 2
    )


def test_the_histogram_of_a_reached_exam_counts_the_viewers_members_only(tree):
    exam = city_exam(tree)
    histogram = fast.score_histogram(user=make_user(role="branch_admin", org=tree.branch_b), exam=exam)
    assert sum(histogram["counts"]) == 1 and histogram["counts"][-1] == 1
