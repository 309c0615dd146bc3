"""Builders for the page tests: a competition with a round, entries and a panel at a given
organisation; scored and finished competitions with awards; and the permission-test mixin for
reviewer pages, reached by assignment rather than by an organisational role."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.core.files.uploadedfile import SimpleUploadedFile

from partyedu.accounts.models import User
from partyedu.competitions.models import Award, Competition, Entry, Review, Round
from partyedu.competitions.services import (
    awards_grant,
    entry_create,
    review_submit,
    round_assign,
    round_close,
)
from partyedu.core.testing import OwnedEndpointTests
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_competition, make_round, panel, reviewer

_n = itertools.count(1)


def outside(org: Any) -> Any:
    """An organisation outside ``org``'s district (the other district of the test tree), where
    reviewers have no conflict of interest with ``org``'s entries."""
    from partyedu.organizations.models import Organization

    district = org.parent
    return Organization.objects.filter(parent_id=district.parent_id).exclude(pk=district.pk).first()


def scores(content: Any = 90, expression: Any = 80, effect: Any = 70) -> dict[str, Any]:
    return {"内容": content, "表达": expression, "效果": effect}


@dataclass
class Contest:
    competition: Competition
    round: Round
    entries: list[Entry]
    reviewers: list[Any]
    reviews: list[Review] = field(default_factory=list)

    def reviews_of(self, user: User) -> list[Review]:
        return list(Review.objects.filter(reviewer=user).order_by("id"))


def contest(
    org: Any,
    reviewer_org: Any,
    *,
    entries: int = 1,
    reviewers: int = 2,
    title: str | None = None,
    video: bool = False,
    **round_data: Any,
) -> Contest:
    """A competition held at ``org`` with one open round, ``entries`` recommended entries from
    ``org`` and a panel of ``reviewers`` reviewers at ``reviewer_org`` (outside ``org``), every
    entry assigned to every reviewer (unless ``reviews_per_entry`` says otherwise)."""
    n = next(_n)
    competition = make_competition(org, title=title or f"优秀党课评选{n}号", categories=["微党课"])
    round_data.setdefault("reviews_per_entry", max(reviewers, 1))
    round_ = make_round(competition, "初评", **round_data)
    made = []
    for i in range(entries):
        data: dict[str, Any] = {
            "title": f"党课{n}-{i + 1}",
            "lecturer": make_member(org, f"讲者{n}{i}"),
            "organization": org,
            "summary": "讲述支部的故事",
            "category": competition.categories.get().pk,
        }
        if video:
            data["video"] = SimpleUploadedFile("talk.mp4", b"\x00\x00\x00\x18ftypmp42" + b"0" * 64)
            data["materials"] = SimpleUploadedFile("script.pdf", b"%PDF-1.4 script")
        made.append(entry_create(actor=None, competition=competition, data=data))
    users = [reviewer(reviewer_org, f"rev{n}_{i}") for i in range(reviewers)]
    if users:
        panel(round_, users)
        if entries:
            round_assign(actor=None, round_=round_)
    reviews = list(Review.objects.filter(round_entry__round=round_).order_by("id"))
    return Contest(competition, round_, made, users, reviews)


def submit(review: Review, **values: Any) -> Review:
    return review_submit(actor=review.reviewer, review=review, scores=scores(**values))


def finished(org: Any, reviewer_org: Any, *, entries: int = 2) -> Contest:
    """A one-round competition, every review submitted, closed, awards granted (one of each). The
    entries are the organiser's own, so its 优秀组织单位 is a unit below it chosen with a reason."""
    from partyedu.organizations.models import Organization
    from partyedu.testsupport.factories import make_org

    c = contest(org, reviewer_org, entries=entries)
    ranks = {entry.pk: i for i, entry in enumerate(c.entries)}
    for review in Review.objects.filter(round_entry__round=c.round).select_related("round_entry", "reviewer"):
        submit(review, content=90 - 10 * ranks[review.round_entry.entry_id])
    round_close(actor=None, round_=c.round)
    unit = Organization.objects.filter(parent=org, is_active=True).order_by("path").first()
    awards_grant(
        actor=None,
        competition=c.competition,
        data={
            "lecture_count": 1,
            "lecturer_count": 1,
            "units": [
                {"organization": unit or make_org(org, "第一党小组", "group"), "reason": "组织发动有力"}
            ],
            "awarded_on": date(2026, 6, 1),
        },
    )
    return c


def lecture_award(c: Contest) -> Award:
    return Award.objects.select_related("certificate").get(competition=c.competition, kind="lecture")


def total_of(values: dict[str, Any]) -> Decimal:
    return (
        Decimal(str(values["内容"])) * 40
        + Decimal(str(values["表达"])) * 30
        + Decimal(str(values["效果"])) * 30
    ) / 100


class AssignedEndpointTests(OwnedEndpointTests):
    """Permission tests for reviewer pages: a reviewer's "organisation" is their assignment.
    The reviewer assigned to the object sees it; another reviewer gets 404 (or an empty list)."""

    role: ClassVar[str] = "reviewer"

    def make_object(self, org: Any) -> Review:
        return contest(org, outside(org), reviewers=1).reviews[0]

    def owner(self, obj: Review) -> Any:
        return obj.reviewer


def member_user(org: Any, name: str = "自荐人") -> Any:
    """A member account linked to a member record at ``org``."""
    user = make_user(role="member", org=org)
    member = make_member(org, name)
    member.user = user
    member.save(update_fields=["user"])
    return user
