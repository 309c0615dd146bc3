"""Fixtures of the lectures tests: the named tree (``tree``), an org_admin of 甲区委, a branch
secretary of 甲一支部, members, lecturers, and 党课 activities recorded through the study services."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partyedu.lectures.models import Lecture, Lecturer
from partyedu.lectures.services import lecture_record, lecturer_create
from partyedu.members.models import Member
from partyedu.study.models import Activity
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_user

TZ = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)

PPTX = b"PK\x03\x04" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def at(month: int, day: int = 10, hour: int = 14, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=TZ)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def party_lecture(org: Any, start: datetime | None = None, **data: Any) -> Activity:
    """A 党课 activity of ``org`` recorded by the system (roster: the subtree's members)."""
    start = start or at(3)
    data.setdefault("end", start + timedelta(hours=2))
    data.setdefault("topic", f"党课{next(_n)}")
    return activity_record(
        actor=None,
        data={"organization": org, "activity_type": "party_lecture", "start": start, **data},
    )


def lecturer(org: Any, member: Member | None = None, **data: Any) -> Lecturer:
    if member is None:
        data.setdefault("name", f"外请讲师{next(_n)}")
        data.setdefault("category", "party_school")
    return lecturer_create(actor=None, data={"organization": org, "member": member, **data})


def lecture(activity: Activity, *speakers: Lecturer, **data: Any) -> Lecture:
    data.setdefault("title", activity.topic)
    return lecture_record(actor=None, activity=activity, data={"lecturers": [s.pk for s in speakers], **data})


def mark(activity: Activity, member: Member, status: str = "present") -> None:
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": status}])


def link(member: Member, username: str | None = None, role: str = "member") -> Any:
    """A member account linked to the member record."""
    user = make_user(username, role=role, org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


@pytest.fixture
def admin(tree: Any) -> Any:
    """org_admin of 甲区委 (district_a and below)."""
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def secretary(tree: Any) -> Any:
    """branch_admin of 甲一支部."""
    return make_user("secretary_a", role="branch_admin", org=tree.branch_a)


@pytest.fixture
def members(tree: Any) -> dict[str, Member]:
    """Members of 甲一支部 (张三 its secretary; 王五 in its party group) and 乙一支部 (赵六, its
    secretary)."""
    return {
        "zhang": make_member(tree.branch_a, "张三", categories=["secretary"]),
        "li": make_member(tree.branch_a, "李四"),
        "wang": make_member(tree.group_a, "王五"),
        "zhao": make_member(tree.branch_b, "赵六", categories=["secretary"]),
    }
