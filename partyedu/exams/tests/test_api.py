"""The API contract of issue 13 and a permission test for every exams endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.testing import OwnedEndpointTests, ScopedEndpointTests
from partyedu.exams.models import Attempt, Question
from partyedu.exams.services import attempt_start, attempt_submit
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


def exam_body(tree, questions, **extra):
    now = timezone.now()
    return {
        "organization": tree.district_a.pk,
        "title": "党章知识测试",
        "opens_at": (now - timedelta(minutes=5)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat(),
        "time_limit_minutes": 30,
        "attempts_allowed": 1,
        "pass_score": 60,
        "questions": [{"question": q.pk, "score": 50} for q in questions],
        **extra,
    }


def test_create_a_question_into_the_organisations_default_bank(tree, organiser):
    response = api_client(organiser).post(
        "/api/v1/questions/",
        {
            "organization": tree.root.pk,
            "qtype": "multiple",
            "stem": "三会一课包括哪些？",
            "options": ["支部党员大会", "支委会", "党小组会", "联欢会"],
            "answer": "ABC",
            "explanation": "见《条例》",
            "tags": ["组织生活"],
            "difficulty": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["answer"], body["tags"], body["bank_title"]) == ("ABC", ["组织生活"], "市委题库")


def test_an_answer_letter_beyond_the_options_is_400_on_the_answer(tree, organiser):
    response = api_client(organiser).post(
        "/api/v1/questions/",
        {
            "organization": tree.root.pk,
            "qtype": "single",
            "stem": "题",
            "options": ["甲", "乙"],
            "answer": "D",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["answer"] == ["答案“D”超出选项范围（共2个选项）"]


def test_a_question_in_an_organisation_outside_scope_is_400(tree):
    admin = make_user(role="org_admin", org=tree.district_b)
    response = api_client(admin).post(
        "/api/v1/questions/",
        {"organization": tree.district_a.pk, "qtype": "judge", "stem": "题", "answer": True},
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()["errors"]


def take_flow_exam(tree):
    bank = make_bank(tree.root)
    single = make_question(
        bank, qtype="single", stem="单选", options=["甲", "乙", "丙"], answer="B", explanation="解析一"
    )
    judge = make_question(bank, qtype="judge", stem="判断", answer=True, explanation="解析二")
    return [single, judge]


def test_the_whole_flow_through_the_api(tree, organiser):
    questions = take_flow_exam(tree)
    created = api_client(organiser).post(
        "/api/v1/exams/", exam_body(tree, questions, show_answers="immediately"), format="json"
    )
    assert created.status_code == 201, created.content
    exam_id = created.json()["id"]
    member = api_client(taker(tree.branch_a))

    started = member.post(f"/api/v1/exams/{exam_id}/attempts/")
    assert started.status_code == 201, started.content
    attempt = started.json()
    assert {q["id"] for q in attempt["questions"]} == {q.pk for q in questions}
    assert all(q["key"] is None and q["explanation"] is None for q in attempt["questions"])
    assert 'answer": "B' not in started.content.decode()

    single = next(q for q in attempt["questions"] if q["qtype"] == "single")
    shown_b = "ABC"[single["options"].index("乙")]
    for question, answer in ((single["id"], shown_b), (questions[1].pk, True)):
        saved = member.put(
            f"/api/v1/attempts/{attempt['id']}/answers/",
            {"question": question, "answer": answer},
            format="json",
        )
        assert saved.status_code == 200, saved.content

    submitted = member.post(f"/api/v1/attempts/{attempt['id']}/submit/")
    assert submitted.status_code == 200
    assert (submitted.json()["score"], submitted.json()["passed"]) == ("100.00", True)
    again = member.post(f"/api/v1/attempts/{attempt['id']}/submit/")
    assert again.json() == submitted.json()

    shown = member.get(f"/api/v1/attempts/{attempt['id']}/").json()
    by_id = {q["id"]: q for q in shown["questions"]}
    assert by_id[single["id"]]["key"] == shown_b
    assert by_id[questions[1].pk]["explanation"] == "解析二"


def test_answers_stay_hidden_after_submission_when_the_exam_never_shows_them(tree):
    exam = make_exam(tree.district_a, show_answers="never")
    user = taker(tree.branch_a)
    attempt = attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    body = api_client(user).get(f"/api/v1/attempts/{attempt.pk}/").json()
    assert all(q["key"] is None and q["explanation"] is None for q in body["questions"])


def test_a_member_outside_the_targets_gets_404_when_starting(tree):
    exam = make_exam(tree.district_a)
    response = api_client(taker(tree.branch_b)).post(f"/api/v1/exams/{exam.pk}/attempts/")
    assert response.status_code == 404


def test_an_answer_after_submission_is_400(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    response = api_client(user).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"question": exam.paper.items.first().question_id, "answer": "A"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["answer"] == ["本次答卷已交卷，不能再修改答案"]


def test_exam_results_count_targets_attempts_and_items(tree, organiser):
    exam = make_exam(tree.district_a)
    users = [taker(tree.branch_a, f"党员{n}") for n in range(3)]
    for user in users[:2]:
        attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    body = api_client(organiser).get(f"/api/v1/exams/{exam.pk}/results/").json()
    assert (body["targets"], body["attempted"], body["passed"]) == (3, 2, 0)
    assert body["by_organization"] == [
        {
            "organization": tree.branch_a.pk,
            "name": tree.branch_a.name,
            "targets": 3,
            "attempted": 2,
            "passed": 0,
        }
    ]
    assert {item["question"] for item in body["items"]} == set(
        Question.objects.filter(pk__in=exam.paper.items.values("question")).values_list("pk", flat=True)
    )


# --- permissions: every endpoint ---------------------------------------------------------------------


def _ids(response: Any) -> set[int]:
    body = response.json()
    return {row["id"] for row in body.get("results", body)}


class TestBankListApi(ScopedEndpointTests):
    url_name = "api:question-bank-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_bank(org, f"题库{org.pk}")

    def url(self, obj):
        return "/api/v1/question-banks/"

    def listed(self, response, obj):
        return obj.pk in _ids(response)


class TestBankDetailApi(ScopedEndpointTests):
    url_name = "api:question-bank-detail"
    api = True

    def make_object(self, org):
        return make_bank(org)

    def url(self, obj):
        return f"/api/v1/question-banks/{obj.pk}/"


class TestQuestionListApi(ScopedEndpointTests):
    url_name = "api:question-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_question(make_bank(org))

    def url(self, obj):
        return "/api/v1/questions/"

    def listed(self, response, obj):
        return obj.pk in _ids(response)


class TestQuestionDetailApi(ScopedEndpointTests):
    url_name = "api:question-detail"
    api = True

    def make_object(self, org):
        return make_question(make_bank(org))

    def url(self, obj):
        return f"/api/v1/questions/{obj.pk}/"


class TestExamListApi(ScopedEndpointTests):
    url_name = "api:exam-list"
    kind = "list"
    api = True

    def make_object(self, org):
        return make_exam(org)

    def url(self, obj):
        return "/api/v1/exams/"

    def listed(self, response, obj):
        return obj.pk in _ids(response)


class TestExamDetailApi(ScopedEndpointTests):
    url_name = "api:exam-detail"
    api = True

    def make_object(self, org):
        return make_exam(org)

    def url(self, obj):
        return f"/api/v1/exams/{obj.pk}/"


class TestExamResultsApi(ScopedEndpointTests):
    url_name = "api:exam-results"
    api = True

    def make_object(self, org):
        return make_exam(org)

    def url(self, obj):
        return f"/api/v1/exams/{obj.pk}/results/"


class TestAttemptDetailForOrganisersApi(ScopedEndpointTests):
    url_name = "api:attempt-detail"
    api = True

    def make_object(self, org):
        return attempt_start(actor=taker(org), exam=make_exam(org))

    def url(self, obj):
        return f"/api/v1/attempts/{obj.pk}/"


class TakerEndpointTests(OwnedEndpointTests):
    """Endpoints of the member who takes the exam: their own attempt answers 200; a member of
    the sibling district gets 404; a user without the 党员 role 403."""

    role = "member"
    api = True
    _owner: Any = None

    def owner(self, obj: Any) -> Any:
        return self._owner

    def stranger(self, scope_tree: Any) -> Any:
        return taker(scope_tree.branch_b, "旁人")

    def _get(self, client: Any, url: str) -> Any:
        return client.post(url, content_type="application/json")


class TestAttemptStartApi(TakerEndpointTests):
    url_name = "api:exam-attempts"

    def make_object(self, org):
        self._owner = taker(org)
        return make_exam(org)

    def url(self, obj):
        return f"/api/v1/exams/{obj.pk}/attempts/"

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        exam = self.make_object(scope_tree.branch_a)
        client.force_login(self._owner)
        assert self._get(client, self.url(exam)).status_code == 201


class TestAttemptSubmitApi(TakerEndpointTests):
    url_name = "api:attempt-submit"

    def make_object(self, org):
        self._owner = taker(org)
        return attempt_start(actor=self._owner, exam=make_exam(org))

    def url(self, obj):
        return f"/api/v1/attempts/{obj.pk}/submit/"


class TestAnswerSaveApi(TakerEndpointTests):
    url_name = "api:attempt-answers"

    def make_object(self, org):
        self._owner = taker(org)
        return attempt_start(actor=self._owner, exam=make_exam(org))

    def url(self, obj):
        self._question = obj.questions.get(position=3).version.question_id
        return f"/api/v1/attempts/{obj.pk}/answers/"

    def _get(self, client: Any, url: str) -> Any:
        return client.put(url, {"question": self._question, "answer": True}, content_type="application/json")


class TestOwnAttemptApi(TakerEndpointTests):
    url_name = "api:attempt-detail"

    def make_object(self, org):
        self._owner = taker(org)
        return attempt_start(actor=self._owner, exam=make_exam(org))

    def url(self, obj):
        return f"/api/v1/attempts/{obj.pk}/"

    def _get(self, client: Any, url: str) -> Any:
        return client.get(url, HTTP_ACCEPT="application/json")


def test_attempt_rows_are_counted_once_per_start(tree):
    exam = make_exam(tree.district_a)
    client = api_client(taker(tree.branch_a))
    client.post(f"/api/v1/exams/{exam.pk}/attempts/")
    client.post(f"/api/v1/exams/{exam.pk}/attempts/")
    assert Attempt.objects.filter(exam=exam).count() == 1


# --- an exam of a level above, seen by a lower level -------------------------------------------------


def test_exam_results_of_a_city_exam_count_a_branch_secretarys_members_only(tree):
    exam = make_exam(tree.root)
    for org, name in ((tree.branch_a, "赵一"), (tree.branch_a, "钱二"), (tree.branch_b, "孙三")):
        user = taker(org, name)
        attempt_submit(actor=user, attempt=attempt_start(actor=user, exam=exam))
    taker(tree.branch_a, "李四")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    response = api_client(secretary).get(f"/api/v1/exams/{exam.pk}/results/")
    assert response.status_code == 200
    body = response.json()
    assert (body["targets"], body["attempted"]) == (3, 2)
    assert [row["organization"] for row in body["by_organization"]] == [tree.branch_a.pk]
    assert body["items"] == []


def test_exam_results_of_an_exam_that_neither_is_nor_reaches_the_callers_are_404(tree):
    exam = make_exam(tree.district_a)
    secretary = make_user(role="branch_admin", org=tree.branch_b)
    assert api_client(secretary).get(f"/api/v1/exams/{exam.pk}/results/").status_code == 404


def test_a_reached_exam_stays_out_of_the_callers_exam_list_and_detail(tree):
    exam = make_exam(tree.root)
    client = api_client(make_user(role="branch_admin", org=tree.branch_a))
    assert exam.pk not in _ids(client.get("/api/v1/exams/"))
    assert client.get(f"/api/v1/exams/{exam.pk}/").status_code == 404


def test_an_exam_created_through_the_api_can_credit_hours(tree, organiser):
    body = exam_body(
        tree, take_flow_exam(tree), counts_as_hours=True, credit_hours="2.0", credit_kind="online"
    )
    created = api_client(organiser).post("/api/v1/exams/", body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["counts_as_hours"], created.json()["credit_hours"]) == (True, "2.0")


def test_an_exam_created_through_the_api_credits_no_hours_by_default(tree, organiser):
    created = api_client(organiser).post(
        "/api/v1/exams/", exam_body(tree, take_flow_exam(tree)), format="json"
    )
    assert created.json()["counts_as_hours"] is False
