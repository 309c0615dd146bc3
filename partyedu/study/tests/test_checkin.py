from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from partyedu.core.models import AuditLog
from partyedu.core.testing import make_member, make_user
from partyedu.study.checkin import (
    EXPIRED_MESSAGE,
    INVALID_MESSAGE,
    NO_MEMBER_MESSAGE,
    NOT_EXPECTED_MESSAGE,
    SLOT_SECONDS,
    checkin_qr_svg,
    checkin_token,
    checkin_url,
    checkin_with_token,
)
from partyedu.study.models import Attendance

from .conftest import START, record


def member_user(org, name):
    user = make_user(role="member", org=org)
    member = make_member(org, name)
    member.user = user
    member.save()
    return user, member


@pytest.fixture
def activity(tree):
    return record(tree.branch_a)


@pytest.fixture
def zhang(tree, activity):
    user, member = member_user(tree.branch_a, "张三")
    # The member joined the roster after the activity was recorded.
    Attendance.objects.create(activity=activity, member=member)
    return user


def token_message(exc):
    return exc.value.message_dict["token"][0]


def status_of(activity, user):
    return Attendance.objects.get(activity=activity, member__user=user)


def test_valid_token_checks_the_member_in(activity, zhang, hours_sync):
    token, _ = checkin_token(activity, at=START)
    row = checkin_with_token(user=zhang, token=token, at=START + timedelta(seconds=5))
    assert (row.status, row.method, row.marked_by) == ("present", "qr", zhang)
    assert hours_sync == [[row.pk]]


def test_token_rotates_every_slot(activity):
    first, expires_in = checkin_token(activity, at=START)
    second, _ = checkin_token(activity, at=START + timedelta(seconds=SLOT_SECONDS))
    assert first != second
    assert 0 < expires_in <= SLOT_SECONDS


def test_token_of_the_previous_slot_is_still_accepted(activity, zhang):
    token, expires_in = checkin_token(activity, at=START)
    row = checkin_with_token(user=zhang, token=token, at=START + timedelta(seconds=expires_in + 20))
    assert row.status == "present"


def test_token_older_than_a_minute_is_expired(activity, zhang):
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=token, at=START + timedelta(seconds=61))
    assert token_message(exc) == EXPIRED_MESSAGE
    assert status_of(activity, zhang).status == ""


def test_token_from_the_future_is_refused(activity, zhang):
    token, _ = checkin_token(activity, at=START + timedelta(minutes=5))
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=token, at=START)
    assert token_message(exc) == EXPIRED_MESSAGE


def test_forged_token_is_refused(activity, zhang):
    token, _ = checkin_token(activity, at=START)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=forged, at=START)
    assert token_message(exc) == INVALID_MESSAGE


def test_token_altered_to_another_activity_is_refused(tree, activity, zhang):
    other = record(tree.branch_a)
    token, _ = checkin_token(activity, at=START)
    _, rest = token.split(".", 1)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=f"{other.pk}.{rest}", at=START)
    assert token_message(exc) == INVALID_MESSAGE


def test_garbage_is_refused(zhang):
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token="not-a-token", at=START)
    assert token_message(exc) == INVALID_MESSAGE


def test_member_not_on_the_roster_is_refused(tree, activity):
    user, _ = member_user(tree.branch_b, "赵六")
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=user, token=token, at=START)
    assert token_message(exc) == NOT_EXPECTED_MESSAGE
    assert not Attendance.objects.filter(activity=activity, member__user=user).exists()


def test_user_without_a_member_record_is_refused(activity):
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=make_user(), token=token, at=START)
    assert token_message(exc) == NO_MEMBER_MESSAGE


def test_checkin_before_the_window_opens_is_refused(activity, zhang):
    early = START - timedelta(minutes=31)
    token, _ = checkin_token(activity, at=early)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=token, at=early)
    assert "不在签到时间内" in token_message(exc)


def test_checkin_after_the_window_closes_is_refused(activity, zhang):
    late = activity.end + timedelta(minutes=31)
    token, _ = checkin_token(activity, at=late)
    with pytest.raises(ValidationError):
        checkin_with_token(user=zhang, token=token, at=late)
    assert status_of(activity, zhang).status == ""


def test_checkin_more_than_15_minutes_after_start_is_late(activity, zhang):
    when = START + timedelta(minutes=16)
    token, _ = checkin_token(activity, at=when)
    assert checkin_with_token(user=zhang, token=token, at=when).status == "late"


def test_scanning_again_within_the_slot_changes_nothing(activity, zhang, hours_sync):
    token, _ = checkin_token(activity, at=START)
    first = checkin_with_token(user=zhang, token=token, at=START)
    hours_sync.clear()
    again = checkin_with_token(user=zhang, token=token, at=START + timedelta(seconds=3))
    assert (again.pk, again.status, again.marked_at) == (first.pk, "present", first.marked_at)
    assert AuditLog.objects.filter(message="扫码签到").count() == 1
    assert hours_sync == []


def test_member_marked_absent_who_turns_up_is_checked_in(activity, zhang):
    from partyedu.study.services import attendance_mark

    member = status_of(activity, zhang).member
    attendance_mark(actor=None, activity=activity, records=[{"member": member.pk, "status": "absent"}])
    token, _ = checkin_token(activity, at=START)
    assert checkin_with_token(user=zhang, token=token, at=START).status == "present"


def test_qr_code_is_inline_svg_of_the_checkin_url(activity):
    token, _ = checkin_token(activity, at=START)
    url = checkin_url(token)
    assert url.startswith("/study/checkin/?t=")
    svg = checkin_qr_svg(url)
    assert svg.startswith("<svg") and "</svg>" in svg
    assert "http" not in svg.replace("http://www.w3.org", "")
