"""Notifications: what is assigned to a user (a task dispatched, a report returned, a review
assigned, a rectification due) reaches them in the in-app centre and, by their preference, through
an outbound channel (email, SMS) behind one interface.

- ``notify`` writes one ``Notification`` per user and ``key`` inside the caller's transaction (a
  retried call with the same key adds nothing: a partial unique index on (user, key) and
  ``ignore_conflicts``), and queues the outbound copies with ``transaction.on_commit``: nothing
  leaves the site for a change that rolled back, and a channel that fails is recorded on the row
  (``send_error``) and logged, never raised into the caller.
- The outbound channel of a notification is the user's preference for its kind, else their
  preference for every kind, else ``PARTYEDU_NOTIFY_DEFAULT_CHANNEL`` (in-app only by default).
- Backends (settings ``PARTYEDU_NOTIFY_BACKENDS``: channel → dotted path of a ``ChannelBackend``)
  have one method, ``send(notification, user)``. ``EmailChannel`` uses Django's email framework
  (console in development, locmem in tests, SMTP by environment in production). ``SmsChannel``
  hands the text to an ``SmsBackend`` (``PARTYEDU_SMS_BACKEND``): ``LogSmsBackend`` writes it to the
  log with the number masked, ``LocmemSmsBackend`` keeps it in ``sms_outbox`` for tests; a
  gateway for production is one more ``SmsBackend`` subclass, configured, never called in tests.
- The mobile number is personal data (encrypted on ``User.mobile``): it is passed to the SMS
  backend only, masked in every log line and never stored on the notification.
- No quotas and no reminders beyond what callers send for a due date (DESIGN §3.5): this module
  never schedules anything by itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .choices import NotificationChannel
from .models import Notification, NotificationPreference
from .pii import mask_mobile

if TYPE_CHECKING:
    from .types import BaseViewer

logger = logging.getLogger(__name__)

DEFAULT_BACKENDS = {
    NotificationChannel.EMAIL.value: "partyedu.core.notifications.EmailChannel",
    NotificationChannel.SMS.value: "partyedu.core.notifications.SmsChannel",
}
MAX_KEY = 200
MAX_TITLE = 200
MAX_URL = 500
# A run of 11 digits (a mainland mobile number) anywhere in an error text is masked before it is
# stored or logged: a backend's exception may quote the number it failed to reach.
_MOBILE_RUN = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


class DeliveryError(Exception):
    """The channel cannot deliver to this user (no address), or the gateway refused."""


def mask_digits(text: str) -> str:
    return _MOBILE_RUN.sub(r"\1****\2", text)


# --- channels ----------------------------------------------------------------------------------


class ChannelBackend:
    """One outbound channel. ``send`` delivers the notification to the user or raises."""

    channel: str = ""

    def send(self, notification: Notification, user: Any) -> None:
        raise NotImplementedError


def absolute_url(url: str) -> str:
    """The link as the recipient can open it from outside the site (``PARTYEDU_SITE_URL``)."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return getattr(settings, "PARTYEDU_SITE_URL", "").rstrip("/") + url


class EmailChannel(ChannelBackend):
    """Email through Django's email framework (``EMAIL_BACKEND``)."""

    channel = NotificationChannel.EMAIL.value

    def send(self, notification: Notification, user: Any) -> None:
        address = (getattr(user, "email", "") or "").strip()
        if not address:
            raise DeliveryError(_("未设置电子邮箱"))
        lines = [notification.body] if notification.body else []
        if notification.url:
            lines.append(absolute_url(notification.url))
        send_mail(
            subject=notification.title,
            message="\n\n".join(lines) or notification.title,
            from_email=None,
            recipient_list=[address],
        )


class SmsBackend:
    """What an SMS gateway must do: send ``text`` to ``mobile`` or raise."""

    def send_text(self, *, mobile: str, text: str) -> None:
        raise NotImplementedError


class LogSmsBackend(SmsBackend):
    """Development and the embedded default: the message goes to the log, the number masked."""

    def send_text(self, *, mobile: str, text: str) -> None:
        logger.warning("SMS to %s: %s", mask_mobile(mobile), text)


# Messages the test backend "sent": (mobile, text). Tests clear it.
sms_outbox: list[tuple[str, str]] = []


class LocmemSmsBackend(SmsBackend):
    """Tests: keeps each message in ``sms_outbox``; nothing leaves the process."""

    def send_text(self, *, mobile: str, text: str) -> None:
        sms_outbox.append((mobile, text))


def sms_backend() -> SmsBackend:
    path = getattr(settings, "PARTYEDU_SMS_BACKEND", "partyedu.core.notifications.LogSmsBackend")
    backend: SmsBackend = import_string(path)()
    return backend


class SmsChannel(ChannelBackend):
    """A short text to the user's login mobile through the configured ``SmsBackend``."""

    channel = NotificationChannel.SMS.value

    def send(self, notification: Notification, user: Any) -> None:
        mobile = (getattr(user, "mobile", "") or "").strip()
        if not mobile:
            raise DeliveryError(_("未设置手机号"))
        prefix = getattr(settings, "PARTYEDU_SMS_SIGNATURE", "【党员教育】")
        text = f"{prefix}{notification.title}"
        if notification.url:
            text += " " + absolute_url(notification.url)
        sms_backend().send_text(mobile=mobile, text=text)


def channel_backend(channel: str) -> ChannelBackend | None:
    """The backend configured for a channel, or None (in-app only, or not configured)."""
    paths = getattr(settings, "PARTYEDU_NOTIFY_BACKENDS", DEFAULT_BACKENDS)
    path = paths.get(channel)
    if not path or channel == NotificationChannel.NONE:
        return None
    backend: ChannelBackend = import_string(path)()
    return backend


def _owner(user: BaseViewer) -> int:
    """The id of the signed-in user whose own rows are read (0, which matches none, for anyone else)."""
    return int(user.pk) if user.is_authenticated and user.pk is not None else 0


# --- preferences -------------------------------------------------------------------------------


def default_channel() -> str:
    return str(getattr(settings, "PARTYEDU_NOTIFY_DEFAULT_CHANNEL", NotificationChannel.NONE.value))


def channels_for(*, user_ids: Sequence[int], kind: str) -> dict[int, str]:
    """Each user's outbound channel for ``kind`` (one query): their preference for the kind, else
    for every kind, else the site default."""
    chosen: dict[int, str] = dict.fromkeys(user_ids, default_channel())
    specific: set[int] = set()
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, kind__in=[kind, ""]).values_list(
        "user_id", "kind", "channel"
    )
    for user_id, row_kind, channel in rows:
        if row_kind:
            chosen[user_id] = channel
            specific.add(user_id)
        elif user_id not in specific:
            chosen[user_id] = channel
    return chosen


def notification_preference_get(*, user: BaseViewer) -> str:
    """The user's channel for every kind (their global preference, else the site default)."""
    row = (
        NotificationPreference.objects.filter(user_id=_owner(user), kind="")
        .values_list("channel", flat=True)
        .first()
    )
    return row or default_channel()


@transaction.atomic
def notification_preference_set(*, user: BaseViewer, channel: str, kind: str = "") -> NotificationPreference:
    """Set the user's own outbound channel (for one kind, or for every kind)."""
    from django.core.exceptions import ValidationError

    if channel not in NotificationChannel.values:
        raise ValidationError({"channel": _("外发渠道：请选择仅站内、电子邮件或短信")})
    if channel == NotificationChannel.EMAIL and not (getattr(user, "email", "") or "").strip():
        raise ValidationError({"channel": _("外发渠道：您的账号未设置电子邮箱，无法选择电子邮件")})
    if channel == NotificationChannel.SMS and not (getattr(user, "mobile", "") or "").strip():
        raise ValidationError({"channel": _("外发渠道：您的账号未设置手机号，无法选择短信")})
    pref, _created = NotificationPreference.objects.update_or_create(
        user_id=_owner(user), kind=kind, defaults={"channel": channel}
    )
    return pref


# --- notify ------------------------------------------------------------------------------------


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    title: str,
    url: str = "",
    body: str = "",
    key: str = "",
) -> int:
    """Notify each user once per ``key`` (a retried call with the same key adds nothing); returns
    how many notifications were created. Called inside the caller's transaction; the outbound
    copies leave after it commits and a failing channel never fails the caller."""
    if len(key) > MAX_KEY:
        raise ValueError(f"notification key longer than {MAX_KEY} characters: {key[:40]}…")
    user_ids = list(dict.fromkeys(u.pk for u in users if u is not None and getattr(u, "is_active", True)))
    if not user_ids:
        return 0
    if key:
        already = set(
            Notification.objects.filter(user_id__in=user_ids, key=key).values_list("user_id", flat=True)
        )
        user_ids = [pk for pk in user_ids if pk not in already]
        if not user_ids:
            return 0
    channels = channels_for(user_ids=user_ids, kind=kind)
    rows = [
        Notification(
            user_id=pk,
            kind=kind,
            title=_clip(title, MAX_TITLE),
            body=body,
            url=_clip(url, MAX_URL),
            key=key,
            channel=channels[pk],
        )
        for pk in user_ids
    ]
    outbound = [pk for pk in user_ids if channels[pk] != NotificationChannel.NONE]
    if key:
        # A concurrent call with the same key may have inserted meanwhile: skip, never fail.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        created = Notification.objects.filter(user_id__in=user_ids, key=key)
        count = created.count()
        ids = list(created.filter(user_id__in=outbound).values_list("pk", flat=True)) if outbound else []
    else:
        made = Notification.objects.bulk_create(rows)
        count = len(made)
        ids = [n.pk for n in made if n.user_id in set(outbound)]
    if ids:
        transaction.on_commit(lambda: deliver(ids), robust=True)
    return count


def deliver(ids: Sequence[int]) -> int:
    """Send the outbound copies of these notifications (after the commit that created them).
    Each row is claimed by setting ``sent_at`` while it is empty, so a row is sent once however
    often this runs; a failure is recorded on the row and logged (the number masked), and the
    next row is still sent. Returns how many were sent."""
    sent = 0
    rows = Notification.objects.filter(pk__in=ids, sent_at__isnull=True).exclude(
        channel=NotificationChannel.NONE
    )
    for notification in rows.select_related("user"):
        now = timezone.now()
        if not Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(sent_at=now):
            continue
        try:
            backend = channel_backend(notification.channel)
            if backend is None:
                raise DeliveryError(_("未配置该外发渠道"))
            backend.send(notification, notification.user)
        except Exception as exc:  # a channel must never break the caller: record and go on
            error = mask_digits(f"{type(exc).__name__}: {exc}")[:500]
            logger.warning("notification %s via %s failed: %s", notification.pk, notification.channel, error)
            Notification.objects.filter(pk=notification.pk).update(sent_at=None, send_error=error)
        else:
            sent += 1
    return sent


# --- the centre --------------------------------------------------------------------------------


def notification_list(*, user: BaseViewer, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    rows = Notification.objects.filter(user_id=_owner(user))
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def notification_unread_count(*, user: BaseViewer) -> int:
    """How many of the user's notifications are unread (one indexed count)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user_id=_owner(user), read_at__isnull=True).count()


def notification_get(*, user: BaseViewer, pk: int) -> Notification:
    """One of the user's own notifications; another user's is a 404."""
    found = Notification.objects.filter(user_id=_owner(user), pk=pk).first()
    if found is None:
        raise Http404(_("通知不存在"))
    return found


def notification_mark_read(*, user: BaseViewer, pk: int) -> Notification:
    """Mark one of the user's own notifications read (again: no change)."""
    notification = notification_get(user=user, pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, user: BaseViewer) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user_id=_owner(user), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_settle(*, key_prefix: str) -> int:
    """Mark read every unread notification whose ``key`` starts with ``key_prefix`` (of any user):
    the event they announced has been dealt with (a report reviewed, a task withdrawn), so they
    no longer wait in anyone's centre. Returns how many were settled. An empty prefix is refused
    (it would settle every keyed notification)."""
    if not key_prefix:
        raise ValueError("notifications_settle needs a non-empty key prefix")
    return Notification.objects.filter(key__startswith=key_prefix, read_at__isnull=True).update(
        read_at=timezone.now()
    )
