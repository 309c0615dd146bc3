"""Sign-in throttling: lockout per account (whichever identifier is typed), per source address,
and the progressive delay, on the web sign-in page and the API token exchange."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from partyedu.accounts import throttle
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
MOBILE = "13912345678"


def web_login(client: Any, username: str, password: str, **extra: Any) -> Any:
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def api_login(username: str, password: str, **extra: Any) -> Any:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


def fail_five_times(client: Any, clock: Any, username: str, settings: Any, **extra: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)
        web_login(client, username, "wrong-password", **extra)
    clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)


# --- per account, whichever identifier -----------------------------------------------------------------


def test_account_key_maps_a_registered_mobile_to_its_user_name() -> None:
    make_user("bob", mobile=MOBILE)
    assert throttle.account_key(MOBILE) == "bob"
    assert throttle.account_key(" bob ") == "bob"


def test_account_key_keeps_unknown_identifiers_as_typed() -> None:
    assert throttle.account_key("13800000000") == "13800000000"
    assert throttle.account_key("nobody") == "nobody"


def test_web_five_failures_by_user_name_refuse_the_mobile_number_with_the_right_password(
    client: Any, signin_clock: Any, settings: Any
) -> None:
    make_user("bob", mobile=MOBILE)
    fail_five_times(client, signin_clock, "bob", settings)
    response = web_login(client, MOBILE, PASSWORD)
    assert response.status_code == 403
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_web_five_failures_by_mobile_number_refuse_the_user_name(
    client: Any, signin_clock: Any, settings: Any
) -> None:
    make_user("bob", mobile=MOBILE)
    fail_five_times(client, signin_clock, MOBILE, settings)
    assert web_login(client, "bob", PASSWORD).status_code == 403


def test_api_five_failures_by_user_name_refuse_the_mobile_number_with_the_right_password(
    client: Any, signin_clock: Any, settings: Any
) -> None:
    make_user("bob", mobile=MOBILE)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        signin_clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)
        api_login("bob", "wrong-password")
    signin_clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)
    response = api_login(MOBILE, PASSWORD)
    assert response.status_code == 429
    assert "锁定" in response.json()["detail"]


def test_unknown_identifiers_get_the_same_answers_as_real_ones(
    client: Any, signin_clock: Any, settings: Any
) -> None:
    # given the same failures against an account and against a name that is no account
    make_user("bob")
    answers = {}
    for name in ("bob", "nobody"):
        seen = []
        for _ in range(settings.AXES_FAILURE_LIMIT):
            signin_clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)
            seen.append(api_login(name, "wrong-password").status_code)
        answers[name] = seen
    # then nobody can tell them apart
    assert answers["bob"] == answers["nobody"]


# --- per source address ----------------------------------------------------------------------------------


def test_failures_spread_over_accounts_from_one_address_hit_the_address_limit(
    client: Any, settings: Any
) -> None:
    # given one address failing once at each of many accounts (no account reaches its own limit)
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    make_user("victim")
    for i in range(settings.LOGIN_IP_FAILURE_LIMIT):
        assert web_login(client, f"guess{i}", "wrong-password").status_code == 200
    # when the address tries a real account with its right password
    response = web_login(client, "victim", PASSWORD)
    # then it is refused, with the wait in minutes, before the password is checked
    assert response.status_code == 200
    assert "该网络地址登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditLog.objects.filter(action="lockout", ip_address="127.0.0.1", success=False).exists()


def test_the_address_limit_does_not_refuse_another_address(client: Any, settings: Any) -> None:
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    make_user("victim")
    for i in range(3):
        web_login(client, f"guess{i}", "wrong-password")
    response = web_login(client, "victim", PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_the_address_limit_on_the_api_is_429_with_retry_after(settings: Any) -> None:
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    make_user("victim")
    for i in range(3):
        api_login(f"guess{i}", "wrong-password")
    response = api_login("victim", PASSWORD)
    assert response.status_code == 429
    assert "该网络地址登录失败次数过多" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_the_address_behind_a_trusted_proxy_is_the_forwarded_one(client: Any, settings: Any) -> None:
    # given one trusted proxy: the client address is the last X-Forwarded-For entry
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    make_user("victim")
    for i in range(3):
        web_login(client, f"guess{i}", "wrong-password", HTTP_X_FORWARDED_FOR="203.0.113.9")
    # then that client is refused, another one behind the same proxy is not
    refused = web_login(Client(), "victim", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert "该网络地址" in refused.content.decode()
    assert web_login(Client(), "victim", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 302


# --- progressive delay -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("failures", "seconds"), [(1, 0), (2, 0), (3, 2), (4, 4), (5, 8), (8, 60), (40, 60)])
def test_delay_doubles_from_the_third_failure_up_to_a_minute(failures: int, seconds: int) -> None:
    assert throttle.delay_after(failures) == seconds


def test_web_attempt_inside_the_delay_is_refused_with_the_seconds_to_wait(
    client: Any, signin_clock: Any
) -> None:
    make_user("carol")
    for _ in range(3):
        signin_clock.advance(60)
        web_login(client, "carol", "wrong-password")
    signin_clock.advance(0.5)
    response = web_login(client, "carol", PASSWORD)
    assert response.status_code == 200
    assert "登录失败次数较多，请等待2秒后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_api_attempt_inside_the_delay_is_429_with_retry_after(signin_clock: Any) -> None:
    make_user("carol")
    for _ in range(4):
        signin_clock.advance(60)
        api_login("carol", "wrong-password")
    response = api_login("carol", PASSWORD)
    assert response.status_code == 429
    assert response.json()["detail"] == "登录失败次数较多，请等待4秒后再试"
    assert response["Retry-After"] == "4"


def test_the_delay_applies_to_the_mobile_number_of_the_same_account(client: Any, signin_clock: Any) -> None:
    make_user("carol", mobile=MOBILE)
    for _ in range(3):
        signin_clock.advance(60)
        web_login(client, "carol", "wrong-password")
    assert "请等待" in web_login(client, MOBILE, PASSWORD).content.decode()


def test_an_attempt_refused_by_the_delay_is_not_counted(client: Any, signin_clock: Any) -> None:
    make_user("carol")
    for _ in range(3):
        signin_clock.advance(60)
        web_login(client, "carol", "wrong-password")
    for _ in range(10):
        web_login(client, "carol", "wrong-password")
    signin_clock.advance(60)
    assert web_login(client, "carol", PASSWORD).status_code == 302


def test_after_the_delay_the_right_password_signs_in(client: Any, signin_clock: Any) -> None:
    make_user("carol")
    for _ in range(3):
        signin_clock.advance(60)
        web_login(client, "carol", "wrong-password")
    signin_clock.advance(2.1)
    assert web_login(client, "carol", PASSWORD).status_code == 302


def test_a_success_resets_the_delay_and_the_count(client: Any, signin_clock: Any) -> None:
    # given four failures and then a success
    make_user("carol")
    for _ in range(4):
        signin_clock.advance(60)
        web_login(client, "carol", "wrong-password")
    signin_clock.advance(60)
    assert web_login(client, "carol", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    # when the next two attempts fail at once
    web_login(client, "carol", "wrong-password")
    response = web_login(client, "carol", "wrong-password")
    # then they are checked (no delay yet), as for a fresh account
    assert "用户名（或手机号）或密码不正确" in response.content.decode()
