"""The member-development (发展党员) part of the demo, written last (after the appraisal): about
sixty people on their way from the application (申请入党) to full membership, spread over the
branches of the city, each a ``DevelopmentCase`` taken through the real services.

**What is seeded.** Cases in every stage — 申请人 (one whose talk is overdue, one waiting for more
than ``applicant_wait_days``), 已谈话 (one stalled), 入党积极分子 (one whose assessment is overdue,
some ready to become 发展对象), 发展对象 at each of their steps (determined, trained, reviewed by the
committee, pre-reviewed, publicised), 支部大会已通过 (one whose approval above is overdue), 预备党员
(one whose probation was extended once by six months), 转正已讨论, 正式党员 converted this year and a
few closed (withdrawn before becoming activists). branch_sec's branch holds five: an applicant whose
talk is due within days, an activist of more than a year assessed lately (ready to become a
发展对象), a 发展对象 pre-reviewed and now in publicity (next step 公示), a 预备党员 whose probation
ends within 30 days and one converted this year. A ``DevelopmentPlan`` for the demo year is set for
each district; no ``DevelopmentPolicy`` (the defaults of DOMAIN_RULES apply).

**Services.** ``case_create`` and ``step_confirm`` for every step with dates in the past, each on a
day that meets its rule (no override anywhere); ``case_close`` for the withdrawn ones;
``plan_set`` for the plans. Branch steps are confirmed by branch_sec in its branch and by the
system elsewhere (the demo has no other secretaries' accounts); the steps of the level above
(预审, 审批, 转正审批) by district_admin where it is the org_admin above the branch, else by
city_admin. The person becomes a ``Member`` (入党积极分子) through the activist step and their
status follows the case from there — through the services only.

**People.** 培养联系人 (one or two) and 入党介绍人 (two, often including a 培养联系人) are 正式党员 of
the case's branch (or its 党小组). The applicants are new people, not on the demo roll before:
the demo's planned roll (``demo.seed``) is unchanged, and the development part adds the people it
takes from the activist step on.

**Meetings.** Every vote (支部党员大会讨论接收 / 讨论转正) is held at a 支部党员大会 of the case's
branch: one of the demo year's own (``demo.study``) when one with a quorum falls in the step's
window, else one recorded here (topic ``ADMISSION_TOPIC`` / ``CONVERSION_TOPIC``) through the
demo's activity writer (``study.Writer``) with the default roster of the type (the branch's 正式 and
预备党员; the people of earlier cases approved before it; the person discussed as 列席) and its
attendance, always with a quorum. The vote is read from the record (``activity_quorum``) when the
step is confirmed.

**Training.** A 发展对象 confirmed as trained has three days of 集中培训 in their candidate period,
from the hours ledger: the street party school's 发展对象培训班 of the demo year (enrolled and
attending its sessions) where it fits, else the district's three-day 短期集中培训
(``TRAINING_TOPIC``, held once a quarter), recorded here with their attendance; the ledger is
synchronised (``sync_attendance_hours``) before the step is confirmed. No papers are uploaded (the
demo has no files).

**Dates.** The cases are dated back from the day the demo is built (``today``), so the workbench's
alerts (talk due, probation ending, approval overdue, stalled applicants) are current. The steps
fall on working days. Deterministic for a given seed and day. Running it again adds nothing: it
stops when any case exists.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.scope import can_act_above, subtree_q
from partyedu.development.choices import ConversionOutcome, Recommendation, Stage, Step
from partyedu.development.models import (
    CaseDocument,
    CaseStep,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentPolicy,
)
from partyedu.development.policy import add_months, default_policy
from partyedu.development.services import case_close, case_create, plan_set, step_confirm
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.idnumber import check_char
from partyedu.members.models import Member
from partyedu.members.pii_index import id_number_index
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceMethod, AttendanceStatus
from partyedu.study.models import Activity, Attendance, ClassEnrollment, TrainingClass
from partyedu.study.selectors import activity_quorum
from partyedu.study.services import activity_counts_add, counted_organization_id, sync_attendance_hours

from .seed import DISTRICTS, NameMaker
from .study import STUDY_YEAR, Act, StudyResult, Writer, at, nth_weekday

ADMISSION_TOPIC = "讨论接收预备党员"
CONVERSION_TOPIC = "讨论预备党员转正"
BOTH_TOPIC = "讨论接收预备党员和预备党员转正"
TRAINING_TOPIC = "发展对象短期集中培训"
# Topics of the activities this part records (the tests tell them from the demo year's).
TOPICS = (ADMISSION_TOPIC, CONVERSION_TOPIC, BOTH_TOPIC)
TRAINING_SUBJECTS = ("党的基本理论和党章", "党的历史和优良传统", "党员的权利义务和入党誓词")
CLASS_A_NAME = f"{STUDY_YEAR}年发展对象培训班"
# A branch lends mentors, sponsors and a quorum: this many 正式党员 at least.
MIN_FULL = 6
# Branches looked at for the cases outside branch_sec's (a random sample of the larger ones).
BRANCH_SAMPLE = 40
MIN_BRANCH_SIZE = 8
# The stories of the other branches: (kind, how many). 55, and branch_sec's 5.
OTHER_STORIES: tuple[tuple[str, int], ...] = (
    # A funnel, as in practice: many applicants and activists, fewer candidates and new members.
    ("applied", 7),
    ("applied_overdue", 1),
    ("applied_stalled", 1),
    ("talked", 5),
    ("talked_stalled", 1),
    ("activist", 11),
    ("activist_overdue", 1),
    ("activist_ready", 2),
    ("candidate", 3),
    ("training_done", 2),
    ("committee_review", 1),
    ("pre_review", 1),
    ("publicity", 2),
    ("admission_voted", 2),
    ("approval_overdue", 1),
    ("probationary", 5),
    ("extended", 1),
    ("conversion_voted", 2),
    ("full", 3),
    ("closed_applied", 2),
    ("closed_talked", 1),
)
# Kinds that wait for the level above (预审, 审批, 转正审批): one of each in district_admin's district.
NEAR_HOME = ("committee_review", "approval_overdue", "conversion_voted")
HOME_STORIES = ("talk_due", "activist_ready", "pre_review", "probation_ending", "full")
EXTENSION_MONTHS = 6
# Days at most between two assessments of an activist: under the six months of the rule (at least
# 181 days), with room for a weekend.
ASSESSMENT_GAP = 178

TALK_NOTES = (
    "了解入党动机和对党的认识，介绍党的基本知识和入党程序，提出努力方向",
    "谈话了解本人入党动机、工作学习和思想情况，鼓励其继续向党组织靠拢",
    "同申请人谈话，了解其基本情况和入党动机，告知入党条件和要求",
)
ACTIVIST_NOTE = "经支部委员会研究，确定为入党积极分子，报上级党委备案"
ASSESSMENT_NOTES = (
    "培养联系人考察：政治立场坚定，学习认真，积极参加支部组织的学习和志愿服务活动",
    "半年考察：按时列席主题党日，按期提交思想汇报，工作积极主动，群众评价较好",
    "考察意见：思想上积极要求进步，理论学习有提高；联系群众还需加强",
    "培养考察：在本职岗位上表现突出，参加社区志愿服务，按期向党组织汇报思想",
)
PROBATION_ASSESSMENT_NOTE = "预备期考察：能履行党员义务，按时参加组织生活、交纳党费，表现良好"
CANDIDATE_NOTE = "经支部委员会讨论，听取党小组、培养联系人和党员群众意见，确定为发展对象，报上级党委备案"
COMMITTEE_NOTE = (
    "政治审查：本人及直系亲属、主要社会关系政治历史清楚，审查合格；支部委员会审查同意，报上级党委预审"
)
PRE_REVIEW_NOTE = "预审合格，同意发放《入党志愿书》"
PUBLICITY_NOTE = "在本单位公示，公示期间未收到反映"
ADMISSION_NOTE = "支部党员大会讨论，同意接收为预备党员，报上级党委审批"
APPROVAL_NOTE = "派人谈话，经党委会议审批，同意接收为预备党员，预备期一年"
OATH_NOTE = "参加上级党委组织的入党宣誓仪式"
CONVERSION_NOTE = "本人提交转正申请，支部党员大会讨论，同意按期转为正式党员"
EXTEND_NOTE = "预备期内理论学习和发挥作用不够，支部党员大会讨论决定延长预备期六个月"
CONVERSION_APPROVAL_NOTE = "经党委会议审批，同意转为正式党员"
EXTEND_APPROVAL_NOTE = "经党委会议审批，同意延长预备期六个月"
CLOSE_REASONS = {
    "closed_applied": "本人书面申请撤回入党申请",
    "closed_talked": "经谈话，本人表示暂不具备条件，自愿撤回入党申请",
}


def recorded_activities_q() -> Q:
    """The activities this part records (its 支部党员大会 and the districts' short training), by
    their topics."""
    return Q(topic__in=TOPICS) | Q(topic__startswith=TRAINING_TOPIC)


# --- The context: what the demo city offers ---------------------------------------------------------


@dataclass
class Branch:
    """A branch that holds cases: its 正式党员 (lenders of mentors, sponsors and votes), the names
    of its secretary and a committee member, and its district (the level that approves)."""

    pk: int
    path: str
    name: str
    district_pk: int
    district_name: str  # 明湖区委
    region: str  # the ID number's region code of most people there
    full: list[int]
    secretary: str
    committee: str


@dataclass(frozen=True)
class Meeting:
    """A 支部党员大会 a vote may be held at: one of the demo year's (``pk``) or one to record
    (``key``)."""

    day: date
    pk: int | None = None
    key: str = ""


@dataclass
class NewMeeting:
    key: str
    branch: Branch
    day: date
    kinds: set[str] = field(default_factory=set)
    invitees: list[str] = field(default_factory=list)  # story keys of the people discussed


@dataclass
class Block:
    """A district's three-day 短期集中培训 (recorded here) and who attends it."""

    key: str
    district_pk: int
    district_name: str
    days: list[date]
    attendees: list[str] = field(default_factory=list)  # story keys


@dataclass(frozen=True)
class ClassA:
    """The street party school's 发展对象培训班 of the demo year and its sessions."""

    pk: int
    path: str
    sessions: tuple[tuple[int, date], ...]


@dataclass
class Context:
    today: date
    home: Branch | None
    branches: list[Branch]
    meetings: dict[int, list[Meeting]]
    class_a: ClassA | None = None


# --- The plan of each case (no database) --------------------------------------------------------------


@dataclass
class Planned:
    step: str
    day: date
    data: dict[str, Any] = field(default_factory=dict)
    meeting: Meeting | None = None
    above: bool = False


@dataclass
class Story:
    """One case as planned: the person, the branch, the application and the steps in order."""

    key: str
    kind: str
    branch: Branch
    name: str
    male: bool
    birth: date
    id_number: str
    applied_on: date
    steps: list[Planned] = field(default_factory=list)
    close: tuple[date, str] | None = None
    mentors: list[int] = field(default_factory=list)
    training: Block | list[tuple[int, date]] | None = None


def workday(day: date) -> date:
    """``day``, or the Friday before it when it falls on a weekend."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def months_before(day: date, months: int) -> date:
    return add_months(day, -months)


class Planner:
    """Draws the stories from ``random.Random(f"{seed}-development")`` and the context: dates back
    from ``today``, the meetings of the votes (the demo year's where one fits), the training."""

    def __init__(self, ctx: Context, seed: int) -> None:
        self.ctx = ctx
        self.today = ctx.today
        self.rng = random.Random(f"{seed}-development")
        self.names = NameMaker(self.rng)
        self.policy = default_policy()
        self.new_meetings: dict[str, NewMeeting] = {}
        self.blocks: dict[str, Block] = {}
        self.used_ids: set[str] = set()

    # --- small draws ---------------------------------------------------------------------------

    def days(self, lo: int, hi: int) -> timedelta:
        return timedelta(days=self.rng.randint(lo, hi))

    def back(self, day: date, lo: int, hi: int) -> date:
        """A working day ``lo``–``hi`` days before ``day`` (or the Friday before it)."""
        return workday(day - self.days(lo, hi))

    def ago(self, lo: int, hi: int) -> date:
        return self.back(self.today, lo, hi)

    # --- the whole plan -------------------------------------------------------------------------

    def stories(self) -> list[Story]:
        result: list[Story] = []
        ctx = self.ctx
        if ctx.home is not None:
            for n, kind in enumerate(HOME_STORIES):
                result.append(self.story(f"home-{n}", kind, ctx.home))
        kinds = [kind for kind, count in OTHER_STORIES for _ in range(count)]
        self.rng.shuffle(kinds)
        pool = ctx.branches or ([ctx.home] if ctx.home is not None else [])
        if not pool:
            return result
        cap = max(1, math.ceil(len(kinds) / len(pool)))
        load: Counter[int] = Counter()
        order = list(pool)
        self.rng.shuffle(order)
        # district_admin's district first gets one case of each kind waiting for the level above.
        near = [b for b in order if ctx.home is not None and b.district_pk == ctx.home.district_pk]
        placed: set[str] = set()
        at_branch = 0
        for n, kind in enumerate(kinds):
            if near and kind in NEAR_HOME and kind not in placed:
                branch = near[len(placed) % len(near)]
                placed.add(kind)
            else:
                # Round robin over the branches in a drawn order, each up to ``cap`` cases.
                while load[order[at_branch % len(order)].pk] >= cap:
                    at_branch += 1
                branch = order[at_branch % len(order)]
                at_branch += 1
            load[branch.pk] += 1
            result.append(self.story(f"case-{n}", kind, branch))
        return result

    def story(self, key: str, kind: str, branch: Branch) -> Story:
        rng = self.rng
        male = rng.random() < 0.5
        # Old enough on the earliest application of the demo (about four years back).
        age = rng.randint(23, 42)
        birth = date(self.today.year - age, 1, 1) + timedelta(days=rng.randrange(365))
        name = self.names.make(male, birth.year)
        s = Story(
            key, kind, branch, name, male, birth, self.id_number(branch.region, birth, male), self.today
        )
        s.mentors = rng.sample(branch.full, 2 if rng.random() < 0.4 else 1)
        self.plan(s)
        return s

    def id_number(self, region: str, birth: date, male: bool) -> str:
        while True:
            # The demo roll draws from the same numbers: ``_fresh_ids`` checks the database.
            sequence = self.rng.randrange(1, 500) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + check_char(first17)

    # --- one story ---------------------------------------------------------------------------------

    def plan(self, s: Story) -> None:
        kind = s.kind
        today = self.today
        if kind in ("applied", "talk_due", "applied_overdue", "applied_stalled", "closed_applied"):
            age = {
                "applied": (2, 25),
                "talk_due": (18, 24),
                "applied_overdue": (40, 70),
                "applied_stalled": (190, 260),
                "closed_applied": (60, 300),
            }[kind]
            s.applied_on = today - self.days(*age)
            if kind == "closed_applied":
                s.close = (self.back(min(today, s.applied_on + self.days(10, 40)), 0, 0), CLOSE_REASONS[kind])
            return
        if kind in ("talked", "talked_stalled", "closed_talked"):
            age = {"talked": (5, 120), "talked_stalled": (200, 280), "closed_talked": (60, 300)}[kind]
            talk = self.ago(*age)
            self.talk(s, talk)
            if kind == "closed_talked":
                s.close = (workday(min(today, talk + self.days(20, 50))), CLOSE_REASONS[kind])
                s.close = (max(s.close[0], talk), s.close[1])
            return
        if kind in ("activist", "activist_overdue", "activist_ready"):
            if kind == "activist":
                since = self.ago(20, 450)
                span = (today - since).days
                last = self.ago(5, min(150, span - 20)) if span >= 60 else None
            elif kind == "activist_overdue":
                since = self.ago(300, 400)
                last = self.ago(190, 240)
            else:
                since = workday(months_before(today, 12) - self.days(15, 45))
                last = self.ago(8, 20)
            self.activist(s, since, last)
            return
        if kind in ("candidate", "training_done", "committee_review", "pre_review", "publicity"):
            anchor = self.ago(2, 4) if s.branch is self.ctx.home else self.ago(3, 45)
            self.pre_admission(s, kind, anchor)
            return
        if kind in ("admission_voted", "approval_overdue"):
            if kind == "admission_voted":
                ideal = today - self.days(10, 60)
                vote = self.meeting(
                    s,
                    ideal - timedelta(days=15),
                    min(ideal + timedelta(days=15), today - timedelta(days=2)),
                    ideal,
                    "admission",
                )
            else:
                ideal = today - self.days(105, 120)
                vote = self.meeting(
                    s, ideal - timedelta(days=10), today - timedelta(days=100), ideal, "admission"
                )
            self.pre_admission(s, Step.ADMISSION_VOTE, vote.day, vote)
            return
        if kind in ("probationary", "probation_ending"):
            lo, hi = (8, 25) if kind == "probation_ending" else (40, 300)
            first, last = (
                months_before(today + timedelta(days=lo), 12),
                months_before(today + timedelta(days=hi), 12),
            )
            vote = self.meeting(s, first, last, first + (last - first) / 2, "admission")
            self.pre_admission(s, Step.ADMISSION_VOTE, vote.day, vote)
            oath = not (
                kind == "probationary" and today - vote.day < timedelta(days=75) and self.rng.random() < 0.5
            )
            self.probation(s, vote.day, until=today, oath=oath)
            return
        if kind in ("conversion_voted", "full", "extended"):
            self.conversion(s, kind)
            return
        raise ValueError(f"unknown story {kind}")

    def talk(self, s: Story, talk: date) -> None:
        s.applied_on = talk - self.days(3, 27)
        b = s.branch
        talker = f"支部书记{b.secretary}" if self.rng.random() < 0.6 else f"支部委员{b.committee}"
        s.steps.append(Planned(Step.TALK, talk, {"people": talker, "note": self.rng.choice(TALK_NOTES)}))

    def activist(self, s: Story, since: date, last: date | None) -> None:
        """The talk, the activist step on ``since`` and the assessments up to ``last`` (each
        within ``ASSESSMENT_GAP`` days of the one before)."""
        self.talk(s, self.back(since, 14, 60))
        rng = self.rng
        # Students and young workers are often put forward by the Youth League (推优).
        recommendation = Recommendation.MASS_ORG if rng.random() < 0.35 else Recommendation.MEMBERS
        s.steps.append(
            Planned(
                Step.ACTIVIST,
                since,
                {"mentors": s.mentors, "recommendation": recommendation, "note": ACTIVIST_NOTE},
            )
        )
        if last is None or last <= since:
            return
        span = (last - since).days
        count = max(1, math.ceil(span / ASSESSMENT_GAP))
        for n in range(1, count + 1):
            day = last if n == count else workday(since + timedelta(days=round(span * n / count)))
            s.steps.append(Planned(Step.ASSESSMENT, day, {"note": rng.choice(ASSESSMENT_NOTES)}))

    def pre_admission(self, s: Story, last: str, anchor: date, vote: Meeting | None = None) -> None:
        """The steps up to ``last`` (a step of the candidate stage, or the admission vote on the
        meeting ``vote``), ``last`` on ``anchor``, the others back from it."""
        steps: list[Planned] = []
        end = anchor
        if last == Step.ADMISSION_VOTE:
            assert vote is not None
            steps.append(Planned(Step.ADMISSION_VOTE, vote.day, {"note": ADMISSION_NOTE}, meeting=vote))
            end = vote.day - self.days(3, 20)
            last = Step.PUBLICITY
        if last == Step.PUBLICITY:
            start = end - self.days(5, 8)
            steps.append(Planned(Step.PUBLICITY, end, {"start_on": start, "note": PUBLICITY_NOTE}))
            end = self.back(start, 1, 5)
            last = Step.PRE_REVIEW
        if last == Step.PRE_REVIEW:
            people = f"{s.branch.district_name}组织部"
            steps.append(
                Planned(Step.PRE_REVIEW, end, {"people": people, "note": PRE_REVIEW_NOTE}, above=True)
            )
            end = self.back(end, 4, 12)
            last = Step.COMMITTEE_REVIEW
        if last == Step.COMMITTEE_REVIEW:
            steps.append(Planned(Step.COMMITTEE_REVIEW, end, {"note": COMMITTEE_NOTE}))
            end = self.back(end, 2, 8)
            last = Step.TRAINING_DONE
        if last == Step.TRAINING_DONE:
            first, name = self.training(s, end)
            steps.append(Planned(Step.TRAINING_DONE, end, {"note": f"参加{name}，考试合格，结业"}))
            end = self.back(first, 7, 35)
        rng = self.rng
        # Two 入党介绍人, most often with a 培养联系人 among them.
        if rng.random() < 0.6:
            sponsors = list(dict.fromkeys([s.mentors[0], *rng.sample(s.branch.full, 3)]))[:2]
        else:
            sponsors = rng.sample(s.branch.full, 2)
        steps.append(Planned(Step.CANDIDATE, end, {"sponsors": sponsors, "note": CANDIDATE_NOTE}))
        last_assessment = self.back(end, 7, 25)
        since = workday(months_before(end, 12) - self.days(5, 40))
        self.activist(s, since, last_assessment)
        s.steps.extend(reversed(steps))

    def training(self, s: Story, done: date) -> tuple[date, str]:
        """Three days of 集中培训 before ``done``: the street's 发展对象培训班 when the branch is in
        its street and three of its sessions fall before ``done``, else the district's short
        training of the latest quarter that ends two days before. Returns the first day counted
        and the training's name."""
        cls = self.ctx.class_a
        if cls is not None and s.branch.path.startswith(cls.path):
            before = [(pk, day) for pk, day in cls.sessions if day < done]
            if len(before) >= 3:
                s.training = list(cls.sessions)
                return before[-3][1], CLASS_A_NAME
        # The district holds it once a quarter: the second Tuesday to Thursday of the quarter's
        # first month.
        year, month = done.year, done.month - (done.month - 1) % 3
        while True:
            first = nth_weekday(year, month, 1, 2)
            days = [first + timedelta(days=n) for n in range(3)]
            if days[-1] <= done - timedelta(days=2):
                break
            year, month = (year, month - 3) if month > 3 else (year - 1, month + 9)
        key = f"{s.branch.district_pk}-{year}-{month:02d}"
        block = self.blocks.get(key)
        if block is None:
            block = self.blocks[key] = Block(key, s.branch.district_pk, s.branch.district_name, days)
        block.attendees.append(s.key)
        s.training = block
        return days[0], f"{s.branch.district_name}{year}年{month}月{TRAINING_TOPIC}"

    def probation(self, s: Story, vote: date, until: date, *, oath: bool = True) -> None:
        """The approval above (within the approval window), the oath and, half-way through the
        probation, an assessment — all before ``until``."""
        rng = self.rng
        approval = workday(min(vote + self.days(15, 50), until - timedelta(days=6)))
        approval = max(approval, vote)
        people = (
            f"{s.branch.district_name}组织部 {self.names.make(rng.random() < 0.5, 1975 + rng.randrange(20))}"
        )
        s.steps.append(
            Planned(Step.APPROVAL, approval, {"people": people, "note": APPROVAL_NOTE}, above=True)
        )
        last = approval
        if oath:
            last = max(approval, workday(min(approval + self.days(5, 30), until)))
            s.steps.append(Planned(Step.OATH, last, {"note": OATH_NOTE}))
        half = workday(add_months(vote, 6) + self.days(0, 20))
        if oath and last < half <= until - timedelta(days=5) and rng.random() < 0.5:
            s.steps.append(Planned(Step.ASSESSMENT, half, {"note": PROBATION_ASSESSMENT_NOTE}))

    def conversion(self, s: Story, kind: str) -> None:
        today = self.today
        if kind == "extended":
            lo, hi = (
                months_before(today - timedelta(days=60), 12),
                months_before(today - timedelta(days=30), 12),
            )
            admit = self.meeting(s, lo, hi, lo + (hi - lo) / 2, "admission")
            end = add_months(admit.day, self.policy.probation_months)
            cv = self.meeting(
                s,
                end,
                min(end + timedelta(days=25), today - timedelta(days=12)),
                end + timedelta(days=7),
                "conversion",
            )
            ca = workday(min(cv.day + self.days(8, 15), today - timedelta(days=1)))
        else:
            if kind == "conversion_voted":
                ideal = today - self.days(5, 35)
                cv = self.meeting(
                    s, today - timedelta(days=45), today - timedelta(days=5), ideal, "conversion"
                )
                ca = None
            else:
                # Converted this year: the approval between mid-February and ten days ago.
                earliest = date(today.year, 2, 15)
                span = max(0, (today - timedelta(days=10) - earliest).days)
                ca = workday(today - timedelta(days=10) - timedelta(days=self.rng.randint(0, span)))
                ideal = ca - self.days(10, 30)
                cv = self.meeting(s, ca - timedelta(days=45), ca - timedelta(days=8), ideal, "conversion")
            end_by = months_before(cv.day, 12) - timedelta(days=1)
            admit = self.meeting(
                s, end_by - timedelta(days=40), end_by, end_by - timedelta(days=15), "admission"
            )
        self.pre_admission(s, Step.ADMISSION_VOTE, admit.day, admit)
        self.probation(s, admit.day, until=cv.day - timedelta(days=1))
        if kind == "extended":
            data = {
                "outcome": ConversionOutcome.EXTEND,
                "extension_months": EXTENSION_MONTHS,
                "note": EXTEND_NOTE,
            }
        else:
            data = {"outcome": ConversionOutcome.CONVERT, "note": CONVERSION_NOTE}
        s.steps.append(Planned(Step.CONVERSION_VOTE, cv.day, data, meeting=cv))
        if ca is not None:
            note = EXTEND_APPROVAL_NOTE if kind == "extended" else CONVERSION_APPROVAL_NOTE
            s.steps.append(Planned(Step.CONVERSION_APPROVAL, max(ca, cv.day), {"note": note}, above=True))

    # --- meetings ---------------------------------------------------------------------------------

    def meeting(self, s: Story, lo: date, hi: date, ideal: date, kind: str) -> Meeting:
        """A 支部党员大会 of the story's branch between ``lo`` and ``hi`` (never after yesterday):
        the one of the demo year nearest ``ideal``, else a new one on the working day at or before
        ``ideal`` (shared with a later case of the branch that needs one then)."""
        hi = min(hi, self.today - timedelta(days=1))
        lo = min(lo, hi)
        ideal = min(max(ideal, lo), hi)
        fits = [m for m in self.ctx.meetings.get(s.branch.pk, []) if lo <= m.day <= hi]
        if fits:
            chosen = min(fits, key=lambda m: (abs((m.day - ideal).days), m.day))
        else:
            day = workday(ideal)
            if day < lo:
                day = ideal
            key = f"{s.branch.pk}-{day:%Y%m%d}"
            chosen = Meeting(day, key=key)
            self.ctx.meetings.setdefault(s.branch.pk, []).append(chosen)
            self.new_meetings[key] = NewMeeting(key, s.branch, day)
        if chosen.key:
            new = self.new_meetings[chosen.key]
            new.kinds.add(kind)
            if kind == "admission":
                new.invitees.append(s.key)
        return chosen


# --- Reading the city ---------------------------------------------------------------------------------


def _home_branch() -> Organization | None:
    row = (
        RoleAssignment.objects.filter(user__username="branch_sec", organization__level=OrgLevel.BRANCH)
        .select_related("organization")
        .order_by("id")
        .first()
    )
    return row.organization if row is not None else None


def _district_path(org: Organization) -> str:
    """The path of the district (区县, the level under the city) above a branch."""
    paths = ancestor_paths(org.path)
    return paths[1] if len(paths) > 1 else paths[0]


def _region(district: Organization | None) -> str:
    if district is not None:
        for d in DISTRICTS:
            if d.name in district.name:
                return d.region
    return DISTRICTS[0].region


def load_context(rng: random.Random, today: date) -> Context:
    """The branches that hold cases (branch_sec's and a sample of the larger ones), their
    正式党员, the demo year's 支部党员大会 with a quorum and the street's 发展对象培训班."""
    home_org = _home_branch()
    pool = [
        org
        for org in Organization.objects.filter(
            level=OrgLevel.BRANCH, is_active=True, member_count__gte=MIN_BRANCH_SIZE
        ).order_by("path")
        if home_org is None or org.pk != home_org.pk
    ]
    chosen = sorted(rng.sample(pool, min(BRANCH_SAMPLE, len(pool))), key=lambda o: o.path)
    orgs = ([home_org] if home_org is not None else []) + chosen
    districts = {o.path: o for o in Organization.objects.filter(path__in={_district_path(o) for o in orgs})}
    by_path = {o.path: o for o in orgs}
    full: dict[int, list[tuple[int, str, list[str]]]] = defaultdict(list)
    if orgs:
        rows = (
            Member.objects.filter(
                subtree_q("org_path", [o.path for o in orgs]),
                is_active=True,
                status=MemberStatus.FULL,
                is_exempt=False,
            )
            .order_by("org_path", "pk")
            .values_list("pk", "name", "org_path", "categories")
        )
        for pk, name, path, categories in rows:
            owner = next((by_path[p] for p in ancestor_paths(path) if p in by_path), None)
            if owner is not None:
                full[owner.pk].append((pk, name, list(categories or [])))

    def branch(org: Organization) -> Branch | None:
        people = full.get(org.pk, [])
        if len(people) < MIN_FULL:
            return None
        secretary = next((n for _, n, c in people if MemberCategory.SECRETARY in c), people[0][1])
        committee = next(
            (n for _, n, c in people if MemberCategory.COMMITTEE in c and n != secretary), people[1][1]
        )
        district = districts.get(_district_path(org))
        return Branch(
            pk=org.pk,
            path=org.path,
            name=org.name,
            district_pk=district.pk if district is not None else org.pk,
            district_name=(district.display_name if district is not None else org.display_name),
            region=_region(district),
            full=[pk for pk, _, _ in people],
            secretary=secretary,
            committee=committee,
        )

    home = branch(home_org) if home_org is not None else None
    branches = [b for b in (branch(o) for o in chosen) if b is not None]
    meetings: dict[int, list[Meeting]] = defaultdict(list)
    ids = [b.pk for b in ([home] if home else []) + branches]
    last = at(today, 0)
    quorum = (
        Attendance.objects.filter(
            activity__organization_id__in=ids,
            activity__activity_type=ActivityType.BRANCH_ASSEMBLY,
            activity__start__lt=last,
            is_invitee=False,
            member__status=MemberStatus.FULL,
        )
        .values("activity_id", "activity__organization_id", "activity__start")
        .annotate(expected=Count("id"), present=Count("id", filter=Q(status__in=ATTENDED_STATUSES)))
        .order_by("activity__start", "activity_id")
    )
    for row in quorum:
        if row["present"] * 2 > row["expected"]:
            day = timezone.localdate(row["activity__start"])
            meetings[row["activity__organization_id"]].append(Meeting(day, pk=row["activity_id"]))
    class_a = None
    tc = (
        TrainingClass.objects.filter(name=CLASS_A_NAME, is_online=False)
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    if tc is not None:
        sessions = tuple(
            (pk, timezone.localdate(start))
            for pk, start in Activity.objects.filter(training_class=tc, start__lt=last)
            .order_by("start")
            .values_list("pk", "start")
        )
        class_a = ClassA(tc.pk, tc.organization.path, sessions)
    return Context(today=today, home=home, branches=branches, meetings=dict(meetings), class_a=class_a)


def _fresh_ids(planner: Planner, stories: list[Story]) -> None:
    """Draw again the ID numbers that someone on the roll (or an earlier case) already holds."""
    while True:
        hashes = {id_number_index(s.id_number): s for s in stories}
        taken = set(
            Member.objects.filter(id_number_hash__in=list(hashes)).values_list("id_number_hash", flat=True)
        )
        taken |= set(
            DevelopmentCase.objects.filter(id_number_hash__in=list(hashes)).values_list(
                "id_number_hash", flat=True
            )
        )
        if not taken:
            return
        for h in sorted(taken):
            s = hashes[h]
            s.id_number = planner.id_number(s.branch.region, s.birth, s.male)


# --- Writing --------------------------------------------------------------------------------------------


@dataclass
class Actors:
    branch_sec: User | None
    district_admin: User | None
    city_admin: User | None
    home_pk: int | None

    def branch(self, b: Branch) -> User | None:
        return self.branch_sec if b.pk == self.home_pk else None

    def above(self, b: Branch) -> User | None:
        for user in (self.district_admin, self.city_admin):
            if user is not None and can_act_above(user, b.path):
                return user
        return None


def _step_data(p: Planned, meetings: dict[str, int]) -> dict[str, Any]:
    data: dict[str, Any] = {"step": p.step, "date": p.day, **p.data}
    if p.meeting is not None:
        pk = p.meeting.pk if p.meeting.pk is not None else meetings[p.meeting.key]
        quorum = activity_quorum(user=None, activity=Activity(pk=pk))
        data["meeting"] = pk
        # Every voter present votes yes (the record gives the number).
        data["yes_votes"] = quorum["voting_present"]
    return data


def _confirm(actors: Actors, case: DevelopmentCase, s: Story, p: Planned, meetings: dict[str, int]) -> None:
    actor = actors.above(s.branch) if p.above else actors.branch(s.branch)
    step_confirm(actor=actor, case=case, data=_step_data(p, meetings))


def _split(s: Story) -> int:
    """How many of the story's steps come before the training and meetings are written: up to
    and including the candidate step (the person is on the roll from the activist step)."""
    for n, p in enumerate(s.steps):
        if p.step == Step.CANDIDATE:
            return n + 1
    return len(s.steps)


def _write_activities(
    planner: Planner, stories: list[Story], cases: dict[str, DevelopmentCase], actors: Actors
) -> tuple[dict[str, int], int]:
    """Record the new 支部党员大会 and the districts' short training with their attendance, enrol
    the people trained at the street's 发展对象培训班 and mark them at its sessions, then bring the
    ledger, the figures and the monthly counts in step. Returns the new meetings' ids by key and
    how many activities were recorded."""
    rng = planner.rng
    member_of = {key: case.member_id for key, case in cases.items() if case.member_id is not None}
    # On the roll as 预备党员 from the approval above: on the roster of the branch's later meetings.
    admitted: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for s in stories:
        approved = next((p.day for p in s.steps if p.step == Step.APPROVAL), None)
        if approved is not None and s.key in member_of:
            admitted[s.branch.pk].append((approved, member_of[s.key]))
    home_pk = actors.home_pk
    users = {home_pk: actors.branch_sec} if home_pk is not None and actors.branch_sec is not None else {}
    branch_ids = {m.branch.pk for m in planner.new_meetings.values()}
    block_orgs = {b.district_pk for b in planner.blocks.values()}
    writer = Writer(
        org_ids={pk: pk for pk in branch_ids | block_orgs},
        topics={},
        sites={},
        bases={},
        classes={},
        users=users,
        result=StudyResult(),
    )
    # The branches' voters as the default roster of a 支部党员大会 has them now.
    roster: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if branch_ids:
        paths = {o.path: o.pk for o in Organization.objects.filter(pk__in=branch_ids).only("pk", "path")}
        for pk, path, status in (
            Member.objects.filter(
                subtree_q("org_path", list(paths)),
                is_active=True,
                status__in=(MemberStatus.FULL, MemberStatus.PROBATIONARY),
            )
            .order_by("org_path", "pk")
            .values_list("pk", "org_path", "status")
        ):
            owner = next((paths[p] for p in ancestor_paths(path) if p in paths), None)
            if owner is not None:
                roster[owner].append((pk, status))
    keys: list[tuple[str, Act]] = []
    for meeting in sorted(planner.new_meetings.values(), key=lambda m: (m.branch.path, m.day)):
        act = _meeting_act(meeting, roster[meeting.branch.pk], admitted[meeting.branch.pk], member_of, rng)
        writer.add(act)
        keys.append((meeting.key, act))
    for block in sorted(planner.blocks.values(), key=lambda b: b.key):
        people = [member_of[k] for k in block.attendees if k in member_of]
        for n, day in enumerate(block.days, start=1):
            act = Act(
                org=block.district_pk,
                activity_type=ActivityType.TRAINING_SESSION,
                topic=f"{TRAINING_TOPIC}（第{n}天）：{TRAINING_SUBJECTS[n - 1]}",
                start=at(day, 8, 30),
                end=at(day, 17, 0),
                place=f"{block.district_name}党校",
                host=f"{block.district_name}组织部",
                recorder=f"{block.district_name}党校",
            )
            act.rows = [
                (pk, False, AttendanceStatus.PRESENT, AttendanceMethod.ROSTER, None, "") for pk in people
            ]
            act.minutes = f"{block.district_name}{day.year}年{day.month}月发展对象短期集中培训第{n}天，应到{len(people)}人，实到{len(people)}人。"
            writer.add(act)
    writer.flush()
    new_ids = _activity_ids(writer_acts=[a for _, a in keys], extra=planner.blocks.values())
    meeting_ids = {key: new_ids[(act.org, act.start)] for key, act in keys}
    activity_ids = set(new_ids.values())
    attendance_ids = list(
        Attendance.objects.filter(activity_id__in=activity_ids).values_list("pk", flat=True)
    )
    attendance_ids += _class_a_attendance(planner, stories, member_of)
    activity_counts_add(
        [
            (
                counted_organization_id(org, kind),
                timezone.localtime(start).year,
                kind,
                timezone.localtime(start).month,
            )
            for org, kind, start in (
                (a.organization, a.activity_type, a.start)
                for a in Activity.objects.filter(pk__in=activity_ids).select_related("organization")
            )
        ]
    )
    sync_attendance_hours(attendance_ids=attendance_ids, actor=None)
    return meeting_ids, len(activity_ids)


def _activity_ids(*, writer_acts: Sequence[Act], extra: Any) -> dict[tuple[int, Any], int]:
    """The ids of the activities just written, by (organisation, start)."""
    starts = [a.start for a in writer_acts]
    for block in extra:
        starts += [at(day, 8, 30) for day in block.days]
    orgs = {a.org for a in writer_acts} | {b.district_pk for b in extra}
    found: dict[tuple[int, Any], int] = {}
    for pk, org, start, topic in Activity.objects.filter(
        organization_id__in=orgs, start__in=starts
    ).values_list("pk", "organization_id", "start", "topic"):
        if topic in TOPICS or topic.startswith(TRAINING_TOPIC):
            found[(org, start)] = pk
    return found


def _meeting_act(
    meeting: NewMeeting,
    roster: list[tuple[int, str]],
    admitted: list[tuple[date, int]],
    member_of: dict[str, int],
    rng: random.Random,
) -> Act:
    """A 支部党员大会 of the branch on the meeting's day: the branch's 正式 and 预备党员 on the
    roster (and the people of earlier cases approved as 预备党员 before that day), most present —
    always more than half of the 正式党员 — and the people discussed for admission as 列席."""
    b = meeting.branch
    topic = (
        BOTH_TOPIC
        if len(meeting.kinds) == 2
        else ADMISSION_TOPIC
        if "admission" in meeting.kinds
        else CONVERSION_TOPIC
    )
    start = at(meeting.day, 15, 0)
    act = Act(
        org=b.pk,
        activity_type=ActivityType.BRANCH_ASSEMBLY,
        topic=topic,
        start=start,
        end=at(meeting.day, 16, 30),
        place="党员活动室",
        host=b.secretary,
        recorder=b.committee,
    )
    marks: dict[int, str] = {}
    for pk, _status in roster:
        u = rng.random()
        marks[pk] = (
            AttendanceStatus.PRESENT
            if u < 0.86
            else AttendanceStatus.LATE
            if u < 0.9
            else AttendanceStatus.LEAVE
        )
    # More than half of the 正式党员 present (支部条例 第十一条).
    voters = [pk for pk, status in roster if status == MemberStatus.FULL]
    away = [pk for pk in voters if marks[pk] == AttendanceStatus.LEAVE]
    while away and (len(voters) - len(away)) * 2 <= len(voters):
        marks[away.pop(0)] = AttendanceStatus.PRESENT
    invitees = {member_of[k] for k in meeting.invitees if k in member_of}
    earlier = sorted(pk for day, pk in admitted if day < meeting.day and pk not in invitees)
    for pk, _status in roster:
        note = "因公出差" if marks[pk] == AttendanceStatus.LEAVE else ""
        act.rows.append((pk, False, marks[pk], AttendanceMethod.ROSTER, None, note))
    act.rows += [(pk, False, AttendanceStatus.PRESENT, AttendanceMethod.ROSTER, None, "") for pk in earlier]
    act.rows += [
        (pk, True, AttendanceStatus.PRESENT, AttendanceMethod.ROSTER, None, "") for pk in sorted(invitees)
    ]
    present = sum(1 for r in act.rows if r[2] in ATTENDED_STATUSES)
    act.minutes = (
        f"{b.secretary}主持，{b.committee}记录。应到{len(act.rows) - len(invitees)}人，实到"
        f"{present - len(invitees)}人，列席{len(invitees)}人。{topic}：介绍人介绍情况，支部委员会报告审查情况，"
        "与会党员充分讨论后举手表决。"
    )
    return act


def _class_a_attendance(planner: Planner, stories: list[Story], member_of: dict[str, int]) -> list[int]:
    """Enrol the people trained at the street's 发展对象培训班 and mark them at its sessions after
    they became 发展对象 (present, but for an occasional leave outside the last three sessions
    before their training step)."""
    cls = planner.ctx.class_a
    if cls is None:
        return []
    rows: list[Attendance] = []
    enrolled: list[ClassEnrollment] = []
    rng = planner.rng
    for s in stories:
        if not isinstance(s.training, list) or s.key not in member_of:
            continue
        member = member_of[s.key]
        candidate = next(p.day for p in s.steps if p.step == Step.CANDIDATE)
        done = next(p.day for p in s.steps if p.step == Step.TRAINING_DONE)
        sessions = [(pk, day) for pk, day in s.training if day > candidate]
        needed = {pk for pk, day in [x for x in sessions if x[1] < done][-3:]}
        enrolled.append(ClassEnrollment(training_class_id=cls.pk, member_id=member))
        for pk, day in sessions:
            status = (
                AttendanceStatus.LEAVE
                if pk not in needed and rng.random() < 0.1
                else AttendanceStatus.PRESENT
            )
            marked = at(day, 21, 10)
            rows.append(
                Attendance(
                    activity_id=pk,
                    member_id=member,
                    status=status,
                    method=AttendanceMethod.ROSTER,
                    marked_at=marked,
                    note="事假" if status == AttendanceStatus.LEAVE else "",
                )
            )
    ClassEnrollment.objects.bulk_create(enrolled)
    Attendance.objects.bulk_create(rows)
    return list(
        Attendance.objects.filter(
            member_id__in=[r.member_id for r in rows], activity__training_class_id=cls.pk
        ).values_list("pk", flat=True)
    )


def _plans(actor: User | None, today: date) -> int:
    """Each district's (区县) development plan for the demo year: about 1.5 % of its members."""
    count = 0
    names = tuple(d.name for d in DISTRICTS)
    for district in Organization.objects.filter(depth=1, is_active=True).order_by("path"):
        if not any(name in district.name for name in names):
            continue
        planned = max(2, round(district.member_count * 0.015))
        plan_set(
            actor=actor,
            organization=district,
            year=STUDY_YEAR,
            planned=planned,
            note=f"{STUDY_YEAR}年度发展党员计划",
        )
        count += 1
    return count


# --- Entry points ---------------------------------------------------------------------------------------


@dataclass
class Result:
    stages: Counter[str]
    home_stages: Counter[str]
    meetings_existing: int
    meetings_new: int
    trainings: int
    plans: int
    stalled: int
    extended: int
    seconds: float


def seed_development(*, seed: int, today: date, say: Callable[[str], Any] = print) -> list[str]:
    """About sixty development cases across the city (branch_sec's five among them), the
    districts' plans for the demo year; returns summary lines (none when a case exists already)."""
    if DevelopmentCase.objects.exists() or not Organization.objects.exists():
        return []
    started = time.perf_counter()
    rng = random.Random(f"{seed}-development-branches")
    with transaction.atomic():
        ctx = load_context(rng, today)
        planner = Planner(ctx, seed)
        stories = planner.stories()
        _fresh_ids(planner, stories)
        accounts = {
            u.username: u
            for u in User.objects.filter(username__in=("branch_sec", "district_admin", "city_admin"))
        }
        actors = Actors(
            accounts.get("branch_sec"),
            accounts.get("district_admin"),
            accounts.get("city_admin"),
            ctx.home.pk if ctx.home is not None else None,
        )
        cases: dict[str, DevelopmentCase] = {}
        for s in stories:
            case = case_create(
                actor=actors.branch(s.branch),
                data={
                    "organization": s.branch.pk,
                    "name": s.name,
                    "id_number": s.id_number,
                    "applied_on": s.applied_on,
                },
            )
            for p in s.steps[: _split(s)]:
                _confirm(actors, case, s, p, {})
            if s.close is not None:
                case_close(actor=actors.branch(s.branch), case=case, reason=s.close[1], day=s.close[0])
            case.refresh_from_db()
            cases[s.key] = case
        meeting_ids, recorded = _write_activities(planner, stories, cases, actors)
        for s in stories:
            for p in s.steps[_split(s) :]:
                _confirm(actors, cases[s.key], s, p, meeting_ids)
        plans = _plans(actors.city_admin, today)
    result = _result(ctx, stories, planner, recorded, plans, today, time.perf_counter() - started)
    say(f"发展党员 {sum(result.stages.values())} 人（用时 {result.seconds:.1f} 秒）")
    return summary(result, ctx)


def _result(
    ctx: Context,
    stories: list[Story],
    planner: Planner,
    recorded: int,
    plans: int,
    today: date,
    seconds: float,
) -> Result:
    cases = DevelopmentCase.objects.all()
    stages = Counter(cases.values_list("stage", flat=True))
    wait = timedelta(days=default_policy().applicant_wait_days)
    stalled = (
        cases.exclude(stage__in=(Stage.FULL, Stage.CLOSED))
        .filter(
            Q(next_due__lt=today)
            | Q(stage__in=(Stage.APPLIED, Stage.TALKED, Stage.ACTIVIST), last_step_on__lt=today - wait)
        )
        .count()
    )
    votes = [p.meeting for s in stories for p in s.steps if p.meeting is not None]
    return Result(
        stages=stages,
        home_stages=Counter(
            cases.filter(organization_id=ctx.home.pk).values_list("stage", flat=True)
            if ctx.home is not None
            else []
        ),
        meetings_existing=len({m.pk for m in votes if m.pk is not None}),
        meetings_new=len(planner.new_meetings),
        trainings=len(planner.blocks),
        plans=plans,
        stalled=stalled,
        extended=cases.filter(extension_months__gt=0).count(),
        seconds=seconds,
    )


def summary(result: Result, ctx: Context) -> list[str]:
    stages = "、".join(f"{Stage(s).label}{result.stages[s]}" for s in Stage.values if result.stages[s])
    lines = [
        f"发展党员 {sum(result.stages.values())} 人：{stages}；停滞或逾期 {result.stalled} 人，"
        f"延长预备期 {result.extended} 人",
        f"发展党员表决会议：沿用{STUDY_YEAR}年支部党员大会 {result.meetings_existing} 次、补录 {result.meetings_new} 次；"
        f"区县发展对象短期集中培训 {result.trainings} 期；{STUDY_YEAR}年度发展党员计划 {result.plans} 个区县",
    ]
    if ctx.home is not None and result.home_stages:
        home = "、".join(
            f"{Stage(s).label}{result.home_stages[s]}" for s in Stage.values if result.home_stages[s]
        )
        lines.append(
            f"{ctx.home.name}发展党员 {sum(result.home_stages.values())} 人（{home}）：申请人谈话即将到期、"
            "入党积极分子可确定为发展对象、发展对象公示中、预备党员30天内预备期满"
        )
    return lines


def clear_development() -> None:
    """Remove every case with its steps and papers, the plans and the rules (``seed_demo
    --force``): cases point at organisations, members and activities with PROTECT. The activities
    and members this part added go with the rest of the demo."""
    models: tuple[Any, ...] = (
        CaseDocument,
        CaseStep,
        DevelopmentCase.mentors.through,
        DevelopmentCase.sponsors.through,
        DevelopmentCase,
        DevelopmentPlan,
        DevelopmentPolicy,
    )
    for model in models:
        model.objects.all()._raw_delete(model.objects.db)
