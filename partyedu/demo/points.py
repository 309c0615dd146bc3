"""The points (积分) part of the demo, written last, after the city's year of study, its lectures
and its exams, since a scheme derives its points from them:

- the city's default scheme for the demo year (base 60): attending 三会一课 and 主题党日 with a
  monthly cap, lectures given with a yearly cap, exams passed, online resources completed with a
  cap, the secretary's manual award, and a small 负面清单 (absence without leave from
  organisational life, capped, and a manual deduction);
- a few manual records by branch_sec in their branch: member1 and one other member awarded for
  volunteering, one member deducted, each with its reason.

Everything goes through the points services: ``scheme_create`` re-derives the year for every
member of the city (as a scheme change does live), and ``points_manual_record`` appends each
record's line, so the ledger equals what ``points_rebuild`` recomputes. Deterministic for a
given seed; dates are fixed relative to the study demo's last day (``STUDY_UNTIL``). Running it
again adds nothing: it stops when the city has its scheme for the year.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.ledger import append_only_purge
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.points.models import ManualPoints, PointsEntry, PointsItem, PointsScheme
from partyedu.points.services import points_manual_record, scheme_create
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
        "code": "award",
        "name": "书记加分（志愿服务、好人好事等）",
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
    figures = PointsEntry.objects.filter(year=POINTS_YEAR).aggregate(
        lines=Count("id"), members=Count("member", distinct=True)
    )
    items = PointsItem.objects.filter(scheme=scheme).count()
    say(f"积分方案 1 个（{items} 项），积分记录 {figures['lines']} 条")
    return [
        f"积分方案 {root.name}“{scheme.name}”：基础分{BASE}分、{items}个积分项目（含负面清单），"
        f"{figures['members']}名党员有积分记录 {figures['lines']} 条",
        f"手工加减分 {records} 条（branch_sec 在{branch.name if branch else '本支部'}记录，均写明理由）",
    ]


def clear_points() -> None:
    """Remove everything the points seed wrote (``seed_demo --force``): the ledger (append-only,
    the one purge it admits), the manual records, then the schemes with their items. They point
    at members with PROTECT."""
    with append_only_purge(PointsEntry, reason="seed_demo --force removes the demo data"):
        PointsEntry.objects.all()._raw_delete(PointsEntry.objects.db)
    ManualPoints.objects.all()._raw_delete(ManualPoints.objects.db)
    PointsItem.objects.all()._raw_delete(PointsItem.objects.db)
    PointsScheme.objects.all()._raw_delete(PointsScheme.objects.db)
