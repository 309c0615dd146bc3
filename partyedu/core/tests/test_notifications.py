"""Notifications: notify once per key, the unread count, marking read (only one's own), the
outbound channel chosen by preference and sent after commit, and a failing channel that never
rolls the caller back."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from partyedu.core import notifications
from partyedu.core.models import Notification, NotificationPreference
from partyedu.core.notifications import (
    deliver,
    notification_mark_all_read,
    notification_preference_set,
    notification_unread_count,
    notify,
    sms_outbox,
)
from partyedu.testsupport.factories import make_user

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Any:
    sms_outbox.clear()
    yield
    sms_outbox.clear()


def with_email(user: Any, address: str) -> Any:
    # Accounts are created without an email address (user_create takes none); set it directly.
    user.email = address
    user.save(update_fields=["email"])
    return user


def send(users: list[Any], key: str = "", **kwargs: Any) -> int:
    kwargs.setdefault("kind", "dispatch.assigned")
    kwargs.setdefault("title", "请完成本月主题党日")
    kwargs.setdefault("url", "/supervision/")
    return notify(users=users, key=key, **kwargs)


# --- notify ---------------------------------------------------------------------------------------


def test_notify_creates_one_row_per_user() -> None:
    a, b = make_user(), make_user()
    assert send([a, b]) == 2
    assert Notification.objects.filter(user__in=[a, b]).count() == 2


def test_notify_with_the_same_key_twice_adds_nothing() -> None:
    user = make_user()
    assert send([user], key="dispatch:1:org:5") == 1
    assert send([user], key="dispatch:1:org:5") == 0
    assert Notification.objects.filter(user=user).count() == 1


def test_notify_with_a_key_adds_only_the_users_not_yet_notified() -> None:
    a, b = make_user(), make_user()
    send([a], key="k1")
    assert send([a, b], key="k1") == 1
    assert Notification.objects.filter(key="k1").count() == 2


def test_notify_counts_a_user_given_twice_once() -> None:
    user = make_user()
    assert send([user, user]) == 1


def test_notify_without_users_writes_nothing() -> None:
    assert send([]) == 0
    assert not Notification.objects.exists()


def test_notify_skips_inactive_users() -> None:
    user = make_user(is_active=False)
    assert send([user]) == 0


def test_notify_rolls_back_with_the_callers_transaction() -> None:
    user = make_user()

    def fails_after_notifying() -> None:
        with transaction.atomic():
            send([user])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fails_after_notifying()
    assert not Notification.objects.filter(user=user).exists()


def test_notify_refuses_a_key_too_long_to_store() -> None:
    with pytest.raises(ValueError, match="longer than 200"):
        send([make_user()], key="x" * 201)


def test_notify_clips_a_long_title() -> None:
    user = make_user()
    send([user], title="题" * 300)
    assert len(Notification.objects.get(user=user).title) == 200


# --- unread count and marking read ------------------------------------------------------------------


def test_unread_count_counts_only_ones_own_unread() -> None:
    me, other = make_user(), make_user()
    send([me], key="a")
    send([me], key="b")
    send([other], key="a")
    assert notification_unread_count(user=me) == 2


def test_mark_all_read_marks_only_ones_own() -> None:
    me, other = make_user(), make_user()
    send([me, other])
    assert notification_mark_all_read(user=me) == 1
    assert notification_unread_count(user=me) == 0
    assert notification_unread_count(user=other) == 1


def test_marking_read_drops_the_unread_count(client: Any) -> None:
    me = make_user()
    send([me])
    n = Notification.objects.get(user=me)
    client.force_login(me)
    client.post(reverse("core:notification_read", args=[n.pk]))
    assert notification_unread_count(user=me) == 0


def test_marking_another_users_notification_is_404(client: Any) -> None:
    me, other = make_user(), make_user()
    send([other])
    theirs = Notification.objects.get(user=other)
    client.force_login(me)
    response = client.post(reverse("core:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_open_marks_read_and_goes_to_the_linked_page(client: Any) -> None:
    me = make_user()
    send([me], url="/study/activities/")
    n = Notification.objects.get(user=me)
    client.force_login(me)
    response = client.post(reverse("core:notification_read", args=[n.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/study/activities/"


def test_open_never_redirects_off_the_site(client: Any) -> None:
    me = make_user()
    send([me], url="https://elsewhere.example/")
    n = Notification.objects.get(user=me)
    client.force_login(me)
    response = client.post(reverse("core:notification_read", args=[n.pk]), {"open": "1"})
    assert response["Location"] == reverse("core:notification_list")


def test_htmx_mark_read_returns_the_row_and_the_new_count(client: Any) -> None:
    me = make_user()
    send([me], key="a")
    send([me], key="b")
    n = Notification.objects.filter(user=me).first()
    assert n is not None
    client.force_login(me)
    response = client.post(reverse("core:notification_read", args=[n.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert f'id="notification-{n.pk}"' in body
    assert 'hx-swap-oob="true"' in body
    assert ">1<" in body


def test_read_all_page_marks_everything_read(client: Any) -> None:
    me = make_user()
    send([me], key="a")
    send([me], key="b")
    client.force_login(me)
    client.post(reverse("core:notification_read_all"))
    assert notification_unread_count(user=me) == 0


def test_the_centre_lists_only_ones_own(client: Any) -> None:
    me, other = make_user(), make_user()
    send([me], title="给我的通知")
    send([other], title="给别人的通知")
    client.force_login(me)
    body = client.get(reverse("core:notification_list")).content.decode()
    assert "给我的通知" in body
    assert "给别人的通知" not in body


def test_the_centre_filters_unread(client: Any) -> None:
    me = make_user()
    send([me], key="a", title="已读的通知")
    send([me], key="b", title="未读的通知")
    Notification.objects.filter(key="a").update(read_at="2026-01-01T00:00:00Z")
    client.force_login(me)
    body = client.get(reverse("core:notification_list") + "?unread=1").content.decode()
    assert "未读的通知" in body
    assert "已读的通知" not in body


def test_the_centre_needs_sign_in(client: Any) -> None:
    response = client.get(reverse("core:notification_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_header_asks_for_the_unread_count_after_loading(client: Any) -> None:
    client.force_login(make_user())
    body = client.get(reverse("core:guide")).content.decode()
    assert 'data-testid="nav-bell"' in body
    assert f'hx-get="{reverse("core:notification_count")}"' in body


def test_the_unread_count_fills_both_badges(client: Any) -> None:
    me = make_user()
    send([me], key="a")
    send([me], key="b")
    client.force_login(me)
    body = client.get(reverse("core:notification_count"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="nav-unread-m"' in body and 'id="nav-unread-d"' in body
    assert body.count(">2<span") == 2
    assert "hx-get" not in body


def test_the_unread_count_costs_one_query_after_sign_in(
    client: Any, django_assert_max_num_queries: Any
) -> None:
    me = make_user()
    client.force_login(me)
    # the session, the user, the count, and the session's idle timer (a savepoint and an update)
    with django_assert_max_num_queries(6):
        client.get(reverse("core:notification_count"))


# --- outbound channels ---------------------------------------------------------------------------


def test_no_preference_sends_nothing_out(django_capture_on_commit_callbacks: Any) -> None:
    user = with_email(make_user(), "a@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        send([user])
    assert mail.outbox == []
    assert sms_outbox == []


def test_email_preference_sends_an_email_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    user = with_email(make_user(), "a@example.org")
    notification_preference_set(user=user, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        send([user], title="月报被退回")
        assert mail.outbox == []  # not before the commit
    assert [m.subject for m in mail.outbox] == ["月报被退回"]
    assert mail.outbox[0].to == ["a@example.org"]
    assert Notification.objects.get(user=user).sent_at is not None


def test_sms_preference_sends_a_text_to_the_mobile(django_capture_on_commit_callbacks: Any) -> None:
    user = make_user(mobile=MOBILE)
    notification_preference_set(user=user, channel="sms")
    with django_capture_on_commit_callbacks(execute=True):
        send([user], title="评审任务已分配")
    assert len(sms_outbox) == 1
    assert sms_outbox[0][0] == MOBILE
    assert "评审任务已分配" in sms_outbox[0][1]
    assert mail.outbox == []


def test_a_preference_for_the_kind_overrides_the_global_one(django_capture_on_commit_callbacks: Any) -> None:
    user = with_email(make_user(mobile=MOBILE), "a@example.org")
    notification_preference_set(user=user, channel="email")
    notification_preference_set(user=user, channel="sms", kind="report.returned")
    with django_capture_on_commit_callbacks(execute=True):
        send([user], kind="report.returned")
    assert len(sms_outbox) == 1
    assert mail.outbox == []


def test_a_rolled_back_notify_sends_nothing_out(django_capture_on_commit_callbacks: Any) -> None:
    user = with_email(make_user(), "a@example.org")
    notification_preference_set(user=user, channel="email")

    def fails_after_notifying() -> None:
        with transaction.atomic():
            send([user])
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        fails_after_notifying()
    assert callbacks == []
    assert mail.outbox == []


def test_an_outbound_failure_does_not_roll_back(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(mobile=MOBILE)
    notification_preference_set(user=user, channel="sms")

    def broken(self: Any, *, mobile: str, text: str) -> None:
        raise ConnectionError(f"gateway refused {mobile}")

    monkeypatch.setattr(notifications.LocmemSmsBackend, "send_text", broken)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert send([user]) == 1
    n = Notification.objects.get(user=user)
    assert n.sent_at is None
    assert "ConnectionError" in n.send_error


def test_a_failure_message_never_holds_the_mobile_unmasked(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user(mobile=MOBILE)
    notification_preference_set(user=user, channel="sms")

    def broken(self: Any, *, mobile: str, text: str) -> None:
        raise ConnectionError(f"gateway refused {mobile}")

    monkeypatch.setattr(notifications.LocmemSmsBackend, "send_text", broken)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        send([user])
    assert MOBILE not in Notification.objects.get(user=user).send_error
    assert MOBILE not in caplog.text
    assert "138****5678" in caplog.text


def test_the_log_backend_masks_the_mobile(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        notifications.LogSmsBackend().send_text(mobile=MOBILE, text="测试")
    assert MOBILE not in caplog.text
    assert "138****5678" in caplog.text


def test_one_failing_user_does_not_stop_the_others(
    django_capture_on_commit_callbacks: Any,
) -> None:
    no_address = make_user()
    NotificationPreference.objects.create(user=no_address, channel="email")  # no email: fails
    fine = with_email(make_user(), "b@example.org")
    notification_preference_set(user=fine, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        send([no_address, fine])
    assert [m.to for m in mail.outbox] == [["b@example.org"]]
    assert Notification.objects.get(user=no_address).send_error


def test_deliver_sends_a_notification_once(django_capture_on_commit_callbacks: Any) -> None:
    user = with_email(make_user(), "a@example.org")
    notification_preference_set(user=user, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        send([user])
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert deliver(ids) == 0
    assert len(mail.outbox) == 1


def test_choosing_email_without_an_address_is_refused() -> None:
    from django.core.exceptions import ValidationError

    user = make_user()
    with pytest.raises(ValidationError) as exc:
        notification_preference_set(user=user, channel="email")
    assert "电子邮箱" in str(exc.value)
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_the_preference_form_saves_the_channel(client: Any) -> None:
    user = make_user(mobile=MOBILE)
    client.force_login(user)
    client.post(reverse("core:notification_preferences"), {"channel": "sms"})
    assert NotificationPreference.objects.get(user=user, kind="").channel == "sms"


def test_the_preference_form_names_the_field_on_bad_input(client: Any) -> None:
    user = make_user()
    client.force_login(user)
    response = client.post(reverse("core:notification_preferences"), {"channel": "pigeon"}, follow=True)
    assert "外发渠道" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=user).exists()
