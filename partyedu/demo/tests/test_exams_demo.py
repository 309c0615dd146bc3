"""The exams area's demo data on a small demo city: the city's bank, the district's theory test
with its bad questions, 《应知应会50问》 and the open exam member1 can take."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.demo.exam_questions import BAD_QUESTIONS, CITY_QUESTIONS, YINGZHI_YINGHUI
from partyedu.demo.exams import BANK_TITLE, OPEN_TITLE_SUFFIX, PRACTICE_TITLE, THEORY_TITLE, seed_exams
from partyedu.demo.testing import seeded_once
from partyedu.exams import keys, services
from partyedu.exams.choices import AttemptStatus, ExamKind, PaperKind
from partyedu.exams.models import Answer, Attempt, Exam, Question, QuestionBank
from partyedu.exams.selectors import exam_results
from partyedu.exams.targets import exam_target_members

pytestmark = pytest.mark.django_db

MEMBERS = 1000
SEED = 7


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """One seed for the module (``seed_demo`` runs ``seed_exams``); each test runs in a savepoint of it (``partyedu.demo.testing``)."""

    def seed():
        out = io.StringIO()
        call_command("seed_demo", members=MEMBERS, seed=SEED, stdout=out)
        return out.getvalue().splitlines()

    with seeded_once(django_db_blocker, seed) as lines:
        yield lines


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def theory_test():
    return Exam.objects.select_related("organization").get(title=THEORY_TITLE)


# --- the question data --------------------------------------------------------------------------------


def test_the_city_questions_mix_the_types_as_planned():
    counts = Counter(q["qtype"] for q in CITY_QUESTIONS)
    total = len(CITY_QUESTIONS)
    assert 190 <= total <= 220
    for qtype, share in {
        "single": 0.40,
        "multiple": 0.20,
        "judge": 0.20,
        "fill": 0.15,
        "essay": 0.05,
    }.items():
        assert abs(counts[qtype] / total - share) <= 0.05, qtype


def test_every_question_is_valid_and_explained():
    for data in [*CITY_QUESTIONS, *(b["question"] for b in BAD_QUESTIONS)]:
        clean = services.clean_question(data)
        assert clean.explanation and clean.tags and 1 <= clean.difficulty <= 5, data["stem"]
        if data["qtype"] == "essay":
            assert clean.reference_answer and clean.rubric, data["stem"]


def test_stems_are_unique_once_normalised():
    stems = [keys.normalize_stem(q["stem"]) for q in CITY_QUESTIONS]
    assert len(set(stems)) == len(stems)


def test_the_practice_set_has_fifty_objective_questions():
    assert len(YINGZHI_YINGHUI) == 50
    assert all(q["qtype"] != "essay" for q in YINGZHI_YINGHUI)


def test_each_bad_question_has_a_key_that_differs_from_what_those_who_know_answer():
    for entry in BAD_QUESTIONS:
        key = entry["question"]["answer"]
        assert entry["flaw"]
        assert entry["known"].get(key, 0) < 0.5, entry["question"]["stem"]


# --- the seeded city ------------------------------------------------------------------------------------


def test_the_city_bank_holds_every_question_with_its_type_mix(demo_lines):
    bank = QuestionBank.objects.get(title=BANK_TITLE)
    assert bank.organization.parent_id is None
    seeded = Counter(Question.objects.filter(bank=bank).values_list("qtype", flat=True))
    assert seeded == Counter(q["qtype"] for q in CITY_QUESTIONS)
    assert any(line.startswith("题库") for line in demo_lines)


def test_the_theory_test_closed_last_month_and_most_members_took_it(demo_lines):
    exam = theory_test()
    assert exam.closes_at < timezone.now()
    assert exam.closes_at.date().month == (timezone.localdate().replace(day=1) - timedelta(days=1)).month
    assert exam.paper.kind == PaperKind.FIXED and 20 <= exam.paper.items.count() <= 25
    targets = exam_target_members(exam).count()
    takers = Attempt.objects.filter(exam=exam).count()
    assert targets >= 40
    assert 0.75 <= takers / targets <= 0.95


def test_the_theory_test_attempts_are_graded_with_answers_for_every_question(demo_lines):
    exam = theory_test()
    attempts = Attempt.objects.filter(exam=exam)
    assert not attempts.exclude(status=AttemptStatus.GRADED).exists()
    per_attempt = exam.paper.items.count()
    assert (
        Answer.objects.filter(attempt_question__attempt__exam=exam).count() == attempts.count() * per_attempt
    )


def test_the_seeded_scores_are_what_live_submission_gives(demo_lines):
    """Re-open a few attempts and submit them through the service's own finalisation: the same
    points and the same score come out."""
    exam = theory_test()
    for attempt in (
        Attempt.objects.filter(exam=exam).select_related("exam", "member__user").order_by("pk")[:5]
    ):
        before = (attempt.score, attempt.passed)
        Answer.objects.filter(attempt_question__attempt=attempt).update(is_correct=None, points=None)
        Attempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.IN_PROGRESS, score=None, passed=None
        )
        attempt.refresh_from_db()
        services._finalize(attempt, attempt.submitted_at)
        attempt.refresh_from_db()
        assert (attempt.score, attempt.passed) == before


def test_the_pass_rate_and_mean_are_plausible(demo_lines):
    district_admin = User.objects.get(username="district_admin")
    results = exam_results(user=district_admin, exam=theory_test())
    assert 0.60 <= results["passed"] / results["attempted"] <= 0.95
    assert Decimal(62) <= results["mean_score"] <= Decimal(85)


def test_scores_are_spread_not_bunched(demo_lines):
    scores = list(Attempt.objects.filter(exam=theory_test()).values_list("score", flat=True))
    assert max(scores) - min(scores) >= 30
    assert len(set(scores)) >= 8


def test_the_item_analysis_flags_the_bad_questions_and_few_good_ones(demo_lines):
    district_admin = User.objects.get(username="district_admin")
    results = exam_results(user=district_admin, exam=theory_test())
    bad_stems = {b["question"]["stem"] for b in BAD_QUESTIONS}
    bad = set(Question.objects.filter(current_version__stem__in=bad_stems).values_list("pk", flat=True))
    assert len(bad) == len(BAD_QUESTIONS)
    flagged = {item["question"] for item in results["items"] if item["flagged"]}
    assert bad <= flagged
    good = [item for item in results["items"] if item["question"] not in bad]
    assert len(flagged - bad) <= len(good) // 5


def test_the_bad_questions_are_not_in_the_city_bank(demo_lines):
    stems = {b["question"]["stem"] for b in BAD_QUESTIONS}
    assert not Question.objects.filter(bank__title=BANK_TITLE, current_version__stem__in=stems).exists()


def test_the_practice_set_is_city_wide_and_some_members_practised(demo_lines):
    practice = Exam.objects.get(title=PRACTICE_TITLE)
    assert practice.kind == ExamKind.PRACTICE and practice.organization.parent_id is None
    assert practice.attempts_allowed == 0
    assert practice.paper.items.count() == 50
    members = Attempt.objects.filter(exam=practice).values("member").distinct().count()
    assert 5 <= members <= 100


def test_member1_has_practised_and_has_questions_to_revisit(demo_lines):
    practice = Exam.objects.get(title=PRACTICE_TITLE)
    attempt = Attempt.objects.get(exam=practice, member__user__username="member1")
    assert attempt.status == AttemptStatus.GRADED
    assert Answer.objects.filter(attempt_question__attempt=attempt, is_correct=False).count() == 6


def test_member1_can_start_the_open_exam(demo_lines):
    exam = Exam.objects.get(title__endswith=OPEN_TITLE_SUFFIX)
    member1 = User.objects.get(username="member1")
    assert exam.opens_at <= timezone.now() < exam.closes_at
    assert exam.paper.kind == PaperKind.RULE and exam.time_limit_minutes == 30
    assert not Attempt.objects.filter(exam=exam).exists()
    attempt = services.attempt_start(actor=member1, exam=exam)
    assert attempt.questions.count() == 25
    assert attempt.max_score == Decimal(100)
    assert attempt.deadline <= timezone.now() + timedelta(minutes=30)


def test_the_open_exam_draws_no_bad_question(demo_lines):
    exam = Exam.objects.get(title__endswith=OPEN_TITLE_SUFFIX)
    member1 = User.objects.get(username="member1")
    attempt = services.attempt_start(actor=member1, exam=exam)
    banks = set(attempt.questions.values_list("version__question__bank__title", flat=True))
    assert banks == {BANK_TITLE}


def test_seeding_again_adds_nothing(demo_lines):
    before = (Question.objects.count(), Exam.objects.count(), Attempt.objects.count())
    assert seed_exams(seed=SEED, today=timezone.localdate(), say=lambda message: None) == []
    assert (Question.objects.count(), Exam.objects.count(), Attempt.objects.count()) == before


# --- the monthly contest -------------------------------------------------------------------------------


def test_the_finished_contest_has_four_rounds_awards_and_verifiable_certificates(demo_lines, client):
    from partyedu.exams.models import Contest

    contest = Contest.objects.get(title__endswith="党史知识月赛")
    assert contest.rounds.count() == 4
    assert contest.results_published
    award = contest.awards.select_related("award__certificate").first()
    assert award is not None
    response = client.get(f"/verify/{award.award.certificate.code}/")
    assert response.status_code == 200
    assert contest.title in response.content.decode()


def test_the_contest_rounds_are_closed_and_graded(demo_lines):
    from partyedu.exams.models import Contest

    contest = Contest.objects.get(title__endswith="党史知识月赛")
    rounds = Exam.objects.filter(contest_round__contest=contest)
    assert all(exam.closes_at < timezone.now() for exam in rounds)
    assert not Attempt.objects.filter(exam__in=rounds).exclude(status=AttemptStatus.GRADED).exists()
