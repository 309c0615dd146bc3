from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.study.checkin import (
    EXPIRED_MESSAGE,
    INVALID_MESSAGE,
    MAX_GRACE_SECONDS,
    NO_MEMBER_MESSAGE,
    NOT_EXPECTED_MESSAGE,
    SLOT_SECONDS,
    checkin_qr_svg,
    checkin_token,
    checkin_url,
    checkin_with_token,
    scan_time,
)
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import make_member, make_user

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


# --- judged at the scan time, with a bounded grace -------------------------------------------------


def at_slot_edge(seconds_after_the_slot):
    """The moment ``seconds_after_the_slot`` after the slot of START (a code shown at START)
    was replaced by the next one."""
    return START + timedelta(seconds=SLOT_SECONDS + seconds_after_the_slot)


def test_token_scanned_just_inside_the_grace_is_accepted(activity, zhang):
    token, _ = checkin_token(activity, at=START)
    row = checkin_with_token(user=zhang, token=token, at=at_slot_edge(29.5))
    assert row.status == "present"


def test_token_scanned_just_outside_the_grace_is_refused(activity, zhang):
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=token, at=at_slot_edge(30.5))
    assert token_message(exc) == EXPIRED_MESSAGE
    assert status_of(activity, zhang).status == ""


def test_the_grace_is_a_setting(activity, zhang, settings):
    settings.CHECKIN_GRACE_SECONDS = 10
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError):
        checkin_with_token(user=zhang, token=token, at=at_slot_edge(11))
    assert checkin_with_token(user=zhang, token=token, at=at_slot_edge(9)).status == "present"


def test_the_grace_is_bounded_whatever_the_setting(activity, zhang, settings):
    settings.CHECKIN_GRACE_SECONDS = 3600
    token, _ = checkin_token(activity, at=START)
    with pytest.raises(ValidationError) as exc:
        checkin_with_token(user=zhang, token=token, at=at_slot_edge(MAX_GRACE_SECONDS + 1))
    assert token_message(exc) == EXPIRED_MESSAGE
    assert checkin_with_token(user=zhang, token=token, at=at_slot_edge(MAX_GRACE_SECONDS - 1)).status


def test_the_scan_time_also_decides_lateness(activity, zhang):
    # scanned 14 minutes after the start, handled after the 15 (a long queue): still 出席
    scanned = START + timedelta(minutes=14, seconds=50)
    token, _ = checkin_token(activity, at=scanned)
    assert checkin_with_token(user=zhang, token=token, at=scanned).status == "present"


def request_with_stamp(stamp=None):
    headers = {} if stamp is None else {"HTTP_X_REQUEST_START": stamp}
    return RequestFactory().post("/api/v1/checkin/", **headers)


def test_scan_time_is_now_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    old = timezone.now() - timedelta(seconds=20)
    before = timezone.now()
    assert scan_time(request_with_stamp(f"t={old.timestamp():.3f}")) >= before


@pytest.mark.parametrize("scale", [1, 1000, 1_000_000])
def test_scan_time_is_the_trusted_proxys_stamp(settings, scale):
    settings.TRUSTED_PROXY_COUNT = 1
    stamp = timezone.now() - timedelta(seconds=12)
    value = f"t={stamp.timestamp():.3f}" if scale == 1 else f"t={int(stamp.timestamp() * scale)}"
    assert abs((scan_time(request_with_stamp(value)) - stamp).total_seconds()) < 0.01


def test_a_stamp_is_believed_only_within_the_grace_and_never_ahead(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    now = timezone.now()
    ancient = scan_time(request_with_stamp(f"t={(now - timedelta(hours=1)).timestamp():.3f}"))
    assert timedelta(seconds=29) < now - ancient <= timedelta(seconds=30)
    future = scan_time(request_with_stamp(f"t={(now + timedelta(hours=1)).timestamp():.3f}"))
    assert future - now < timedelta(seconds=1)
    assert scan_time(request_with_stamp("t=garbage")) >= now
    assert scan_time(request_with_stamp()) >= now


# --- what a check-in costs ---------------------------------------------------------------------------


def test_a_check_in_takes_21_queries_and_a_second_scan_three(activity, zhang, django_assert_max_num_queries):
    from partyedu.learning.models import LearningHourEntry
    from partyedu.learning.services import learning_members_changed

    # given a member counted by the learning summaries, as every member on the roll is
    learning_members_changed(member_ids=[status_of(activity, zhang).member_id])
    token, _ = checkin_token(activity, at=START)
    # when: the transaction, the attendance row (with its activity), its update, the audit row
    # and the ledger sync in a savepoint: member and requirement locks, what the row credits (with
    # its activity), the ledger's net, the line, the year's summary, the rule, the year flags;
    # the dashboards' figures: the activity's tally locked, its state read (with its
    # organisation's path), the ids of the organisation and its ancestors, the tally and the
    # month's figures of each of them updated; points: whether any scheme exists (none here)
    with django_assert_max_num_queries(21):
        row = checkin_with_token(user=zhang, token=token, at=START)
    with django_assert_max_num_queries(3):
        checkin_with_token(user=zhang, token=token, at=START + timedelta(seconds=5))
    # then
    assert LearningHourEntry.objects.filter(source_type="attendance", source_id=row.pk).count() == 1
