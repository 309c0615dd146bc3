"""The 「我来讲党课」 half of the demo: a finished city competition with three rounds scored by the
demo reviewers (reviewer1 … reviewer6), its awards and certificates. Written through the services,
so the demo obeys every rule the product enforces (rubric, conflict of interest, balanced
assignment, aggregation, advancement, award rules). Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

DEMO_YEAR = 2026
COMPETITION_TITLE = f"{DEMO_YEAR}年泉城市「我来讲党课」优秀党课评选"
RUBRIC = [
    {"name": "内容", "weight": 40, "description": "政治站位、主题鲜明、联系实际"},
    {"name": "表达", "weight": 30, "description": "语言生动、逻辑清楚、时间把握"},
    {"name": "效果", "weight": 30, "description": "感染力、互动性、党员反响"},
]
CATEGORIES = ["常规党课", "微党课", "情景党课"]
ROUNDS = [
    {"name": "区县初评", "reviews_per_entry": 3, "aggregation": "mean", "advance_count": 12},
    {"name": "市级复评", "reviews_per_entry": 4, "aggregation": "trimmed_mean", "advance_count": 6},
    {"name": "市级终评（专家评审）", "reviews_per_entry": 5, "aggregation": "zscore"},
]
TITLES = [
    "从“进京赶考”看初心使命",
    "小巷里的大党建",
    "乡村振兴路上的党员身影",
    "学习党章 做合格党员",
    "廉洁从我做起",
    "老党员讲家风",
    "泉水边的红色记忆",
    "车间里的党旗红",
    "网格中的为民情怀",
    "新时代的“枫桥经验”",
    "把论文写在大地上",
    "一名快递小哥党员的日常",
    "传承红色基因 赓续精神血脉",
    "党史中的调查研究",
    "做新时代的“孺子牛”",
    "数字社区里的党群服务",
    "田间地头话党课",
    "我身边的共产党员",
    "守护泉城碧水蓝天",
    "从一封家书说起",
    "退休不褪色",
    "党建引领物业治理",
    "青春向党 奋斗有我",
    "三会一课怎样开出实效",
]
ENTRY_COUNT = len(TITLES)


@dataclass
class LectureResult:
    entries: int = 0
    reviews: int = 0
    awards: int = 0


def build_competition(*, users: dict[str, Any], seed: int) -> LectureResult:
    """A finished three-round city competition. Entries are recommended by branches spread over
    the districts, their lecturers are the branches' secretaries (or first members)."""
    from partyedu.competitions.models import Review
    from partyedu.competitions.services import (
        awards_grant,
        competition_create,
        entry_create,
        review_submit,
        round_advance,
        round_assign,
        round_close,
        round_create,
        round_reviewers_set,
    )
    from partyedu.members.models import Member
    from partyedu.organizations.models import Organization

    rng = random.Random(seed * 31 + 4)
    root = Organization.objects.filter(is_active=True).order_by("path").first()
    if root is None:
        return LectureResult()
    competition = competition_create(
        actor=None,
        data={
            "title": COMPETITION_TITLE,
            "organization": root,
            "year": DEMO_YEAR,
            "description": "讲党课、学党课、评党课、播党课：个人自荐、基层推荐、本级实讲，逐级遴选。",
            "criteria": RUBRIC,
            "categories": CATEGORIES,
        },
    )
    rounds = [round_create(actor=None, competition=competition, data=spec) for spec in ROUNDS]
    categories = list(competition.categories.order_by("id"))

    # Branches with a secretary, round-robin over the districts so every district enters.
    districts = list(
        Organization.objects.filter(
            path__startswith=root.path, depth=root.depth + 1, is_active=True
        ).order_by("path")
    )
    lecturers: list[Member] = []
    pools = []
    for district in districts:
        members = list(
            Member.objects.filter(org_path__startswith=district.path, is_active=True, status="full")
            .exclude(user__isnull=False)
            .order_by("org_path", "pk")[:400]
        )
        secretaries = [m for m in members if "secretary" in (m.categories or [])]
        pools.append(secretaries or members)
    i = 0
    while len(lecturers) < ENTRY_COUNT and any(pools):
        pool = pools[i % len(pools)]
        if pool:
            lecturers.append(pool.pop(rng.randrange(min(len(pool), 8))))
        i += 1
    quality: dict[int, float] = {}
    for n, member in enumerate(lecturers):
        entry = entry_create(
            actor=None,
            competition=competition,
            data={
                "title": TITLES[n],
                "lecturer": member,
                "organization": member.organization,
                "category": categories[n % len(categories)],
                "summary": "结合本单位实际，讲述身边党员的故事。",
            },
        )
        quality[entry.pk] = rng.uniform(72, 94)

    reviewers = [users[name] for name in sorted(users) if name.startswith("reviewer")]
    bias = {user.pk: rng.uniform(-4, 4) for user in reviewers}
    names = [c["name"] for c in RUBRIC]
    reviews = 0
    for index, round_ in enumerate(rounds):
        round_reviewers_set(actor=None, round_=round_, users=reviewers)
        round_assign(actor=None, round_=round_)
        for review in (
            Review.objects.filter(round_entry__round=round_).select_related("round_entry").order_by("pk")
        ):
            base = quality[review.round_entry.entry_id] + bias[review.reviewer_id]
            scores = {name: round(min(100.0, max(50.0, base + rng.uniform(-5, 5))), 1) for name in names}
            review_submit(actor=None, review=review, scores=scores, comment="")
            reviews += 1
        if index < len(rounds) - 1:
            round_advance(actor=None, round_=round_)
        else:
            round_close(actor=None, round_=round_)
    awards = awards_grant(
        actor=None,
        competition=competition,
        data={
            "lecture_count": 3,
            "lecturer_count": 3,
            "organization_count": 2,
            "awarded_on": date(DEMO_YEAR, 7, 1),
        },
    )
    return LectureResult(entries=len(lecturers), reviews=reviews, awards=len(awards))


def lecture_summary_lines(result: LectureResult) -> list[str]:
    return [
        f"党课评选：{COMPETITION_TITLE}（已结束，三轮）：参赛作品 {result.entries} 件、评审 {result.reviews} 份、"
        f"奖项 {result.awards} 个（含可验证证书）"
    ]
