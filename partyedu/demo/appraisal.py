"""The democratic appraisal (民主评议党员) part of the demo, written after the points:

- **last year** (``LAST_YEAR``, 2025, held in January 2026): an appraisal reported in most
  branches of the city — every 党支部 with at least three participants, except a deterministic
  ~15% that did not hold it (never branch_sec's). The committee's decisions are mostly 合格, some
  优秀 (never more than the share, so no reason is needed) and a few 基本合格; in branch_sec's
  branch one member is rated 不合格 with a 限期改正 follow-up, closed since with a note;
- **this year** (``THIS_YEAR``, 2026): branch_sec's branch has its appraisal open at the vote
  step — self-evaluation and peer steps closed, member1's self-evaluation written through the
  service, some ballots cast by others, member1 not voted yet (a visitor votes as member1).

**Services.** branch_sec's branch goes through the services in both years: ``appraisal_create``,
``step_open``/``step_close`` of every step in order, ``appraisal_decide`` (the 不合格 with its
follow-up), ``follow_up_close``, member1's ``self_evaluation_save`` — audited, by branch_sec and
member1. The other branches' completed appraisals are stored by ``write_reported``, a demo-only
bulk writer of what those services leave behind (the appraisal reported, five steps opened and
closed in order, the participants ``appraisal_create`` snapshots with the committee's grades):
through the services they cost a dozen transactions each — about 10 s for the ~100 branches of
the default 2,000-member city on SQLite, and far more at 100,000 members — where the seed's budget
is a few seconds. The tests check a bulk-written appraisal against the services' rules.

**Ballots.** ``ballot_submit`` needs the voter's own account and most demo members have none, so
the ballots are written by ``write_ballots``, a demo-only bulk writer that stores what the service
stores: one ``BallotReceipt`` (appraisal, voter, submitted_at, updated_at) per voter and one
``Vote`` (a random UUID id, appraisal, appraisee, grade, ``ballot_key`` =
``anonymity.ballot_key(appraisal, voter)``) per grade — never for oneself, only from voting
participants (正式党员) on participants — the votes of an appraisal in shuffled order. It writes
no per-ballot audit row (the seed is audited once, as the rest of the demo). The ballots agree
with the decisions (most voters give the grade the committee then decided). At most
``BALLOT_VOTERS`` voters in all (this year's branch reserved, then last year's branches,
branch_sec's first, then in path order while their voters fit), so a 100,000-member seed stays
fast: beyond that, branches without ballots keep their decisions only (their tallies read 0).

Self-evaluations of members without an account are written in bulk too (demo realism).

**Dates.** The services stamp the time of seeding; for realism, in branch_sec's appraisals the
steps' ``opened_at`` and ``closed_at``, ``reported_at`` and the creation, decision and follow-up
times are then set by queryset updates — last year's to one of a few schedules in January 2026
(the planned dates given to ``appraisal_create`` match them; the bulk-written appraisals get the
same schedules directly), this year's to the last two weeks. The audit log keeps the real time of
seeding (it is append-only). Deterministic for a given seed. Running it again adds nothing: it
stops when any appraisal exists.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.appraisal.anonymity import ballot_key
from partyedu.appraisal.choices import STEP_ORDER, AppraisalStatus, FollowUpMeasure, Grade, StepCode
from partyedu.appraisal.models import (
    DEFAULT_EXCELLENT_SHARE,
    Appraisal,
    AppraisalStep,
    BallotReceipt,
    FollowUp,
    Participant,
    PeerComment,
    Vote,
)
from partyedu.appraisal.services import (
    PlannedDates,
    appraisal_create,
    appraisal_decide,
    branch_members,
    excellent_limit,
    follow_up_close,
    self_evaluation_save,
    step_close,
    step_open,
)
from partyedu.appraisal.services.appraisals import is_exempt
from partyedu.core.bulk import adapt, insert_plain
from partyedu.members.choices import PARTY_STATUSES, MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from .study import STUDY_YEAR, at

THIS_YEAR = STUDY_YEAR
LAST_YEAR = STUDY_YEAR - 1
# Branches with fewer participants hold no appraisal in the demo; of the others, this share did
# not hold last year's (deterministic for the seed; never branch_sec's branch).
MIN_PARTICIPANTS = 3
SKIP_SHARE = 0.15
# Ballots written in bulk, in voters, over both years.
BALLOT_VOTERS = 3000
# The committee's decisions: the share rated 优秀 (drawn per branch, within the appraisal's
# share) and the chance of 基本合格 for a member who is not exempt.
EXCELLENT_RANGE = (0.08, 0.25)
BASIC_CHANCE = 0.025
# A voter gives the grade the committee decides with this chance, else a neighbouring one.
AGREEMENT = 0.8
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    Grade.EXCELLENT: (Grade.QUALIFIED,),
    Grade.QUALIFIED: (Grade.EXCELLENT, Grade.BASICALLY_QUALIFIED),
    Grade.BASICALLY_QUALIFIED: (Grade.QUALIFIED, Grade.UNQUALIFIED),
    Grade.UNQUALIFIED: (Grade.BASICALLY_QUALIFIED,),
}
SELF_EVALUATION_SHARE = 0.95
# This year: the share of branch_sec's voters (member1 aside) who have voted already.
TURNOUT_SO_FAR = 0.65

# Last year's schedules, in January of the demo year: each branch follows one, moved by its
# offset in days from Monday 5 January.
SCHEDULE_START = date(STUDY_YEAR, 1, 5)
SCHEDULE_OFFSETS = (0, 1, 2, 7, 8)

FOLLOW_UP_NOTE = "限期半年改正：按时参加组织生活、按期交纳党费，每季度向支部书面汇报一次思想和工作情况"
FOLLOW_UP_DEADLINE = date(STUDY_YEAR, 6, 30)
FOLLOW_UP_CLOSED = date(STUDY_YEAR, 7, 3)
FOLLOW_UP_CLOSING_NOTE = (
    "经支部委员会考察、支部党员大会评议：该同志在限期内按时参加组织生活，补交并按期交纳党费，"
    "每季度书面汇报思想，已改正，予以办结"
)
MEMBER1_SELF_EVALUATION = (
    f"{THIS_YEAR}年，我认真学习党的二十届四中全会精神和“十五五”规划纲要，按时参加“三会一课”和主题党日，"
    "完成了年度学习任务，参加了党的创新理论知识测试。工作中能立足岗位、服务群众，参加社区“双报到”志愿服务。"
    "不足是理论学习还不够系统深入，联系实际不够紧密；下一步要制定学习计划，发挥好党员先锋模范作用。"
)
SELF_EVALUATIONS = {
    LAST_YEAR: (
        "一年来，我认真学习党的二十届三中全会精神，按时参加“三会一课”和主题党日，按期足额交纳党费。"
        "工作中能够立足岗位、服务群众。不足是理论学习不够系统，今后要加强学习、改进作风。",
        "本年度我坚持读原著、学原文，积极参加支部组织的学习和志愿服务活动，能完成组织交办的任务。"
        "存在的问题是学用结合不够，在群众中发挥作用不够明显，今后努力改进。",
        "我能够严格遵守党章党规，按时参加组织生活，认真完成学习任务；在本职工作中勤勉尽责。"
        "对照先进还有差距，主要是主动性不够，今后要主动担当、多为群众办实事。",
        "这一年我参加了支部的各项学习活动，完成了学时要求，积极参加社区网格服务。"
        "不足是批评和自我批评开展得不够，今后要敢于开展批评，严格要求自己。",
        "年老体弱，参加集中学习较少，主要通过送学上门和收听收看学习。"
        "能关心支部工作，按时交纳党费，今后继续发挥老党员的作用。",
    ),
    THIS_YEAR: (
        f"{THIS_YEAR}年，我认真学习党的二十届四中全会精神，按时参加“三会一课”和主题党日，按期足额交纳党费，"
        "完成了年度学时要求。不足是理论学习还不够深入，今后要学深悟透、学以致用。",
        "本年度我参加了支部组织的专题学习和党纪学习教育，积极参加志愿服务和网格走访。"
        "存在的问题是学用结合不够，发挥先锋模范作用不够明显，今后努力改进。",
        "我能够严格遵守党章党规和纪律要求，按时参加组织生活，在工作中勤勉尽责、服务群众。"
        "对照先进还有差距，今后要增强主动性，多为群众办实事。",
        "这一年我参加了支部的各项学习活动，主动承担了社区防汛值守任务。"
        "不足是批评和自我批评开展得不够，今后要严格要求自己，敢于开展批评。",
    ),
}


# --- The bulk writer of ballots ---------------------------------------------------------------------


def write_ballots(
    appraisal_id: int,
    ballots: Mapping[int, Mapping[int, str]],
    times: Mapping[int, datetime],
    rng: random.Random,
) -> int:
    """Demo only: store the ballots ``{voter member id: {appraisee member id: grade}}`` of voters
    without an account as ``ballot_submit`` stores a first ballot — a ``BallotReceipt`` per voter
    (``submitted_at`` = ``updated_at`` = ``times[voter]``) and a ``Vote`` per grade keyed by
    ``anonymity.ballot_key`` with a random id (drawn from ``rng``: deterministic for the seed),
    the appraisal's votes in shuffled order. Checks what the service checks: voting participants
    only, grades for other participants only, known grades. No audit row. Returns the voters."""
    participants = dict(
        Participant.objects.filter(appraisal_id=appraisal_id).values_list("member_id", "is_voter")
    )
    receipts = []
    votes = []
    known = frozenset(Grade.values)
    # As UUIDField stores it: the UUID itself where the database has the type, else its hex.
    native = connection.features.has_native_uuid_field
    for voter, grades in ballots.items():
        if not participants.get(voter):
            raise ValueError(f"member {voter} is not a voting participant of appraisal {appraisal_id}")
        key = ballot_key(appraisal_id, voter)
        for appraisee, grade in grades.items():
            if appraisee == voter or appraisee not in participants or grade not in known:
                raise ValueError(f"a bad vote of member {voter} on {appraisee}: {grade}")
            vote_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            votes.append((vote_id if native else vote_id.hex, appraisal_id, appraisee, str(grade), key))
        moment = adapt(times[voter])
        receipts.append((appraisal_id, voter, moment, moment))
    rng.shuffle(votes)
    insert_plain(BallotReceipt, ("appraisal", "voter", "submitted_at", "updated_at"), receipts)
    insert_plain(Vote, ("id", "appraisal", "appraisee", "grade", "ballot_key"), votes)
    return len(receipts)


# --- Helpers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A participant as the seed needs it (``pk``: the participant's row, once written)."""

    member_id: int
    status: str
    exempt: bool
    has_account: bool
    pk: int | None = None

    @property
    def is_voter(self) -> bool:
        return self.status == MemberStatus.FULL


def _rows(appraisal: Appraisal) -> list[Row]:
    return [
        Row(member_id, status, exempt, user_id is not None, pk)
        for pk, member_id, status, exempt, user_id in Participant.objects.filter(appraisal=appraisal)
        .order_by("member_id")
        .values_list("pk", "member_id", "status_at_snapshot", "exempt", "member__user_id")
    ]


def _rosters() -> dict[int, list[Row]]:
    """Each organisation's participants as ``appraisal_create`` snapshots them (``branch_members``:
    the 预备党员 and 正式党员 on the roll in the organisation and its 党小组; exempt by the
    service's own rule): one query."""
    rosters: dict[int, list[Row]] = {}
    for member_id, status, exempt, categories, user_id, org_id, level, parent_id in (
        Member.objects.filter(status__in=PARTY_STATUSES, is_active=True)
        .order_by("pk")
        .values_list(
            "pk",
            "status",
            "is_exempt",
            "categories",
            "user_id",
            "organization_id",
            "organization__level",
            "organization__parent_id",
        )
    ):
        owner = parent_id if level == OrgLevel.GROUP and parent_id is not None else org_id
        row = Row(
            member_id, status, is_exempt(Member(is_exempt=exempt, categories=categories)), user_id is not None
        )
        rosters.setdefault(owner, []).append(row)
    return rosters


def _grades(rng: random.Random, rows: list[Row], unqualified: int | None = None) -> dict[int, str]:
    """The committee's grade of each participant: some 优秀 within the share, a few 基本合格 (never
    an exempt member), ``unqualified`` 不合格, the rest 合格."""
    limit = excellent_limit(DEFAULT_EXCELLENT_SHARE, len(rows))
    wanted = min(limit, round(len(rows) * rng.uniform(*EXCELLENT_RANGE)))
    pool = [r.member_id for r in rows if r.member_id != unqualified]
    excellent = set(rng.sample(pool, min(wanted, len(pool))))
    grades: dict[int, str] = {}
    for r in rows:
        if r.member_id == unqualified:
            grades[r.member_id] = Grade.UNQUALIFIED
        elif r.member_id in excellent:
            grades[r.member_id] = Grade.EXCELLENT
        elif not r.exempt and rng.random() < BASIC_CHANCE:
            grades[r.member_id] = Grade.BASICALLY_QUALIFIED
        else:
            grades[r.member_id] = Grade.QUALIFIED
    return grades


def _ballots(rng: random.Random, voters: list[int], grades: dict[int, str]) -> dict[int, dict[int, str]]:
    """Each voter's ballot on every other participant, mostly agreeing with ``grades``."""
    return {
        voter: {
            member: grade if rng.random() < AGREEMENT else rng.choice(NEIGHBOURS[grade])
            for member, grade in grades.items()
            if member != voter
        }
        for voter in voters
    }


def _times(rng: random.Random, voters: list[int], start: datetime, minutes: int) -> dict[int, datetime]:
    """When each voter voted: within ``minutes`` after ``start`` (one draw each, whatever the span,
    so what is drawn next stays the same for the seed)."""
    return {v: start + timedelta(minutes=1 + int(rng.random() * max(0, minutes - 1))) for v in voters}


def _self_evaluation(
    rng: random.Random, row: Row, year: int, start: datetime, hours: int
) -> tuple[str, datetime] | None:
    """The self-evaluation of a participant without an account (most of them write one) and when."""
    if row.has_account or rng.random() >= SELF_EVALUATION_SHARE:
        return None
    texts = SELF_EVALUATIONS[year]
    text = texts[-1] if row.exempt and year == LAST_YEAR else texts[rng.randrange(len(texts) - 1)]
    return text, start + timedelta(minutes=rng.randint(30, hours * 60))


def _self_evaluations(
    rng: random.Random, rows: list[Row], year: int, start: datetime, hours: int
) -> list[Participant]:
    """The self-evaluations of written participants, as rows for ``bulk_update``."""
    written = []
    for r in rows:
        done = _self_evaluation(rng, r, year, start, hours)
        if done is not None:
            written.append(Participant(pk=r.pk, self_evaluation=done[0], self_evaluated_at=done[1]))
    return written


@dataclass(frozen=True)
class Schedule:
    """Last year's dates of one schedule: (opened, closed) per step."""

    day: date

    def step(self, code: str) -> tuple[datetime, datetime]:
        d = self.day
        dates: dict[str, tuple[datetime, datetime]] = {
            StepCode.SELF: (at(d, 9), at(d + timedelta(days=4), 17, 30)),
            StepCode.PEER: (at(d + timedelta(days=7), 9), at(d + timedelta(days=9), 17, 30)),
            StepCode.VOTE: (at(d + timedelta(days=10), 14, 30), at(d + timedelta(days=10), 16, 30)),
            StepCode.DECIDE: (at(d + timedelta(days=11), 9), at(d + timedelta(days=14), 17)),
            StepCode.REPORT: (at(d + timedelta(days=15), 9), at(d + timedelta(days=16), 10)),
        }
        return dates[code]

    def planned(self) -> dict[str, PlannedDates]:
        return {
            code: PlannedDates(self.step(code)[0].date(), self.step(code)[1].date()) for code in STEP_ORDER
        }

    @property
    def created(self) -> datetime:
        return at(self.day - timedelta(days=14), 10)

    @property
    def decided(self) -> datetime:
        return self.step(StepCode.DECIDE)[1] - timedelta(hours=2)

    @property
    def reported(self) -> datetime:
        return self.step(StepCode.REPORT)[1]


SCHEDULES = tuple(Schedule(SCHEDULE_START + timedelta(days=offset)) for offset in SCHEDULE_OFFSETS)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _home_branch() -> Organization | None:
    row = (
        RoleAssignment.objects.filter(user__username="branch_sec")
        .select_related("organization")
        .order_by("id")
        .first()
    )
    return row.organization if row is not None else None


# --- The bulk writer of last year's other appraisals --------------------------------------------


@dataclass
class Reported:
    """A branch's completed appraisal as ``write_reported`` stores it."""

    organization: Organization
    rows: list[Row]
    schedule: Schedule
    grades: dict[int, str]
    self_evaluations: dict[int, tuple[str, datetime]]


def write_reported(year: int, appraisals: list[Reported]) -> dict[int, int]:
    """Demo only: store completed appraisals as the services leave them after
    ``appraisal_create`` (the default 优秀 share, no meeting, created by the system), every step
    opened and closed in order (by the system, at the schedule's times, planned on the same days),
    ``appraisal_decide`` without a reason (优秀 within the share: ``_grades`` keeps it so; no
    不合格, so no follow-up) and the report step closed (``reported``, ``reported_at``). The
    participants are the snapshot ``appraisal_create`` takes (``_rosters``) with their grades,
    decision times and self-evaluations. No audit rows. Returns {organisation id: appraisal id}."""
    d = connection.ops.adapt_datefield_value
    share = adapt(DEFAULT_EXCELLENT_SHARE)
    insert_plain(
        Appraisal,
        (
            "created_at",
            "updated_at",
            "organization",
            "year",
            "status",
            "excellent_share",
            "reason",
            "reported_at",
        ),
        (
            (
                adapt(a.schedule.created),
                adapt(a.schedule.reported),
                a.organization.pk,
                year,
                str(AppraisalStatus.REPORTED),
                share,
                "",
                adapt(a.schedule.reported),
            )
            for a in appraisals
        ),
    )
    wanted = {a.organization.pk for a in appraisals}
    ids = {
        org: pk
        for org, pk in Appraisal.objects.filter(year=year).values_list("organization_id", "pk")
        if org in wanted
    }
    steps = []
    participants = []
    for a in appraisals:
        pk = ids[a.organization.pk]
        for position, code in enumerate(STEP_ORDER, start=1):
            opened, closed = a.schedule.step(code)
            steps.append(
                (
                    adapt(a.schedule.created),
                    adapt(closed),
                    pk,
                    code,
                    position,
                    d(opened.date()),
                    d(closed.date()),
                    adapt(opened),
                    adapt(closed),
                )
            )
        decided = adapt(a.schedule.decided)
        for r in a.rows:
            text, written = a.self_evaluations.get(r.member_id) or ("", None)
            participants.append(
                (
                    adapt(a.schedule.created),
                    decided,
                    pk,
                    r.member_id,
                    r.status,
                    r.is_voter,
                    r.exempt,
                    text,
                    adapt(written) if written else None,
                    a.grades[r.member_id],
                    decided,
                )
            )
    insert_plain(
        AppraisalStep,
        (
            "created_at",
            "updated_at",
            "appraisal",
            "code",
            "position",
            "planned_start",
            "planned_end",
            "opened_at",
            "closed_at",
        ),
        steps,
    )
    insert_plain(
        Participant,
        (
            "created_at",
            "updated_at",
            "appraisal",
            "member",
            "status_at_snapshot",
            "is_voter",
            "exempt",
            "self_evaluation",
            "self_evaluated_at",
            "grade",
            "decided_at",
        ),
        participants,
    )
    return ids


# --- Last year ----------------------------------------------------------------------------------------


@dataclass
class LastYear:
    eligible: int = 0
    small: int = 0
    reported: int = 0
    with_ballots: int = 0
    voters: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    follow_up: FollowUp | None = None


def _home_last_year(
    rng: random.Random,
    home: Organization,
    branch_sec: User | None,
    schedule: Schedule,
    result: LastYear,
    budget: int,
) -> None:
    """branch_sec's branch, through the services: every step, the ballots, the decision with one
    不合格 and its 限期改正 follow-up, closed since; then the January dates."""
    actor = branch_sec
    appraisal = appraisal_create(actor=actor, organization=home, year=LAST_YEAR, schedule=schedule.planned())
    for code in (StepCode.SELF, StepCode.PEER):
        step_open(actor=actor, appraisal=appraisal, code=code)
        step_close(actor=actor, appraisal=appraisal, code=code)
    step_open(actor=actor, appraisal=appraisal, code=StepCode.VOTE)
    rows = _rows(appraisal)
    unqualified = _unqualified(rng, rows)
    grades = _grades(rng, rows, unqualified)
    voters = [r.member_id for r in rows if r.is_voter]
    if voters and len(voters) <= budget:
        opened, _closed = schedule.step(StepCode.VOTE)
        result.voters += write_ballots(
            appraisal.pk, _ballots(rng, voters, grades), _times(rng, voters, opened, 100), rng
        )
        result.with_ballots += 1
    step_close(actor=actor, appraisal=appraisal, code=StepCode.VOTE)
    step_open(actor=actor, appraisal=appraisal, code=StepCode.DECIDE)
    decisions: list[dict[str, Any]] = []
    for member_id, grade in grades.items():
        decision: dict[str, Any] = {"member": member_id, "grade": grade}
        if grade == Grade.UNQUALIFIED:
            decision.update(
                measure=FollowUpMeasure.RECTIFY_BY_DEADLINE, deadline=FOLLOW_UP_DEADLINE, note=FOLLOW_UP_NOTE
            )
        decisions.append(decision)
    appraisal_decide(actor=actor, appraisal=appraisal, grades=decisions)
    step_close(actor=actor, appraisal=appraisal, code=StepCode.DECIDE)
    step_open(actor=actor, appraisal=appraisal, code=StepCode.REPORT)
    step_close(actor=actor, appraisal=appraisal, code=StepCode.REPORT)
    if unqualified is not None:
        follow_up = FollowUp.objects.get(appraisal=appraisal, member_id=unqualified)
        result.follow_up = follow_up_close(
            actor=actor, follow_up=follow_up, closing_note=FOLLOW_UP_CLOSING_NOTE
        )
    opened, _closed = schedule.step(StepCode.SELF)
    Participant.objects.bulk_update(
        _self_evaluations(rng, rows, LAST_YEAR, opened, 4 * 24), ["self_evaluation", "self_evaluated_at"]
    )
    # Demo realism: the dates of January rather than the time of seeding.
    for step_code in STEP_ORDER:
        opened, closed = schedule.step(step_code)
        AppraisalStep.objects.filter(appraisal=appraisal, code=step_code).update(
            opened_at=opened, closed_at=closed, created_at=schedule.created, updated_at=closed
        )
    Appraisal.objects.filter(pk=appraisal.pk).update(
        reported_at=schedule.reported, created_at=schedule.created, updated_at=schedule.reported
    )
    Participant.objects.filter(appraisal=appraisal).update(decided_at=schedule.decided)
    FollowUp.objects.filter(appraisal=appraisal).update(
        created_at=schedule.decided, closed_at=at(FOLLOW_UP_CLOSED, 10), updated_at=at(FOLLOW_UP_CLOSED, 10)
    )
    result.reported += 1
    result.grades.update(grades.values())


def _last_year(
    rng: random.Random, home: Organization | None, branch_sec: User | None, budget: int
) -> LastYear:
    """Last year's appraisals: branch_sec's branch through the services, the other branches that
    held one by ``write_reported``, then the ballots of those whose voters fit the budget."""
    result = LastYear()
    rosters = _rosters()
    others: list[Reported] = []
    for branch in Organization.objects.filter(level=OrgLevel.BRANCH, is_active=True).order_by("path"):
        rows = rosters.get(branch.pk, [])
        is_home = home is not None and branch.pk == home.pk
        if len(rows) < MIN_PARTICIPANTS:
            result.small += 1
            continue
        result.eligible += 1
        schedule = SCHEDULES[rng.randrange(len(SCHEDULES))]
        if is_home:
            _home_last_year(rng, branch, branch_sec, schedule, result, budget)
            continue
        if rng.random() < SKIP_SHARE:
            continue
        opened, _closed = schedule.step(StepCode.SELF)
        written = {
            r.member_id: done
            for r in rows
            if (done := _self_evaluation(rng, r, LAST_YEAR, opened, 4 * 24)) is not None
        }
        others.append(Reported(branch, rows, schedule, _grades(rng, rows), written))
    ids = write_reported(LAST_YEAR, others)
    for a in others:
        result.reported += 1
        result.grades.update(a.grades.values())
        voters = [r.member_id for r in a.rows if r.is_voter]
        if not voters or len(voters) > budget - result.voters:
            continue
        opened, _closed = a.schedule.step(StepCode.VOTE)
        result.voters += write_ballots(
            ids[a.organization.pk], _ballots(rng, voters, a.grades), _times(rng, voters, opened, 100), rng
        )
        result.with_ballots += 1
    return result


def _unqualified(rng: random.Random, rows: list[Row]) -> int | None:
    """branch_sec's branch's member rated 不合格: a voter without an account, not exempt."""
    pool = [r.member_id for r in rows if r.is_voter and not r.has_account and not r.exempt]
    pool = pool or [r.member_id for r in rows if not r.has_account]
    return rng.choice(pool) if pool else None


# --- This year --------------------------------------------------------------------------------------


@dataclass
class ThisYear:
    appraisal: Appraisal
    participants: int
    voters: int
    cast: int
    member1_wrote: bool
    member1_voter: bool


def _this_year(
    rng: random.Random, home: Organization, branch_sec: User | None, today: date
) -> ThisYear | None:
    """branch_sec's branch at the vote step: self and peer steps closed, member1's
    self-evaluation through the service, some others' ballots, member1 not voted."""
    if not branch_members(home).exists():
        return None

    def day(n: int) -> date:
        return today + timedelta(days=n)

    dates = {
        StepCode.SELF: (at(day(-16), 9), at(day(-10), 17, 30)),
        StepCode.PEER: (at(day(-9), 9), at(day(-5), 17, 30)),
        StepCode.VOTE: (at(day(-2), 14, 30), None),
    }
    planned: dict[str, PlannedDates] = {
        StepCode.SELF: PlannedDates(day(-16), day(-10)),
        StepCode.PEER: PlannedDates(day(-9), day(-5)),
        StepCode.VOTE: PlannedDates(day(-2), day(2)),
        StepCode.DECIDE: PlannedDates(day(3), day(5)),
        StepCode.REPORT: PlannedDates(day(6), day(8)),
    }
    appraisal = appraisal_create(actor=branch_sec, organization=home, year=THIS_YEAR, schedule=planned)
    step_open(actor=branch_sec, appraisal=appraisal, code=StepCode.SELF)
    member1 = Member.objects.filter(user__username="member1").select_related("user").first()
    member1_id = member1.pk if member1 is not None else None
    rows = _rows(appraisal)
    wrote = False
    if member1 is not None and member1.user is not None and any(r.member_id == member1_id for r in rows):
        self_evaluation_save(actor=member1.user, appraisal=appraisal, text=MEMBER1_SELF_EVALUATION)
        wrote = True
    step_close(actor=branch_sec, appraisal=appraisal, code=StepCode.SELF)
    step_open(actor=branch_sec, appraisal=appraisal, code=StepCode.PEER)
    step_close(actor=branch_sec, appraisal=appraisal, code=StepCode.PEER)
    step_open(actor=branch_sec, appraisal=appraisal, code=StepCode.VOTE)
    opened = dates[StepCode.SELF][0]
    Participant.objects.bulk_update(
        _self_evaluations(rng, rows, THIS_YEAR, opened, 6 * 24), ["self_evaluation", "self_evaluated_at"]
    )
    others = [r.member_id for r in rows if r.is_voter and r.member_id != member1_id]
    voters = sorted(rng.sample(others, round(len(others) * TURNOUT_SO_FAR))) if others else []
    cast = 0
    if voters:
        vote_opened = dates[StepCode.VOTE][0]
        minutes = int((timezone.now() - vote_opened).total_seconds() // 60) - 5
        cast = write_ballots(
            appraisal.pk,
            _ballots(rng, voters, _grades(rng, rows)),
            _times(rng, voters, vote_opened, min(minutes, 2 * 24 * 60)),
            rng,
        )
    # Demo realism: the steps of the last two weeks rather than the time of seeding.
    for code, (opened_at, closed_at) in dates.items():
        AppraisalStep.objects.filter(appraisal=appraisal, code=code).update(
            opened_at=opened_at, closed_at=closed_at, updated_at=closed_at or opened_at
        )
    Appraisal.objects.filter(pk=appraisal.pk).update(created_at=at(day(-20), 10))
    if wrote and member1_id is not None:
        Participant.objects.filter(appraisal=appraisal, member_id=member1_id).update(
            self_evaluated_at=at(day(-14), 20, 15)
        )
    appraisal.refresh_from_db()
    return ThisYear(
        appraisal=appraisal,
        participants=len(rows),
        voters=sum(1 for r in rows if r.is_voter),
        cast=cast,
        member1_wrote=wrote,
        member1_voter=any(r.is_voter and r.member_id == member1_id for r in rows),
    )


# --- Entry points ---------------------------------------------------------------------------------


def seed_appraisal(*, seed: int, today: date, say: Callable[[str], Any] = print) -> list[str]:
    """Last year's appraisals reported in most branches, and this year's open at the vote in
    branch_sec's branch; returns summary lines (none when an appraisal exists already)."""
    if Appraisal.objects.exists() or not Organization.objects.exists():
        return []
    rng = random.Random(f"{seed}-appraisal")
    home = _home_branch()
    branch_sec = _user("branch_sec")
    with transaction.atomic():
        # This year's voters come out of the same budget (counted before, written after).
        reserve = branch_members(home).filter(status=MemberStatus.FULL).count() if home is not None else 0
        last = _last_year(rng, home, branch_sec, BALLOT_VOTERS - reserve)
        this = _this_year(rng, home, branch_sec, today) if home is not None else None
    say(f"民主评议：{LAST_YEAR}年度 {last.reported} 个党支部已上报，测评票 {last.voters} 人")
    grades = last.grades
    small = f"（另有{last.small}个党支部不足{MIN_PARTICIPANTS}名参评党员，未开展）" if last.small else ""
    lines = [
        f"{LAST_YEAR}年度民主评议党员（{STUDY_YEAR}年1月）：{last.reported}/{last.eligible}个党支部已上报"
        f"{small}；评定优秀{grades[Grade.EXCELLENT]}、"
        f"合格{grades[Grade.QUALIFIED]}、基本合格{grades[Grade.BASICALLY_QUALIFIED]}、"
        f"不合格{grades[Grade.UNQUALIFIED]}人",
        f"{LAST_YEAR}年度民主测评票：{last.with_ballots}个党支部 {last.voters} 人投票"
        + (
            f"（其余{last.reported - last.with_ballots}个党支部只有评定结果）"
            if last.reported > last.with_ballots
            else ""
        ),
    ]
    if last.follow_up is not None and home is not None:
        lines.append(
            f"{home.name}{LAST_YEAR}年度评定不合格 1 人（{last.follow_up.member.name}），"
            f"{last.follow_up.get_measure_display()}至{last.follow_up.deadline:%Y-%m-%d}，已办结"
        )
    if this is not None:
        voted = "尚未投票" if this.member1_voter else "是预备党员，不投票"
        lines.append(
            f"{THIS_YEAR}年度民主评议 {this.appraisal.organization.name}：进行到民主测评投票"
            f"（已投 {this.cast}/{this.voters} 票），member1 {'已写自我评价、' if this.member1_wrote else ''}{voted}"
        )
    return lines


def clear_appraisal() -> None:
    """Remove every appraisal with its steps, participants, ballots, comments and follow-ups
    (``seed_demo --force``): they point at members and organisations with PROTECT."""
    for model in (FollowUp, Vote, PeerComment, BallotReceipt, Participant, AppraisalStep, Appraisal):
        model.objects.all()._raw_delete(model.objects.db)
