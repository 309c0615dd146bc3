"""Factories shared by the care area's tests (no tests here): members with accounts, a branch with
its committee, talks, care cases, visits and pairs — made through the services as the system.

The tree is ``partyedu.testsupport.factories.make_tree``: 市委 → 甲区委 → 甲一支部 → 甲一第一党小组;
市委 → 乙区委 → 乙一支部."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from partyedu.members.models import Member
from partyedu.service.models import CareCase, CareVisit, Talk
from partyedu.service.services.care import care_case_create, care_visit_record, talk_record
from partyedu.testsupport.factories import make_member, make_user


def member_user(org: Any, name: str, **data: Any) -> tuple[Any, Member]:
    """A member of ``org`` with an account holding the 党员 role: (user, member)."""
    user = make_user(role="member", org=org)
    member = make_member(org, name, **data)
    member.user = user
    member.save(update_fields=["user"])
    return user, member


@dataclass
class Branch:
    """甲一支部: a secretary and a committee member (the committee), and ordinary members (one in
    the party group)."""

    secretary: Member
    committee: Member
    members: list[Member]

    @property
    def everyone(self) -> list[Member]:
        return [self.secretary, self.committee, *self.members]


def make_branch(tree: Any, ordinary: int = 3) -> Branch:
    secretary = make_member(tree.branch_a, "王书记", categories=["employed", "secretary"])
    committee = make_member(tree.branch_a, "李委员", categories=["employed", "committee"])
    members = [make_member(tree.branch_a, f"党员{i}") for i in range(1, ordinary)]
    members.append(make_member(tree.group_a, f"党员{ordinary}"))
    return Branch(secretary, committee, members)


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def make_talk(
    org: Any, a: Member, b: Member, *, day: date | None = None, kind: str = "committee_member", note: str = ""
) -> Talk:
    return talk_record(
        actor=None, organization=org, parties=[a, b], date=day or timezone.localdate(), kind=kind, note=note
    )


def make_case(member: Member, *, kind: str = "illness", note: str = "住院治疗，家中困难") -> CareCase:
    return care_case_create(actor=None, member=member, kind=kind, since=yesterday(), note=note)


def make_visit(member: Member, amount: Any = "300", *, day: date | None = None, **kwargs: Any) -> CareVisit:
    kwargs.setdefault("aid_kind", "cash")
    kwargs.setdefault("fund_source", "dues" if Decimal(str(amount)) > 0 else "")
    kwargs.setdefault("occasion", "春节走访")
    return care_visit_record(actor=None, member=member, date=day or yesterday(), amount=amount, **kwargs)
