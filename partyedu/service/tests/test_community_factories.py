"""Factories shared by the community area's tests (no tests here): members with accounts, pledges,
a community's grid, a centre with rooms and bookings — made through the services as the system.

The tree is ``partyedu.testsupport.factories.make_tree``: 市委 → 甲区委 (organ) → 甲一支部
(community) → 甲一第一党小组; 市委 → 乙区委 → 乙一支部 (community)."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partyedu.service.models import Booking, Centre, GridUnit, Pledge, Room
from partyedu.service.services.community import (
    booking_create,
    centre_create,
    grid_unit_create,
    pledge_create,
    room_create,
)
from partyedu.testsupport.factories import make_member, make_user


def member_user(org: Any, name: str, **data: Any) -> tuple[Any, Any]:
    """A member of ``org`` with an account holding the 党员 role: (user, member)."""
    user = make_user(role="member", org=org)
    member = make_member(org, name, **data)
    member.user = user
    member.save(update_fields=["user"])
    return user, member


def make_pledge(
    org: Any = None, *, member: Any = None, title: str = "为小区加装路灯", **kwargs: Any
) -> Pledge:
    kwargs.setdefault("due", timezone.localdate() + timedelta(days=30))
    return pledge_create(actor=None, organization=org, member=member, title=title, **kwargs)


def png(name: str = "photo.png", size: tuple[int, int] = (4, 4)) -> SimpleUploadedFile:
    """A real (tiny) PNG image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def make_grid(community: Any, contact: Any = None) -> dict[str, GridUnit]:
    """一片 → 一组 → 3号楼 (with ``contact`` as the 楼长) and a second 片."""
    area = grid_unit_create(actor=None, community=community, role="area", label="第一片区", households=0)
    group = grid_unit_create(
        actor=None, community=community, role="group", label="一组", parent=area, households=0
    )
    building = grid_unit_create(
        actor=None,
        community=community,
        role="building",
        label="3号楼",
        parent=group,
        contact=contact,
        households=24,
    )
    other = grid_unit_create(actor=None, community=community, role="area", label="第二片区", households=40)
    return {"area": area, "group": group, "building": building, "other": other}


def make_centre(org: Any, *, requires_approval: bool = True, capacity: int = 30) -> tuple[Centre, Room]:
    centre = centre_create(
        actor=None, organization=org, name="党群活动服务中心", requires_approval=requires_approval
    )
    room = room_create(actor=None, centre=centre, name="多功能厅", capacity=capacity)
    return centre, room


def slot(days: int = 3, hour: int = 9, hours: int = 2) -> tuple[datetime, datetime]:
    """A slot ``days`` from today at ``hour`` local time, ``hours`` long."""
    day = timezone.localdate() + timedelta(days=days)
    start = timezone.make_aware(datetime.combine(day, time(hour)))
    return start, start + timedelta(hours=hours)


def make_booking(
    room: Room, org: Any, *, days: int = 3, hour: int = 9, hours: int = 2, attendees: int = 10
) -> Booking:
    start, end = slot(days, hour, hours)
    return booking_create(
        actor=None, room=room, organization=org, start=start, end=end, attendees=attendees, purpose="主题党日"
    )
