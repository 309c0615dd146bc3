from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from partyedu.points.services import scheme_create
from partyedu.study.models import Activity
from partyedu.study.services import activity_record, attendance_mark

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025


def at(month: int, day: int = 10, year: int = YEAR) -> datetime:
    return datetime(year, month, day, 14, 0, tzinfo=TZ)


def meeting(
    org: Any, start: datetime, activity_type: str = "branch_assembly", roster: list[int] | None = None
) -> Activity:
    data: dict[str, Any] = {
        "organization": org,
        "activity_type": activity_type,
        "topic": "学习党章",
        "start": start,
        "end": start + timedelta(hours=2),
    }
    if roster is not None:
        data["roster"] = roster
    return activity_record(actor=None, data=data)


def mark(activity: Activity, member: Any, status: str = "present") -> None:
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": status}])


def items(**overrides: Any) -> list[dict[str, Any]]:
    base: list[dict[str, Any]] = [
        {
            "code": "meetings",
            "name": "参加三会一课",
            "kind": "earn",
            "source": "attendance",
            "activity_types": ["branch_assembly", "party_lecture"],
            "points": "2",
            "cap": "3",
            "cap_period": "month",
        },
        {
            "code": "absence",
            "name": "无故缺席",
            "kind": "deduct",
            "source": "attendance",
            "activity_types": [],
            "points": "1",
            "cap": None,
            "cap_period": "year",
        },
        {
            "code": "award",
            "name": "书记加分",
            "kind": "earn",
            "source": "manual",
            "points": "0",
            "cap": "10",
            "cap_period": "year",
        },
        {
            "code": "penalty",
            "name": "违规扣分",
            "kind": "deduct",
            "source": "manual",
            "points": "0",
            "cap": None,
            "cap_period": "year",
        },
    ]
    return base


def scheme(
    org: Any, year: int = YEAR, base: str = "60", item_list: list[dict[str, Any]] | None = None
) -> Any:
    return scheme_create(actor=None, organization=org, year=year, base=base, items=item_list or items())


def member_moved_between_schemes(tree: Any) -> Any:
    """A member with a line under the city's scheme, then moved to 乙区 with a scheme of its own
    (item ``district-meetings``)."""
    from partyedu.members.services import member_transfer
    from partyedu.testsupport.factories import make_member

    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    district_items = items()
    district_items[0]["code"] = "district-meetings"
    scheme(tree.district_b, item_list=district_items)
    mark(meeting(tree.branch_a, at(3)), member)
    member_transfer(actor=None, member=member, to_organization=tree.branch_b)
    return member


def assert_ledger_equals_rebuild() -> None:
    from partyedu.points.services import points_rebuild

    report = points_rebuild()
    assert report.differences == 0, report.samples
