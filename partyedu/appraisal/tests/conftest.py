from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from partyedu.appraisal.choices import STEP_ORDER
from partyedu.appraisal.models import Appraisal
from partyedu.appraisal.services import appraisal_create, step_close, step_open
from partyedu.testsupport.factories import make_member, make_user

THIS_YEAR = timezone.localdate().year


def member_user(org: Any, name: str, status: str = "full", **data: Any) -> tuple[Any, Any]:
    """A member of ``org`` with an account holding the 党员 role: (user, member)."""
    user = make_user(role="member", org=org)
    member = make_member(org, name, status=status, **data)
    member.user = user
    member.save(update_fields=["user"])
    return user, member


@dataclass
class Branch:
    """甲一支部 with three 正式党员 (甲, 乙, 丙), one 预备党员 (丁) and a 正式党员 of its 党小组 (戊),
    each with an account; an 入党积极分子 (己) who does not take part; its secretary."""

    org: Any
    users: dict[str, Any]
    members: dict[str, Any]
    secretary: Any

    def ids(self, *names: str) -> list[int]:
        return [self.members[n].pk for n in names]


def make_branch(tree: Any) -> Branch:
    users, members = {}, {}
    for name, org, status in (
        ("甲", tree.branch_a, "full"),
        ("乙", tree.branch_a, "full"),
        ("丙", tree.branch_a, "full"),
        ("丁", tree.branch_a, "probationary"),
        ("戊", tree.group_a, "full"),
    ):
        users[name], members[name] = member_user(org, name, status)
    members["己"] = make_member(tree.branch_a, "己", status="activist")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    return Branch(tree.branch_a, users, members, secretary)


@pytest.fixture
def branch(tree: Any) -> Branch:
    return make_branch(tree)


def make_appraisal(org: Any, year: int = THIS_YEAR, **kwargs: Any) -> Appraisal:
    return appraisal_create(actor=None, organization=org, year=year, **kwargs)


def open_step(appraisal: Appraisal, code: str) -> Appraisal:
    """Open and close every step before ``code`` not yet closed, and open ``code`` (as the
    system)."""
    for step in STEP_ORDER:
        if step == code:
            step_open(actor=None, appraisal=appraisal, code=step)
            break
        state = appraisal.steps.get(code=step)
        if state.opened_at is None:
            step_open(actor=None, appraisal=appraisal, code=step)
        if state.closed_at is None:
            step_close(actor=None, appraisal=appraisal, code=step)
    return Appraisal.objects.get(pk=appraisal.pk)


def close_step(appraisal: Appraisal, code: str) -> Appraisal:
    step_close(actor=None, appraisal=appraisal, code=code)
    return Appraisal.objects.get(pk=appraisal.pk)


def ballot(branch: Branch, voter: str, grades: dict[str, str]) -> list[dict[str, Any]]:
    return [{"member": branch.members[name].pk, "grade": grade} for name, grade in grades.items()]


ALL_QUALIFIED = {
    "甲": "qualified",
    "乙": "qualified",
    "丙": "qualified",
    "丁": "qualified",
    "戊": "qualified",
}


def others(name: str, grades: dict[str, str] | None = None) -> dict[str, str]:
    """A full ballot of ``name``: every other participant, 合格 unless given."""
    chosen = dict(ALL_QUALIFIED)
    chosen.update(grades or {})
    chosen.pop(name, None)
    return chosen
