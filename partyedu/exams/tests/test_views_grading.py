"""The anonymised grading queue: permissions, no names shown, grading moves to the next answer."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.exams.models import Answer
from partyedu.exams.selectors.results import anonymous_code
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


_seq = itertools.count()


def essay_exam(org: Any) -> tuple[Any, Any]:
    n = next(_seq)
    bank = make_bank(org, f"简答题库{n}")
    essay = make_question(
        bank,
        qtype="essay",
        stem="谈谈你对“两个确立”的理解。",
        reference_answer="参考答案：决定性意义",
        rubric="要点三条，每条五分",
    )
    judge = make_question(bank, qtype="judge", stem=f"判断{n}", answer=True)
    return make_exam(org, questions=[essay, judge], scores=[15, 5], title="简答测试"), essay


def answered(org: Any, name: str = "王小明", text: str = "我的理解是……") -> Answer:
    """A submitted attempt of a member at ``org`` with its short answer waiting for a grade."""
    exam, essay = essay_exam(org)
    user = taker(org, name)
    attempt = attempt_start(actor=user, exam=exam)
    answer_save(actor=user, attempt=attempt, question=essay.pk, response=text)
    attempt_submit(actor=user, attempt=attempt)
    return Answer.objects.get(attempt_question__attempt=attempt, attempt_question__version__question=essay)


class _Queue(ScopedEndpointTests):
    def make_object(self, org: Any) -> Any:
        return answered(org)

    def marker(self, obj: Any) -> str:
        return anonymous_code(obj.attempt_question.attempt_id)


class TestGradingQueue(_Queue):
    url_name = "exams:grading_queue"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("exams:grading_queue")


class TestGradingQueueForABranchSecretary(TestGradingQueue):
    role = "branch_admin"


class TestGradeAnswer(_Queue):
    url_name = "exams:grade_answer"

    def url(self, obj: Any) -> str:
        return reverse("exams:grade_answer", args=[obj.pk])


def test_the_queue_never_shows_the_members_name_or_organisation(client, tree):
    answer = answered(tree.branch_a, name="王小明")
    client.force_login(make_user(role="org_admin", org=tree.root))
    for url in (reverse("exams:grading_queue"), reverse("exams:grade_answer", args=[answer.pk])):
        body = client.get(url).content.decode()
        assert "王小明" not in body
        assert tree.branch_a.name not in body
        assert anonymous_code(answer.attempt_question.attempt_id) in body


def test_the_answer_page_shows_the_reference_answer_and_rubric(client, tree):
    answer = answered(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:grade_answer", args=[answer.pk])).content.decode()
    assert "参考答案：决定性意义" in body and "要点三条，每条五分" in body and "我的理解是" in body


def test_grading_scores_the_attempt_and_goes_to_the_next(client, tree):
    first = answered(tree.branch_a, "甲")
    second = answered(tree.branch_a, "乙")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(reverse("exams:grade_answer", args=[first.pk]), {"points": "12"})
    assert response["Location"] == reverse("exams:grade_answer", args=[second.pk])
    first.refresh_from_db()
    attempt = first.attempt_question.attempt
    attempt.refresh_from_db()
    assert (first.points, attempt.status) == (Decimal("12.00"), "graded")


def test_grading_by_htmx_returns_the_next_card(client, tree):
    first = answered(tree.branch_a, "甲")
    second = answered(tree.branch_a, "乙")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("exams:grade_answer", args=[first.pk]), {"points": "15"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" not in body
    assert anonymous_code(second.attempt_question.attempt_id) in body


def test_the_last_grade_by_htmx_says_the_queue_is_empty(client, tree):
    answer = answered(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("exams:grade_answer", args=[answer.pk]), {"points": "3"}, HTTP_HX_REQUEST="true"
    )
    assert "已全部评完" in response.content.decode()


def test_points_above_the_item_score_are_refused_on_the_field(client, tree):
    answer = answered(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(reverse("exams:grade_answer", args=[answer.pk]), {"points": "16"})
    assert "得分不能超过本题分值15" in response.content.decode()
    answer.refresh_from_db()
    assert answer.points is None


def test_a_graded_answer_leaves_the_queue(client, tree):
    answer = answered(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(reverse("exams:grade_answer", args=[answer.pk]), {"points": "5"})
    assert client.get(reverse("exams:grade_answer", args=[answer.pk])).status_code == 404


def test_grading_is_audited(client, tree):
    answer = answered(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    before = AuditLog.objects.count()
    client.post(reverse("exams:grade_answer", args=[answer.pk]), {"points": "5"})
    assert AuditLog.objects.filter(message="简答题评分").count() == 1
    assert AuditLog.objects.count() > before


def test_the_queue_can_be_narrowed_to_one_exam(client, tree):
    one = answered(tree.branch_a, "甲")
    other = answered(tree.branch_a, "乙")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(
        reverse("exams:grading_queue"), {"exam": one.attempt_question.attempt.exam_id}
    ).content.decode()
    assert anonymous_code(one.attempt_question.attempt_id) in body
    assert anonymous_code(other.attempt_question.attempt_id) not in body


def test_the_queue_is_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    for name in ("甲", "乙", "丙", "丁"):
        answered(tree.branch_a, name)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.get(reverse("exams:grading_queue"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("exams:grading_queue"))
    assert response.content.decode().count('data-testid="grading-row"') == 4
