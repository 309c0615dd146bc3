"""Shared helpers of the registration area's tests (双报到, service records, volunteer service).

The units of the test tree (``testsupport.factories.make_tree``)::

    市委 ── 甲区委 ── 甲区直机关工委 (working committee, 机关) ── 甲区科技局机关党支部 (a unit)
                    └── 甲一支部 (a 社区 branch: the community members register with)
           └── 乙区委 ── 乙一支部
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.points.services import scheme_create
from partyedu.service.models import ServiceRecord, VolunteerActivity
from partyedu.service.services import registration as services
from partyedu.study.services import attendance_mark
from partyedu.testsupport.factories import make_member, make_org, make_user

TODAY = timezone.localdate()
YEAR = TODAY.year


@dataclass
class Units:
    tree: Any
    organs: Organization  # 甲区直机关工委
    bureau: Organization  # 甲区科技局机关党支部: a unit expected to register
    community: Organization  # 甲一支部 (a 社区 branch)


def make_units(tree: Any) -> Units:
    organs = make_org(tree.district_a, "甲区直机关工委", "working_committee", "organ")
    bureau = make_org(organs, "甲区科技局机关党支部", "branch", "organ")
    return Units(tree, organs, bureau, tree.branch_a)


def member_user(
    org: Organization, name: str, categories: list[str] | None = None, **data: Any
) -> tuple[Any, Member]:
    """A member of ``org`` (in service unless told otherwise) with an account holding the 党员
    role: (user, member)."""
    user = make_user(role="member", org=org)
    member = make_member(org, name, categories=categories if categories is not None else ["employed"], **data)
    member.user = user
    member.save(update_fields=["user"])
    return user, member


def register(member: Member, community: Organization, **extra: Any) -> Any:
    return services.registration_create(
        actor=None, member=member, community=community, post="政策宣传员", **extra
    )


def record(member: Member, hours: str = "2", days_ago: int = 1, **extra: Any) -> ServiceRecord:
    return services.service_record_create(
        actor=None,
        member=member,
        date=TODAY - timedelta(days=days_ago),
        hours=hours,
        kind=extra.pop("kind", "policy"),
        **extra,
    )


def volunteer(org: Organization, *, days_ahead: int = 3, hours: int = 2, **extra: Any) -> VolunteerActivity:
    start = (timezone.localtime() + timedelta(days=days_ahead)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return services.volunteer_activity_create(
        actor=None,
        organization=org,
        topic=extra.pop("topic", "疫苗接种现场服务"),
        start=start,
        end=start + timedelta(hours=hours),
        kind=extra.pop("kind", "vaccination"),
        **extra,
    )


def past_volunteer(org: Organization, *, days_ago: int = 3, hours: int = 2) -> VolunteerActivity:
    """A volunteer activity already held (sign-up done by the system)."""
    start = (timezone.localtime() - timedelta(days=days_ago)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return services.volunteer_activity_create(
        actor=None,
        organization=org,
        topic="环境整治",
        start=start,
        end=start + timedelta(hours=hours),
        kind="environment",
        signup_until=start - timedelta(days=1),
    )


def attend(found: VolunteerActivity, member: Member, status: str = "present") -> None:
    from partyedu.study.services import activity_roster_add

    activity_roster_add(actor=None, activity=found.activity, member_ids=[member.pk])
    attendance_mark(actor=None, activity=found.activity, records=[{"member": member.pk, "status": status}])


SERVICE_ITEM = {
    "code": "service",
    "name": "志愿服务",
    "kind": "earn",
    "source": "service_hours",
    "activity_types": [],
    "points": "1",
    "cap": "10",
    "cap_period": "year",
}


def service_scheme(org: Organization, year: int = YEAR, **item: Any) -> Any:
    return scheme_create(actor=None, organization=org, year=year, base="60", items=[{**SERVICE_ITEM, **item}])


def aware(day: datetime) -> datetime:
    return timezone.make_aware(day) if timezone.is_naive(day) else day
