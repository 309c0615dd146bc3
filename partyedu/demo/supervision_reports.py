"""Demo data of the monthly report (党建活动月报) for the district that ``district_admin`` steers:
every ended month of the year (the twelve months of last year in January) for every reporting
organisation of the district (in a large city: of the level below the district, and deeper only
under the one holding branch_sec's branch — ``REPORTING_MAX``), generated from the demo's records by the report services, bottom up
each month so that a higher organisation's report adds its children's approved reports.

- Branches: most approved, some returned and fixed; in the newest month a few late (never
  generated) or left as drafts. ``branch_sec``'s report of the newest month is left for the
  secretary to generate and submit (the browser test's flow).
- The levels between the branches and the district: approved, except the newest month, which is
  submitted and awaits ``district_admin``'s review (the only "月报待审核" notices left unread).
- The district itself: submitted and approved by the city level (the system actor), except the
  newest month, left for ``district_admin`` to generate.

Each report's figures are derived once (generation); the submission freezes them as generated
(``regenerate=False``): nothing changes the records in between."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from partyedu.accounts.models import RoleAssignment
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.supervision.models import MonthlyReport
from partyedu.supervision.services.reports import (
    report_approve,
    report_generate,
    report_narrative_update,
    report_return,
    report_submit,
)

PROBLEMS = [
    "个别党员因外出未能参加，已安排补学",
    "学习形式较单一，讨论不够深入",
    "部分老党员行动不便，需送学上门",
]
PLANS = ["开展主题党日，学习全会精神", "召开支部党员大会，讲专题党课", "组织党员到教育基地现场教学"]
HIGHER_PROBLEMS = ["个别支部报送不够及时", "部分支部学习记录不够规范", "基层党组织活动质量有待提高"]
HIGHER_PLANS = ["督促下级党组织按时报送月报", "开展基层党组织书记培训", "组织专题学习和交流研讨"]


def report_months(today: date) -> list[tuple[int, int]]:
    """The ended months of today's year, oldest first (last year's twelve months in January)."""
    if today.month == 1:
        return [(today.year - 1, m) for m in range(1, 13)]
    return [(today.year, m) for m in range(1, today.month)]


# More reporting organisations than this in the district: see seed_reports.
REPORTING_MAX = 400


def seed_reports(*, seed: int, today: date, say: Callable[[str], None] = print) -> list[str]:
    rng = random.Random(f"{seed}-reports")
    sec = RoleAssignment.objects.filter(user__username="branch_sec").select_related("organization").first()
    admin = (
        RoleAssignment.objects.filter(user__username="district_admin").select_related("organization").first()
    )
    if sec is None or admin is None:
        return ["月报：演示账号不存在，未生成"]
    district = admin.organization
    below = list(
        Organization.objects.filter(district.subtree_q(), is_active=True)
        .exclude(pk=district.pk)
        .exclude(level=OrgLevel.GROUP)
    )
    if len(below) > REPORTING_MAX:
        # A large city (seed_demo --members 100000): every organisation of the level below the
        # district reports, but deeper down only those of the one holding branch_sec's branch —
        # a year of reports for a thousand branches would take the seed most of an hour.
        home = sec.organization.path[: len(district.path) + SEGMENT_WIDTH]
        below = [o for o in below if len(o.path) == len(home) or o.path.startswith(home)]
    # Deepest first, so that each month a parent is generated after its children were approved.
    orgs = [*sorted(below, key=lambda o: (-len(o.path), o.path)), district]
    branch_count = sum(o.level == OrgLevel.BRANCH for o in below)
    months = report_months(today)
    counts = {"approved": 0, "returned_fixed": 0, "late": 0, "draft": 0, "awaiting": 0, "district": 0}
    for index, (year, month) in enumerate(months):
        newest = index == len(months) - 1
        for org in orgs:
            is_branch = org.level == OrgLevel.BRANCH
            if newest and (org.pk == district.pk or org.pk == sec.organization_id):
                continue  # left for district_admin / branch_sec (their to-do and the browser test)
            roll = rng.random()
            if newest and is_branch and roll < 0.3:
                counts["late"] += 1
                continue
            report, created = report_generate(actor=None, organization=org, year=year, month=month)
            if not created or report.status != "draft":
                continue
            problems, plans = (PROBLEMS, PLANS) if is_branch else (HIGHER_PROBLEMS, HIGHER_PLANS)
            report = report_narrative_update(
                actor=None,
                report=report,
                data={"problems": rng.choice(problems), "next_plan": rng.choice(plans)},
            )
            if newest and is_branch and roll < 0.45:
                counts["draft"] += 1
                continue
            report = report_submit(actor=None, report=report, regenerate=False)
            if newest and not is_branch:
                counts["awaiting"] += 1
                continue  # awaits district_admin's review
            if is_branch and roll > 0.88:
                report = report_return(actor=None, report=report, reason="请补充缺勤党员的补学安排")
                report = report_narrative_update(
                    actor=None, report=report, data={"problems": "缺勤党员已于月底前补学"}
                )
                report = report_submit(actor=None, report=report, regenerate=False)
                counts["returned_fixed"] += 1
            report_approve(actor=None, report=report)
            counts["approved"] += 1
            counts["district"] += org.pk == district.pk
    total = MonthlyReport.objects.filter(district.subtree_q("organization__path")).count()
    line = (
        f"党建活动月报：{district.name}及下属{len(below)}个组织（支部{branch_count}个）共{total}份"
        f"（已审核{counts['approved']}，其中退回后修改{counts['returned_fixed']}、区级经市级审核"
        f"{counts['district']}；待区级审核{counts['awaiting']}；草稿{counts['draft']}；"
        f"逾期未报{counts['late']}）"
    )
    say(line)
    return [line]
