"""Builders of the guidance tests: a team of 甲区委 covering 甲一支部 with one 督导员, inspections
with rectification items, and 党课 recorded through the study and lectures services."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from partyedu.lectures.models import Lecture
from partyedu.lectures.services import lecture_record, lecturer_create
from partyedu.study.services import activity_record
from partyedu.supervision.models.guidance import GuidanceTeam, Inspection, RectificationItem
from partyedu.supervision.services import guidance as services
from partyedu.testsupport.factories import make_user

TZ = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def a_team(owner: Any, covered: Any, *members: Any, name: str | None = None) -> GuidanceTeam:
    """A team owned by ``owner`` covering ``covered`` (system actor); members by user."""
    team = services.guidance_team_create(
        actor=None,
        organization=owner,
        name=name or f"第{next(_n)}巡回指导组",
        year=timezone.localdate().year,
        leader=members[0] if members else None,
        members=members,
    )
    services.guidance_coverage_add(actor=None, team=team, organization=covered)
    return team


def an_inspector(owner: Any, covered: Any, username: str | None = None) -> Any:
    """A user with no role of their own who joins a team covering ``covered``."""
    user = make_user(username)
    a_team(owner, covered, user)
    return user


def an_inspection(org: Any, *, items: int = 1, due: date | None = None, team: Any = None) -> Inspection:
    today = timezone.localdate()
    return services.inspection_record(
        actor=None,
        organization=org,
        kind="supervision",
        visited_on=today - timedelta(days=3),
        findings=f"检查发现{next(_n)}号问题",
        team=team,
        items=[{"description": f"标记整改{next(_n)}号", "due_on": due or today + timedelta(days=10)}] * items,
    )


def an_item(org: Any, **kwargs: Any) -> RectificationItem:
    item: RectificationItem = an_inspection(org, **kwargs).items.get()
    return item


def a_lecture(org: Any, start: datetime | None = None) -> Lecture:
    start = start or timezone.now() - timedelta(days=2)
    activity = activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "party_lecture",
            "start": start,
            "end": start + timedelta(hours=2),
            "topic": f"标记党课{next(_n)}号",
        },
    )
    speaker = lecturer_create(
        actor=None, data={"organization": org, "name": f"讲师{next(_n)}", "category": "party_school"}
    )
    return lecture_record(
        actor=None, activity=activity, data={"title": activity.topic, "lecturers": [speaker.pk]}
    )


SCORES = {"content_score": 5, "relevance_score": 4, "delivery_score": 4, "order_score": 5}
