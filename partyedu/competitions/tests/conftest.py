from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from partyedu.accounts.models import User
from partyedu.competitions.models import Competition, Review, Round, RoundEntry
from partyedu.competitions.services import (
    competition_create,
    entry_create,
    round_create,
    round_reviewers_set,
)
from partyedu.testsupport.factories import Tree, make_member, make_user

RUBRIC = [{"name": "内容", "weight": 40}, {"name": "表达", "weight": 30}, {"name": "效果", "weight": 30}]


def make_competition(org: Any, criteria: list[dict[str, Any]] | None = None, **data: Any) -> Competition:
    return competition_create(
        actor=None,
        data={
            "title": data.pop("title", "优秀党课评选"),
            "organization": org,
            "criteria": criteria or RUBRIC,
            **data,
        },
    )


def make_round(competition: Competition, name: str = "初评", **data: Any) -> Round:
    return round_create(actor=None, competition=competition, data={"name": name, **data})


def make_entry(competition: Competition, org: Any, title: str = "党课", lecturer: Any = None) -> Any:
    lecturer = lecturer or make_member(org, f"讲者{title}")
    return entry_create(
        actor=None, competition=competition, data={"title": title, "lecturer": lecturer, "organization": org}
    )


def linked_member(org: Any, name: str, user: User) -> Any:
    member = make_member(org, name)
    member.user = user
    member.save(update_fields=["user"])
    return member


def reviewer(org: Any, name: str | None = None) -> Any:
    return make_user(name, role="reviewer", org=org)


def put_review(round_entry: RoundEntry, user: User, total: int | str) -> Review:
    """A submitted review with a given total (bypassing the rubric), for aggregation tests."""
    from django.utils import timezone

    return Review.objects.create(
        round_entry=round_entry, reviewer=user, total=Decimal(str(total)), submitted_at=timezone.now()
    )


@dataclass
class Setup:
    tree: Tree
    competition: Competition
    round: Round
    admin: Any


@pytest.fixture
def setup(tree: Tree) -> Setup:
    competition = make_competition(tree.root)
    round_ = make_round(competition, reviews_per_entry=2, advance_count=1)
    admin = make_user("organiser", role="org_admin", org=tree.root)
    return Setup(tree, competition, round_, admin)


def panel(round_: Round, users: list[Any]) -> None:
    round_reviewers_set(actor=None, round_=round_, users=users)
