"""Test helpers: activities and attendance written directly (the study services that normally
write them call ``learning_hours_sync_attendance`` the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.test import TestCase

from partyedu.learning.services import learning_hours_rebuild, learning_hours_sync_attendance
from partyedu.study.models import Activity, Attendance
from partyedu.study.services import activity_figures_sync

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def make_activity(
    org: Any,
    *,
    activity_type: str = "theme_day",
    topic: str = "学习二十届三中全会精神",
    start: datetime | None = None,
    end: datetime | None = None,
    hours: float = 2,
    credited_hours: Decimal | None = None,
) -> Activity:
    start = start or local(2026, 3, 15, 9)
    end = end or start + timedelta(hours=hours)
    activity = Activity.objects.create(
        organization=org,
        activity_type=activity_type,
        topic=topic,
        start=start,
        end=end,
        credited_hours=credited_hours,
    )
    activity_figures_sync([activity.pk])  # as activity_create keeps the dashboards' figures
    return activity


def attend(
    activity: Activity, member: Any, status: str = "present", *, sync: bool = True, **extra: Any
) -> Attendance:
    row, _created = Attendance.objects.update_or_create(
        activity=activity, member=member, defaults={"status": status, **extra}
    )
    if sync:
        learning_hours_sync_attendance(attendance_ids=[row.pk])
        activity_figures_sync([activity.pk])
    return row


def assert_ledger_equals_rebuild() -> None:
    report = learning_hours_rebuild(apply=False)
    assert report.differences == 0, report.samples


@contextmanager
def jobs_run() -> Iterator[None]:
    """Run the background jobs queued inside the block when it ends, as the commit of a request
    would (tests use the inline job runner): a rule change's recount, for instance."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
