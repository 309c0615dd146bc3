"""Self check-in by rotating QR codes.

The secretary's phone or a projector shows a QR code whose payload is a signed token binding the
activity and a 30-second time slot; a new code appears every 30 seconds. A scanned token is
accepted in its own slot and the next one (so at most 60 seconds after it was shown), only
within the activity's check-in window and only for members on the roster or invited. A screenshot
passed on to someone absent is therefore useless a minute later, and a token signed for one
activity cannot be altered to another (the signature covers both numbers).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import segno
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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


def checkin_token(activity: Activity, at: datetime | None = None) -> tuple[str, int]:
    """The check-in token to show now, and the seconds until it is replaced by the next one
    (after which a scan of it is still accepted for one more slot)."""
    at = at or timezone.now()
    slot = _slot(at)
    token = _signer().sign(f"{activity.pk}.{slot}")
    expires_in = max(1, math.ceil((slot + 1) * SLOT_SECONDS - at.timestamp()))
    return token, expires_in


def checkin_token_activity(token: str, at: datetime | None = None) -> int:
    """The activity id a token was issued for, if it is genuine and still fresh; else a
    ValidationError on ``token`` saying whether it is invalid or expired."""
    at = at or timezone.now()
    try:
        value = _signer().unsign((token or "").strip())
        activity_id, slot = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise ValidationError({"token": [INVALID_MESSAGE]}) from None
    current = _slot(at)
    if slot < current - 1 or slot > _slot(at + timedelta(seconds=CLOCK_SKEW_SECONDS)):
        raise ValidationError({"token": [EXPIRED_MESSAGE]})
    return activity_id


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%m月%d日 %H:%M")


@transaction.atomic
def checkin_with_token(*, user: Any, token: str, at: datetime | None = None) -> Attendance:
    """Check the signed-in user's own member record in to the token's activity: 出席, or 迟到
    when more than 15 minutes after the start. Scanning again (or after the secretary marked the
    member present) changes nothing."""
    at = at or timezone.now()
    activity_id = checkin_token_activity(token, at)
    # The same lock as every other writer of this activity's attendance.
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise ValidationError({"token": [INVALID_MESSAGE]})
    member = None
    if getattr(user, "is_authenticated", False):
        member = Member.objects.filter(user=user, is_active=True).first()
    if member is None:
        raise ValidationError({"token": [NO_MEMBER_MESSAGE]})
    opens, closes = checkin_window(activity)
    if not opens <= at <= closes:
        raise ValidationError({"token": [f"不在签到时间内（签到时间为{_local(opens)}至{_local(closes)}）"]})
    row = Attendance.objects.select_for_update().filter(activity=activity, member=member).first()
    if row is None:
        raise ValidationError({"token": [NOT_EXPECTED_MESSAGE]})
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
        changes={"attendance": {str(member.pk): [old, row.status]}, "method": AttendanceMethod.QR},
        message="扫码签到",
    )
    sync_attendance_hours(attendance_ids=[row.pk], actor=user)
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
