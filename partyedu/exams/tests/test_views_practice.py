"""Practice sets (应知应会): instant feedback only for practice, the wrong-answer book (错题本) and a
round over its questions (再练错题)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from partyedu.exams.models import Answer, Attempt
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db

EXPLANATION = "解析：预备期为一年"


def practice_set(org, **data):
    bank = make_bank(org, f"应知应会题库{org.pk}")
    questions = [
        make_question(
            bank,
            qtype="single",
            stem="党的最高理想是什么？",
            options=["小康", "共产主义", "富强"],
            answer="B",
            explanation="共产主义是最高理想",
        ),
        make_question(bank, qtype="judge", stem="预备期为一年。", answer=True, explanation=EXPLANATION),
        make_question(bank, qtype="fill", stem="全心全意为____服务。", answer=["人民"]),
    ]
    data.setdefault("title", "应知应会50问")
    data.setdefault("time_limit_minutes", None)
    return make_exam(org, questions=questions, scores=[1, 1, 1], kind="practice", **data)


def start(client, exam):
    response = client.post(reverse("exams:attempt_start", args=[exam.pk]))
    assert response.status_code == 302, response.content
    return Attempt.objects.get(pk=int(re.search(r"/attempts/(\d+)/", response["Location"]).group(1)))


def check(client, attempt, question, answer):
    return client.post(
        reverse("exams:practice_check", args=[attempt.pk]),
        data={"question": question, "answer": answer},
        content_type="application/json",
    )


def ids(attempt):
    return {
        item.version.question.qtype: item.version.question_id
        for item in attempt.questions.select_related("version__question")
    }


def shown(attempt, question_id, original):
    """The letter the attempt shows for the version's own letter ``original``."""
    item = attempt.questions.get(version__question_id=question_id)
    return "ABCDEF"[item.option_order.index("ABCDEF".index(original))]


def finish(client, attempt):
    client.post(reverse("exams:attempt_submit", args=[attempt.pk]))


# --- instant feedback ------------------------------------------------------------------------------------


def test_a_right_practice_answer_says_so_with_the_explanation(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    data = check(client, attempt, ids(attempt)["judge"], True).json()
    assert data["correct"] is True
    assert data["key_text"] == "正确"
    assert data["explanation"] == EXPLANATION


def test_a_wrong_practice_answer_gives_the_key_in_the_shown_order(client, tree):
    exam = practice_set(tree.district_a, shuffle_options=True)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    question = ids(attempt)["single"]
    wrong = shown(attempt, question, "A")
    data = check(client, attempt, question, wrong).json()
    assert data["correct"] is False
    assert data["key"] == shown(attempt, question, "B")
    assert data["explanation"] == "共产主义是最高理想"


def test_instant_feedback_is_refused_for_an_exam(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = check(client, attempt, ids(attempt)["judge"], True)
    assert response.status_code == 400
    assert response.json()["detail"] == "只有练习可以即时查看对错"
    assert "key" not in response.json()
    assert not Answer.objects.exists()


def test_a_question_is_checked_once_per_round(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    question = ids(attempt)["judge"]
    check(client, attempt, question, False)
    response = check(client, attempt, question, True)
    assert response.status_code == 400
    assert "已作答" in response.json()["detail"]
    assert Answer.objects.get().response is False


def test_an_empty_practice_answer_is_refused(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    response = check(client, attempt, ids(attempt)["fill"], "  ")
    assert response.status_code == 400
    assert response.json()["detail"] == "请先作答再确定"


def test_another_members_practice_round_is_404(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a, "甲"))
    attempt = start(client, exam)
    client.force_login(taker(tree.branch_a, "乙"))
    assert check(client, attempt, ids(attempt)["judge"], True).status_code == 404


def test_the_practice_page_shows_the_marking_of_checked_questions_only(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], False)
    html = client.get(reverse("exams:attempt_take", args=[attempt.pk])).content.decode()
    assert EXPLANATION in html
    assert "回答错误" in html
    assert "共产主义是最高理想" not in html  # not yet answered


def test_practice_is_unlimited(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    for _ in range(3):
        finish(client, start(client, exam))
    assert Attempt.objects.filter(exam=exam).count() == 3
    assert "已练3次" in client.get(reverse("exams:my")).content.decode()


# --- the wrong-answer book -----------------------------------------------------------------------------


def test_the_book_lists_a_wrong_answer_with_my_answer_key_and_explanation(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], False)
    html = client.get(reverse("exams:wrong_answers")).content.decode()
    assert "预备期为一年。" in html
    assert '我的答案：</span><span class="pe-take-text">错误' in html
    assert "正确" in html and EXPLANATION in html


def test_the_book_leaves_out_right_and_skipped_questions(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], True)
    finish(client, attempt)  # the other two were never answered
    html = client.get(reverse("exams:wrong_answers")).content.decode()
    assert 'data-testid="wrong-empty"' in html


def test_a_question_answered_right_later_leaves_the_book(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    first = start(client, exam)
    check(client, first, ids(first)["fill"], "群众")
    finish(client, first)
    assert "全心全意为____服务。" in client.get(reverse("exams:wrong_answers")).content.decode()
    second = start(client, exam)
    check(client, second, ids(second)["fill"], "人民")
    assert "全心全意为____服务。" not in client.get(reverse("exams:wrong_answers")).content.decode()


def test_a_question_got_wrong_again_returns_to_the_book(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    for answer in (False, True, False):
        attempt = start(client, exam)
        check(client, attempt, ids(attempt)["judge"], answer)
        finish(client, attempt)
    assert "预备期为一年。" in client.get(reverse("exams:wrong_answers")).content.decode()


def test_wrong_answers_in_an_exam_are_not_in_the_book(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    client.post(
        reverse("exams:attempt_answer", args=[attempt.pk]),
        data={"question": ids(attempt)["judge"], "answer": False},
        content_type="application/json",
    )
    finish(client, attempt)
    assert 'data-testid="wrong-empty"' in client.get(reverse("exams:wrong_answers")).content.decode()


def test_the_book_is_my_own(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a, "甲"))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], False)
    client.force_login(taker(tree.branch_a, "乙"))
    assert 'data-testid="wrong-empty"' in client.get(reverse("exams:wrong_answers")).content.decode()


def test_the_book_without_a_member_record_says_so(client, tree):
    client.force_login(make_user(role="member", org=tree.branch_a))
    response = client.get(reverse("exams:wrong_answers"))
    assert response.status_code == 200
    assert "没有关联党员档案" in response.content.decode()


def test_the_book_page_queries_do_not_grow_with_wrong_answers(client, tree, django_assert_max_num_queries):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    for qtype, answer in (("single", "C"), ("judge", False), ("fill", "群众")):
        check(
            client,
            attempt,
            ids(attempt)[qtype],
            answer if qtype != "single" else shown(attempt, ids(attempt)["single"], "C"),
        )
    client.get(reverse("exams:wrong_answers"))
    with django_assert_max_num_queries(9):
        html = client.get(reverse("exams:wrong_answers")).content.decode()
    assert html.count("data-review=") == 3


# --- 再练错题 -------------------------------------------------------------------------------------------


def test_a_retry_round_asks_just_the_wrong_questions(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], False)
    check(client, attempt, ids(attempt)["fill"], "人民")
    response = client.post(reverse("exams:wrong_retry", args=[exam.pk]))
    retry = Attempt.objects.exclude(pk=attempt.pk).get()
    assert response["Location"] == reverse("exams:attempt_take", args=[retry.pk])
    assert list(ids(retry)) == ["judge"]
    attempt.refresh_from_db()
    assert attempt.submitted_at is not None  # the open round was finished, its answers kept


def test_answering_right_in_the_retry_round_empties_the_book(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    check(client, attempt, ids(attempt)["judge"], False)
    client.post(reverse("exams:wrong_retry", args=[exam.pk]))
    retry = Attempt.objects.exclude(pk=attempt.pk).get()
    assert check(client, retry, ids(retry)["judge"], True).json()["correct"] is True
    assert 'data-testid="wrong-empty"' in client.get(reverse("exams:wrong_answers")).content.decode()


def test_a_retry_without_wrong_questions_says_so(client, tree):
    exam = practice_set(tree.district_a)
    client.force_login(taker(tree.branch_a))
    response = client.post(reverse("exams:wrong_retry", args=[exam.pk]), follow=True)
    assert "没有需要再练的错题" in response.content.decode()
    assert not Attempt.objects.exists()


def test_a_retry_of_an_exam_is_404(client, tree):
    exam = make_exam(tree.district_a)
    client.force_login(taker(tree.branch_a))
    assert client.post(reverse("exams:wrong_retry", args=[exam.pk])).status_code == 404


def test_a_retry_of_a_set_not_given_to_me_is_404(client, tree):
    exam = practice_set(tree.district_b)
    client.force_login(taker(tree.branch_a))
    assert client.post(reverse("exams:wrong_retry", args=[exam.pk])).status_code == 404


def test_a_practice_round_with_a_short_answer_never_waits_for_a_grader(client, tree):
    bank = make_bank(tree.district_a)
    essay = make_question(bank, qtype="essay", stem="谈体会", reference_answer="参考要点")
    exam = make_exam(tree.district_a, questions=[essay], scores=[5], kind="practice", time_limit_minutes=None)
    client.force_login(taker(tree.branch_a))
    attempt = start(client, exam)
    assert check(client, attempt, essay.pk, "我的体会").json()["reference_answer"] == "参考要点"
    finish(client, attempt)
    attempt.refresh_from_db()
    assert attempt.status == "graded"
