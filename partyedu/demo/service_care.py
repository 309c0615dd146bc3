"""The demo's care area (issue 16), written through the care services after the study year:

- **谈心谈话** in branch_sec's branch this year, recorded by branch_sec: most of the pairs the
  default rule requires (the committee with each other and with every member), a few missing, and
  one ordinary member in five (at least one, never member1) not talked with at all — so
  branch_sec's workbench asks for them (with the members the development seed admits later, who
  have had no talk yet either). member1 has talked with the secretary (with a short note only they
  two and the committee read);
- **关怀帮扶** in branch_sec's district: the city sets the aid approval threshold at ¥1,000; the
  oldest members are cared for (a case each) and visited before the Spring Festival with aid — 12
  payments worth ¥13,500 in all (the Jinan figure, derived: 9 × ¥1,000 and 3 × ¥1,500, the latter
  approved by district_admin as the level above), and one ¥2,000 payment in branch_sec's branch
  still waiting for district_admin's approval (not counted);
- **老带青/青帮老**: two pairs in branch_sec's branch;
- **政治生日**: nothing is written — party birthdays follow the members' 入党日期, which the
  member seed draws; the summary line says how many fall in this month (and says so when none of
  branch_sec's branch does: member data is never rewritten for it).

Deterministic for a seed (``random.Random(f"{seed}-service-care")``) and a day; seeding again adds
nothing (it stops when any talk or care visit exists)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from partyedu.accounts.models import User
from partyedu.members.choices import PARTY_STATUSES
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.service.models import CareVisit, Talk
from partyedu.service.selectors_care import COMMITTEE_CATEGORIES, birthday_count, care_totals, talk_coverage
from partyedu.service.services.care import (
    care_case_create,
    care_pair_create,
    care_visit_approve,
    care_visit_record,
    service_policy_set,
    talk_record,
)

# 春节 (the first day of the lunar year); the visits are made five days before.
SPRING_FESTIVAL = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
CITY_THRESHOLD = Decimal("1000")
# (amount, fund source) of the 12 payments that count: ¥13,500 in all.
PAYMENTS = (
    [(Decimal("1000"), "dues")] * 6 + [(Decimal("1000"), "union")] * 3 + [(Decimal("1500"), "budget")] * 3
)
PENDING_AMOUNT = Decimal("2000")
# One ordinary member in five (at least one) not talked with at all this year.
NOT_TALKED_SHARE = 5
TALK_NOTES = ("交流了学习体会", "了解了家庭情况，表示组织上会关心", "谈了工作中的困难和想法", "")
CASE_NOTES = {
    "veteran": "老党员，年事已高",
    "illness": "患病治疗中，家庭负担较重",
    "hardship": "家庭收入较低",
    "alone": "独居，子女在外地",
}


def _spring_visit_day(today: date) -> date:
    for year in (today.year, today.year - 1):
        festival = SPRING_FESTIVAL.get(year)
        if festival is not None and festival - timedelta(days=5) <= today:
            return festival - timedelta(days=5)
    return today


def _members(org: Organization) -> list[Member]:
    return list(
        Member.objects.filter(
            org_path__startswith=org.path, is_active=True, status__in=PARTY_STATUSES
        ).order_by("pk")
    )


def _is_committee(member: Member) -> bool:
    return any(c in COMMITTEE_CATEGORIES for c in member.categories or ())


def _talks(
    rng: random.Random, branch: Organization, secretary: User, member1: Member | None, today: date
) -> int:
    people = _members(branch)
    committee = [m for m in people if _is_committee(m)]
    ordinary = [m for m in people if not _is_committee(m)]
    candidates = [m for m in ordinary if m != member1]
    skipped = {m.pk for m in candidates[-max(1, len(ordinary) // NOT_TALKED_SHARE) :]}
    pairs = [(a, b) for i, a in enumerate(committee) for b in committee[i + 1 :]]
    pairs += [(a, b) for a in committee for b in ordinary if b.pk not in skipped]
    start = min(date(today.year, 1, 5), today)
    span = (today - start).days
    written = 0
    for a, b in pairs:
        keep = b == member1 and a == committee[0] if member1 is not None else False
        if not keep and rng.random() < 0.08:
            continue  # a few pairs still to talk
        talk_record(
            actor=secretary,
            organization=branch,
            parties=[a, b],
            date=start + timedelta(days=rng.randrange(span + 1)),
            kind="committee_committee" if _is_committee(b) else "committee_member",
            note="谈了近期的学习和工作，家里一切都好" if keep else rng.choice(TALK_NOTES),
        )
        written += 1
    return written


def _care(
    branch: Organization, district: Organization, users: dict[str, User], today: date
) -> tuple[int, int]:
    """Cases and the Spring Festival visits; returns (cases, visits)."""
    service_policy_set(
        actor=users["city_admin"],
        organization=district.parent or district,
        aid_approval_threshold=CITY_THRESHOLD,
    )
    by_age = Member.objects.filter(is_active=True, status__in=PARTY_STATUSES).order_by("birth_date", "pk")
    own = list(by_age.filter(org_path__startswith=branch.path)[:4])
    others = list(
        by_age.filter(org_path__startswith=district.path).exclude(org_path__startswith=branch.path)[
            : 13 - len(own)
        ]
    )
    chosen = own[:3] + others + own[3:]  # the last one (branch_sec's branch) waits for approval
    day = _spring_visit_day(today)
    kinds = ("veteran", "illness", "hardship", "alone")
    cases = visits = 0
    for i, member in enumerate(chosen):
        actor = users["branch_sec"] if member.org_path.startswith(branch.path) else users["district_admin"]
        kind = "veteran" if (today.year - member.birth_date.year) >= 75 else kinds[i % len(kinds)]
        case = care_case_create(
            actor=actor,
            member=member,
            kind=kind,
            since=min(day, today) - timedelta(days=30),
            note=CASE_NOTES[kind],
        )
        cases += 1
        amount, source = PAYMENTS[i] if i < len(PAYMENTS) else (PENDING_AMOUNT, "budget")
        visit = care_visit_record(
            actor=actor,
            member=member,
            case=case,
            date=day,
            occasion="春节走访",
            visitors="支部书记、支部委员",
            aid_kind="cash",
            amount=amount,
            fund_source=source,
            note="送去慰问金和年货，老人精神很好" if i % 3 == 0 else "",
        )
        visits += 1
        if visit.needs_approval and i < len(PAYMENTS):
            care_visit_approve(actor=users["district_admin"], visit=visit)
    return cases, visits


def _pairs(branch: Organization, secretary: User, today: date) -> int:
    people = sorted(_members(branch), key=lambda m: (m.birth_date, m.pk))
    made = 0
    for (elder, younger), kind in zip(
        [(people[0], people[-1]), (people[1], people[-2])],
        ("old_guides_young", "young_helps_old"),
        strict=False,
    ):
        if len(people) >= 4 and elder.birth_date < younger.birth_date:
            care_pair_create(
                actor=secretary, elder=elder, younger=younger, kind=kind, since=today - timedelta(days=90)
            )
            made += 1
    return made


def seed_service_care(*, seed: int, today: date, say: Callable[[str], Any]) -> list[str]:
    """Seed this area of the demo city; return the lines the seed command prints."""
    if Talk.objects.exists() or CareVisit.objects.exists():
        return []
    users = {
        u.username: u
        for u in User.objects.filter(username__in=("city_admin", "district_admin", "branch_sec", "member1"))
    }
    secretary_member = (
        Member.objects.filter(user__username="branch_sec").select_related("organization").first()
    )
    if secretary_member is None or len(users) < 4:
        return []
    branch = secretary_member.organization
    # branch_sec's district (district_admin's organisation): the branch's ancestor below the city.
    district = Organization.objects.filter(path=branch.path[: 2 * SEGMENT_WIDTH]).first() or branch
    member1 = Member.objects.filter(user__username="member1").first()
    rng = random.Random(f"{seed}-service-care")

    _talks(rng, branch, users["branch_sec"], member1, today)
    coverage = talk_coverage(user=users["branch_sec"], organization=branch, year=today.year)
    cases, visits = _care(branch, district, users, today)
    pairs = _pairs(branch, users["branch_sec"], today)
    in_branch = birthday_count(
        user=users["branch_sec"], paths=(branch.path,), year=today.year, month=today.month
    )
    in_city = birthday_count(
        user=users["city_admin"], paths=(branch.path[:SEGMENT_WIDTH],), year=today.year, month=today.month
    )
    totals = care_totals(
        user=users["district_admin"], organization=district, year=_spring_visit_day(today).year
    )

    lines = [
        f"谈心谈话：{branch.name}应谈{coverage.pairs_required}对、已谈{coverage.pairs_held}对，"
        f"{len(coverage.not_talked)}名党员今年尚未谈话",
        f"关怀帮扶：{district.name}困难党员{cases}名，春节走访{visits}人次，发放帮扶{totals.total.payments}人次"
        f"共{totals.total.amount:.0f}元，{totals.pending}笔{totals.pending_amount:.0f}元待上级审批；结对帮扶{pairs}对",
        f"政治生日：本月全市{in_city}名党员，{branch.name}{in_branch}名"
        + ("（该支部本月无人过政治生日，党员数据未作改动）" if not in_branch else ""),
    ]
    for line in lines:
        say(line)
    return lines
