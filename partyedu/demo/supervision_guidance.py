"""Demo data of the guidance area: a guidance team of the demo district (district_admin's) whose
督导员 ``inspector1`` (and ``inspector2``) cover the district's streets, a few inspection visits with
open, overdue and closed rectification items, and 党课巡听 scores on lectures already given there.
Runs after the rest of the demo is built; deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.accounts.services import user_create
from partyedu.core.scope import subtree_q
from partyedu.lectures.models import Lecture
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.supervision.models.guidance import GuidanceTeam
from partyedu.supervision.services import guidance as services

from .seed import DEMO_PASSWORD

INSPECTORS = (("inspector1", "督导员一"), ("inspector2", "督导员二"))
TEAM_NAME = "第一巡回指导组"
FINDINGS = (
    "三会一课记录基本完整，主题党日会议记录缺少签到表；党员学时台账未按月更新。",
    "支部书记讲党课按计划开展，但联系实际不够；部分流动党员未纳入网上班级。",
    "组织生活会材料齐全，整改台账需要细化到人、到期限。",
)
ITEMS = (
    "补齐主题党日签到表和影像资料",
    "按月更新党员学时台账",
    "将流动党员纳入网上班级并建立联系人",
    "细化整改台账，明确责任人和完成时限",
)


def _account(username: str, display_name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(actor=None, username=username, password=DEMO_PASSWORD, display_name=display_name)
    return user


@transaction.atomic
def seed_guidance(*, seed: int, today: date, say: Callable[[str], object] = print) -> list[str]:
    rng = random.Random(f"{seed}-guidance")
    admin_role = (
        RoleAssignment.objects.filter(user__username="district_admin", role__code="org_admin")
        .select_related("organization")
        .first()
    )
    if admin_role is None:
        return ["巡回指导：未找到 district_admin，跳过"]
    district = admin_role.organization
    streets = list(
        Organization.objects.filter(parent=district, is_active=True)
        .exclude(level=OrgLevel.BRANCH)
        .order_by("sort_order", "path")[:4]
    )
    inspectors = [_account(u, n) for u, n in INSPECTORS]
    team = GuidanceTeam.objects.filter(organization=district, year=today.year, name=TEAM_NAME).first()
    if team is None:
        team = services.guidance_team_create(
            actor=None,
            organization=district,
            name=TEAM_NAME,
            year=today.year,
            leader=inspectors[0],
            members=inspectors,
            description="联系辖区各街道（镇）党组织，每季度巡回指导一次，开展党课巡听。",
        )
    for index, street in enumerate(streets):
        services.guidance_coverage_add(
            actor=None, team=team, organization=street, contact=inspectors[index % len(inspectors)]
        )
    say(f"巡回指导组：{team.name}，联系{len(streets)}个街道（镇）")

    branches = list(
        Organization.objects.filter(level=OrgLevel.BRANCH, is_active=True)
        .filter(subtree_q("path", [s.path for s in streets] or [district.path]))
        .order_by("path")[:40]
    )
    picked = rng.sample(branches, min(4, len(branches)))
    open_items = closed_items = 0
    for n, branch in enumerate(picked):
        visited = today - timedelta(days=10 + 20 * n)
        inspection = services.inspection_record(
            actor=inspectors[0],
            organization=branch,
            kind=("guidance", "supervision", "research")[n % 3],
            visited_on=visited,
            findings=FINDINGS[n % len(FINDINGS)],
            team=team,
            items=[
                # One overdue, the others due in a few weeks.
                {
                    "description": ITEMS[(n + k) % len(ITEMS)],
                    "due_on": visited + timedelta(days=7 if k == 0 else 45),
                }
                for k in range(2)
            ],
        )
        for k, item in enumerate(inspection.items.order_by("id")):
            if (n + k) % 2 == 0:
                services.rectification_item_close(
                    actor=None, item=item, note="已按要求整改，相关材料已补齐归档。"
                )
                closed_items += 1
            else:
                open_items += 1

    covered = [street.path for street in streets] or [district.path]
    scored = 0
    for path in covered:
        for lecture in Lecture.objects.filter(
            organization__path__gte=path, organization__path__lt=path + "~", start__lte=timezone.now()
        ).order_by("-start")[:2]:
            services.lecture_inspection_record(
                actor=inspectors[scored % len(inspectors)],
                lecture=lecture,
                scores={
                    "content_score": rng.randint(4, 5),
                    "relevance_score": rng.randint(3, 5),
                    "delivery_score": rng.randint(3, 5),
                    "order_score": rng.randint(4, 5),
                },
                comment=rng.choice(
                    (
                        "主题鲜明，联系本单位实际较好。",
                        "内容准确，互动可以再加强。",
                        "时间控制得当，案例生动。",
                    )
                ),
            )
            scored += 1
    lines = [
        f"巡回指导：{team.name}（inspector1、inspector2）联系{len(streets)}个街道（镇）",
        f"调研督导：{len(picked)}次，整改事项整改中{open_items}项、已销号{closed_items}项",
        f"党课巡听：{scored}次",
    ]
    for line in lines:
        say(line)
    return lines
