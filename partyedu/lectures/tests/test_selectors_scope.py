"""Selectors take the requesting user (issue 10): ratings, duty counts and the library read nothing
of a lecture, a member or an organisation outside the user's reach."""

from __future__ import annotations

import pytest

from partyedu.lectures.selectors import (
    lecture_duty_counts,
    lecture_rating_comments,
    lecture_rating_summaries,
    lecture_rating_summary,
    library_honour_titles,
    library_item_for_honour,
    library_showing,
    rating_refusal,
)
from partyedu.lectures.services import lecture_rate, library_publish
from partyedu.testsupport.factories import make_user

from .conftest import MP4, at, lecture, lecturer, link, mark, party_lecture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(tree, members):
    """A lecture of 甲一支部 given by 张三 in 2025, rated 4 with a comment by 李四."""
    record = lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a, members["zhang"]))
    mark(record.activity, members["li"])
    lecture_rate(actor=link(members["li"]), lecture=record, score=4, comment="联系实际")
    return record


def test_ratings_of_a_lecture_out_of_reach_read_as_none(tree, admin, rated):
    sibling = make_user(role="org_admin", org=tree.district_b)
    assert lecture_rating_summary(user=admin, lecture=rated).count == 1
    assert lecture_rating_summaries(user=admin, lecture_ids=[rated.pk])[rated.pk].count == 1
    assert lecture_rating_comments(user=admin, lecture=rated) == [(4, "联系实际")]
    assert lecture_rating_summary(user=sibling, lecture=rated).count == 0
    assert lecture_rating_summaries(user=sibling, lecture_ids=[rated.pk])[rated.pk].count == 0
    assert lecture_rating_comments(user=sibling, lecture=rated) is None


def test_an_attendee_reads_the_summary_of_a_lecture_they_were_expected_at(members, rated):
    assert lecture_rating_summary(user=members["li"].user, lecture=rated).count == 1
    assert lecture_rating_comments(user=members["li"].user, lecture=rated) is None


def test_the_system_may_not_rate(rated):
    assert rating_refusal(user=None, lecture=rated) == "只有党员本人可以评价党课"


def test_duty_counts_of_a_member_out_of_reach_are_zero(tree, admin, members, rated):
    sibling = make_user(role="org_admin", org=tree.district_b)
    zhang = members["zhang"]
    lecture_duty_counts(user=sibling, members=[zhang], year=2025)
    assert (zhang.lecture_count, zhang.cross_count) == (0, 0)
    lecture_duty_counts(user=admin, members=[zhang], year=2025)
    assert zhang.lecture_count == 1


def test_the_library_showing_is_the_members_own(tree, admin, members):
    library_publish(
        actor=admin,
        organization=tree.district_a,
        title="家风",
        file=upload("家风.mp4", MP4),
        duration_seconds=600,
    )
    li = link(members["li"])
    assert len(library_showing(user=li, member=members["li"])) == 1
    assert library_showing(user=admin, member=members["li"]) == []


def test_honoured_items_of_an_organisation_out_of_reach_are_not_found(tree, admin):
    honour = "2026年全区优秀党课评选 优秀党课"
    library_publish(
        actor=admin,
        organization=tree.district_a,
        title="家风",
        file=upload("家风.mp4", MP4),
        duration_seconds=600,
        honour=honour,
    )
    sibling = make_user(role="org_admin", org=tree.district_b)
    found = {"organization": tree.district_a, "honour": honour}
    assert library_honour_titles(user=admin, titles=["家风"], **found) == {"家风": {None}}
    assert library_honour_titles(user=sibling, titles=["家风"], **found) == {}
    assert library_item_for_honour(user=admin, title="家风", action="add", **found) is not None
    assert library_item_for_honour(user=None, title="家风", **found) is not None
    assert library_item_for_honour(user=sibling, title="家风", action="add", **found) is None
