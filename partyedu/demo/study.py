"""Demo data, second half: a year of organisational life and study for the demo city.

``build_study`` runs after ``build_demo`` has written the organisations, members and accounts. From
``random.Random(f"{seed}-study")`` alone (never the wall clock, never database ids) it decides, for
2026-01-01 to ``STUDY_UNTIL`` (15 November 2026):

* per branch: a 主题党日 on the branch's fixed day of each month (some branches skip a month or
  two, so the cadence report has gaps), a 支部党员大会 and a 党课 each quarter (one branch in ten
  misses a quarter's assembly, more miss a lecture; the fourth quarter is under way), a monthly
  支委会 where there is a committee, a monthly 党小组会 in each party group, a monthly Friday
  集中学习 in organs, and in November the first 组织生活会 and 民主评议;
* 送学上门 to each exempt (frail) member, with that member as the whole roster;
* a standing 中心组 list for every 党委 (its leaders, or the secretaries below, and two 列席), and
  理论学习中心组学习 twice a quarter for the city, district, town and large unit 党委 with that
  list as the roster;
* a two-day 专题读书班 for the branch secretaries (and most committee members) under each 党委 or
  党工委 — their concentrated training;
* the city's 2026 study plan with five required topics, covered by most branches' activities;
* a street's "1+5+N" teaching sites, four education bases with 现场教学 visits, the street party
  school's 发展对象培训班 (Tuesday and Thursday evenings for two months) and an online class for
  delivery riders, each with enrolment and per-session attendance;
* the 教育学习园地 column with four articles, members' completed reading, and a booklet handed
  out in a few branches.

Attendance depends on who the member is: secretaries and committee members nearly always come,
retirees and floating members less often; a few absentees make the session up (补学, confirmed by
the secretary, or still waiting). Activities are written with ``bulk_create``; attendance — millions
of rows for a large city — with COPY on PostgreSQL and ``executemany`` elsewhere. The learning-hour
ledger and every summary are then derived by ``learning_hours_rebuild(apply=True)``, exactly as the
rebuild command would, so the demo's ledger is the sources' ledger by construction.
"""

from __future__ import annotations

import calendar
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from partyedu.core.bulk import adapt, insert_plain
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.organizations.choices import OrgLevel
from partyedu.study.choices import (
    ActivityType,
    AttendanceMethod,
    AttendanceStatus,
    PlanKind,
    SiteKind,
    TeachingFormat,
)

STUDY_YEAR = 2026
STUDY_FROM = date(STUDY_YEAR, 1, 1)
# Activities up to and including this day: the demo is seen in the second half of November.
STUDY_UNTIL = date(STUDY_YEAR, 11, 15)
TZ = ZoneInfo(settings.TIME_ZONE)
FLUSH_ACTIVITIES = 4000

A = ActivityType
# The teaching format recorded for each type (rule 7, seed 000/001: 讲授式、案例式、研讨式、现场观摩);
# the other types are left 未填, as secretaries often do.
DEMO_FORMATS: dict[str, str] = {
    A.PARTY_LECTURE: TeachingFormat.LECTURE,
    A.CENTRAL_GROUP_STUDY: TeachingFormat.SEMINAR,
    A.READING_CLASS: TeachingFormat.SEMINAR,
    A.TRAINING_SESSION: TeachingFormat.CASE,
    A.SITE_VISIT: TeachingFormat.ON_SITE,
    A.HOME_DELIVERY: TeachingFormat.CONVERSATION,
    A.THEME_DAY: TeachingFormat.EXPERIENCE,
}
ST = AttendanceStatus
C = MemberCategory
S = MemberStatus
L = OrgLevel

# Statuses whose holders attend organisational life as members (activists attend 主题党日 too).
ON_ROLL = (S.FULL, S.PROBATIONARY, S.CANDIDATE, S.ACTIVIST)
# Branch profiles (see ``demo.seed.PROFILES``) that use QR check-in for some of their activities.
QR_PROFILES = (
    "organ",
    "city_organ",
    "street_office",
    "university",
    "student",
    "rider",
    "private",
    "hospital",
)
ORGAN_PROFILES = ("organ", "city_organ", "street_office")
MORNING_PROFILES = ("organ_retired", "community_retired", "soe_retired", "teacher_retired", "village")
MONTH_DAYS = (1, 5, 8, 10, 12, 15, 18, 20, 22, 25)


# --- Vocabulary ------------------------------------------------------------------------------------

PLAN_TITLE = f"泉城市{STUDY_YEAR}年度党员教育培训计划"
PLAN_TOPICS: tuple[tuple[str, date, float], ...] = (
    # title, deadline, share of branches that cover it by the demo date
    ("学习贯彻党的二十届四中全会精神", date(STUDY_YEAR, 3, 31), 0.93),
    ("学习“十五五”规划纲要", date(STUDY_YEAR, 5, 31), 0.86),
    ("党纪学习教育：学习《中国共产党纪律处分条例》", date(STUDY_YEAR, 7, 31), 0.8),
    ("铸牢中华民族共同体意识", date(STUDY_YEAR, 9, 30), 0.64),
    ("学习新修订的《中国共产党发展党员工作细则》", date(STUDY_YEAR, 11, 30), 0.35),
)
THEME_BY_MONTH = {
    1: "新年走访慰问困难党员群众",
    2: "春节前走访慰问老党员",
    3: "学雷锋志愿服务",
    4: "清明祭扫革命烈士陵园",
    5: "重温入党誓词",
    6: "“七一”前夕过政治生日",
    7: "庆祝中国共产党成立105周年",
    8: "防汛值守志愿服务",
    9: "铸牢中华民族共同体意识",
    10: "走访困难群众",
    11: "文明城市创建志愿服务",
}
THEME_GENERIC = (
    "走访困难群众",
    "社区环境整治志愿服务",
    "学习党章、重温入党誓词",
    "观看警示教育片",
    "垃圾分类宣传志愿服务",
    "我为群众办实事",
    "交纳党费、过政治生日",
    "学习贯彻党的二十届三中全会精神",
    "观看红色电影《长津湖》",
    "党员先锋岗服务",
)
LECTURE_TITLES = (
    "我来讲党课：从党史中汲取奋进力量",
    "我来讲党课：做新时代合格党员",
    "我来讲党课：弘扬伟大建党精神",
    "严守党的纪律规矩",
    "践行全心全意为人民服务的根本宗旨",
    "以党的创新理论凝心铸魂",
    "我来讲党课：身边的榜样",
    "发扬斗争精神，增强斗争本领",
)
ASSEMBLY_TOPICS = {
    1: ("研究确定年度工作计划", "学习传达上级党组织会议精神", "通报党费收缴情况"),
    2: ("讨论确定发展对象", "通报上半年工作", "学习《中国共产党纪律处分条例》"),
    3: ("讨论接收预备党员", "讨论预备党员转正", "通报党费收缴和使用情况"),
    4: ("通报年度工作、部署组织生活会", "讨论预备党员转正", "学习传达上级党组织会议精神"),
}
COMMITTEE_TOPICS = (
    "研究本月工作安排",
    "研究主题党日活动方案",
    "讨论发展党员工作",
    "研究党费收缴和使用",
    "研究困难党员帮扶",
    "研究党员教育培训安排",
)
GROUP_TOPICS = (
    "学习传达支部工作安排",
    "学习《中国共产党章程》",
    "交流学习心得",
    "学习习近平总书记重要讲话精神",
    "学习党的二十届三中全会精神",
    "讨论本组党员联系群众情况",
)
ORGAN_TOPICS = (
    "学习习近平总书记重要讲话精神",
    "学习《中国共产党纪律处分条例》",
    "学习党的二十届四中全会精神",
    "学习中央八项规定及其实施细则精神",
    "学习《习近平新时代中国特色社会主义思想学习纲要》",
    "学习“十五五”规划纲要",
)
CENTRAL_TOPICS = (
    "学习贯彻党的二十届四中全会精神",
    "学习“十五五”规划纲要，谋划本地区发展",
    "学习贯彻中央八项规定精神",
    "习近平总书记关于党的建设的重要思想",
    "铸牢中华民族共同体意识专题研讨",
    "以高质量党建引领基层治理",
    "学习贯彻全国两会精神",
    "学习《中国共产党纪律处分条例》",
)
HOME_TOPICS = (
    "为老党员送学习资料，学习党的二十届四中全会精神",
    "上门讲解“十五五”规划纲要",
    "上门学习党纪知识",
    "为老党员读报、讲解惠民政策",
)
LEAVE_NOTES = ("因公出差", "病假", "事假", "外出务工", "家中有事")
FRAIL_NOTE = "年老体弱，送学上门"

EDUCATION_BASES = (
    # name, type, address, description, registered by ("root" or a district index)
    (
        "泉城战役纪念馆",
        "红色教育基地",
        "泉城市明湖区英雄山路18号",
        "以解放泉城战役为主题的纪念馆，陈列文物、照片和战役沙盘，是全市党员现场教学的主要基地。",
        "root",
    ),
    (
        "泉城市革命烈士陵园",
        "红色教育基地",
        "泉城市历山区英烈路1号",
        "安葬革命烈士两千余位，清明时节各级党组织在此开展祭扫和重温入党誓词活动。",
        "root",
    ),
    (
        "泉城市廉政教育馆",
        "廉政教育基地",
        "泉城市华泉区清风路66号",
        "以正反两方面典型案例开展警示教育，面向党员干部常年开放。",
        "root",
    ),
    (
        "玉符县党史教育馆",
        "党史教育基地",
        "泉城市玉符县锦水街道红星路9号",
        "展示玉符县党组织的创建和发展历程，设有老党员口述历史展区。",
        4,
    ),
)
CLASS_A_TOPICS = (
    "开班式暨第一课：党的性质和宗旨",
    "《中国共产党章程》解读",
    "党的指导思想",
    "党的组织原则和组织制度",
    "党员的权利和义务",
    "端正入党动机，加强党性修养",
    "弘扬伟大建党精神",
    "党的纪律和规矩",
    "党的二十届四中全会精神解读",
    "全心全意为人民服务",
    "发展党员工作程序",
    "优秀共产党员事迹报告会",
    "党建引领基层治理",
    "网络安全与保密教育",
    "分组交流研讨",
    "结业考试",
)
CLASS_B_TOPICS = (
    "党的基本知识",
    "新就业形态劳动者权益保障",
    "交通安全与文明骑行",
    "党员先锋岗：骑手参与基层治理",
    "学习党的二十届四中全会精神",
    "《中国共产党章程》学习",
    "网络安全与个人信息保护",
    "身边的榜样：优秀骑手党员分享",
    "应急救护知识",
    "党的纪律",
    "城市治理“小哥”来帮忙",
    "结业分享",
)
COLUMN_NAME = "教育学习园地"
ARTICLES = (
    # title, month published, reading seconds, credited hours, body
    (
        "深刻领会党的二十届四中全会精神",
        2,
        1200,
        Decimal("1"),
        "党的二十届四中全会审议通过了关于制定国民经济和社会发展第十五个五年规划的建议，"
        "为今后五年的发展指明了方向。\n\n"
        "学习贯彻全会精神，要在学深悟透上下功夫。各党支部要把全会精神纳入“三会一课”和主题党日，"
        "通过集中学习、专题党课、分组研讨等方式，引导党员准确把握全会提出的目标任务。\n\n"
        "学习贯彻全会精神，要在联系实际上下功夫。机关党员要结合岗位职责谈认识、找差距；社区和村党员"
        "要结合为民服务、基层治理谈打算；两新组织党员要结合企业发展、行业特点谈举措。\n\n"
        "学习贯彻全会精神，要在推动落实上下功夫。把学习成效转化为干事创业的实际行动，以实绩实效检验"
        "学习成果。",
    ),
    (
        "“十五五”开局之年，党员干部怎么干",
        4,
        900,
        Decimal("1"),
        "2026年是“十五五”规划的开局之年。开局就是决战，起步就要冲刺。\n\n"
        "一要学规划、懂规划。规划纲要确定的目标任务，每一名党员都要心中有数，把个人工作放到全局中"
        "去思考。\n\n"
        "二要抓项目、抓落实。把规划确定的任务分解到年度、落实到岗位，做到事事有人管、件件有着落。\n\n"
        "三要察民情、解民忧。党员干部要深入群众，把群众的急难愁盼作为工作的出发点和落脚点。",
    ),
    (
        "党纪学习教育：读原文、悟原理",
        6,
        1500,
        Decimal("1"),
        "《中国共产党纪律处分条例》是规范党组织和党员行为的基础性法规。\n\n"
        "学习条例，要逐章逐条读原文，弄清楚哪些事能干、哪些事不能干，做到明规矩、守底线。\n\n"
        "学习条例，要结合典型案例以案释纪，从身边人身边事中汲取教训，增强纪律意识。\n\n"
        "学习条例，要把纪律要求落实到日常工作生活中，自觉接受监督，做到慎独慎微。",
    ),
    (
        "我们身边的“红色驿站”",
        9,
        900,
        Decimal("1"),
        "在泉城的街头巷尾，一批依托快递网点、商务楼宇和社区党群服务中心建起的“红色驿站”，成为"
        "快递员、外卖骑手歇脚充电、学习交流的温馨家园。\n\n"
        "驿站里有饮水机、充电宝和医药箱，也有党建书架和学习屏。骑手党员在这里参加网上班级，"
        "利用碎片时间学理论、学政策。\n\n"
        "不少骑手党员还主动当起了社区“网格员”，在送餐途中留意安全隐患、关注独居老人，把党员身份"
        "亮出来、把先锋作用发挥出来。",
    ),
)
MATERIAL_TITLE = "《学习贯彻党的二十届四中全会精神党员读本》"


# --- What the study half needs from the first half -------------------------------------------------


@dataclass(slots=True)
class Person:
    """A seeded member as the study half sees it: database id, plan indexes and what decides how
    often they come."""

    pk: int
    org: int  # plan index of the member's branch or group
    branch: int  # plan index of the branch
    role: str  # secretary / committee / member
    status: str
    categories: tuple[str, ...]
    exempt: bool
    name: str
    rate: float = 0.0  # chance of attending an ordinary meeting
    online: bool = False  # reads the online column


@dataclass
class StudyResult:
    activities: int = 0
    attendance: int = 0
    hour_entries: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    plan_topics: int = 0
    classes: int = 0
    enrolments: int = 0
    sites: int = 0
    bases: int = 0
    resources: int = 0
    progress: int = 0
    distributions: int = 0
    central_group_members: int = 0  # places on the 中心组 lists of the 党委
    required: int = 0  # members with a requirement
    completed: int = 0
    secretaries: int = 0
    secretaries_completed: int = 0
    exempt: int = 0
    rebuild_differences: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0


# --- Small helpers -----------------------------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def workday(year: int, month: int, day: int) -> date:
    """The day of the month, moved to the nearest working day inside the month (Saturday to
    Friday, Sunday to Monday)."""
    last = calendar.monthrange(year, month)[1]
    d = date(year, month, min(day, last))
    if d.weekday() == 5:
        d -= timedelta(days=1)
    elif d.weekday() == 6:
        d = d + timedelta(days=1) if d.day < last else d - timedelta(days=2)
    return d


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month, or the last one when there are fewer."""
    days = [
        d
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() == weekday
    ]
    return date(year, month, days[min(n, len(days)) - 1])


def months_until(day: date) -> list[int]:
    return list(range(1, day.month + 1))


def short_org_name(name: str) -> str:
    for suffix in ("党支部", "党小组", "党委", "党总支"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# --- The plan of a year -----------------------------------------------------------------------------


@dataclass(slots=True)
class Act:
    """One activity to write, with its attendance rows (member id, invitee, status, method,
    confirmation time of a 补学, note)."""

    org: int
    activity_type: str
    topic: str
    start: datetime
    end: datetime
    place: str = ""
    host: str = ""
    recorder: str = ""
    required_topic: int | None = None  # index into PLAN_TOPICS
    site: str = ""  # key of a teaching site
    base: int | None = None  # index into EDUCATION_BASES
    training_class: str = ""  # "a" or "b"
    credited_hours: Decimal | None = None
    study_minutes: int | None = None  # the study part of a 党员大会 / 党小组会
    minutes: str = ""
    created_by: Any = None
    rows: list[tuple[int, bool, str, str, datetime | None, str]] = field(default_factory=list)


class StudyPlanner:
    """Decides the activities of the year from the seed; ``acts()`` yields them branch by branch."""

    def __init__(self, plan: Any, people: Sequence[Person], seed: int) -> None:
        self.plan = plan
        self.orgs = plan.orgs
        self.people = people
        self.rng = random.Random(f"{seed}-study")
        # Apart from ``rng``, so that the rest of the year is drawn as before.
        self.study_part_rng = random.Random(f"{seed}-study-part")
        self.by_branch: dict[int, list[Person]] = defaultdict(list)
        self.by_org: dict[int, list[Person]] = defaultdict(list)
        for p in people:
            self.by_branch[p.branch].append(p)
            self.by_org[p.org].append(p)
        self.children: dict[int, list[int]] = defaultdict(list)
        for o in self.orgs:
            if o.parent is not None:
                self.children[o.parent].append(o.index)
        self._draw_rates()
        self.street = self._pick_street()
        self.sites: list[tuple[str, str, str, str, int | None]] = self._plan_sites()
        self.site_branches = {o.index for o in self._subtree(self.street) if o.level == L.BRANCH}
        self.leaders_on_leave: set[int] = set()

    # --- people ---------------------------------------------------------------------------------

    def _draw_rates(self) -> None:
        rng = self.rng
        for p in self.people:
            cats = p.categories
            if p.exempt:
                base = 0.12
            elif p.role == "secretary":
                base = 0.985
            elif p.role == "committee":
                base = 0.95
            elif C.FLOATING in cats:
                base = 0.5
            elif C.RETIRED in cats:
                base = 0.74
            elif C.FARMER in cats:
                base = 0.8
            elif C.NEW_SECTOR in cats:
                base = 0.84
            else:
                base = 0.91
            spread = 0.02 if p.role == "secretary" else 0.09
            p.rate = min(0.995, max(0.1, base + rng.gauss(0, spread)))
            p.online = not p.exempt and p.status in ON_ROLL and rng.random() < (0.15 + 0.25 * p.rate)

    def status_of(self, p: Person, day: date, rate: float | None = None) -> tuple[str, datetime | None, str]:
        """Status, confirmation of a 补学 (or None) and note for one member at one activity."""
        rng = self.rng
        if rng.random() < (p.rate if rate is None else rate):
            return (ST.LATE if rng.random() < 0.05 else ST.PRESENT), None, ""
        if p.exempt:
            return ST.LEAVE, None, FRAIL_NOTE
        leave = rng.random() < 0.6
        u = rng.random()
        days_left = (STUDY_UNTIL - day).days
        if u < 0.14 and days_left > 10:
            confirmed = at(day + timedelta(days=rng.randint(5, 10)), 16, rng.randrange(60))
            return ST.MAKEUP, confirmed, "已补学"
        if u < 0.155 and days_left > 2:
            return ST.MAKEUP, None, "已提交补学，待确认"
        if leave:
            return ST.LEAVE, None, rng.choice(LEAVE_NOTES)
        return ST.ABSENT, None, ""

    def attend(
        self,
        act: Act,
        roster: Iterable[Person],
        *,
        invitees: Iterable[Person] = (),
        rate: float | None = None,
    ) -> None:
        day = act.start.date()
        qr = self.qr_now
        for p in roster:
            status, confirmed, note = self.status_of(p, day, rate)
            method = (
                AttendanceMethod.QR if qr and status in (ST.PRESENT, ST.LATE) else AttendanceMethod.ROSTER
            )
            act.rows.append((p.pk, False, status, method, confirmed, note))
        for p in invitees:
            status, confirmed, note = self.status_of(p, day, rate)
            act.rows.append((p.pk, True, status, AttendanceMethod.ROSTER, confirmed, note))
        counts = Counter(row[2] for row in act.rows)
        present = counts[ST.PRESENT] + counts[ST.LATE]
        act.minutes = (
            f"{act.host or '书记'}主持，{act.recorder or act.host or '支部委员'}记录。应到{len(act.rows)}人，"
            f"实到{present}人（迟到{counts[ST.LATE]}人），请假{counts[ST.LEAVE]}人，"
            f"缺席{counts[ST.ABSENT] + counts[ST.MAKEUP]}人。{act.topic}。"
        )

    # --- the tree ------------------------------------------------------------------------------

    def _subtree(self, index: int) -> Iterator[Any]:
        stack = [index]
        while stack:
            i = stack.pop()
            yield self.orgs[i]
            stack.extend(reversed(self.children[i]))

    def ancestors(self, index: int) -> Iterator[Any]:
        org = self.orgs[index]
        while org.parent is not None:
            org = self.orgs[org.parent]
            yield org

    def _pick_street(self) -> int:
        """The street of branch_sec's branch (the demo accounts see its sites and classes); any
        street when that branch is not in one."""
        for org in self.ancestors(self.plan.sec_branch.index):
            if org.level == L.WORKING_COMMITTEE and org.name.endswith("街道工作委员会"):
                return int(org.index)
        for org in self.orgs:
            if org.level == L.WORKING_COMMITTEE and org.name.endswith("街道工作委员会"):
                return int(org.index)
        return int(self.plan.sec_branch.parent)

    def street_word(self) -> str:
        name = self.orgs[self.street].short_name or self.orgs[self.street].name
        return name.removesuffix("党工委") or name

    def _plan_sites(self) -> list[tuple[str, str, str, str, int | None]]:
        """The "1+5+N" network of the street: its party school, five teaching sites in its
        communities and organs, and N 现场教学点 (service stations, a 红色之家 for new-economy
        workers). (key, name, kind, address, capacity)."""
        word = self.street_word()
        sites: list[tuple[str, str, str, str, int | None]] = [
            ("main", f"{word}党校", SiteKind.MAIN, f"{word}党群服务中心三楼", 120)
        ]
        places = [
            short_org_name(self.orgs[i].name)
            for i in self.children[self.street]
            if self.orgs[i].level != L.GROUP
        ]
        places = [p for p in dict.fromkeys(places) if "社区" in p] + [
            p for p in dict.fromkeys(places) if "社区" not in p
        ]
        for n, place in enumerate(places[:5], start=1):
            sites.append((f"site{n}", f"{place}教学点", SiteKind.SITE, f"{place}党群服务站", 40))
        for n, name in enumerate(
            ("小区党群服务站现场教学点", "新就业群体“红色之家”", "老年活动中心现场教学点"), start=1
        ):
            sites.append((f"field{n}", name, SiteKind.FIELD_SITE, "", None))
        return sites

    # --- the year -------------------------------------------------------------------------------

    def acts(self) -> Iterator[Act]:
        branches = [o for o in self.orgs if o.level == L.BRANCH]
        for org in branches:
            yield from self.branch_year(org)
        yield from self.home_deliveries()
        yield from self.central_groups()
        yield from self.reading_classes()

    def study_part(self, a: Act) -> None:
        """About half the 党员大会 and 党小组会 record a study part (only it credits hours)."""
        if self.study_part_rng.random() < 0.5:
            a.study_minutes = self.study_part_rng.choice((30, 40, 45, 60))

    def branch_year(self, org: Any) -> list[Act]:
        rng = self.rng
        everyone = list(self.by_branch[org.index])
        if not everyone:
            return []
        secretary = everyone[0]
        committee = [p for p in everyone if p.role == "committee"]
        host = secretary.name
        recorder = committee[0].name if committee else (everyone[1].name if len(everyone) > 1 else host)
        self.qr_now = False
        uses_qr = org.profile in QR_PROFILES
        morning = org.profile in MORNING_PROFILES
        rider = org.profile == "rider"
        room = self.room(org)
        acts: list[Act] = []

        def act(kind: str, topic: str, start: datetime, hours: float, **extra: Any) -> Act:
            a = Act(
                org=extra.pop("org", org.index),
                activity_type=kind,
                topic=topic,
                start=start,
                end=start + timedelta(minutes=round(hours * 60)),
                place=extra.pop("place", room),
                host=host,
                recorder=recorder,
                **extra,
            )
            acts.append(a)
            return a

        # 主题党日 on the branch's day of the month; some branches skip a month or two.
        day_of_month = rng.choice(MONTH_DAYS)
        u = rng.random()
        skips = 2 if u < 0.05 else 1 if u < 0.2 else 0
        skipped = set(rng.sample(range(2, 11), skips))
        theme_days: list[Act] = []
        for month in months_until(STUDY_UNTIL):
            day = workday(STUDY_YEAR, month, day_of_month)
            if month in skipped or day > STUDY_UNTIL:
                continue
            title = THEME_BY_MONTH[month] if rng.random() < 0.5 else rng.choice(THEME_GENERIC)
            start = at(day, 20, 0) if rider else at(day, 9, 0) if morning else at(day, 14, 30)
            extra: dict[str, Any] = {}
            if month == 4 and title == THEME_BY_MONTH[4]:
                extra["base"] = 1
                extra["place"] = EDUCATION_BASES[1][0]
            elif org.index in self.site_branches and rng.random() < 0.3:
                key, name, *_ = self.sites[1 + rng.randrange(len(self.sites) - 1)]
                extra["site"], extra["place"] = key, name
            theme_days.append(act(A.THEME_DAY, title, start, 1.5 if rider else 2.5, **extra))

        # 支部党员大会 and 党课 once a quarter; the fourth quarter is under way.
        miss_assembly = rng.randrange(1, 4) if rng.random() < 0.1 else 0
        u = rng.random()
        miss_lecture = (
            {rng.randrange(1, 4)} if u < 0.1 else set(rng.sample(range(1, 4), 2)) if u < 0.13 else set()
        )
        lectures: list[Act] = []
        for quarter in (1, 2, 3, 4):
            first = 3 * quarter - 2
            if quarter != miss_assembly and (quarter < 4 or rng.random() < 0.6):
                month = first + rng.randrange(3)
                day = workday(STUDY_YEAR, month, rng.randint(3, 26))
                if day <= STUDY_UNTIL:
                    start = at(day, 9, 30) if morning else at(day, 19, 0) if rider else at(day, 15, 0)
                    topic = rng.choice(ASSEMBLY_TOPICS[quarter])
                    self.study_part(act(A.BRANCH_ASSEMBLY, topic, start, 1.5))
            if quarter not in miss_lecture and (quarter < 4 or rng.random() < 0.5):
                month = first + rng.randrange(3)
                day = workday(STUDY_YEAR, month, rng.randint(3, 26))
                if day <= STUDY_UNTIL:
                    speaker = host if quarter == 1 or rng.random() < 0.4 else rng.choice(everyone).name
                    title = rng.choice(LECTURE_TITLES)
                    if quarter == 1 and not title.startswith("我来讲党课"):
                        title = f"书记讲党课：{title}"
                    start = at(day, 9, 0) if morning else at(day, 19, 30) if rider else at(day, 15, 0)
                    lecture = act(A.PARTY_LECTURE, title, start, 2)
                    lecture.host = speaker
                    lectures.append(lecture)

        # 支委会 monthly where there is a committee.
        if committee:
            for month in months_until(STUDY_UNTIL):
                if rng.random() < 0.07:
                    continue
                day = workday(STUDY_YEAR, month, max(1, day_of_month - 3))
                if day > STUDY_UNTIL:
                    continue
                start = at(day, 17, 0) if not morning else at(day, 9, 0)
                topic = rng.choice(COMMITTEE_TOPICS)
                act(A.BRANCH_COMMITTEE, topic, start, 1.5, place="支部办公室")

        # 党小组会 monthly in each party group.
        for group in org.groups:
            leader = self.by_org[group][0].name if self.by_org[group] else host
            for month in months_until(STUDY_UNTIL):
                if rng.random() < 0.12:
                    continue
                day = workday(STUDY_YEAR, month, rng.randint(2, 27))
                if day > STUDY_UNTIL:
                    continue
                start = at(day, 19, 0) if not morning else at(day, 9, 30)
                a = act(A.GROUP_MEETING, rng.choice(GROUP_TOPICS), start, 1, org=group)
                a.host = a.recorder = leader
                self.study_part(a)

        # Organs: Friday afternoon 集中学习 each month (as Jinan's bureau fixes).
        if org.profile in ORGAN_PROFILES:
            week = rng.randint(2, 4)
            for month in months_until(STUDY_UNTIL):
                day = nth_weekday(STUDY_YEAR, month, 4, week)
                if day > STUDY_UNTIL or rng.random() < 0.05:
                    continue
                act(A.OTHER, "集中学习：" + rng.choice(ORGAN_TOPICS), at(day, 15, 0), 2)

        # 现场教学 at an education base, in some branches.
        if rng.random() < 0.06:
            base = rng.randrange(len(EDUCATION_BASES))
            month = rng.choice((4, 5, 6, 7, 9, 10))
            day = workday(STUDY_YEAR, month, rng.randint(3, 26))
            act(
                A.SITE_VISIT,
                f"走进{EDUCATION_BASES[base][0]}",
                at(day, 8, 30),
                3.5,
                base=base,
                place=EDUCATION_BASES[base][0],
            )

        # 组织生活会 and 民主评议 are due in the fourth quarter; a few branches held them already.
        if rng.random() < 0.25:
            day = workday(STUDY_YEAR, 11, rng.randint(2, 13))
            if day <= STUDY_UNTIL:
                act(A.ORG_LIFE_MEETING, f"{STUDY_YEAR}年度：对照检查，开展批评和自我批评", at(day, 14, 0), 3)
                if rng.random() < 0.6:
                    later = min(STUDY_UNTIL, day + timedelta(days=rng.randint(0, 2)))
                    act(
                        A.DEMOCRATIC_EVALUATION,
                        f"{STUDY_YEAR}年度：个人自评、党员互评、民主测评",
                        at(later, 17, 15),
                        1.5,
                    )

        # The plan's required topics, taken up by a theme day or lecture before the deadline.
        candidates = sorted([*theme_days, *lectures], key=lambda a: a.start)
        taken: set[int] = set()
        for index, (title, due, share) in enumerate(PLAN_TOPICS):
            if rng.random() >= share:
                continue
            fitting = [a for a in candidates if a.start.date() <= due and id(a) not in taken]
            if not fitting:
                continue
            chosen = fitting[-1] if rng.random() < 0.5 else rng.choice(fitting)
            taken.add(id(chosen))
            chosen.required_topic = index
            chosen.topic = title

        # Rosters as the record page sets them (``study.rosters``): the party members are expected;
        # activists and candidates sit in (列席) at 党课 and 主题党日 (ticked by default) and at the
        # 党员大会 (the secretary ticks them: they do not vote); the committee meets at 支委会 and
        # a group's party members at its 党小组会.
        voting = [p for p in everyone if p.status in (S.FULL, S.PROBATIONARY)]
        activists = [p for p in everyone if p.status in (S.ACTIVIST, S.CANDIDATE)]
        leaders = [secretary, *committee]
        for a in acts:
            self.qr_now = uses_qr and rng.random() < 0.4
            if a.activity_type in (A.BRANCH_ASSEMBLY, A.PARTY_LECTURE, A.THEME_DAY):
                self.attend(a, voting, invitees=activists)
            elif a.activity_type == A.BRANCH_COMMITTEE:
                self.attend(a, leaders)
            elif a.activity_type == A.GROUP_MEETING:
                self.attend(a, [p for p in self.by_org[a.org] if p.status in (S.FULL, S.PROBATIONARY)])
            else:
                self.attend(a, voting)
        self.qr_now = False
        return acts

    def room(self, org: Any) -> str:
        if org.profile == "village":
            return "村党群服务中心"
        if org.profile == "rider":
            return "骑手驿站（线上线下同步）"
        if org.profile in ("community", "community_retired"):
            return "社区党群服务中心"
        return "党员活动室"

    def home_deliveries(self) -> Iterator[Act]:
        """送学上门 to each exempt member, each quarter (and in November when the branch's turn
        came before the 15th), with that member alone on the roster."""
        rng = self.rng
        for p in self.people:
            if not p.exempt:
                continue
            secretary = self.by_branch[p.branch][0]
            for month in (3, 6, 9, 11):
                day = workday(STUDY_YEAR, month, rng.randint(5, 25))
                if day > STUDY_UNTIL or rng.random() < 0.1:
                    continue
                a = Act(
                    org=p.org,
                    activity_type=A.HOME_DELIVERY,
                    topic=rng.choice(HOME_TOPICS),
                    start=at(day, 10, 0),
                    end=at(day, 11, 0),
                    place=f"{p.name}同志家中",
                    host=secretary.name,
                    recorder=secretary.name,
                )
                self.qr_now = False
                self.attend(a, [p], rate=0.92)
                yield a

    def central_group(self, org: Any) -> tuple[list[Person], list[Person]]:
        """The standing 中心组 list of a 党委: its leaders (组长 first, then 副组长 and 成员), or
        the secretaries below when fewer than five leaders sit there; and two secretaries of its
        branches as standing 列席."""
        subtree = [o.index for o in self._subtree(org.index) if o.level == L.BRANCH]
        # The city's leaders sit in the city organs, a district's in its organs.
        organ = "city_organ" if org.depth == 0 else "organ"
        subtree.sort(key=lambda b: self.orgs[b].profile != organ)
        leaders = [p for b in subtree for p in self.by_branch[b] if C.LEADER in p.categories][:15]
        secretaries = [self.by_branch[b][0] for b in subtree if self.by_branch[b]]
        if len(leaders) < 5:
            leaders = (leaders + [s for s in secretaries if s not in leaders])[:9]
        invitees = [s for s in secretaries if s not in leaders][:2] if leaders else []
        return leaders, invitees

    def central_groups(self) -> Iterator[Act]:
        """理论学习中心组学习 twice a quarter for the 党委 of the city, the districts, towns and
        large units (depth ≤ 2), with their 中心组 list as the roster and its 列席 invited (the
        default of the record page)."""
        rng = self.rng
        for org in self.orgs:
            if org.level != L.COMMITTEE or org.depth > 2:
                continue
            leaders, invitees = self.central_group(org)
            if not leaders:
                continue
            for quarter in (1, 2, 3, 4):
                for turn in (0, 1):
                    month = 3 * quarter - 2 + turn + rng.randrange(2)
                    day = workday(STUDY_YEAR, month, rng.randint(3, 26))
                    if day > STUDY_UNTIL:
                        continue
                    a = Act(
                        org=org.index,
                        activity_type=A.CENTRAL_GROUP_STUDY,
                        topic=rng.choice(CENTRAL_TOPICS),
                        start=at(day, 9, 0),
                        end=at(day, 11, 30),
                        place=f"{org.short_name or short_org_name(org.name)}会议室",
                        host=leaders[0].name,
                        recorder=leaders[-1].name,
                    )
                    self.qr_now = False
                    self.attend(a, leaders, invitees=invitees)
                    yield a

    def reading_classes(self) -> Iterator[Act]:
        """A two-day 专题读书班 for the secretaries and most committee members of the branches
        under each 党委 or 党工委 (the nearest above the branch): their concentrated training."""
        rng = self.rng
        hosts: dict[int, list[Person]] = defaultdict(list)
        for org in self.orgs:
            if org.level != L.BRANCH:
                continue
            host = next(
                (o for o in self.ancestors(org.index) if o.level in (L.COMMITTEE, L.WORKING_COMMITTEE)), None
            )
            if host is None:
                continue
            for p in self.by_branch[org.index]:
                if p.role == "secretary" or (p.role == "committee" and rng.random() < 0.65):
                    hosts[host.index].append(p)
        for host_index in sorted(hosts):
            host = self.orgs[host_index]
            roster = hosts[host_index]
            month = rng.choice((3, 4, 5, 6, 9))
            first = workday(STUDY_YEAR, month, rng.randint(5, 20))
            if first.weekday() == 4:
                first -= timedelta(days=1)
            days = [first, first + timedelta(days=1)]
            # Each participant comes to both days or to neither (a few are away on business).
            away = {p.pk for p in roster if rng.random() < 0.07}
            for n, day in enumerate(days, start=1):
                a = Act(
                    org=host_index,
                    activity_type=A.READING_CLASS,
                    topic=f"基层党组织书记和党务干部（第{cn(n)}天）：学习贯彻党的二十届四中全会精神",
                    start=at(day, 8, 30),
                    end=at(day, 17, 0),
                    place=f"{host.short_name or short_org_name(host.name)}党员教育中心",
                    host=roster[0].name,
                    recorder=roster[-1].name,
                )
                self.qr_now = True
                for p in roster:
                    if p.pk in away:
                        a.rows.append((p.pk, False, ST.LEAVE, AttendanceMethod.ROSTER, None, "因公出差"))
                    else:
                        status = ST.LATE if rng.random() < 0.03 else ST.PRESENT
                        a.rows.append((p.pk, False, status, AttendanceMethod.QR, None, ""))
                present = sum(1 for r in a.rows if r[2] != ST.LEAVE)
                a.minutes = f"应到{len(a.rows)}人，实到{present}人，请假{len(a.rows) - present}人。"
                yield a
        self.qr_now = False

    # --- training classes -----------------------------------------------------------------------

    def class_a(self) -> tuple[list[Person], list[Act]]:
        """The street party school's 发展对象培训班: Tuesday and Thursday evenings in September and
        October (National Day week off), about 30 enrolees."""
        rng = self.rng
        street_branches = [o.index for o in self._subtree(self.street) if o.level == L.BRANCH]
        district = self.orgs[self.street].district
        district_branches = [o.index for o in self.orgs if o.level == L.BRANCH and o.district == district]
        others = [o.index for o in self.orgs if o.level == L.BRANCH]
        enrolees: list[Person] = []
        seen: set[int] = set()
        for wanted in (S.CANDIDATE, S.ACTIVIST):
            for pool in (street_branches, district_branches, others):
                for b in pool:
                    for p in self.by_branch[b]:
                        if p.status == wanted and p.pk not in seen and len(enrolees) < 30:
                            enrolees.append(p)
                            seen.add(p.pk)
        dropouts = {p.pk for p in rng.sample(enrolees, min(3, len(enrolees) // 8))}
        days = [
            date(STUDY_YEAR, 9, 1) + timedelta(days=n)
            for n in range(0, 59)
            if (date(STUDY_YEAR, 9, 1) + timedelta(days=n)).weekday() in (1, 3)
        ]
        days = [d for d in days if not date(STUDY_YEAR, 10, 1) <= d <= date(STUDY_YEAR, 10, 7)]
        sessions = []
        for n, (day, title) in enumerate(zip(days, CLASS_A_TOPICS, strict=False), start=1):
            a = Act(
                org=self.street,
                activity_type=A.TRAINING_SESSION,
                topic=f"第{n}课：{title}",
                start=at(day, 19, 0),
                end=at(day, 21, 0),
                place=self.sites[0][1],
                site="main",
                host=f"{self.street_word()}党校",
                training_class="a",
            )
            self.qr_now = True
            for p in enrolees:
                rate = 0.35 if p.pk in dropouts and n > 4 else 0.95
                status, confirmed, note = self.status_of(p, day, rate)
                method = AttendanceMethod.QR if status in (ST.PRESENT, ST.LATE) else AttendanceMethod.ROSTER
                a.rows.append((p.pk, False, status, method, confirmed, note))
            present = sum(1 for r in a.rows if r[2] in (ST.PRESENT, ST.LATE))
            a.minutes = f"应到{len(a.rows)}人，实到{present}人。"
            sessions.append(a)
        self.qr_now = False
        return enrolees, sessions

    def class_b(self) -> tuple[list[Person], list[Act]]:
        """An online class for delivery riders (外卖骑手网上班级): Wednesday nights, April to June."""
        rider_branches = [
            o.index for o in self.orgs if o.level == L.BRANCH and o.profile == "rider" and "外卖" in o.name
        ] or [o.index for o in self.orgs if o.level == L.BRANCH and o.profile == "rider"]
        district = self.orgs[self.street].district
        near = [b for b in rider_branches if self.orgs[b].district == district]
        enrolees: list[Person] = []
        for b in [*near, *(b for b in rider_branches if b not in near)]:
            for p in self.by_branch[b]:
                if p.status in ON_ROLL and len(enrolees) < 40:
                    enrolees.append(p)
        if len(enrolees) < 10:  # a small city: riders and other new-sector members
            for p in self.people:
                if C.NEW_SECTOR in p.categories and p not in enrolees and len(enrolees) < 25:
                    enrolees.append(p)
        days = [date(STUDY_YEAR, 4, 1) + timedelta(weeks=n) for n in range(len(CLASS_B_TOPICS))]
        sessions = []
        for n, (day, title) in enumerate(zip(days, CLASS_B_TOPICS, strict=True), start=1):
            a = Act(
                org=self.street,
                activity_type=A.ONLINE_CLASS,
                topic=f"第{n}课：{title}",
                start=at(day, 21, 0),
                end=at(day, 22, 0),
                place="线上（网上班级）",
                host=f"{self.street_word()}党校",
                training_class="b",
            )
            self.qr_now = False
            for p in enrolees:
                status, confirmed, note = self.status_of(p, day, min(0.95, p.rate + 0.2))
                a.rows.append((p.pk, False, status, AttendanceMethod.QR, confirmed, note))
            present = sum(1 for r in a.rows if r[2] in (ST.PRESENT, ST.LATE))
            a.minutes = f"在线学员{len(a.rows)}人，完成本课{present}人。"
            sessions.append(a)
        return enrolees, sessions


def cn(n: int) -> str:
    return "零一二三四五六七八九十"[n] if 0 <= n <= 10 else str(n)


# --- Writing ---------------------------------------------------------------------------------------


ATTENDANCE_COLUMNS = (
    "activity",
    "member",
    "is_invitee",
    "status",
    "method",
    "marked_at",
    "marked_by",
    "makeup_confirmed_at",
    "makeup_confirmed_by",
    "note",
    "created_at",
    "updated_at",
)


class Writer:
    """Writes planned activities in batches: the activities by ``bulk_create`` (their ids come
    back), then their attendance as plain rows."""

    def __init__(
        self,
        *,
        org_ids: dict[int, int],
        topics: dict[int, int],
        sites: dict[str, int],
        bases: dict[int, int],
        classes: dict[str, int],
        users: dict[int, Any],
        result: StudyResult,
    ) -> None:
        self.org_ids, self.topics, self.sites, self.bases, self.classes = (
            org_ids,
            topics,
            sites,
            bases,
            classes,
        )
        self.users = users  # plan index of an organisation → the account that records its activities
        self.result = result
        self.pending: list[Act] = []

    def add(self, act: Act) -> None:
        self.pending.append(act)
        if len(self.pending) >= FLUSH_ACTIVITIES:
            self.flush()

    def flush(self) -> None:
        from partyedu.study.models import Activity, Attendance

        if not self.pending:
            return
        objs = []
        margin = timedelta(minutes=30)
        for a in self.pending:
            user = self.users.get(a.org)
            objs.append(
                Activity(
                    organization_id=self.org_ids[a.org],
                    activity_type=a.activity_type,
                    teaching_format=DEMO_FORMATS.get(a.activity_type, ""),
                    topic=a.topic[:200],
                    start=a.start,
                    end=a.end,
                    site_id=self.sites.get(a.site) if a.site else None,
                    education_base_id=self.bases[a.base] if a.base is not None else None,
                    place=a.place[:200],
                    host=a.host[:50],
                    recorder=a.recorder[:50],
                    required_topic_id=self.topics[a.required_topic] if a.required_topic is not None else None,
                    training_class_id=self.classes[a.training_class] if a.training_class else None,
                    minutes=a.minutes,
                    credited_hours=a.credited_hours,
                    study_minutes=a.study_minutes,
                    checkin_opens_at=a.start - margin,
                    checkin_closes_at=a.end + margin,
                    created_by=user,
                )
            )
        Activity.objects.bulk_create(objs, batch_size=500)

        def rows() -> Iterator[tuple[Any, ...]]:
            for a, obj in zip(self.pending, objs, strict=True):
                user = self.users.get(a.org)
                user_id = user.pk if user is not None else None
                marked = adapt(a.end + timedelta(minutes=10))
                created = adapt(a.start - timedelta(days=1))
                for member, invitee, status, method, confirmed, note in a.rows:
                    self.result.statuses[status] += 1
                    yield (
                        obj.pk,
                        member,
                        invitee,
                        status,
                        method if status else "",
                        marked if status else None,
                        user_id if status else None,
                        adapt(confirmed) if confirmed is not None else None,
                        user_id if confirmed is not None else None,
                        note,
                        created,
                        adapt(confirmed) if confirmed is not None else marked,
                    )

        self.result.attendance += insert_plain(Attendance, ATTENDANCE_COLUMNS, rows())
        self.result.activities += len(objs)
        self.result.by_type.update(a.activity_type for a in self.pending)
        self.pending.clear()


def build_study(
    *,
    plan: Any,
    org_ids: dict[int, int],
    people: Sequence[Person],
    seed: int,
    users: dict[str, Any],
    account_members: dict[str, int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Write the year of study for a seeded demo city (call inside ``build_demo``'s transaction,
    after its members and accounts), then derive the learning-hour ledger and its summaries."""
    from partyedu.learning.models import (
        Column,
        DailyOnlineStudy,
        LearningHourEntry,
        OnlineResource,
        ResourceProgress,
    )
    from partyedu.learning.services import learning_hours_rebuild
    from partyedu.study.models import (
        CadenceRule,
        ClassEnrollment,
        EducationBase,
        MaterialDistribution,
        RequiredTopic,
        StudyMaterial,
        StudyPlan,
        TeachingSite,
        TrainingClass,
    )

    started = time.perf_counter()
    say = progress or (lambda message: None)
    account_members = account_members or {}
    result = StudyResult()
    planner = StudyPlanner(plan, people, seed)
    rng = planner.rng
    root = org_ids[0]
    city_admin = users.get("city_admin")
    branch_sec = users.get("branch_sec")

    # The study plan and its required topics.
    study_plan = StudyPlan.objects.create(
        organization_id=root,
        title=PLAN_TITLE,
        kind=PlanKind.ANNUAL,
        year=STUDY_YEAR,
        description="各级党组织结合“三会一课”、主题党日和集中培训，按期完成以下必修专题，并在活动记录中注明对应专题。",
        issued_by=city_admin,
    )
    topics = RequiredTopic.objects.bulk_create(
        [
            RequiredTopic(plan=study_plan, title=title, due_date=due, sort_order=n)
            for n, (title, due, _share) in enumerate(PLAN_TOPICS, start=1)
        ]
    )
    result.plan_topics = len(topics)

    # Teaching sites of the street ("1+5+N") and the education bases.
    street_id = org_ids[planner.street]
    site_objs = TeachingSite.objects.bulk_create(
        [
            TeachingSite(
                organization_id=street_id,
                name=name,
                kind=kind,
                address=address,
                capacity=capacity,
                contact=planner.by_branch[plan.sec_branch.index][0].name if kind == SiteKind.MAIN else "",
            )
            for _key, name, kind, address, capacity in planner.sites
        ]
    )
    sites = {key: obj.pk for (key, *_rest), obj in zip(planner.sites, site_objs, strict=True)}
    district_orgs = {o.district: o.index for o in plan.orgs if o.depth == 1}
    base_objs = EducationBase.objects.bulk_create(
        [
            EducationBase(
                organization_id=root if owner == "root" else org_ids[district_orgs.get(owner, 0)],
                name=name,
                base_type=kind,
                address=address,
                description=description,
            )
            for name, kind, address, description, owner in EDUCATION_BASES
        ]
    )
    bases = {n: obj.pk for n, obj in enumerate(base_objs)}
    result.sites, result.bases = len(site_objs), len(base_objs)
    # A county that holds its 党课 twice a half-year instead of once a quarter (a local variant).
    county = next((o for o in plan.orgs if o.depth == 1 and o.district == 4), None)
    if county is not None:
        CadenceRule.objects.create(
            organization_id=org_ids[county.index],
            activity_type=A.PARTY_LECTURE,
            period="half_year",
            min_count=2,
        )

    # Training classes with their enrolment.
    enrol_a, sessions_a = planner.class_a()
    enrol_b, sessions_b = planner.class_b()
    word = planner.street_word()
    class_a = TrainingClass.objects.create(
        organization_id=street_id,
        name=f"{STUDY_YEAR}年发展对象培训班",
        start_date=sessions_a[0].start.date(),
        end_date=sessions_a[-1].start.date(),
        schedule="每周二、周四晚 19:00–21:00（国庆假期停课）",
        site_id=sites["main"],
        completion_ratio=Decimal("0.80"),
    )
    class_b = TrainingClass.objects.create(
        organization_id=street_id,
        name=f"{word}外卖骑手网上班级（{STUDY_YEAR}年第一期）",
        start_date=sessions_b[0].start.date(),
        end_date=sessions_b[-1].start.date(),
        schedule="每周三晚 21:00–22:00，线上学习",
        completion_ratio=Decimal("0.75"),
        is_online=True,
    )
    classes = {"a": class_a.pk, "b": class_b.pk}
    enrolments = [ClassEnrollment(training_class=class_a, member_id=p.pk) for p in enrol_a]
    enrolments += [ClassEnrollment(training_class=class_b, member_id=p.pk) for p in enrol_b]
    ClassEnrollment.objects.bulk_create(enrolments)
    result.classes, result.enrolments = 2, len(enrolments)

    # The 中心组 list of every 党委: 组长, 副组长, 成员 and two 列席.
    result.central_group_members = _write_central_groups(planner, org_ids)

    # The activities of the year and their attendance.
    account_orgs: dict[int, Any] = {}
    if branch_sec is not None:
        account_orgs[plan.sec_branch.index] = branch_sec
        account_orgs.update((g, branch_sec) for g in plan.sec_branch.groups)
    if city_admin is not None:
        account_orgs[0] = city_admin
    writer = Writer(
        org_ids=org_ids,
        topics={n: t.pk for n, t in enumerate(topics)},
        sites=sites,
        bases=bases,
        classes=classes,
        users=account_orgs,
        result=result,
    )
    for act in [*sessions_a, *sessions_b]:
        writer.add(act)
    reported = 0
    for act in planner.acts():
        writer.add(act)
        if result.attendance >= reported + 500_000:
            reported = result.attendance
            say(f"学习活动 {result.activities} 次、出勤记录 {result.attendance} 条")
    writer.flush()
    say(f"学习活动 {result.activities} 次、出勤记录 {result.attendance} 条")

    # The online column, its articles and who read them.
    column = Column.objects.create(
        organization_id=root,
        name=COLUMN_NAME,
        description="市委组织部主办，每两个月一期，党员在手机上即可学习",
    )
    resources = []
    for n, (title, month, seconds, hours, body) in enumerate(ARTICLES, start=1):
        published = at(date(STUDY_YEAR, month, 15), 9, 0)
        resources.append(
            OnlineResource(
                organization_id=root,
                column=column,
                issue_no=n,
                title=title,
                kind="article",
                body=body,
                duration_seconds=seconds,
                credit_hours=hours,
                published_at=published,
                is_published=True,
            )
        )
    OnlineResource.objects.bulk_create(resources)
    result.resources = len(resources)
    progress_rows: list[ResourceProgress] = []
    daily: Counter[tuple[int, date]] = Counter()
    readers = [p for p in people if p.online]
    member1_pk = account_members.get("member1")
    for p in readers:
        for resource in resources:
            u = rng.random()
            if u >= 0.75:
                continue
            published_at = resource.published_at
            assert published_at is not None
            day = min(STUDY_UNTIL, published_at.date() + timedelta(days=rng.randint(0, 60)))
            begin = at(day, 20, rng.randrange(0, 50))
            done: datetime | None
            if u < 0.66 or p.pk == member1_pk:
                played = resource.duration_seconds
                done = begin + timedelta(seconds=played + rng.randint(30, 300))
            else:
                played = resource.duration_seconds // rng.randint(2, 4)
                done = None
            last = begin + timedelta(seconds=played + 5)
            progress_rows.append(
                ResourceProgress(
                    member_id=p.pk,
                    resource=resource,
                    ranges=[[0, played]],
                    played_seconds=played,
                    last_heartbeat_at=last,
                    completed_at=done,
                )
            )
            daily[(p.pk, day)] += played
    ResourceProgress.objects.bulk_create(progress_rows, batch_size=1000)
    DailyOnlineStudy.objects.bulk_create(
        [DailyOnlineStudy(member_id=m, day=d, seconds=s) for (m, d), s in sorted(daily.items())],
        batch_size=1000,
    )
    result.progress = len(progress_rows)

    # A booklet handed out in a few branches of the first district (branch_sec's among them).
    material = StudyMaterial.objects.create(organization_id=root, title=MATERIAL_TITLE, year=STUDY_YEAR)
    first_district = [
        o.index for o in plan.orgs if o.level == L.BRANCH and o.district == plan.sec_branch.district
    ]
    chosen = [plan.sec_branch.index, *[b for b in first_district if b != plan.sec_branch.index][:7]]
    copies = []
    for b in chosen:
        day = workday(STUDY_YEAR, 3, rng.randint(2, 20))
        copies += [
            MaterialDistribution(material=material, member_id=p.pk, distributed_on=day)
            for p in planner.by_branch[b]
            if rng.random() < 0.9
        ]
    MaterialDistribution.objects.bulk_create(copies, batch_size=1000)
    result.distributions = len(copies)

    # The cadence report's monthly counts, and the ledger and every summary, derived from the
    # sources.
    from partyedu.study.services import activity_counts_rebuild, activity_figures_rebuild

    activity_counts_rebuild(apply=True)
    activity_figures_rebuild(apply=True)
    say("学时台账重算 …")
    rebuild_started = time.perf_counter()
    report = learning_hours_rebuild(apply=True)
    result.rebuild_seconds = time.perf_counter() - rebuild_started
    result.rebuild_differences = report.differences
    result.hour_entries = LearningHourEntry.objects.count()
    _count_completion(result, people)
    result.seconds = time.perf_counter() - started
    return result


def _write_central_groups(planner: StudyPlanner, org_ids: dict[int, int]) -> int:
    from partyedu.study.choices import CentralGroupRole
    from partyedu.study.models import CentralGroupMembership

    rows = []
    for org in planner.orgs:
        if org.level != L.COMMITTEE:
            continue
        leaders, invitees = planner.central_group(org)
        roles = [CentralGroupRole.LEADER, CentralGroupRole.DEPUTY]
        for n, p in enumerate(leaders):
            role = roles[n] if n < len(roles) else CentralGroupRole.MEMBER
            rows.append((org_ids[org.index], p.pk, role))
        rows += [(org_ids[org.index], p.pk, CentralGroupRole.ATTENDEE) for p in invitees]
    CentralGroupMembership.objects.bulk_create(
        [
            CentralGroupMembership(organization_id=org, member_id=member, role=role, since=STUDY_FROM)
            for org, member, role in rows
        ],
        batch_size=1000,
    )
    return len(rows)


def _count_completion(result: StudyResult, people: Sequence[Person]) -> None:
    from django.db.models import Count, Q

    from partyedu.learning.choices import REQUIRED_GROUPS, RequirementGroup
    from partyedu.learning.models import MemberRequirement, MemberYearHours

    counts = MemberRequirement.objects.aggregate(
        required=Count("pk", filter=Q(group__in=REQUIRED_GROUPS)),
        exempt=Count("pk", filter=Q(group=RequirementGroup.EXEMPT)),
    )
    result.required, result.exempt = counts["required"], counts["exempt"]
    done = set(
        MemberYearHours.objects.filter(year=STUDY_YEAR, completed=True).values_list("member_id", flat=True)
    )
    result.completed = len(done)
    secretaries = [p.pk for p in people if p.role == "secretary" and not p.exempt]
    result.secretaries = len(secretaries)
    result.secretaries_completed = sum(1 for pk in secretaries if pk in done)


def study_summary_lines(result: StudyResult) -> list[str]:
    """The study half of the seed summary (``seed_demo``'s printout)."""
    types = "、".join(
        f"{ActivityType(t).label}{n}" for t, n in sorted(result.by_type.items(), key=lambda item: -item[1])
    )
    statuses = "、".join(
        f"{AttendanceStatus(s).label}{result.statuses[s]}"
        for s in AttendanceStatus.values
        if result.statuses[s]
    )
    rate = f"{result.completed / result.required:.0%}" if result.required else "—"
    return [
        f"学习活动 {result.activities} 次（{STUDY_FROM:%Y-%m-%d} 至 {STUDY_UNTIL:%Y-%m-%d}）：{types}",
        f"出勤记录 {result.attendance} 条：{statuses}",
        f"学时台账 {result.hour_entries} 条（由出勤和网上学习重算生成，用时 {result.rebuild_seconds:.1f} 秒）",
        f"{STUDY_YEAR}年学时：应达标 {result.required} 人，已达标 {result.completed} 人（{rate}），"
        f"免于硬性要求 {result.exempt} 人；支部书记达标 {result.secretaries_completed}/{result.secretaries} 人",
        f"学习计划 1 个（必修专题 {result.plan_topics} 个）、培训班 {result.classes} 个（学员 {result.enrolments} 名）、"
        f"教学点 {result.sites} 个、教育基地 {result.bases} 个、网上学习资源 {result.resources} 篇"
        f"（学习记录 {result.progress} 条）、学习材料发放 {result.distributions} 份",
    ]


def plan_people(plan: Any) -> list[Person]:
    """The members of a ``DemoPlan`` as the study half sees them, numbered 1, 2, … in plan order
    (as a fresh database numbers them): the study year can be planned without a database."""
    return [
        Person(
            pk=n,
            org=spec.org,
            branch=spec.branch,
            role=spec.role,
            status=spec.status,
            categories=tuple(spec.categories),
            exempt=spec.is_exempt,
            name=spec.name,
        )
        for n, spec in enumerate(plan.members(), start=1)
    ]
