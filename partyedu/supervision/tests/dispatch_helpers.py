"""Test helpers of the dispatch area: a dispatch from the city to its branches, and activities."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from partyedu.study.models import Activity
from partyedu.study.services import activity_record

from ..models.dispatch import Dispatch
from ..services.dispatch import dispatch_create


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def make_dispatch(
    issuer: Any, *, title: str = "本月主题党日学习四中全会精神", due_in: int = 7, **data: Any
) -> Dispatch:
    data.setdefault("target_level", "branch")
    return dispatch_create(actor=None, organization=issuer, title=title, due=in_days(due_in), **data)


def make_activity(
    org: Any, activity_type: str = "theme_day", start: datetime | None = None, **data: Any
) -> Activity:
    start = start or timezone.now() + timedelta(hours=1)
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": data.pop("topic", "学习四中全会精神"),
            "start": start,
            "end": start + timedelta(hours=2),
            **data,
        },
    )
