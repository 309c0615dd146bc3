"""Helpers of the publication, objection, veto and ranking tests."""

from __future__ import annotations

from typing import Any

from partyedu.points.models import PointsEntry, PointsPublication
from partyedu.points.services import publication_create
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, at, mark, meeting, scheme


def member_with_account(org: Any, name: str = "甲", **data: Any) -> tuple[Any, Any]:
    """A member with their own sign-in (the 党员 role over themself)."""
    member = make_member(org, name, **data)
    user = make_user(role="member", org=org)
    member.user = user
    member.save(update_fields=["user"])
    return member, user


def publish(org: Any, period: str = "h1", year: int = YEAR, days: int = 7) -> PointsPublication:
    return publication_create(actor=None, organization=org, year=year, period=period, days=days)


def branch_with_points(tree: Any) -> tuple[Any, Any, PointsEntry]:
    """The city's scheme; member 甲 (with an account) of branch_a attended a meeting in March
    (62 points) and was absent in April (−1): returns (member, user, the April deduction line)."""
    scheme(tree.root)
    member, user = member_with_account(tree.branch_a, "甲")
    mark(meeting(tree.branch_a, at(3)), member)
    mark(meeting(tree.branch_a, at(4)), member, "absent")
    return member, user, PointsEntry.objects.get(member=member, item__code="absence")
