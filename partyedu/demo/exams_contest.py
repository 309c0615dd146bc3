"""The demo's finished monthly knowledge contest (知识竞赛): last month's 党史知识月赛 of the
district, four weekly rounds of ten questions from the city bank, taken voluntarily by about
two in five of the district's members (up to twice a round, the better attempt counting), with
awards and certificates granted and the organisation table published. The attempts are written
and marked the way the theory test's are (``exams._write_attempts``)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Max

from partyedu.exams.choices import QuestionType, ShowAnswers
from partyedu.exams.models import Attempt, Question
from partyedu.exams.services.contests import (
    contest_awards_grant,
    contest_create,
    contest_publish,
    contest_round_add,
)
from partyedu.exams.targets import exam_target_members
from partyedu.organizations.models import Organization

from .exam_questions import CITY_QUESTIONS
from .exams import Sitting, _abilities, _aware, _items, _write_attempts

CONTEST_TITLE_SUFFIX = "党史知识月赛"
ROUNDS = ("第一周", "第二周", "第三周", "第四周")
ROUND_PICKS = {QuestionType.SINGLE: 4, QuestionType.MULTIPLE: 2, QuestionType.JUDGE: 3, QuestionType.FILL: 1}
ROUND_POINTS = Decimal(10)
ROUND_MINUTES = 10
TAKE_PART = 0.4  # voluntary: no quota (DESIGN §3.5)
AWARDS = ("first",) * 1 + ("second",) * 2 + ("third",) * 3 + ("merit",) * 6


def seed_contest(
    rng: random.Random, district: Organization, bank_questions: dict[str, Question], today: date
) -> tuple[int, int, int]:
    """Last month's contest; returns (rounds, members who took part, awards)."""
    last_day = today.replace(day=1) - timedelta(days=1)
    first_day = last_day.replace(day=1)
    contest = contest_create(
        actor=None,
        organization=district,
        data={
            "title": f"{last_day.year}年{last_day.month}月{CONTEST_TITLE_SUFFIX}",
            "description": "每周一轮、每轮10题，每轮可答两次取最高分；自愿参加，不排名通报。",
            "starts_on": first_day,
            "ends_on": last_day,
        },
    )
    pool: dict[str, list[Question]] = defaultdict(list)
    history = {q["stem"] for q in CITY_QUESTIONS if "党史" in q.get("tags", [])}
    for stem, question in sorted(bank_questions.items(), key=lambda kv: kv[1].pk):
        if question.difficulty <= 4 and (stem in history or question.qtype == QuestionType.FILL):
            pool[question.qtype].append(question)
    for qtype in ROUND_PICKS:  # too few 党史 questions of a type: take the type's others too
        if len(pool[qtype]) < ROUND_PICKS[qtype] * len(ROUNDS):
            pool[qtype] += [q for q in bank_questions.values() if q.qtype == qtype and q not in pool[qtype]]
    members: list[tuple[int, int, str]] = []
    ability: dict[int, float] = {}
    takers: set[int] = set()
    for week, name in enumerate(ROUNDS):
        chosen = [q for qtype, n in ROUND_PICKS.items() for q in pool[qtype][week * n : (week + 1) * n]]
        opens = _aware(first_day + timedelta(days=7 * week), 8)
        closes = _aware(min(last_day, first_day + timedelta(days=7 * week + 6)), 22)
        round_ = contest_round_add(
            actor=None,
            contest=contest,
            data={
                "name": name,
                "opens_at": opens,
                "closes_at": closes,
                "time_limit_minutes": ROUND_MINUTES,
                "attempts_allowed": 2,
                "show_answers": ShowAnswers.AFTER_CLOSE,
                "questions": [{"question": q.pk, "score": ROUND_POINTS} for q in chosen],
                "shuffle_options": False,
            },
        )
        exam = round_.exam
        if not members:
            members = list(
                exam_target_members(exam).order_by("pk").values_list("pk", "organization_id", "education")
            )
            ability = _abilities(rng, members, mean=0.2)  # who volunteers knows a little more
        sittings = []
        days = max(1, (closes.date() - opens.date()).days + 1)
        for pk, _org, _education in members:
            if rng.random() >= TAKE_PART + 0.05 * ability[pk]:
                continue
            takers.add(pk)
            for number in (1, 2) if rng.random() < 0.25 else (1,):
                started = _aware(opens.date() + timedelta(days=rng.randrange(days)), rng.randint(8, 21))
                started = max(opens, min(started, closes - timedelta(minutes=ROUND_MINUTES)))
                minutes = min(ROUND_MINUTES - 0.5, max(3.0, rng.gauss(7, 2)))
                sittings.append(Sitting(pk, number, ability[pk] + 0.2 * (number - 1), started, minutes))
        _write_attempts(rng, exam, _items(exam), sittings, ["共产主义", "人民"])
    totals: dict[int, Decimal] = defaultdict(Decimal)
    best = (
        Attempt.objects.filter(exam__contest_round__contest=contest)
        .values("member_id", "exam_id")
        .annotate(best=Max("score"))
        .values_list("member_id", "best")
    )
    for member_id, score in best:
        totals[member_id] += score or Decimal(0)
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    grades = dict(zip(ranked, AWARDS, strict=False))
    if grades:
        contest_awards_grant(
            actor=None, contest=contest, grades=grades, awarded_on=last_day + timedelta(days=3)
        )
    contest_publish(actor=None, contest=contest, published=True)
    return len(ROUNDS), len(takers), len(grades)
