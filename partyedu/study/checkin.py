"""Self check-in by rotating QR codes.

The secretary's phone or a projector shows a QR code whose payload is a signed token binding the
activity and a 30-second time slot; a new code appears every 30 seconds. A scan is judged at the
time it reached us (``scan_time``), not when a busy server got round to it: the token is accepted
if its slot had begun by then and ended at most ``CHECKIN_GRACE_SECONDS`` (30 by default, 120 at
most) before — with the default, at most a minute after the code was first shown — only within
the activity's check-in window and only for members on the roster or invited. A screenshot passed
on to someone absent is therefore useless a minute later, and a token signed for one activity
cannot be altered to another (the signature covers both numbers).

The time of a scan is the moment the request reached the application, or the stamp
(``X-Request-Start``) of the reverse proxy in front of it when one is trusted
(``TRUSTED_PROXY_COUNT`` > 0): a burst of scans that queues at the server does not expire. A stamp
is believed only within the grace before now and never ahead of now, so even a client's forged
stamp passed through by a careless proxy buys at most one more grace. The sign-in detour of a
member not yet signed in keeps the first landing's scan time in the session (``views.SCAN_GRACE``).

A check-in locks only what it changes: the member's own attendance row (read with its activity in
one query, ``FOR UPDATE OF`` the attendance row alone) and, in the ledger sync, the member's own
row and learning summaries. It never locks the activity, so a room of members scanning at once
check in side by side, and no other request waits on a lock of theirs. Scanning twice at once: the second scan
waits for the first one's row lock, then finds the member checked in and changes nothing — one
row, one ledger line (the ledger's unique (source, member, kind, year, version) key is the
backstop). Writers of the whole activity (marking, roster and time changes, deletion) lock the
activity and then the rows they change; the ledger works out what an attendance credits under the
member's lock, so whichever of a check-in and such a change commits second corrects the hours.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import User
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.members.models import Member

from .choices import ATTENDED_STATUSES, AttendanceMethod, AttendanceStatus
from .models import Activity, Attendance
from .services import checkin_window, sync_attendance_hours

SLOT_SECONDS = 30
# Tolerated clock difference between application servers (a code minted by one server a moment
# before the slot changes on another).
CLOCK_SKEW_SECONDS = 5
# The most CHECKIN_GRACE_SECONDS may grant, whatever the setting says.
MAX_GRACE_SECONDS = 120
# Arriving more than this after the start is 迟到.
LATE_AFTER = timedelta(minutes=15)
CHECKIN_PATH = "/study/checkin/"
_SALT = "partyedu.study.checkin"

INVALID_MESSAGE = "二维码无效，请扫描活动现场展示的签到二维码"
EXPIRED_MESSAGE = "二维码已过期，请扫描现场最新的签到二维码"
NO_MEMBER_MESSAGE = "您的账号未关联在册党员信息，无法签到"
NOT_EXPECTED_MESSAGE = "您不在本次活动的应到名单或列席名单中，无法签到"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def _slot(at: datetime) -> int:
    return math.floor(at.timestamp()) // SLOT_SECONDS


def grace_seconds() -> int:
    """How long after its slot ended a scanned code is still accepted (``CHECKIN_GRACE_SECONDS``,
    bounded to 0–120)."""
    return max(0, min(int(getattr(settings, "CHECKIN_GRACE_SECONDS", SLOT_SECONDS)), MAX_GRACE_SECONDS))


def _proxy_stamp(value: str) -> datetime | None:
    """``X-Request-Start`` as proxies write it — ``t=<seconds>`` (nginx ``${msec}``, with a
    fraction), or milliseconds or microseconds since the epoch — as a time; None if unreadable."""
    value = value.strip().removeprefix("t=")
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN
        return None
    if number > 1e14:  # microseconds (today ≈ 1.8e15)
        number /= 1e6
    elif number > 1e11:  # milliseconds (≈ 1.8e12)
        number /= 1e3
    try:
        return datetime.fromtimestamp(number, tz=timezone.get_current_timezone())
    except (OverflowError, OSError, ValueError):
        return None


def scan_time(request: Any) -> datetime:
    """When a scan reached us: the trusted proxy's ``X-Request-Start`` stamp (only with
    ``TRUSTED_PROXY_COUNT`` > 0), kept within the grace before now and never after now; else now.
    Call it first thing in the view, before anything that may wait."""
    now = timezone.now()
    if getattr(settings, "TRUSTED_PROXY_COUNT", 0) <= 0:
        return now
    stamp = _proxy_stamp(request.META.get("HTTP_X_REQUEST_START", ""))
    if stamp is None:
        return now
    return min(now, max(stamp, now - timedelta(seconds=grace_seconds())))


def checkin_token(activity: Activity, at: datetime | None = None) -> tuple[str, int]:
    """The check-in token to show now, and the seconds until it is replaced by the next one
    (after which a scan of it is still accepted for ``CHECKIN_GRACE_SECONDS``)."""
    at = at or timezone.now()
    slot = _slot(at)
    token = _signer().sign(f"{activity.pk}.{slot}")
    expires_in = max(1, math.ceil((slot + 1) * SLOT_SECONDS - at.timestamp()))
    return token, expires_in


def checkin_token_activity(token: str, at: datetime | None = None) -> int:
    """The activity id a token was issued for, if it is genuine and was current at ``at`` (the
    scan time): its slot had begun (give or take the servers' clock skew) and had ended no more
    than the grace before. Otherwise a ValidationError on ``token`` saying whether it is invalid
    or expired."""
    at = at or timezone.now()
    try:
        value = _signer().unsign((token or "").strip())
        activity_id, slot = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise ValidationError({"token": [INVALID_MESSAGE]}) from None
    scanned = at.timestamp()
    shown_from = slot * SLOT_SECONDS - CLOCK_SKEW_SECONDS
    replaced_at = (slot + 1) * SLOT_SECONDS
    if not shown_from <= scanned <= replaced_at + grace_seconds():
        raise ValidationError({"token": [EXPIRED_MESSAGE]})
    return activity_id


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%m月%d日 %H:%M")


def _refusal(user: User, activity_id: int, at: datetime) -> ValidationError:
    """Why the user has no attendance row to check in to (the rare path: a few more queries)."""
    activity = Activity.objects.filter(pk=activity_id).first()
    if activity is None:
        return ValidationError({"token": [INVALID_MESSAGE]})
    if (
        not getattr(user, "is_authenticated", False)
        or not Member.objects.filter(user=user, is_active=True).exists()
    ):
        return ValidationError({"token": [NO_MEMBER_MESSAGE]})
    window = _window_error(activity, at)
    return window or ValidationError({"token": [NOT_EXPECTED_MESSAGE]})


def _window_error(activity: Activity, at: datetime) -> ValidationError | None:
    opens, closes = checkin_window(activity)
    if opens <= at <= closes:
        return None
    return ValidationError({"token": [f"不在签到时间内（签到时间为{_local(opens)}至{_local(closes)}）"]})


@transaction.atomic
def checkin_with_token(*, user: User, token: str, at: datetime | None = None) -> Attendance:
    """Check the signed-in user's own member record in to the token's activity: 出席, or 迟到
    when more than 15 minutes after the start. ``at`` is the scan time (``scan_time``; now when
    not given): the token, the window and lateness are judged by it. Scanning again (or after the
    secretary marked the member present) changes nothing.

    Locks the member's attendance row only (its activity is read in the same query, unlocked), then
    the member's ledger summaries in the sync: check-ins of one activity do not wait for each
    other."""
    at = at or timezone.now()
    activity_id = checkin_token_activity(token, at)
    row = None
    if getattr(user, "is_authenticated", False):
        row = (
            Attendance.objects.select_for_update(of=("self",))
            .select_related("activity")
            .filter(activity_id=activity_id, member__user=user, member__is_active=True)
            .order_by("pk")
            .first()
        )
    if row is None:
        raise _refusal(user, activity_id, at)
    activity = row.activity
    window = _window_error(activity, at)
    if window is not None:
        raise window
    if row.status in ATTENDED_STATUSES:
        return row
    old = row.status
    row.status = AttendanceStatus.LATE if at > activity.start + LATE_AFTER else AttendanceStatus.PRESENT
    row.method = AttendanceMethod.QR
    row.marked_at = at
    row.marked_by = user
    row.makeup_confirmed_at = None
    row.makeup_confirmed_by = None
    row.save(
        update_fields=[
            "status",
            "method",
            "marked_at",
            "marked_by",
            "makeup_confirmed_at",
            "makeup_confirmed_by",
            "updated_at",
        ]
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        obj=activity,
        changes={"attendance": {str(row.member_id): [old, row.status]}, "method": AttendanceMethod.QR},
        message="扫码签到",
    )
    sync_attendance_hours(
        attendance_ids=[row.pk], actor=user, member_ids=[row.member_id], activity_ids=[activity.pk]
    )
    return row


def checkin_url(token: str, path: str = CHECKIN_PATH) -> str:
    """The address a member's phone opens when scanning (``/study/checkin/?t=<token>``); pass it
    through ``request.build_absolute_uri`` for the QR code."""
    return f"{path}?{urlencode({'t': token})}"


def checkin_qr_svg(url: str, *, scale: int = 8) -> str:
    """The QR code of ``url`` as inline SVG markup (no image file, no outside service)."""
    qr = segno.make(url, error="m")
    svg: str = qr.svg_inline(scale=scale, border=2, title="扫码签到")
    return svg
