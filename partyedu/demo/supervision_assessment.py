"""Demo data of the annual assessment (年度考评): a scheme of the district that ``district_admin``
steers over its direct children for the demo year — the five derived indicators and a manual
one — scored from the demo's records (not yet published: publishing is the admin's decision),
with manual points and reasons for some of the children."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from partyedu.accounts.models import RoleAssignment
from partyedu.demo.study import STUDY_YEAR
from partyedu.supervision.models.assessment import AssessmentScheme, IndicatorKind
from partyedu.supervision.services.assessment import (
    IndicatorData,
    assessment_manual_score_set,
    assessment_scheme_create,
    assessment_score,
    points_text,
)

REASONS = [
    "党建品牌特色鲜明，群众评价好",
    "“双报到”工作扎实，办实事台账完整",
    "软弱涣散党组织整顿有成效",
    "党员教育阵地建设有亮点",
]


def _indicators() -> list[IndicatorData]:
    return [
        IndicatorData(name="学时完成率", kind="derived", metric="hours_completion", weight=25),
        IndicatorData(name="组织生活规范率", kind="derived", metric="cadence_compliance", weight=20),
        IndicatorData(
            name="月报按时报送率",
            kind="derived",
            metric="report_timeliness",
            weight=15,
            rule="threshold",
            threshold=90,
            description="按时报送率达到90%得满分",
        ),
        IndicatorData(name="整改事项销号率", kind="derived", metric="rectification_closure", weight=15),
        IndicatorData(name="书记讲党课", kind="derived", metric="lecture_duty", weight=10),
        IndicatorData(
            name="特色工作", kind="manual", weight=15, description="考评组织根据日常掌握情况评分，须写明理由"
        ),
    ]


def seed_assessment(*, seed: int, today: date, say: Callable[[str], None] = print) -> list[str]:
    rng = random.Random(f"{seed}-assessment")
    admin = (
        RoleAssignment.objects.filter(user__username="district_admin")
        .select_related("organization", "user")
        .first()
    )
    if admin is None:
        return ["年度考评：演示账号 district_admin 不存在，未生成"]
    district = admin.organization
    year = STUDY_YEAR if today.year >= STUDY_YEAR else today.year  # the year the demo's records fill
    title = f"{year}年度{district.short_name or district.name}基层党建工作考评"
    scheme = AssessmentScheme.objects.filter(organization=district, year=year, title=title).first()
    if scheme is None:
        scheme = assessment_scheme_create(
            actor=admin.user,
            organization=district,
            year=year,
            title=title,
            description="依据全年活动、学时、月报、整改和讲党课记录自动计分，特色工作由区委组织部评分。",
            indicators=_indicators(),
        )
    manual = scheme.indicators.get(kind=IndicatorKind.MANUAL)
    targets = list(scheme.assessed_organizations())
    for org in targets[: max(1, len(targets) * 2 // 3)]:
        points = rng.choice([10, 11.5, 12, 13, 14, 15])
        assessment_manual_score_set(
            actor=admin.user, indicator=manual, organization=org, points=points, reason=rng.choice(REASONS)
        )
    assessment_score(actor=admin.user, scheme=scheme, inline=True)
    scheme.refresh_from_db()
    totals = sorted(
        (
            sum((r.points for r in scheme.results.filter(organization=org)), start=Decimal(0))
            for org in targets
        ),
        reverse=True,
    )
    say(f"年度考评：{scheme.title}，{len(targets)}个组织已计分")
    summary = [f"年度考评方案 1 个（{district.name}，{len(targets)}个考评对象，已计分未发布）"]
    if totals:
        summary.append(f"考评得分 {points_text(totals[-1])}–{points_text(totals[0])} 分")
    return summary
