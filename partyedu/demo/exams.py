"""Demo data of the exams area, written after the rest of the demo city:

- the city's question bank (about 200 questions of ``exam_questions``), kept by the city's
  committee and shared down the tree;
- a district's theory test (a fixed paper of 25 questions, four of them the district's own BAD
  questions), closed last month and taken by about 85% of the district's members with a spread of
  scores that follows how much each member knows; the bad questions behave as bad questions do
  (members who know the true fact are marked wrong by a wrong key), so the item analysis flags
  them;
- the practice set 《应知应会50问》 for the whole city, practised by a few members (member1 once,
  through the services, so that their record has questions got wrong to revisit);
- this month's 党纪知识测试, drawn by rule from the bank, open, with a 30-minute limit: member1 is
  among its takers and has not taken it.

The theory test's attempts are written in bulk (at city scale a district has thousands of takers):
attempts, the questions they drew and the answers given are inserted in batches, each answer is
marked by ``exams.keys.mark`` (the function live grading uses) and each attempt's score is the
sum of its answers' points, as ``services.attempt_submit`` totals it. Running the seed again adds
nothing: it stops when the city's bank exists.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.bulk import adapt, insert_plain
from partyedu.exams import keys
from partyedu.exams.choices import MANUAL_TYPES, AttemptStatus, ExamKind, QuestionType, ShowAnswers
from partyedu.exams.drawing import Drawn, draw
from partyedu.exams.models import Answer, Attempt, AttemptQuestion, Exam, Question, QuestionBank
from partyedu.exams.services import (
    answer_save,
    attempt_start,
    attempt_submit,
    bank_create,
    exam_create,
    question_create,
)
from partyedu.exams.targets import exam_target_members
from partyedu.members.choices import Education
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from .exam_questions import BAD_QUESTIONS, CITY_QUESTIONS, T_RULES, YINGZHI_YINGHUI

BANK_TITLE = "全市党员学习教育题库"
DISTRICT_BANK_TITLE = "理论测试自拟试题"
THEORY_TITLE = "党的创新理论知识测试"
PRACTICE_TITLE = "应知应会50问"
OPEN_TITLE_SUFFIX = "党纪知识测试"

# The theory test: 21 questions of the city's bank and the district's 4 bad ones, 4 points each.
THEORY_PICKS = {QuestionType.SINGLE: 9, QuestionType.MULTIPLE: 4, QuestionType.JUDGE: 5, QuestionType.FILL: 3}
THEORY_POINTS = Decimal(4)
THEORY_MINUTES = 40
PASS_SCORE = Decimal(60)
PRACTICE_POINTS = Decimal(2)
# The open exam's rules: 10 single × 4, 5 multiple × 6, 10 judge × 3 = 100 points, all 党规党纪.
OPEN_RULES = [
    {"qtype": QuestionType.SINGLE, "tag": T_RULES, "count": 10, "score": 4},
    {"qtype": QuestionType.MULTIPLE, "tag": T_RULES, "count": 5, "score": 6},
    {"qtype": QuestionType.JUDGE, "tag": T_RULES, "count": 10, "score": 3},
]
OPEN_MINUTES = 30

# Attempts written per batch (each with ~25 questions and answers).
BATCH = 400
# Members' knowledge: a normal spread (before branch and schooling effects).
ABILITY_MEAN = -0.3
ABILITY_SD = 1.1
# How hard a question of each difficulty is, on the members' knowledge scale.
HARDNESS = {1: -2.3, 2: -1.6, 3: -0.9, 4: -0.2, 5: 0.4}
EDUCATION_BONUS: dict[str, float] = {
    Education.PRIMARY: -0.45,
    Education.JUNIOR: -0.3,
    Education.SENIOR: -0.1,
    Education.COLLEGE: 0.0,
    Education.BACHELOR: 0.15,
    Education.MASTER: 0.3,
    Education.DOCTOR: 0.3,
}


@dataclass
class Item:
    """A question of a fixed paper as every attempt at it draws it (no shuffling), with what a
    simulated taker who knows it answers."""

    drawn: Drawn
    qtype: str
    key: Any
    options: int
    difficulty: int
    known: dict[Any, float] | None = None  # BAD questions: the true fact, or the readings of the stem
    partial: dict[Any, float] | None = None


@dataclass
class Sitting:
    """One simulated attempt: who, when and how much they know."""

    member_id: int
    number: int
    ability: float
    started_at: datetime
    minutes: float


def _org_of(username: str, fallback: Organization) -> Organization:
    row = (
        RoleAssignment.objects.filter(user__username=username)
        .select_related("organization")
        .order_by("id")
        .first()
    )
    return row.organization if row is not None else fallback


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _weighted(rng: random.Random, choices: dict[Any, float]) -> Any:
    values = list(choices)
    return rng.choices(values, weights=[choices[v] for v in values])[0]


def _knows(rng: random.Random, ability: float, difficulty: int) -> bool:
    return rng.random() < 1 / (1 + math.exp(-1.7 * (ability - HARDNESS[difficulty])))


def _guess(rng: random.Random, item: Item, wrong_fill: Sequence[str]) -> Any:
    letters = keys.LETTERS[: item.options]
    if item.qtype == QuestionType.SINGLE:
        return rng.choice(letters)
    if item.qtype == QuestionType.MULTIPLE:
        if item.known is None and len(item.key) > 1 and rng.random() < 0.5:
            # Half-knows it: one right option missed, or one wrong one added.
            missing = rng.choice(item.key)
            extra = [ch for ch in letters if ch not in item.key]
            if extra and rng.random() < 0.4:
                return "".join(sorted(item.key + rng.choice(extra)))
            return item.key.replace(missing, "")
        return "".join(sorted(rng.sample(letters, rng.randint(2, min(4, len(letters))))))
    if item.qtype == QuestionType.JUDGE:
        return rng.random() < 0.5
    return None if rng.random() < 0.5 else rng.choice(wrong_fill)


def _response(rng: random.Random, item: Item, ability: float, wrong_fill: Sequence[str]) -> Any:
    """What a member of ``ability`` answers (as shown: fixed papers are not shuffled)."""
    if rng.random() < 0.015:
        return None  # left blank
    if _knows(rng, ability, item.difficulty):
        if item.known is not None:
            return _weighted(rng, item.known)
        if item.qtype == QuestionType.FILL:
            answer = rng.choice(item.key)
            # Some type with full-width digits or stray spaces: the marking normalises them.
            return f" {answer} " if rng.random() < 0.1 else answer
        return item.key
    if item.partial is not None and rng.random() < 0.6:
        return _weighted(rng, item.partial)
    return _guess(rng, item, wrong_fill)


def _items(exam: Exam, extras: dict[int, dict[str, Any]] | None = None) -> list[Item]:
    """The fixed paper's questions as every attempt draws them (the paper shuffles nothing, so the
    draw is the same for every seed)."""
    extras = extras or {}
    drawn = draw(exam.paper, 0).items
    questions = Question.objects.select_related("current_version").in_bulk([d.question_id for d in drawn])
    items = []
    for d in drawn:
        question = questions[d.question_id]
        version = question.current_version
        assert version is not None and version.pk == d.version_id
        if question.qtype in MANUAL_TYPES:
            raise ValueError("bulk demo attempts cover objective questions only")
        extra = extras.get(question.pk, {})
        items.append(
            Item(
                drawn=d,
                qtype=question.qtype,
                key=version.answer,
                options=len(version.options or []),
                difficulty=question.difficulty,
                known=extra.get("known"),
                partial=extra.get("partial"),
            )
        )
    return items


def _write_attempts(
    rng: random.Random, exam: Exam, items: list[Item], sittings: list[Sitting], wrong_fill: Sequence[str]
) -> None:
    """Submitted, graded attempts in bulk. Each answer is marked by ``keys.mark`` (what live
    grading calls) and an attempt's score is the sum of its answers' points against the exam's
    pass mark, as ``services.attempt_submit`` totals it (the tests re-grade a few through the
    service and get the same)."""
    max_score = sum((item.drawn.score for item in items), Decimal(0))
    limit = timedelta(minutes=exam.time_limit_minutes) if exam.time_limit_minutes else None
    for start in range(0, len(sittings), BATCH):
        batch = sittings[start : start + BATCH]
        attempts = []
        marked_rows: list[list[tuple[Any, bool, Decimal]]] = []
        for s in batch:
            deadline = min(exam.closes_at, s.started_at + limit) if limit else exam.closes_at
            rows = []
            for item in items:
                value = keys.clean_response(
                    item.qtype, item.options, _response(rng, item, s.ability, wrong_fill)
                )
                marked = keys.mark(item.qtype, item.key, value, item.drawn.option_order, item.drawn.score)
                assert marked is not None
                rows.append((value, *marked))
            score = sum((points for _value, _correct, points in rows), Decimal(0)).quantize(Decimal("0.01"))
            marked_rows.append(rows)
            attempts.append(
                Attempt(
                    exam=exam,
                    member_id=s.member_id,
                    number=s.number,
                    seed=rng.getrandbits(63),
                    started_at=s.started_at,
                    deadline=deadline,
                    submitted_at=min(deadline, s.started_at + timedelta(minutes=s.minutes)),
                    status=AttemptStatus.GRADED,
                    max_score=max_score,
                    score=score,
                    passed=score >= exam.pass_score,
                )
            )
        Attempt.objects.bulk_create(attempts)
        # The questions and answers (some 50 rows an attempt) go in as plain rows (COPY on
        # PostgreSQL): building a model instance per row would be most of the seed's time.
        insert_plain(
            AttemptQuestion,
            ["attempt", "position", "version", "score", "option_order"],
            (
                (
                    attempt.pk,
                    position,
                    item.drawn.version_id,
                    adapt(item.drawn.score),
                    json.dumps(item.drawn.option_order),
                )
                for attempt in attempts
                for position, item in enumerate(items, start=1)
            ),
        )
        row_ids = {
            (attempt_id, position): pk
            for pk, attempt_id, position in AttemptQuestion.objects.filter(
                attempt_id__in=[a.pk for a in attempts]
            ).values_list("pk", "attempt_id", "position")
        }
        answers = []
        for attempt, rows in zip(attempts, marked_rows, strict=True):
            assert attempt.submitted_at is not None
            spent = attempt.submitted_at - attempt.started_at
            for position, (value, correct, points) in enumerate(rows, start=1):
                answers.append(
                    (
                        row_ids[attempt.pk, position],
                        None if value is None else json.dumps(value, ensure_ascii=False),
                        adapt(attempt.started_at + spent * position / (len(items) + 1)),
                        correct,
                        adapt(points),
                    )
                )
        insert_plain(Answer, ["attempt_question", "response", "saved_at", "is_correct", "points"], answers)


def _abilities(
    rng: random.Random, members: list[tuple[int, int, str]], *, mean: float = ABILITY_MEAN
) -> dict[int, float]:
    """Each member's knowledge: a spread around ``mean`` with the branch's study habits and the
    member's schooling."""
    branch_effect: dict[int, float] = {}
    out = {}
    for pk, org_id, education in members:
        if org_id not in branch_effect:
            branch_effect[org_id] = rng.gauss(0, 0.3)
        out[pk] = rng.gauss(mean, ABILITY_SD) + branch_effect[org_id] + EDUCATION_BONUS.get(education, 0.0)
    return out


def _theory_test(
    rng: random.Random,
    district: Organization,
    bank_questions: dict[str, Question],
    today: date,
    must_take: set[int],
) -> tuple[Exam, int, int]:
    """The district's theory test, closed last month; returns it with its targets and takers."""
    own = bank_create(actor=None, organization=district, title=DISTRICT_BANK_TITLE)
    bad = {}
    for entry in BAD_QUESTIONS:
        question = question_create(actor=None, bank=own, data=entry["question"])
        bad[question.pk] = entry
    by_type: dict[str, list[Question]] = {}
    for question in bank_questions.values():
        if question.difficulty <= 4:
            by_type.setdefault(question.qtype, []).append(question)
    chosen: list[Question] = []
    for qtype, count in THEORY_PICKS.items():
        picked = rng.sample(sorted(by_type[qtype], key=lambda q: q.pk), count)
        picked += [q for q in Question.objects.filter(pk__in=bad).order_by("pk") if q.qtype == qtype]
        rng.shuffle(picked)
        chosen += picked
    last_month = today.replace(day=1) - timedelta(days=1)
    opens = _aware(last_month.replace(day=10), 8)
    closes = _aware(last_month.replace(day=20), 20)
    exam = exam_create(
        actor=None,
        organization=district,
        data={
            "title": THEORY_TITLE,
            "opens_at": opens,
            "closes_at": closes,
            "time_limit_minutes": THEORY_MINUTES,
            "attempts_allowed": 1,
            "pass_score": PASS_SCORE,
            "show_answers": ShowAnswers.AFTER_CLOSE,
            "questions": [{"question": q.pk, "score": THEORY_POINTS} for q in chosen],
            "shuffle_questions": False,
            "shuffle_options": False,
        },
    )
    items = _items(exam, bad)
    members = list(exam_target_members(exam).order_by("pk").values_list("pk", "organization_id", "education"))
    ability = _abilities(rng, members)
    turnout: dict[int, float] = {}
    sittings = []
    days = (closes.date() - opens.date()).days + 1
    for pk, org_id, _education in members:
        if org_id not in turnout:
            turnout[org_id] = min(0.99, max(0.6, rng.gauss(0.86, 0.09)))
        if pk not in must_take and rng.random() >= turnout[org_id] + 0.03 * ability[pk]:
            continue
        started = _aware(
            opens.date() + timedelta(days=rng.randrange(days)), rng.randint(8, 20), rng.randrange(60)
        )
        started = max(opens, min(started, closes - timedelta(minutes=THEORY_MINUTES)))
        minutes = min(THEORY_MINUTES - 0.5, max(6.0, rng.gauss(22, 7)))
        sittings.append(Sitting(pk, 1, ability[pk], started, minutes))
    wrong_fill = [q["answer"][0] for q in CITY_QUESTIONS if q["qtype"] == QuestionType.FILL]
    _write_attempts(rng, exam, items, sittings, wrong_fill)
    return exam, len(members), len(sittings)


def _practice(
    rng: random.Random, root: Organization, bank_questions: dict[str, Question], today: date, member1: Any
) -> tuple[Exam, int]:
    """《应知应会50问》 for the whole city, practised by a few members; returns it and how many
    members practised."""
    exam = exam_create(
        actor=None,
        organization=root,
        data={
            "title": PRACTICE_TITLE,
            "kind": ExamKind.PRACTICE,
            "opens_at": _aware(date(today.year, 1, 1), 0),
            "closes_at": _aware(date(today.year, 12, 31), 23, 59),
            "time_limit_minutes": None,
            "pass_score": PASS_SCORE,
            "show_answers": ShowAnswers.IMMEDIATELY,
            "questions": [
                {"question": bank_questions[q["stem"]].pk, "score": PRACTICE_POINTS} for q in YINGZHI_YINGHUI
            ],
            "shuffle_questions": False,
            "shuffle_options": False,
        },
    )
    items = _items(exam)
    exclude = {member1.pk} if member1 is not None else set()
    pool = list(
        exam_target_members(exam)
        .exclude(pk__in=exclude)
        .order_by("pk")
        .values_list("pk", "organization_id", "education")
    )
    few = rng.sample(pool, min(len(pool), max(8, min(60, len(pool) // 50))))
    ability = _abilities(rng, few, mean=ABILITY_MEAN + 0.3)
    start = max(exam.opens_at, timezone.now() - timedelta(days=120))
    span = max(1, int((timezone.now() - timedelta(days=1) - start).total_seconds() // 86400))
    sittings = []
    for pk, _org, _education in few:
        first = _aware(
            start.date() + timedelta(days=rng.randrange(span)), rng.randint(7, 21), rng.randrange(60)
        )
        for number in range(1, rng.choice((1, 1, 2, 3)) + 1):
            # Each try after the first comes some days later and goes better: the member revisited.
            at = min(first + timedelta(days=3 * (number - 1)), timezone.now() - timedelta(hours=2))
            sittings.append(Sitting(pk, number, ability[pk] + 0.35 * (number - 1), at, rng.uniform(8, 25)))
    wrong_fill = [q["answer"][0] for q in CITY_QUESTIONS if q["qtype"] == QuestionType.FILL]
    _write_attempts(rng, exam, items, sittings, wrong_fill)
    if member1 is None or not member1.user_id:
        return exam, len(few)
    _member1_practises(rng, exam, member1.user, items)
    return exam, len(few) + 1


def _member1_practises(rng: random.Random, exam: Exam, user: User, items: list[Item]) -> None:
    """member1 practises once through the services, getting six questions wrong."""
    attempt = attempt_start(actor=user, exam=exam)
    wrong = set(rng.sample(range(len(items)), 6))
    for index, item in enumerate(items):
        response: Any = item.key[0] if item.qtype == QuestionType.FILL else item.key
        if index in wrong:
            if item.qtype == QuestionType.JUDGE:
                response = not item.key
            elif item.qtype == QuestionType.FILL:
                response = "不清楚"
            else:
                others = [ch for ch in keys.LETTERS[: item.options] if ch not in item.key]
                response = (
                    rng.choice(others) if item.qtype == QuestionType.SINGLE else item.key[1:] or others[0]
                )
        answer_save(actor=user, attempt=attempt, question=item.drawn.question_id, response=response)
    attempt_submit(actor=user, attempt=attempt)


def _open_exam(org: Organization, today: date) -> Exam:
    """This month's 党纪知识测试, drawn by rule, open now and for the rest of the month."""
    now = timezone.now()
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    opens = min(_aware(today.replace(day=1), 8), now - timedelta(hours=1))
    closes = max(_aware(next_month - timedelta(days=1), 22), now + timedelta(days=3))
    return exam_create(
        actor=None,
        organization=org,
        data={
            "title": f"{today.month}月{OPEN_TITLE_SUFFIX}",
            "opens_at": opens,
            "closes_at": closes,
            "time_limit_minutes": OPEN_MINUTES,
            "attempts_allowed": 1,
            "pass_score": PASS_SCORE,
            "show_answers": ShowAnswers.AFTER_CLOSE,
            "rules": OPEN_RULES,
            "shuffle_questions": True,
            "shuffle_options": True,
        },
    )


def seed_exams(*, seed: int, today: date, say: Callable[[str], Any] = print) -> list[str]:
    """The city's bank, the district's theory test, 《应知应会50问》 and this month's open exam;
    returns summary lines (none when the city has them already)."""
    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None or QuestionBank.objects.filter(organization=root, title=BANK_TITLE).exists():
        return []
    rng = random.Random(f"{seed}-exams")
    district = _org_of("district_admin", root)
    member1 = Member.objects.filter(user__username="member1").select_related("user").first()
    with transaction.atomic():
        bank = bank_create(
            actor=None,
            organization=root,
            title=BANK_TITLE,
            description="全市党员学习教育通用题库：党章党规、党的创新理论、党史、全会精神等，供各级党组织组卷和练习。",
        )
        bank_questions = {q["stem"]: question_create(actor=None, bank=bank, data=q) for q in CITY_QUESTIONS}
        must_take = {member1.pk} if member1 is not None else set()
        theory, targets, takers = _theory_test(rng, district, bank_questions, today, must_take)
        graded = Attempt.objects.filter(exam=theory)
        passed = graded.filter(passed=True).count()
        mean = graded.aggregate(total=Sum("score"))["total"] or Decimal(0)
        _practice_exam, practised = _practice(rng, root, bank_questions, today, member1)
        in_district = member1 is not None and member1.org_path.startswith(district.path)
        open_exam = _open_exam(district if in_district else root, today)
        from .exams_contest import seed_contest

        rounds, contestants, awards = seed_contest(rng, district, bank_questions, today)
    say(f"题库 {len(bank_questions)} 道试题，理论测试参考 {takers}/{targets} 人")
    average = (mean / takers).quantize(Decimal("0.1")) if takers else Decimal(0)
    return [
        f"题库 {root.name}“{BANK_TITLE}”：{len(bank_questions)}道试题",
        f"理论测试 {district.name}“{THEORY_TITLE}”（上月已结束）：应考{targets}人、参考{takers}人、"
        f"及格{passed}人、平均{average}分，含4道有问题的自拟试题（试题分析应标出）",
        f"练习 “{PRACTICE_TITLE}”（全市）：{len(YINGZHI_YINGHUI)}道题，{practised}名党员练习过",
        f"进行中的考试 {open_exam.organization.name}“{open_exam.title}”：随机抽题、限时{OPEN_MINUTES}分钟，"
        "member1 尚未参加",
        f"知识竞赛 {district.name}上月党史知识月赛（已结束）：{rounds}轮、{contestants}名党员参加、"
        f"{awards}人获奖并发证书，组织参与率已公布",
    ]


def clear_exams() -> None:
    """Remove everything the exams seed wrote (``seed_demo --force``): attempts first, then exams,
    papers, questions and banks. The rows point at organisations and members with PROTECT."""
    from partyedu.exams import models

    def wipe(model: Any) -> None:
        model.objects.all()._raw_delete(model.objects.db)

    from partyedu.competitions.choices import CompetitionKind
    from partyedu.competitions.models import Award, Certificate, Competition

    contest_records = Competition.objects.filter(kind=CompetitionKind.CONTEST)
    wipe(models.LiveAnswer)
    wipe(models.LiveTeam)
    wipe(models.LiveSession)
    wipe(models.ContestAward)
    Certificate.objects.filter(award__competition__in=contest_records).delete()
    Award.objects.filter(competition__in=contest_records).delete()
    wipe(models.ContestRound)
    wipe(models.Contest)
    contest_records.delete()
    wipe(models.Answer)
    wipe(models.AttemptQuestion)
    wipe(models.Attempt)
    wipe(models.ExamTarget)
    wipe(models.Exam)
    wipe(models.PaperItem)
    wipe(models.PaperRule)
    wipe(models.Paper)
    models.Question.objects.update(current_version=None)
    wipe(models.Question.tags.through)
    wipe(models.QuestionVersion)
    wipe(models.Question)
    wipe(models.QuestionBank)
    wipe(models.QuestionTag)
