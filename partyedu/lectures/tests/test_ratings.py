"""Ratings: attendees only, once (rating again updates), 1–5, and never shown with a name."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.lectures.models import LectureRating
from partyedu.lectures.selectors import (
    can_see_rating_comments,
    lecture_my_rating,
    lecture_rating_comments,
    lecture_rating_summaries,
    lecture_rating_summary,
)
from partyedu.lectures.services import lecture_rate
from partyedu.study.services import attendance_makeup_request
from partyedu.testsupport.factories import make_member, make_user

from .conftest import lecture, lecturer, link, mark, party_lecture

pytestmark = pytest.mark.django_db


@pytest.fixture
def given(tree, members):
    """A lecture at 甲一支部 given by 张三 (its secretary), 李四 present."""
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.district_a, members["zhang"]))
    mark(record.activity, members["li"])
    return record


def test_an_attendee_rates_a_lecture(given, members):
    li = link(members["li"])
    rating = lecture_rate(actor=li, lecture=given, score=5, comment=" 讲得生动 ")
    assert (rating.member, rating.score, rating.comment) == (members["li"], 5, "讲得生动")


def test_rating_again_updates_the_members_own_rating(given, members):
    li = link(members["li"])
    lecture_rate(actor=li, lecture=given, score=2)
    lecture_rate(actor=li, lecture=given, score=4, comment="再想想，很好")
    assert list(LectureRating.objects.values_list("score", "comment")) == [(4, "再想想，很好")]


def test_a_late_attendee_may_rate(given, members):
    mark(given.activity, members["wang"], "late")
    assert lecture_rate(actor=link(members["wang"]), lecture=given, score=3).score == 3


@pytest.mark.parametrize("status", ["absent", "leave", ""])
def test_a_member_who_did_not_attend_is_refused(given, members, status):
    if status:
        mark(given.activity, members["wang"], status)
    with pytest.raises(PermissionDenied) as exc:
        lecture_rate(actor=link(members["wang"]), lecture=given, score=5)
    assert str(exc.value) == "只有参加了本次党课的党员（出席、迟到或已确认补学）可以评价"


def test_a_member_not_on_the_roster_is_refused(given, tree):
    outsider = make_member(tree.branch_b, "外支部党员")
    with pytest.raises(PermissionDenied):
        lecture_rate(actor=link(outsider), lecture=given, score=5)


def test_make_up_study_counts_once_confirmed(given, members, secretary):
    mark(given.activity, members["wang"], "absent")
    wang = link(members["wang"])
    row = given.activity.attendances.get(member=members["wang"])
    attendance_makeup_request(actor=wang, attendance=row)
    with pytest.raises(PermissionDenied):
        lecture_rate(actor=wang, lecture=given, score=4)
    mark(given.activity, members["wang"], "makeup")  # the secretary confirms
    assert lecture_rate(actor=wang, lecture=given, score=4).score == 4


def test_a_speaker_may_not_rate_their_own_lecture(given, members):
    mark(given.activity, members["zhang"])
    with pytest.raises(PermissionDenied) as exc:
        lecture_rate(actor=link(members["zhang"]), lecture=given, score=5)
    assert str(exc.value) == "主讲人不能评价自己的党课"


def test_a_user_without_a_member_record_is_refused(given, admin):
    with pytest.raises(PermissionDenied) as exc:
        lecture_rate(actor=admin, lecture=given, score=5)
    assert str(exc.value) == "只有党员本人可以评价党课"


@pytest.mark.parametrize("score", [0, 6, -1, "abc", "3.5", 3.5, None, ""])
def test_a_score_out_of_range_is_refused(given, members, score):
    with pytest.raises(ValidationError) as exc:
        lecture_rate(actor=link(members["li"]), lecture=given, score=score)
    assert exc.value.message_dict["score"] == ["请评1到5分"]
    assert not LectureRating.objects.exists()


def test_a_numeric_string_score_is_accepted(given, members):
    assert lecture_rate(actor=link(members["li"]), lecture=given, score="4").score == 4


def test_a_comment_over_500_characters_is_refused(given, members):
    with pytest.raises(ValidationError) as exc:
        lecture_rate(actor=link(members["li"]), lecture=given, score=3, comment="好" * 501)
    assert exc.value.message_dict["comment"] == ["评语不能超过500字"]


def test_the_audit_row_does_not_carry_the_score_or_comment(given, members):
    lecture_rate(actor=link(members["li"]), lecture=given, score=1, comment="秘密意见")
    log = AuditLog.objects.get(object_type="lectures.lecture", message="评价党课")
    assert log.changes == {}
    assert "秘密意见" not in str(log.__dict__)


def test_summary_counts_averages_and_distributes(members, tree):
    extra = [make_member(tree.branch_a, f"党员{i}") for i in range(3)]
    given = lecture(party_lecture(tree.branch_a), lecturer(tree.district_a, members["zhang"]))
    for member in [members["li"], *extra]:
        mark(given.activity, member)
    for member, score in zip([members["li"], *extra], [5, 4, 4, 1], strict=True):
        lecture_rate(actor=link(member), lecture=given, score=score, comment="好" if score == 5 else "")
    summary = lecture_rating_summary(user=members["li"].user, lecture=given)
    assert (summary.count, summary.average, summary.distribution) == (4, 3.5, (1, 0, 0, 2, 1))
    assert summary.as_dict() == {
        "count": 4,
        "average": 3.5,
        "distribution": {"1": 1, "2": 0, "3": 0, "4": 2, "5": 1},
    }
    assert [b[:2] for b in summary.bars] == [(5, 1), (4, 2), (3, 0), (2, 0), (1, 1)]
    assert lecture_rating_summaries(user=members["li"].user, lecture_ids=[given.pk])[given.pk].average == 3.5


def test_comments_are_anonymous(given, members):
    lecture_rate(actor=link(members["li"]), lecture=given, score=4, comment="联系实际")
    assert lecture_rating_comments(
        user=make_user(role="org_admin", org=given.organization), lecture=given
    ) == [(4, "联系实际")]


def test_an_administrator_reads_comments_but_the_lecturer_does_not(given, members, tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    assert can_see_rating_comments(admin, given)
    speaker = link(members["zhang"], role="branch_admin")  # the secretary also administers the branch
    assert not can_see_rating_comments(speaker, given)
    assert not can_see_rating_comments(link(members["li"]), given)


def test_a_member_sees_their_own_rating(given, members):
    li = link(members["li"])
    assert lecture_my_rating(user=li, lecture=given) is None
    lecture_rate(actor=li, lecture=given, score=5)
    mine = lecture_my_rating(user=li, lecture=given)
    assert mine is not None and mine.score == 5
