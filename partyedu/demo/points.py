"""The points (积分) part of the demo, written last, after the city's year of study, its lectures
and its exams, since a scheme derives its points from them:

- the city's default scheme for the demo year (base 60): attending 三会一课 and 主题党日 with a
  monthly cap, lectures given with a yearly cap, exams passed, online resources completed with a
  cap, the secretary's manual award, and a small 负面清单 (absence without leave from
  organisational life, capped, and a manual deduction);
- a few manual records by branch_sec in their branch: member1 and one other member awarded for
  volunteering, one member deducted, each with its reason;
- the first half-year's result (公示) of branch_sec's branch, published by branch_sec and running
  now, with two objections (异议) by member1 on their own figures: one upheld with an answer and
  a correcting amount (a line missing: a 七一 lecture of the street that the branch did not
  record), one rejected with its reason (a line the monthly cap cut);
- a candidates' scheme (积分择优, ``audience="candidates"``) of branch_sec's branch for the demo
  year: sitting in (列席) at 支部党员大会, 党课 and 主题党日, online study (capped), exams passed
  and the secretary's assessment (manual). The study demo's 入党积极分子 and 发展对象 sit in at
  those meetings, so their points derive; the first three candidates get the secretary's
  assessment with its reason. Where branch_sec's branch has no candidate, the nearest branch
  that has some (the most ancestors in common) gets the scheme, from the first demo account
  that may create it there (the summary line says so).

Everything goes through the points services: ``scheme_create`` re-derives the year for every
member of the city (as a scheme change does live), ``points_manual_record`` appends each
record's line, ``publication_create``, ``objection_raise`` and ``objection_answer`` publish and
answer (an upheld objection appends its correction), so the ledger equals what
``points_rebuild`` recomputes. The publishing service starts a publication today; for realism
it is published for four days and its start, and the objections' times, are then moved a few
days back by a queryset update (seven days: it started three days ago and ends in three days).
Deterministic for a given seed; dates are fixed relative to the study demo's last day
(``STUDY_UNTIL``) or to today. Running it again adds nothing: it stops when the city has its
scheme for the year.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.ledger import append_only_purge
from partyedu.core.scope import can
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.points.choices import AUDIENCE_STATUSES, Audience, ObjectionStatus, PublicationPeriod
from partyedu.points.models import (
    ManualPoints,
    PointsEntry,
    PointsItem,
    PointsObjection,
    PointsOrgYear,
    PointsPublication,
    PointsPublicationRow,
    PointsRankingSetting,
    PointsScheme,
    PointsVeto,
    PointsYearTotal,
)
from partyedu.points.services import (
    objection_answer,
    objection_raise,
    points_manual_record,
    publication_create,
    scheme_create,
)
from partyedu.study.choices import ActivityType

from .study import STUDY_UNTIL, STUDY_YEAR

POINTS_YEAR = STUDY_YEAR
SCHEME_NAME = f"{POINTS_YEAR}年度党员积分管理方案（全市通用）"
BASE = "60"
# Organisational life: 三会一课, 主题党日, 组织生活会 and 民主评议 (not study classes or visits).
ORG_LIFE_TYPES = [
    ActivityType.BRANCH_ASSEMBLY,
    ActivityType.BRANCH_COMMITTEE,
    ActivityType.GROUP_MEETING,
    ActivityType.PARTY_LECTURE,
    ActivityType.THEME_DAY,
    ActivityType.ORG_LIFE_MEETING,
    ActivityType.DEMOCRATIC_EVALUATION,
]
ITEMS: list[dict[str, Any]] = [
    {
        "code": "org_life",
        "name": "参加三会一课、主题党日",
        "kind": "earn",
        "source": "attendance",
        "activity_types": [str(t) for t in ORG_LIFE_TYPES],
        "points": "2",
        "cap": "3",
        "cap_period": "month",
    },
    {
        "code": "lecture",
        "name": "讲党课",
        "kind": "earn",
        "source": "lecture",
        "activity_types": [],
        "points": "5",
        "cap": "10",
        "cap_period": "year",
    },
    {
        "code": "exam_pass",
        "name": "考试合格",
        "kind": "earn",
        "source": "exam_pass",
        "activity_types": [],
        "points": "3",
        "cap": None,
        "cap_period": "year",
    },
    {
        "code": "resource",
        "name": "网上学习（学完学习资源）",
        "kind": "earn",
        "source": "resource",
        "activity_types": [],
        "points": "1",
        "cap": "5",
        "cap_period": "year",
    },
    {
        "code": "service",
        "name": "志愿服务（每服务1小时）",
        "kind": "earn",
        "source": "service_hours",
        "activity_types": [],
        "points": "1",
        "cap": "10",
        "cap_period": "year",
    },
    {
        "code": "award",
        "name": "书记加分（好人好事等）",
        "kind": "earn",
        "source": "manual",
        "activity_types": [],
        "points": "0",
        "cap": "10",
        "cap_period": "year",
    },
    {
        "code": "absence",
        "name": "无故缺席组织生活",
        "kind": "deduct",
        "source": "attendance",
        "activity_types": [str(t) for t in ORG_LIFE_TYPES],
        "statuses": ["absent"],
        "points": "2",
        "cap": "6",
        "cap_period": "year",
    },
    {
        "code": "penalty",
        "name": "其他负面清单事项",
        "kind": "deduct",
        "source": "manual",
        "activity_types": [],
        "points": "0",
        "cap": None,
        "cap_period": "year",
    },
]
# The manual records: (who, item code, points, reason, days before STUDY_UNTIL). "member1" is the
# demo account; "award" and "deduct" are members of branch_sec's branch drawn by the seed.
MEMBER1_REASON = "参加社区“双报到”志愿服务，表现突出"
AWARD_REASON = "7月防汛值守中带头连续值班，志愿服务表现突出"
DEDUCT_REASON = "未按支部安排完成网格走访任务，经谈话提醒"
MANUAL = (
    ("member1", "award", "3", MEMBER1_REASON, 40),
    ("award", "award", "2", AWARD_REASON, 110),
    ("deduct", "penalty", "2", DEDUCT_REASON, 12),
)

# The half-year publication (公示) of branch_sec's branch: seven days, started three days ago.
PUBLICATION_DAYS = 7
PUBLICATION_STARTED_DAYS_AGO = 3
PUBLICATION_NOTE = "请各位党员核对本人上半年积分，如有异议请在公示期内通过“积分公示”页面提出"
# member1's objections: one upheld (a line missing), one rejected (a line the monthly cap cut).
UPHELD_ITEM = "org_life"
UPHELD_REASON = "6月28日参加了街道党工委在党群服务中心举办的“七一”专题党课，积分中没有这次记录"
UPHELD_ANSWER = (
    "经核实，该同志6月28日参加了街道党工委“七一”专题党课（上级组织，未在本支部登记出勤），"
    "补记“参加三会一课、主题党日”2分"
)
UPHELD_POINTS = "2"
REJECTED_REASON = "这次活动我全程参加了，只记了{points}分，应记{full}分"
REJECTED_ANSWER = (
    "经核对，本方案“{item}”每月最多计{cap}分，该月此前的活动已计{before}分，"
    "本次按上限计{points}分，计分符合方案规定"
)
REJECTED_REASON_PLAIN = "这次活动的计分是否有误，请核实"
REJECTED_ANSWER_PLAIN = "经核对出勤记录和积分方案，本次活动已按方案规定计分，计分无误"

# The candidates' scheme (积分择优) of branch_sec's branch: sitting in at the meetings that
# activists and candidates attend (列席), online study, exams and the secretary's assessment.
CANDIDATE_TYPES = [ActivityType.BRANCH_ASSEMBLY, ActivityType.PARTY_LECTURE, ActivityType.THEME_DAY]
CANDIDATE_BASE = "60"
CANDIDATE_ITEMS: list[dict[str, Any]] = [
    {
        "code": "sit_in",
        "name": "列席三会一课和主题党日",
        "kind": "earn",
        "source": "attendance",
        "activity_types": [str(t) for t in CANDIDATE_TYPES],
        "statuses": ["present", "late"],
        "points": "2",
        "cap": "4",
        "cap_period": "month",
    },
    {
        "code": "resource",
        "name": "网上学习（学完学习资源）",
        "kind": "earn",
        "source": "resource",
        "activity_types": [],
        "points": "1",
        "cap": "5",
        "cap_period": "year",
    },
    {
        "code": "exam_pass",
        "name": "考试合格",
        "kind": "earn",
        "source": "exam_pass",
        "activity_types": [],
        "points": "3",
        "cap": None,
        "cap_period": "year",
    },
    {
        "code": "assessment",
        "name": "书记评价（培养考察表现）",
        "kind": "earn",
        "source": "manual",
        "activity_types": [],
        "points": "0",
        "cap": "10",
        "cap_period": "year",
    },
]
# The secretary's assessment of the branch's first candidates: (points, reason, days before
# STUDY_UNTIL), in the order of the candidates' ids.
ASSESSMENTS = (
    ("6", "培养考察期间按时递交思想汇报，主动参加社区志愿服务，群众评价好", 20),
    ("4", "能按要求参加支部组织的学习，思想汇报较认真，理论学习还需加强", 25),
    ("5", "在防汛值守和社区治理中表现积极，培养联系人评价良好", 30),
)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _branch_of(username: str) -> Organization | None:
    row = (
        RoleAssignment.objects.filter(user__username=username)
        .select_related("organization")
        .order_by("id")
        .first()
    )
    return row.organization if row is not None else None


def _manual_members(rng: random.Random, branch: Organization) -> dict[str, Member]:
    """member1, and two other full members of the branch without an account (the deducted one
    not exempt: exempt and frail members are never deducted)."""
    chosen: dict[str, Member] = {}
    member1 = Member.objects.filter(user__username="member1", organization=branch).first()
    if member1 is not None:
        chosen["member1"] = member1
    others = list(
        Member.objects.filter(
            organization=branch, is_active=True, status=MemberStatus.FULL, user__isnull=True
        ).order_by("pk")
    )
    if others:
        chosen["award"] = others.pop(rng.randrange(len(others)))
    deductible = [m for m in others if not m.is_exempt and "frail" not in (m.categories or [])]
    if deductible:
        chosen["deduct"] = deductible[rng.randrange(len(deductible))]
    return chosen


def seed_points(*, seed: int, say: Callable[[str], Any] = print) -> list[str]:
    """The city's scheme for the demo year and branch_sec's manual records; returns summary lines
    (none when the city has its scheme already)."""
    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None or PointsScheme.objects.filter(organization=root, year=POINTS_YEAR).exists():
        return []
    rng = random.Random(f"{seed}-points")
    branch_sec = _user("branch_sec")
    branch = _branch_of("branch_sec")
    with transaction.atomic():
        scheme = scheme_create(
            actor=_user("city_admin"),
            organization=root,
            year=POINTS_YEAR,
            base=BASE,
            items=ITEMS,
            name=SCHEME_NAME,
            background=False,  # derived here, in the seeding transaction, whatever the city's size
        )
        records = 0
        if branch_sec is not None and branch is not None:
            members = _manual_members(rng, branch)
            for who, code, points, reason, days in MANUAL:
                member = members.get(who)
                if member is None:
                    continue
                points_manual_record(
                    actor=branch_sec,
                    member=member,
                    item=code,
                    points=points,
                    reason=reason,
                    on_date=STUDY_UNTIL - timedelta(days=days),
                )
                records += 1
        published = (
            _publish(rng, branch_sec, branch) if branch_sec is not None and branch is not None else None
        )
        candidates = _candidates_scheme(branch)
    figures = PointsEntry.objects.filter(year=POINTS_YEAR).aggregate(
        lines=Count("id"), members=Count("member", distinct=True)
    )
    items = PointsItem.objects.filter(scheme=scheme).count()
    say(f"积分方案 {1 + (candidates is not None)} 个（{items} 项），积分记录 {figures['lines']} 条")
    lines = [
        f"积分方案 {root.name}“{scheme.name}”：基础分{BASE}分、{items}个积分项目（含负面清单），"
        f"{figures['members']}名党员有积分记录 {figures['lines']} 条",
        f"手工加减分 {records} 条（branch_sec 在{branch.name if branch else '本支部'}记录，均写明理由）",
    ]
    if published is not None:
        lines.append(published.summary())
    if candidates is not None:
        lines.append(candidates.summary(branch))
    return lines


def _text(value: Any, *, sign: bool = False) -> str:
    """A points figure as the pages write it: 2, 1.5, +2."""
    number = Decimal(str(value)).normalize()
    return f"{number:+f}" if sign else f"{number:f}"


@dataclass
class Published:
    publication: PointsPublication
    rows: int
    upheld: PointsObjection | None
    rejected: PointsObjection | None

    def summary(self) -> str:
        p = self.publication
        answered = []
        if self.upheld is not None:
            answered.append(f"1条成立已更正（{_text(self.upheld.points or 0, sign=True)}分）")
        if self.rejected is not None:
            answered.append("1条不成立已说明理由")
        objections = f"，member1 提出异议 {len(answered)} 条：{'、'.join(answered)}" if answered else ""
        return (
            f"积分公示 {p.organization.name}{p.year}年{p.get_period_display()}积分（branch_sec 发布，"
            f"{p.starts_on:%m月%d日}至{p.ends_on:%m月%d日}，{self.rows}名党员）{objections}"
        )


def _publish(rng: random.Random, branch_sec: User, branch: Organization) -> Published | None:
    """The branch's first half-year published by branch_sec, running now, and member1's two
    objections answered by branch_sec: one upheld (a correcting line), one rejected."""
    if branch.level != OrgLevel.BRANCH and branch.level != OrgLevel.GENERAL_BRANCH:
        return None
    publication = publication_create(
        actor=branch_sec,
        organization=branch,
        year=POINTS_YEAR,
        period=PublicationPeriod.H1,
        days=PUBLICATION_DAYS - PUBLICATION_STARTED_DAYS_AGO,
        note=PUBLICATION_NOTE,
    )
    # Demo realism: the service publishes from today; this one started a few days ago (its end,
    # which the members' notification names, stays) and still runs: objections are accepted
    # until ends_on.
    back = timedelta(days=PUBLICATION_STARTED_DAYS_AGO)
    PointsPublication.objects.filter(pk=publication.pk).update(
        starts_on=publication.starts_on - back,
        published_at=publication.published_at - back,
        created_at=publication.published_at - back,
    )
    publication.refresh_from_db()
    rows = publication.rows.count()
    member1 = (
        Member.objects.filter(user__username="member1", organization=branch).select_related("user").first()
    )
    if member1 is None or member1.user is None or not publication.rows.filter(member=member1).exists():
        return Published(publication, rows, None, None)
    user = member1.user
    # Rejected: a line of the half-year the monthly cap cut (else any earning line of it).
    lines = PointsEntry.objects.filter(
        member=member1, year=POINTS_YEAR, source_date__lte=publication.period_end, points__gt=0
    ).select_related("item")
    capped = lines.filter(description__contains="已达本月上限").order_by("source_date", "id").first()
    line = capped or lines.order_by("source_date", "id").first()
    upheld = objection_raise(
        actor=user, publication=publication, member=member1, item=UPHELD_ITEM, reason=UPHELD_REASON
    )
    rejected = None
    if line is not None:
        rejected = objection_raise(
            actor=user,
            publication=publication,
            member=member1,
            item=line.item,
            entry=line,
            reason=REJECTED_REASON.format(points=_text(line.points), full=_text(line.item.points))
            if capped
            else REJECTED_REASON_PLAIN,
        )
    upheld = objection_answer(
        actor=branch_sec,
        objection=upheld,
        decision=ObjectionStatus.UPHELD,
        answer=UPHELD_ANSWER,
        points=UPHELD_POINTS,
    )
    if rejected is not None:
        rejected = objection_answer(
            actor=branch_sec,
            objection=rejected,
            decision=ObjectionStatus.REJECTED,
            answer=REJECTED_ANSWER.format(
                item=line.item.name,
                cap=_text(line.item.cap or 0),
                before=_text((line.item.cap or 0) - line.points),
                points=_text(line.points),
            )
            if capped and line is not None
            else REJECTED_ANSWER_PLAIN,
        )
    # Demo realism: raised over the publication's first days, answered the next day.
    now = timezone.now()
    for days_ago, objection in ((2, upheld), (1, rejected)):
        if objection is None:
            continue
        raised = now - timedelta(days=days_ago) - timedelta(hours=rng.randint(2, 6))
        PointsObjection.objects.filter(pk=objection.pk).update(
            created_at=raised, answered_at=raised + timedelta(hours=rng.randint(18, 22))
        )
    return Published(publication, rows, upheld, rejected)


@dataclass
class CandidatesScheme:
    scheme: PointsScheme
    candidates: int
    scored: int
    assessed: int

    def summary(self, home: Organization | None) -> str:
        where = self.scheme.organization
        moved = (
            f"（{home.name}没有入党积极分子和发展对象，设在最近的{where.name}）"
            if home is not None and home.pk != where.pk
            else ""
        )
        return (
            f"积分择优方案 {where.name}“{self.scheme.name}”：{self.scheme.items.count()}个项目"
            f"（列席三会一课和主题党日、网上学习、考试合格、书记评价），入党积极分子和发展对象 "
            f"{self.candidates} 名、{self.scored} 名有积分记录，书记评价 {self.assessed} 条{moved}"
        )


def _candidate_branch(home: Organization | None) -> Organization | None:
    """The branch for the candidates' scheme: branch_sec's when it has 入党积极分子 or 发展对象
    (directly or in its 党小组), else the nearest branch that has some — the most ancestors in
    common with branch_sec's, then the first by path."""
    found: set[str] = set()
    for level, path, parent_path in Member.objects.filter(
        is_active=True, status__in=AUDIENCE_STATUSES[Audience.CANDIDATES]
    ).values_list("organization__level", "organization__path", "organization__parent__path"):
        if level == OrgLevel.BRANCH:
            found.add(path)
        elif level == OrgLevel.GROUP and parent_path:
            found.add(parent_path)
    branches = list(
        Organization.objects.filter(path__in=found, level=OrgLevel.BRANCH, is_active=True).order_by("path")
    )
    if not branches:
        return None
    if home is None:
        return branches[0]
    ancestors = set(ancestor_paths(home.path))
    # The most ancestors shared with branch_sec's branch (the nearest), then the first by path.
    return max(reversed(branches), key=lambda b: len(ancestors.intersection(ancestor_paths(b.path))))


def _scheme_author(organization: Organization) -> User | None:
    """The first demo account that may create a points scheme at the organisation."""
    for username in ("branch_sec", "district_admin", "city_admin"):
        user = _user(username)
        if user is not None and can(user, "add", organization, app_label="points"):
            return user
    return None


def _candidates_scheme(home: Organization | None) -> CandidatesScheme | None:
    branch = _candidate_branch(home)
    if branch is None:
        return None
    author = _scheme_author(branch)
    scheme = scheme_create(
        actor=author,
        organization=branch,
        year=POINTS_YEAR,
        base=CANDIDATE_BASE,
        items=CANDIDATE_ITEMS,
        name=f"{POINTS_YEAR}年度入党积极分子和发展对象积分（积分择优）",
        audience=Audience.CANDIDATES,
        background=False,
    )
    candidates = list(
        Member.objects.filter(
            branch.subtree_q("org_path"), is_active=True, status__in=AUDIENCE_STATUSES[Audience.CANDIDATES]
        ).order_by("pk")
    )
    assessed = 0
    for member, (points, reason, days) in zip(candidates, ASSESSMENTS, strict=False):
        points_manual_record(
            actor=author,
            member=member,
            item="assessment",
            points=points,
            reason=reason,
            on_date=STUDY_UNTIL - timedelta(days=days),
        )
        assessed += 1
    scored = (
        PointsEntry.objects.filter(member__in=candidates, year=POINTS_YEAR, item__scheme=scheme)
        .values("member")
        .distinct()
        .count()
    )
    return CandidatesScheme(scheme, len(candidates), scored, assessed)


def clear_points() -> None:
    """Remove everything the points seed (and the demo's visitors) wrote (``seed_demo --force``):
    objections, publications with their rows, vetoes and ranking switches, the ledger
    (append-only, the one purge it admits), the manual records, then the schemes with their items.
    They point at members, organisations, ledger lines and items with PROTECT."""
    for model in (
        PointsObjection,
        PointsPublicationRow,
        PointsPublication,
        PointsVeto,
        PointsRankingSetting,
        PointsYearTotal,
        PointsOrgYear,
    ):
        model.objects.all()._raw_delete(model.objects.db)
    with append_only_purge(PointsEntry, reason="seed_demo --force removes the demo data"):
        PointsEntry.objects.all()._raw_delete(PointsEntry.objects.db)
    ManualPoints.objects.all()._raw_delete(ManualPoints.objects.db)
    PointsItem.objects.all()._raw_delete(PointsItem.objects.db)
    PointsScheme.objects.all()._raw_delete(PointsScheme.objects.db)
