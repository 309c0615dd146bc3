"""Factories of a small named tree, users and members, made through the services so that every
object obeys the rules the product enforces.

The tree (built by ``make_tree``)::

    市委 (root)
    ├── 甲区委 (district_a) ── 甲一支部 (branch_a) ── 甲一第一党小组 (group_a)
    └── 乙区委 (district_b) ── 乙一支部 (branch_b)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from partyedu.accounts.models import User
from partyedu.accounts.services import pii_grant_create, role_assign, user_create
from partyedu.members.idnumber import check_char
from partyedu.members.models import Member
from partyedu.members.services import member_create
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_create

PASSWORD = "Test@2026pw"
_seq = itertools.count(1)


def valid_id_number(birth: date = date(1980, 1, 1), male: bool = True) -> str:
    """A fresh ID number that passes GB 11643, unique within the test run."""
    n = next(_seq)
    sequence = (n % 500) * 2 + (1 if male else 0)  # odd = male
    first17 = f"{370102 + n // 500:06d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def make_org(
    parent: Organization | None, name: str, level: str = "branch", org_type: str = "community"
) -> Organization:
    return organization_create(
        actor=None, parent=parent, name=name, code=f"T{next(_seq):05d}", level=level, org_type=org_type
    )


@dataclass
class Tree:
    root: Organization
    district_a: Organization
    district_b: Organization
    branch_a: Organization
    branch_b: Organization
    group_a: Organization


def make_tree() -> Tree:
    root = make_org(None, "市委", "committee", "organ")
    district_a = make_org(root, "甲区委", "committee", "organ")
    district_b = make_org(root, "乙区委", "committee", "organ")
    branch_a = make_org(district_a, "甲一支部")
    branch_b = make_org(district_b, "乙一支部")
    group_a = make_org(branch_a, "甲一第一党小组", "group")
    return Tree(root, district_a, district_b, branch_a, branch_b, group_a)


def make_user(
    username: str | None = None,
    *,
    role: str | None = None,
    org: Organization | None = None,
    pii: bool = False,
    **kwargs: Any,
) -> User:
    user = user_create(actor=None, username=username or f"user{next(_seq)}", password=PASSWORD, **kwargs)
    if role and org is not None:
        role_assign(actor=None, user=user, role_code=role, organization=org)
    if pii and org is not None:
        pii_grant_create(actor=None, user=user, organization=org, reason="测试授权")
    return user


def make_member(org: Organization, name: str = "张三", **data: Any) -> Member:
    data.setdefault("id_number", valid_id_number(data.pop("birth", date(1980, 1, 1)), data.pop("male", True)))
    data.setdefault("status", "full")
    return member_create(actor=None, data={"organization": org, "name": name, **data})
