"""Settling notifications by key prefix: the unread ones whose key starts with the prefix are
marked read, for every user; read ones keep their time, other keys (including a longer id that
shares the digits) and unkeyed rows are untouched; an empty prefix is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.core.models import Notification
from partyedu.core.notifications import notifications_settle, notify
from partyedu.testsupport.factories import make_user

pytestmark = pytest.mark.django_db


def send(users: list, key: str) -> int:
    return notify(users=users, kind="report_submitted", title="月报待审核", url="/x/", key=key)


def test_settle_marks_unread_rows_with_the_prefix_read_for_every_user() -> None:
    a, b = make_user(), make_user()
    send([a, b], "report_submitted:7:2026-01-01")
    send([a], "report_submitted:7:2026-02-01")
    assert notifications_settle(key_prefix="report_submitted:7:") == 3
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_settle_leaves_other_keys_and_unkeyed_rows() -> None:
    a = make_user()
    send([a], "report_submitted:7:2026-01-01")
    send([a], "report_submitted:77:2026-01-01")
    send([a], "report_returned:7:2026-01-01")
    notify(users=[a], kind="report_submitted", title="无键通知")
    assert notifications_settle(key_prefix="report_submitted:7:") == 1
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("key", flat=True))
    assert unread == {"report_submitted:77:2026-01-01", "report_returned:7:2026-01-01", ""}


def test_settle_keeps_the_time_of_rows_already_read_and_is_repeatable() -> None:
    a = make_user()
    send([a], "task:1:a")
    earlier = timezone.now() - timedelta(days=3)
    Notification.objects.filter(user=a).update(read_at=earlier)
    send([a], "task:1:b")
    assert notifications_settle(key_prefix="task:1:") == 1
    assert Notification.objects.get(user=a, key="task:1:a").read_at == earlier
    assert notifications_settle(key_prefix="task:1:") == 0


def test_settle_treats_like_wildcards_literally() -> None:
    a = make_user()
    send([a], "task_1:x")
    send([a], "taskX1:x")
    assert notifications_settle(key_prefix="task_1:") == 1
    assert Notification.objects.get(key="taskX1:x").read_at is None


def test_settle_refuses_an_empty_prefix() -> None:
    send([make_user()], "task:1:a")
    with pytest.raises(ValueError, match="non-empty key prefix"):
        notifications_settle(key_prefix="")
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
