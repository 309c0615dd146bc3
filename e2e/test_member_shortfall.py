"""End-to-end on a phone (390×844): a member short of the year's hours opens 我的学时, reads why
(the activities they missed, whether 补学 is still open, the deadline) and opens an online resource
that would close the gap (issue 11, the member's everyday path)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.learning.models import HourRequirement, OnlineResource
from partyedu.members.models import Member
from partyedu.study.services import activity_record, attendance_mark
from partyedu.testsupport.factories import make_member, make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_finds_why_they_are_short_and_opens_a_resource_that_closes_the_gap(page):
    tree = make_tree()
    # Online study counts toward the requirement only where the subtree says so (here up to 8 学时):
    # only then does a resource close the gap.
    HourRequirement.objects.create(organization=tree.root, counts_online=True, online_cap=Decimal("8"))
    member = make_member(tree.branch_a, "王秀英")
    user = make_user("wxy", role="member", org=tree.branch_a)
    Member.objects.filter(pk=member.pk).update(user=user)
    start = timezone.now() - timedelta(days=1)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "party_lecture",
            "topic": "党课：学习党的二十届四中全会精神",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "leave"}])
    resource = OnlineResource.objects.create(
        organization=tree.root,
        title="微党课：铸牢中华民族共同体意识",
        kind="article",
        body="正文：铸牢中华民族共同体意识。",
        duration_seconds=600,
        credit_hours=Decimal("2"),
        is_published=True,
        published_at=timezone.now(),
    )

    login(page, "wxy")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/learning/me/")
    gap = page.get_by_test_id("shortfall")
    gap.wait_for()
    text = gap.inner_text()
    assert "还差 32 学时" in text
    assert "12月31日前补齐" in text
    assert "学习党的二十届四中全会精神" in text
    assert "可以补学" in text
    screenshot(page, "learning-shortfall-phone")

    gap.get_by_role("link", name=resource.title).click()
    page.wait_for_url(re.compile(rf"/learning/resources/{resource.pk}/"))
    assert "铸牢中华民族共同体意识" in page.content()
