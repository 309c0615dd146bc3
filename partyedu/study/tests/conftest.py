from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from partyedu.accounts.models import Role
from partyedu.accounts.types import Actor
from partyedu.study.models import Activity
from partyedu.study.services import activity_record
from partyedu.testsupport.factories import make_member, make_user

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 7, 14, 30, tzinfo=TZ)


def at(month: int, day: int = 10, hour: int = 14, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=TZ)


def record(org: Any, activity_type: str = "theme_day", start: datetime = START, **data: Any) -> Activity:
    """An activity recorded by the system, two hours long unless ``end`` is given."""
    data.setdefault("end", start + timedelta(hours=2))
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": activity_type,
            "topic": "学习党章",
            "start": start,
            **data,
        },
    )


class SyncCalls(list):
    """Attendance ids passed to the learning ledger's sync, one list per call."""

    @property
    def ids(self) -> set[int]:
        return {pk for call in self for pk in call}


@pytest.fixture(autouse=True)
def hours_sync(monkeypatch: pytest.MonkeyPatch) -> SyncCalls:
    """Record every call from the study services to ``learning_hours_sync_attendance`` (and pass
    it on, so the ledger is really written)."""
    from partyedu.learning import services as learning

    calls = SyncCalls()
    real = learning.learning_hours_sync_attendance

    def spy(*, attendance_ids: list[int], actor: Actor, **kwargs: Any) -> int:
        calls.append(sorted(attendance_ids))
        return real(attendance_ids=attendance_ids, actor=actor, **kwargs)

    monkeypatch.setattr(learning, "learning_hours_sync_attendance", spy)
    return calls


@pytest.fixture
def admin(tree):
    """org_admin of 甲区委 (district_a and below)."""
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def secretary(tree):
    """branch_admin of 甲一支部."""
    return make_user("secretary_a", role="branch_admin", org=tree.branch_a)


@pytest.fixture
def members(tree):
    """Three members of 甲一支部 (one in its party group) and one of 乙一支部."""
    return {
        "zhang": make_member(tree.branch_a, "张三"),
        "li": make_member(tree.branch_a, "李四"),
        "wang": make_member(tree.group_a, "王五"),
        "zhao": make_member(tree.branch_b, "赵六"),
    }


@pytest.fixture
def viewer(tree):
    """A user who may view study data in 甲区委 but change nothing: the inspector role, given
    ``study.view`` for the test."""
    Role.objects.filter(code="inspector").update(actions=["organizations.view", "study.view"])
    return make_user("viewer_a", role="inspector", org=tree.district_a)
