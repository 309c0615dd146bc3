"""The exams items on the workbench: an open exam to take, an attempt to continue, essays to grade."""

from __future__ import annotations

import pytest

from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.exams.todo import exams_todos
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


def test_a_member_is_asked_to_take_an_open_exam_given_to_them(tree):
    exam = make_exam(tree.district_a)
    items = exams_todos(user=taker(tree.branch_a))
    assert [i.key for i in items] == [f"exams.take:{exam.pk}"]


def test_a_member_of_another_district_is_not_asked(tree):
    make_exam(tree.district_a)
    assert exams_todos(user=taker(tree.branch_b)) == []


def test_an_attempt_in_progress_is_urgent(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt_start(actor=user, exam=exam)
    [item] = exams_todos(user=user)
    assert (item.priority, item.title.startswith("继续答题")) == (0, True)


def test_a_taken_exam_is_no_longer_asked(tree):
    exam = make_exam(tree.district_a, attempts_allowed=3)
    user = taker(tree.branch_a)
    attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    assert exams_todos(user=user) == []


def test_a_practice_set_is_never_a_duty(tree):
    make_exam(tree.district_a, kind="practice")
    assert exams_todos(user=taker(tree.branch_a)) == []


def test_an_organiser_sees_how_many_essays_wait_for_a_grader(tree):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="谈谈体会", reference_answer="联系实际")
    exam = make_exam(tree.district_a, questions=[essay], scores=[10])
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="学习体会")
    attempt_submit(actor=user, attempt=attempt)
    [item] = exams_todos(user=make_user(role="org_admin", org=tree.district_a))
    assert (item.key, item.count) == ("exams.grade", 1)


def test_an_organiser_of_another_district_has_nothing_to_grade(tree):
    bank = make_bank(tree.root)
    essay = make_question(bank, qtype="essay", stem="谈谈体会", reference_answer="联系实际")
    exam = make_exam(tree.district_a, questions=[essay], scores=[10])
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response="学习体会")
    attempt_submit(actor=user, attempt=attempt)
    assert exams_todos(user=make_user(role="org_admin", org=tree.district_b)) == []
