"""The 「我来讲党课」 half of the demo.

``build_competition``: a finished city competition with three rounds scored by the demo reviewers
(reviewer1 … reviewer6), its awards by grade (精品/优秀) in two award categories (精品微党课,
优秀辅导性质专题党课 …) and certificates. Written through the services, so the demo
obeys every rule the product enforces (rubric, conflict of interest, balanced assignment,
aggregation, advancement, award rules).

``build_lecture_year`` (after the competition, which it draws on): the lecturer pools (师资库) of
the city and of each district — the secretaries and leading cadres of the branches, and eight
outside lecturers (党校/高校教师, 先进模范, 老党员) — a lecture recorded on most of the year's 党课
activities with attendees' ratings, a "支部党课大家讲" rotation for branch_sec's branch, an open
topic call of the city with proposals, key topics and one 点题 task, and the library series
「精品党课」 made from the awarded lectures. The few rows that carry a rule (outside lecturers,
rotation, call, proposals, tasks, library) go through the services; the many (member lecturers,
lectures, speakers, ratings) are bulk-created as ``demo.study`` writes activities, with the derived
values computed by the services' own helpers (``is_cross_lecture``, ``category_of_member``) and
ratings only from members who attended and did not speak. Deterministic for a given seed."""

from __future__ import annotations

import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partyedu.accounts.types import Actor

DEMO_YEAR = 2026
COMPETITION_TITLE = f"{DEMO_YEAR}年泉城市「我来讲党课」优秀党课评选"
RUBRIC = [
    {"name": "内容", "weight": 40, "description": "政治站位、主题鲜明、联系实际"},
    {"name": "表达", "weight": 30, "description": "语言生动、逻辑清楚、时间把握"},
    {"name": "效果", "weight": 30, "description": "感染力、互动性、党员反响"},
]
CATEGORIES = ["微党课", "辅导性质专题党课"]
# Awards by grade (精品/优秀) per award category, as the cities name them (精品微党课,
# 优秀辅导性质专题党课): with up to three of each category, at least three lecture awards whatever
# the final round holds.
GRADE_SET = "quality"
AWARD_CATEGORIES = [
    {"name": "微党课", "entry_category": "微党课", "counts": {"精品": 1, "优秀": 2}},
    {"name": "辅导性质专题党课", "entry_category": "辅导性质专题党课", "counts": {"精品": 1, "优秀": 2}},
]
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
    # build_lecture_year
    member_lecturers: int = 0
    outside_lecturers: int = 0
    pools: int = 0
    lecture_activities: int = 0
    lectures: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    cross_lectures: int = 0
    ratings: int = 0
    rating_total: int = 0
    duty_total: int = 0
    duty_not_lectured: int = 0
    rotation_weeks: int = 0
    proposals: int = 0
    key_topics: int = 0
    tasks: int = 0
    library_items: int = 0
    seconds: float = 0.0


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
            "grade_set": GRADE_SET,
            "award_categories": AWARD_CATEGORIES,
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
            "lecturer_count": 3,
            "organization_count": 2,
            "awarded_on": date(DEMO_YEAR, 7, 1),
        },
    )
    return LectureResult(entries=len(lecturers), reviews=reviews, awards=len(awards))


# --- A year of 「我来讲党课」: pools, lectures, ratings, rotation, topic call, library ----------------

# Expertise anybody may have; those of a kind of unit come from TAG_BY_ORG_TYPE.
GENERAL_TAGS = (
    "党史",
    "党的创新理论",
    "党章党规",
    "党纪学习教育",
    "红色故事",
    "廉政教育",
    "家风家教",
    "青年工作",
    "民族团结",
)
TAGS = (*GENERAL_TAGS, "乡村振兴", "基层治理", "国企党建", "两新组织党建", "立德树人")
# An expertise that a member lecturer of a kind of unit often has (by the branch's org_type).
TAG_BY_ORG_TYPE = {
    "rural": "乡村振兴",
    "community": "基层治理",
    "soe": "国企党建",
    "private": "两新组织党建",
    "social": "两新组织党建",
    "school": "立德树人",
    "organ": "党纪学习教育",
    "institution": "党的创新理论",
}
# Outside lecturers: name, category, unit, title (称号), tags, bio, pool (None = the city, else the
# index of the district by path).
OUTSIDERS: tuple[tuple[str, str, str, str, tuple[str, ...], str, int | None], ...] = (
    (
        "孙明远",
        "party_school",
        "中共泉城市委党校党史党建教研部",
        "金牌讲师",
        ("党史", "党的创新理论"),
        "教授，长期从事党史党建教学，主讲《从“进京赶考”看初心使命》等精品课。",
        None,
    ),
    (
        "刘文静",
        "party_school",
        "中共泉城市委党校党章党规教研室",
        "",
        ("党章党规", "党纪学习教育", "廉政教育"),
        "副教授，面向基层党组织书记讲授党章党规和纪律处分条例。",
        None,
    ),
    (
        "周立新",
        "university",
        "泉城大学马克思主义学院",
        "金牌讲师",
        ("党的创新理论", "青年工作"),
        "教授、博士生导师，省级宣讲团成员，擅长把理论讲得通俗易懂。",
        None,
    ),
    (
        "陈思源",
        "university",
        "泉城职业技术学院马克思主义学院",
        "",
        ("青年工作", "民族团结"),
        "讲师，面向青年党员和入党积极分子开设微党课。",
        None,
    ),
    (
        "赵德福",
        "veteran",
        "泉城市委老干部局（离休）",
        "“五老”宣讲团成员",
        ("党史", "红色故事"),
        "1958年入党，亲历泉城解放后的城市建设，讲述身边的红色故事。",
        None,
    ),
    (
        "王桂芳",
        "model",
        "明湖区梅园社区居委会",
        "全国优秀共产党员",
        ("基层治理", "红色故事"),
        "扎根社区三十年，首创“红色网格”工作法，讲述为民服务的故事。",
        0,
    ),
    (
        "李春生",
        "model",
        "玉符县孔村镇西石门村",
        "全国劳动模范",
        ("乡村振兴",),
        "原村党支部书记，带领村民发展特色种植，在田间地头讲党课。",
        4,
    ),
    (
        "马秀英",
        "veteran",
        "锦阳县锦水街道",
        "“光荣在党50年”纪念章获得者",
        ("家风家教", "红色故事"),
        "1972年入党的老教师，讲红色家风、讲身边的老党员。",
        5,
    ),
)
GOLD = "金牌讲师"
AWARDED = "全市优秀党课主讲人"

# How likely each lecture type is, and what a unit of a kind adds (田坎/乡味 in villages, 车间 in
# enterprises).
TYPE_WEIGHTS = (
    ("standard", 62.0),
    ("micro", 12.0),
    ("scenario", 6.0),
    ("walking", 5.0),
    ("experience", 4.0),
    ("immersive", 3.0),
)
TYPE_EXTRA = {
    "rural": (("field", 9.0), ("rural", 7.0)),
    "soe": (("workshop", 10.0),),
    "private": (("workshop", 8.0),),
}
TYPE_PHRASES = {
    "standard": "原原本本学原文、讲原理，联系本单位工作谈体会",
    "micro": "用十五分钟讲清一个道理，配合短视频和图片",
    "rural": "用乡音土话讲政策、讲变化",
    "field": "在田间地头边看边讲，结合农时农事讲党的惠农政策",
    "workshop": "在生产一线结合岗位讲，请技术骨干现身说法",
    "scenario": "党员情景演绎重现历史场景，再由主讲人点评",
    "experience": "组织党员现场体验、分组交流，谈感悟",
    "walking": "走进红色场馆和身边的变化现场，边走边讲",
    "immersive": "借助实景和多媒体开展沉浸式教学",
}
SECRETARY_PREFIXES = ("我来讲党课：", "书记讲党课：")
RECORDED = 0.87  # share of the year's 党课 activities whose lecture is recorded
SILENT = 0.1  # share of secretaries who have not lectured this year
LEADER_LECTURES = 0.55  # share of leading cadres who lectured at a branch (their 联系点)
RATED = 0.38  # share of attendees who rate a lecture
RATING_COMMENTS = {
    5: (
        "讲得生动具体，联系实际，很受启发。",
        "结合身边的人和事，听得进、记得住。",
        "内容充实，时间把握得好。",
        "案例鲜活，很有感染力。",
        "讲出了党员的责任和担当，深受教育。",
    ),
    4: (
        "内容扎实，希望多一些互动。",
        "讲得不错，可以再多结合本单位的工作。",
        "条理清楚，收获很大。",
    ),
    3: ("照着稿子念得多了一些。", "内容偏长，可以更精炼。"),
    2: ("理论讲得多，联系实际少。",),
    1: ("声音太小，后排听不清。",),
}
ROTATION_START = date(DEMO_YEAR, 11, 6)
ROTATION_WEEKS = 8
ROTATION_TITLE = f"“支部党课大家讲”（{DEMO_YEAR}年11月—12月）"
ROTATION_TOPICS = (
    "学习党的二十届四中全会精神",
    "“十五五”规划纲要与我的岗位",
    "学习《中国共产党纪律处分条例》",
    "身边的榜样：优秀共产党员事迹",
    "网格里的党员：如何联系服务群众",
    "铸牢中华民族共同体意识",
    "党史故事：从“进京赶考”说起",
    "年终回顾：我为群众办实事",
)
CALL_TITLE = f"{DEMO_YEAR + 1}年度「我来讲党课」选题征集"
CALL_DEADLINE = date(DEMO_YEAR, 12, 31)
TASK_DUE = date(DEMO_YEAR + 1, 3, 31)
SERIES_TITLE = "精品党课"
LIBRARY_FROM = date(DEMO_YEAR, 7, 10)


@dataclass
class _Speaking:
    """The lecture decided for one activity: its speakers (Lecturer rows)."""

    activity: Any
    speakers: list[Any]


def _unit(branch_name: str) -> str:
    """梅园社区第一党支部 → 梅园社区; 明湖区委办公室机关第二党支部 → 明湖区委办公室."""
    unit = re.sub(r"(机关)?(第[一二三四五六七八九十]+)?(党支部|党总支|党小组)$", "", branch_name)
    return unit or branch_name


def _district_word(name: str) -> str:
    """中共泉城市明湖区委员会 → 明湖区."""
    return re.sub(r"^中共\S*?市", "", name).removesuffix("委员会")


def _lecture_title(topic: str) -> str:
    for prefix in SECRETARY_PREFIXES:
        if topic.startswith(prefix):
            return topic[len(prefix) :]
    return topic


def _lecture_type(rng: random.Random, org_type: str, speaker_category: str) -> str:
    pairs = list(TYPE_WEIGHTS) + list(TYPE_EXTRA.get(org_type, ()))
    if speaker_category in ("veteran", "model"):
        pairs += [("scenario", 12.0), ("experience", 8.0)]
    kinds = [k for k, _ in pairs]
    return rng.choices(kinds, weights=[w for _, w in pairs])[0]


def build_lecture_year(
    *,
    result: LectureResult,
    users: dict[str, Any],
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> LectureResult:
    """The year of lectures around the competition (see the module's docstring). Call inside
    ``build_demo``'s transaction after ``build_study`` and ``build_competition``."""
    from django.db.models import Q

    from partyedu.accounts.models import RoleAssignment
    from partyedu.competitions.choices import AwardKind
    from partyedu.competitions.models import Award
    from partyedu.lectures.models import (
        ExpertiseTag,
        Lecture,
        Lecturer,
        LectureRating,
        LectureSpeaker,
    )
    from partyedu.lectures.selectors import ATTENDED_Q, lecture_duty_summary
    from partyedu.lectures.services import (
        category_of_member,
        home_branch_path,
        is_cross_lecture,
        lecturer_create,
    )
    from partyedu.lectures.summaries import lecture_figures_rebuild
    from partyedu.members.choices import MemberCategory
    from partyedu.members.models import Member
    from partyedu.members.selectors import has_category_q
    from partyedu.organizations.models import Organization
    from partyedu.study.choices import ActivityType
    from partyedu.study.models import Activity, Attendance

    started = time.perf_counter()
    say = progress or (lambda message: None)
    rng = random.Random(f"{seed}-lectures")
    root = Organization.objects.filter(is_active=True).order_by("path").first()
    if root is None:
        return result
    city_admin = users.get("city_admin")
    branch_sec = users.get("branch_sec")
    orgs = {o.path: o for o in Organization.objects.filter(is_active=True)}
    districts = sorted(
        (o for o in orgs.values() if o.depth == root.depth + 1 and o.name.endswith(("区委员会", "县委员会"))),
        key=lambda o: o.path,
    )

    def pool_of(path: str) -> Any:
        """The pool a branch's lecturers are kept in and draw on: its district's, or the city's
        for the city's own units."""
        return next((d for d in districts if path.startswith(d.path)), root)

    # --- the pools: secretaries and leading cadres, then the outside lecturers ------------------
    tags = {}
    for name in TAGS:
        tags[name], _created = ExpertiseTag.objects.get_or_create(name=name)
    awards = list(
        Award.objects.filter(competition__title=COMPETITION_TITLE).select_related("entry").order_by("id")
    )
    awarded = [a.entry.lecturer_id for a in awards if a.kind == AwardKind.LECTURER and a.entry]
    duty_q = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.LEADER)
    members = list(
        Member.objects.filter(duty_q | Q(pk__in=awarded), is_active=True, is_exempt=False)
        .select_related("organization")
        .order_by("org_path", "pk")
    )
    sec_member = Member.objects.filter(user=branch_sec).first() if branch_sec is not None else None
    lecturers: list[Any] = []
    for member in members:
        home = home_branch_path(member)
        branch = orgs.get(home, member.organization)
        title = ""
        if member.pk in awarded:
            title = GOLD if member.pk == awarded[0] else AWARDED
        categories = set(member.categories or [])
        role = "书记" if MemberCategory.SECRETARY in categories else "党员"
        lecturers.append(
            Lecturer(
                organization=pool_of(home),
                member=member,
                name=member.name,
                category=category_of_member(member),
                unit=_unit(branch.name)[:100],
                title=title,
                bio=f"{branch.name}{role}" + ("，领导干部" if MemberCategory.LEADER in categories else ""),
            )
        )
    Lecturer.objects.bulk_create(lecturers, batch_size=500)
    through = Lecturer.tags.through
    links = []
    for lecturer in lecturers:
        names: list[str] = []
        own = TAG_BY_ORG_TYPE.get(orgs.get(home_branch_path(lecturer.member), root).org_type)
        if own and rng.random() < 0.7:
            names.append(own)
        names += rng.sample(GENERAL_TAGS, rng.choice((0, 1, 1, 2)))
        for name in dict.fromkeys(names):
            links.append(through(lecturer_id=lecturer.pk, expertisetag_id=tags[name].pk))
    through.objects.bulk_create(links, batch_size=1000)
    outsiders: list[Any] = []
    for name, category, unit, title, tag_names, bio, district in OUTSIDERS:
        pool = districts[district] if district is not None and district < len(districts) else root
        outsiders.append(
            lecturer_create(
                actor=city_admin,
                data={
                    "organization": pool,
                    "name": name,
                    "category": category,
                    "unit": unit,
                    "title": title,
                    "tags": list(tag_names),
                    "bio": bio,
                },
            )
        )
    result.member_lecturers, result.outside_lecturers = len(lecturers), len(outsiders)
    result.pools = len({lecturer.organization_id for lecturer in [*lecturers, *outsiders]})
    by_member = {lecturer.member_id: lecturer for lecturer in lecturers}

    # --- who lectured at which 党课 -------------------------------------------------------------
    activities = list(
        Activity.objects.filter(activity_type=ActivityType.PARTY_LECTURE)
        .select_related("organization")
        .order_by("organization__path", "start", "id")
    )
    result.lecture_activities = len(activities)
    sec_home = home_branch_path(sec_member) if sec_member is not None else None
    recorded = [a for a in activities if a.organization.path == sec_home or rng.random() < RECORDED]
    secretary_of: dict[str, Any] = {}
    secretaries: list[Any] = []
    leaders: list[Any] = []
    for lecturer in lecturers:
        categories = set(lecturer.member.categories or [])
        if MemberCategory.SECRETARY in categories:
            secretaries.append(lecturer)
            secretary_of.setdefault(home_branch_path(lecturer.member), lecturer)
        elif MemberCategory.LEADER in categories:
            leaders.append(lecturer)
    silent = {
        s.pk for s in secretaries if s.member_id != getattr(sec_member, "pk", None) and rng.random() < SILENT
    }
    if not silent:
        quiet = [s for s in secretaries if s.member_id != getattr(sec_member, "pk", None)]
        if quiet:
            silent.add(quiet[-1].pk)
    cross_pool: dict[int, list[Any]] = defaultdict(list)
    for s in secretaries:
        if s.pk not in silent:
            cross_pool[s.organization_id].append(s)
    outside_pool: dict[int, list[Any]] = defaultdict(list)
    for o in outsiders:
        outside_pool[o.organization_id].append(o)

    def outsiders_for(pool: Any) -> list[Any]:
        return outside_pool[root.pk] + (outside_pool[pool.pk] if pool.pk != root.pk else [])

    chosen: dict[int, list[Any]] = {}
    # Leading cadres lecture at a branch of their area (their 联系点), outside their own branch.
    for leader in leaders:
        if rng.random() >= LEADER_LECTURES:
            continue
        home = home_branch_path(leader.member)
        area = leader.organization.path
        fitting = [
            a
            for a in recorded
            if a.pk not in chosen
            and a.organization.path.startswith(area)
            and not a.organization.path.startswith(home)
            and not a.topic.startswith("书记讲党课")
        ]
        if fitting:
            chosen[rng.choice(fitting).pk] = [leader]
    for a in recorded:
        if a.pk in chosen:
            continue
        path = a.organization.path
        pool = pool_of(path)
        own = secretary_of.get(path)
        others = [s for s in cross_pool[pool.pk] if s is not own]
        outside = outsiders_for(pool)
        for_secretary = a.topic.startswith("书记讲党课")
        speaker = None
        if own is not None and own.pk not in silent:
            u = rng.random()
            if u < 0.8 or path == sec_home:
                speaker = own
            elif u < 0.91 and others:
                speaker = rng.choice(others)
            elif not for_secretary and outside:
                speaker = rng.choice(outside)
            else:
                speaker = own
        elif others and (for_secretary or rng.random() < 0.6):
            speaker = rng.choice(others)
        elif outside:
            speaker = rng.choice(outside)
        if speaker is None:
            continue
        chosen[a.pk] = [speaker]
        if speaker.member_id is not None and rng.random() < 0.04:
            guests = [o for o in outside if o.category in ("veteran", "model")]
            if guests:
                chosen[a.pk].append(rng.choice(guests))
    # However small the city, one secretary lectures in another branch (交叉讲党课): the first
    # lecture that its own secretary gave goes to a secretary of the same area (or of the city).
    crossed = any(
        is_cross_lecture(s, a.organization.path)
        for a in recorded
        for s in chosen.get(a.pk, [])
        if MemberCategory.SECRETARY in (s.member.categories if s.member else [])
    )
    if not crossed:
        for a in recorded:
            path = a.organization.path
            own = secretary_of.get(path)
            if path == sec_home or chosen.get(a.pk) != [own]:
                continue
            guests = [s for s in cross_pool[pool_of(path).pk] if s is not own] or [
                s for pool in cross_pool.values() for s in pool if s is not own
            ]
            if guests:
                chosen[a.pk] = [rng.choice(guests)]
                break
    speakings = [_Speaking(a, chosen[a.pk]) for a in recorded if a.pk in chosen]

    lecture_rows = []
    for s in speakings:
        a = s.activity
        kind = _lecture_type(rng, a.organization.org_type, s.speakers[-1].category)
        title = _lecture_title(a.topic)
        summary = ""
        if rng.random() < 0.7:
            subject = title if "“" in title else f"“{title}”"
            summary = f"结合{_unit(a.organization.name)}实际，围绕{subject}讲授，{TYPE_PHRASES[kind]}。"
        lecture_rows.append(
            Lecture(
                activity=a,
                organization_id=a.organization_id,
                start=a.start,
                title=title[:200],
                lecture_type=kind,
                summary=summary,
            )
        )
    Lecture.objects.bulk_create(lecture_rows, batch_size=500)
    speaker_rows = [
        LectureSpeaker(
            lecture=lecture,
            lecturer=lecturer,
            is_cross=is_cross_lecture(lecturer, s.activity.organization.path),
        )
        for s, lecture in zip(speakings, lecture_rows, strict=True)
        for lecturer in s.speakers
    ]
    LectureSpeaker.objects.bulk_create(speaker_rows, batch_size=1000)
    result.lectures = len(lecture_rows)
    result.by_type = Counter(lecture.lecture_type for lecture in lecture_rows)
    result.cross_lectures = len({row.lecture.pk for row in speaker_rows if row.is_cross})

    # --- ratings by attendees (出席, 迟到, confirmed 补学), never by a speaker ---------------------
    attended: dict[int, list[int]] = defaultdict(list)
    for activity_id, member_id in (
        Attendance.objects.filter(activity__activity_type=ActivityType.PARTY_LECTURE)
        .filter(ATTENDED_Q)
        .order_by("activity_id", "member_id")
        .values_list("activity_id", "member_id")
    ):
        attended[activity_id].append(member_id)
    quality = {lecturer.pk: rng.gauss(0, 0.08) for lecturer in [*lecturers, *outsiders]}
    for lecturer in [*lecturers, *outsiders]:
        if lecturer.title:
            quality[lecturer.pk] += 0.12
    member1 = (
        Member.objects.filter(user=users["member1"]).values_list("pk", flat=True).first()
        if users.get("member1") is not None
        else None
    )
    # member1 rated the lectures they heard but the latest, so the demo has one to rate.
    unrated = max(
        (s.activity for s in speakings if member1 is not None and member1 in attended[s.activity.pk]),
        key=lambda a: a.start,
        default=None,
    )
    ratings = []
    for s, lecture in zip(speakings, lecture_rows, strict=True):
        speakers = {lecturer.member_id for lecturer in s.speakers}
        q = max(quality[lecturer.pk] for lecturer in s.speakers)
        weights = [0.01, 0.02, max(0.02, 0.09 - q / 2), 0.34, max(0.2, 0.54 + q)]
        for member_id in attended[s.activity.pk]:
            if member_id in speakers:
                continue
            if member_id == member1:
                if s.activity is unrated:
                    continue
            elif rng.random() >= RATED:
                continue
            score = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
            comment = rng.choice(RATING_COMMENTS[score]) if rng.random() < 0.14 else ""
            ratings.append(LectureRating(lecture=lecture, member_id=member_id, score=score, comment=comment))
    LectureRating.objects.bulk_create(ratings, batch_size=1000)
    result.ratings = len(ratings)
    result.rating_total = sum(r.score for r in ratings)
    say(
        f"党课讲师 {len(lecturers) + len(outsiders)} 名、党课记录 {len(lecture_rows)} 次、评价 {len(ratings)} 条"
    )

    # --- 支部党课大家讲, the topic call, the library ---------------------------------------------
    sec_branch = orgs.get(sec_home) if sec_home else None
    if sec_branch is not None:
        _rotation(result, branch_sec, sec_branch)
    district_admin_org = (
        RoleAssignment.objects.filter(user=users["district_admin"])
        .values_list("organization_id", flat=True)
        .first()
        if users.get("district_admin") is not None
        else None
    )
    _topic_call(
        result,
        users=users,
        root=root,
        districts=districts,
        orgs=orgs,
        sec_branch=sec_branch,
        sec_lecturer=by_member.get(getattr(sec_member, "pk", None)),
        district_admin_org=district_admin_org,
    )
    _library(
        result,
        actor=city_admin,
        root=root,
        awards=[a for a in awards if a.kind == AwardKind.LECTURE and a.entry][:2],
        by_member=by_member,
        speakings=speakings,
        lecture_rows=lecture_rows,
        ratings=ratings,
    )
    # The year's lectures, ratings and lecturers were written in bulk: build the statistics'
    # summary rows from them (what the lectures services keep from now on).
    lecture_figures_rebuild(apply=True, build=True)
    duty = lecture_duty_summary(user=None, organization=root, year=DEMO_YEAR)
    result.duty_total, result.duty_not_lectured = duty.total - duty.exempt, duty.not_lectured
    result.seconds = time.perf_counter() - started
    return result


def _rotation(result: LectureResult, actor: Actor, branch: Any) -> None:
    """branch_sec's branch rotates its members through eight weekly topics (the service decides
    who lectures when, fairly)."""
    from partyedu.lectures.services import rotation_generate

    rotation = rotation_generate(
        actor=actor,
        organization=branch,
        title=ROTATION_TITLE,
        start_date=ROTATION_START,
        weeks=ROTATION_WEEKS,
        topics=list(ROTATION_TOPICS),
    )
    result.rotation_weeks = rotation.slots.count()


def _later_than_today(day: date, margin: int) -> date:
    """``day``, or — should the demo be seeded after it — a day ``margin`` days from today (the
    services refuse deadlines in the past)."""
    from django.utils import timezone

    today = timezone.localdate()
    return day if day >= today else today + timedelta(days=margin)


def _topic_call(
    result: LectureResult,
    *,
    users: dict[str, Any],
    root: Any,
    districts: list[Any],
    orgs: dict[str, Any],
    sec_branch: Any,
    sec_lecturer: Any,
    district_admin_org: int | None,
) -> None:
    """The city's open call for next year's topics: proposals from districts and branches, two
    key topics, and one of them assigned (点题) to branch_sec as a lecturer."""
    from partyedu.lectures.services import (
        topic_assign,
        topic_call_open,
        topic_proposal_mark_key,
        topic_proposal_submit,
    )

    city_admin, branch_sec = users.get("city_admin"), users.get("branch_sec")
    call = topic_call_open(
        actor=city_admin,
        organization=root,
        title=CALL_TITLE,
        deadline=_later_than_today(CALL_DEADLINE, 30),
        description=(
            "围绕学习贯彻党的二十届四中全会精神、“十五五”开局和基层治理，面向各区县、各部门和基层党组织"
            "征集明年的党课选题。市委组织部将从中甄选重点选题，点题到讲师和基层党组织。"
        ),
    )
    branches = [o for o in orgs.values() if o.level == "branch"]
    branches.sort(key=lambda o: o.path)

    def branch(org_type: str) -> Any:
        return next((o for o in branches if o.org_type == org_type and o is not sec_branch), None)

    def district(n: int) -> Any:
        return districts[n % len(districts)] if districts else root

    home = next((d for d in districts if sec_branch is not None and sec_branch.path.startswith(d.path)), None)
    home = home or district(0)
    others = [d for d in districts if d is not home] or [home]
    specs: list[tuple[Any, str, str]] = [
        (
            home,
            f"党建引领基层治理的{_district_word(home.name)}实践",
            "结合“红色网格”建设，讲清党组织怎样把群众的事办好。",
        ),
        (others[0], "老旧小区改造中的党员担当", "讲述党员在加装电梯、楼院整治中带头协调的故事。"),
        (others[3 % len(others)], "乡村振兴中的“领头雁”", "讲村党支部书记带头致富、带领群众共同富裕。"),
        (others[4 % len(others)], "红色家风代代传", "讲老党员的家风家教，引导党员干部管好家属子女。"),
        (branch("rural") or others[1 % len(others)], "田间地头话党课：种粮大户的初心", "在地头讲粮食安全。"),
        (sec_branch or home, "网格里的党员先锋", "社区党员认领网格，联系服务群众。"),
        (
            branch("soe") or others[2 % len(others)],
            "车间里的党旗红：技能报国",
            "讲产业工人党员的技能报国故事。",
        ),
        (branch("school") or root, "教育家精神与立德树人", "讲教师党员践行教育家精神。"),
    ]
    proposals = []
    for org, title, description in specs:
        if branch_sec is not None and sec_branch is not None and org is sec_branch:
            actor = branch_sec
        elif district_admin_org is not None and org.pk == district_admin_org:
            actor = users.get("district_admin")
        else:
            actor = None
        proposals.append(
            topic_proposal_submit(
                actor=actor, call=call, organization=org, title=title, description=description
            )
        )
    keys = [proposals[0], proposals[2]]
    for proposal in keys:
        topic_proposal_mark_key(actor=city_admin, proposal=proposal)
    tasks = 0
    if sec_lecturer is not None:
        topic_assign(
            actor=city_admin,
            proposal=proposals[0],
            organization=sec_branch,
            lecturer=sec_lecturer,
            due_date=_later_than_today(TASK_DUE, 90),
        )
        tasks = 1
    result.proposals, result.key_topics, result.tasks = len(proposals), len(keys), tasks


LECTURE_SCRIPT = (
    "同志们：\n\n今天我和大家交流的题目是“{title}”。\n\n"
    "一、从一件身边的事说起。{unit}的党员同志们在平凡的岗位上默默奉献，他们的故事让我们看到了共产党员"
    "的初心和本色。\n\n"
    "二、学习党的创新理论，把握其中的道理。我们要原原本本学、联系实际学，把学习成果转化为做好本职"
    "工作的实际行动。\n\n"
    "三、立足岗位作贡献。每一名党员都要亮身份、作表率，在服务群众中当先锋，在急难险重任务中打头阵。\n\n"
    "最后，让我们以更加饱满的热情投入到工作中，以实际行动践行入党誓言。谢谢大家！"
)


def _library(
    result: LectureResult,
    *,
    actor: Actor,
    root: Any,
    awards: list[Any],
    by_member: dict[int, Any],
    speakings: list[_Speaking],
    lecture_rows: list[Any],
    ratings: list[Any],
) -> None:
    """「精品党课」 of the city: the two first 优秀党课 of the competition and the best-rated
    recorded lecture, each an online study resource (the lecture's script as an article, written
    as ``demo.study`` writes the column's articles) published to the whole city."""
    from partyedu.learning.models import OnlineResource
    from partyedu.lectures.services import library_publish, library_series_create

    from .study import at

    series = library_series_create(
        actor=actor,
        data={
            "organization": root,
            "title": SERIES_TITLE,
            "description": "从全市「我来讲党课」优秀党课和党员好评党课中遴选，面向全市党员展播，学完计入网络学习学时。",
        },
    )
    picks: list[tuple[str, str, Any, Any, str, date, date | None]] = []
    for award in awards:
        entry = award.entry
        unit = _unit(entry.organization.name) if entry.organization_id else ""
        picks.append(
            (
                entry.title,
                unit,
                by_member.get(entry.lecturer_id),
                entry.lecture,
                f"{DEMO_YEAR}年全市优秀党课",
                LIBRARY_FROM,
                None,
            )
        )
    counts: Counter[int] = Counter()
    totals: Counter[int] = Counter()
    for rating in ratings:
        counts[rating.lecture.pk] += 1
        totals[rating.lecture.pk] += rating.score
    best = max(
        (
            (totals[lecture.pk] / counts[lecture.pk], counts[lecture.pk], -n, s, lecture)
            for n, (s, lecture) in enumerate(zip(speakings, lecture_rows, strict=True))
            if counts[lecture.pk] >= 5
        ),
        key=lambda row: row[:3],
        default=None,
    )
    if best is not None:
        _avg, _count, _n, speaking, lecture = best
        picks.append(
            (
                lecture.title,
                _unit(speaking.activity.organization.name),
                speaking.speakers[0],
                lecture,
                "党员好评党课",
                date(DEMO_YEAR, 10, 1),
                date(DEMO_YEAR + 1, 6, 30),
            )
        )
    for n, (title, unit, lecturer, lecture, honour, show_from, show_until) in enumerate(picks, start=1):
        resource = OnlineResource.objects.create(
            organization=root,
            title=title,
            kind="article",
            body=LECTURE_SCRIPT.format(title=title, unit=unit or "我们身边"),
            duration_seconds=1200,
            credit_hours=Decimal("1"),
            published_at=at(show_from, 9, 0),
            is_published=False,
        )
        library_publish(
            actor=actor,
            organization=root,
            resource=resource,
            series=series,
            lecturer=lecturer,
            lecture=lecture,
            honour=honour,
            show_from=show_from,
            show_until=show_until,
            sort_order=n,
        )
    result.library_items = len(picks)


def lecture_summary_lines(result: LectureResult) -> list[str]:
    lines = [
        f"党课评选：{COMPETITION_TITLE}（已结束，三轮）：参赛作品 {result.entries} 件、评审 {result.reviews} 份、"
        f"奖项 {result.awards} 个（含可验证证书）"
    ]
    if not result.lecture_activities and not result.member_lecturers:
        return lines
    from partyedu.lectures.choices import LectureType

    types = "、".join(
        f"{LectureType(t).label}{n}"
        for t, n in sorted(result.by_type.items(), key=lambda item: (-item[1], item[0]))
    )
    average = f"{result.rating_total / result.ratings:.2f}" if result.ratings else "—"
    lines += [
        f"师资库 {result.pools} 个：党员讲师（书记、领导干部）{result.member_lecturers} 名、"
        f"党校/高校教师和先进模范、老党员 {result.outside_lecturers} 名",
        f"党课记录 {result.lectures} 次（党课活动 {result.lecture_activities} 次）：{types}；"
        f"交叉讲党课 {result.cross_lectures} 次；党员评价 {result.ratings} 条（平均 {average} 分）",
        f"{DEMO_YEAR}年书记、领导干部讲党课：{result.duty_total - result.duty_not_lectured}/{result.duty_total} 人已讲，"
        f"{result.duty_not_lectured} 人尚未讲",
        f"支部党课大家讲 1 个（{result.rotation_weeks} 周）、选题征集 1 个（征集中，选题 {result.proposals} 个、"
        f"重点选题 {result.key_topics} 个、点题任务 {result.tasks} 个）、党课库「{SERIES_TITLE}」{result.library_items} 讲"
        f"（用时 {result.seconds:.1f} 秒）",
    ]
    return lines
