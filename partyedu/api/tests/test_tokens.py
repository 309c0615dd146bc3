"""The token exchange honours the second factor and opens no web session; the caller lists and
revokes their own tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from rest_framework.test import APIClient

from partyedu.accounts import otp
from partyedu.accounts.models import ApiToken
from partyedu.accounts.services import api_token_issue
from partyedu.accounts.testing import otp_device_make
from partyedu.core.models import AuditLog
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import PASSWORD, Tree, make_user

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"


def exchange(**data: Any) -> Any:
    return APIClient().post(TOKEN_URL, {"password": PASSWORD, **data}, format="json")


# --- the second factor ----------------------------------------------------------------------------------


def test_a_user_with_a_device_must_send_the_code(tree: Tree) -> None:
    otp_device_make(make_user("admin", role="member", org=tree.branch_a))
    response = exchange(username="admin")
    assert response.status_code == 400
    assert response.json()["errors"] == {"otp": ["请输入动态验证码"]}
    assert not ApiToken.objects.exists()


def test_the_right_code_gets_a_token(tree: Tree) -> None:
    device = otp_device_make(make_user("admin", role="sysadmin", org=tree.root))
    response = exchange(username="admin", otp=otp.totp_code(device))
    assert response.status_code == 200
    assert ApiToken.objects.filter(key_hash=ApiToken.hash_key(response.json()["token"])).exists()


def test_a_recovery_code_gets_a_token_once(tree: Tree) -> None:
    user = make_user("admin", role="sysadmin", org=tree.root)
    otp_device_make(user)
    static = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    StaticToken.objects.create(device=static, token="abcdefgh")
    assert exchange(username="admin", otp="abcd-efgh").status_code == 200
    assert exchange(username="admin", otp="abcd-efgh").status_code == 400


def test_a_wrong_code_is_400_and_counts_as_a_failed_sign_in(tree: Tree) -> None:
    otp_device_make(make_user("admin", role="sysadmin", org=tree.root))
    response = exchange(username="admin", otp="000000")
    assert response.status_code == 400
    assert response.json()["errors"] == {"otp": ["动态验证码或恢复码不正确"]}
    assert AuditLog.objects.filter(
        action="login_failed", username="admin", message="动态验证码或恢复码错误"
    ).exists()


def test_wrong_codes_lock_the_account(tree: Tree, settings: Any, signin_clock: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = otp_device_make(make_user("admin", role="sysadmin", org=tree.root))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        signin_clock.advance(60)
        assert exchange(username="admin", otp="000000").status_code == 400
    signin_clock.advance(60)
    assert exchange(username="admin", otp="000000").status_code == 429
    signin_clock.advance(60)
    assert exchange(username="admin", otp=otp.totp_code(device)).status_code == 429


def test_a_required_user_without_a_device_is_told_to_enrol_on_the_web_first(tree: Tree) -> None:
    make_user("admin", role="org_admin", org=tree.root)
    response = exchange(username="admin", otp="123456")
    assert response.status_code == 403
    assert "请先登录网页版完成动态验证码绑定" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_wrong_password_is_refused_before_the_code_is_asked_for(tree: Tree) -> None:
    otp_device_make(make_user("admin", role="sysadmin", org=tree.root))
    response = APIClient().post(TOKEN_URL, {"username": "admin", "password": "wrong"}, format="json")
    assert response.json()["errors"] == {"non_field_errors": ["用户名或密码错误"]}


# --- no web session -----------------------------------------------------------------------------------


def test_the_exchange_creates_no_web_session() -> None:
    make_user("alice")
    client = APIClient()
    response = client.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and "sessionid" not in client.cookies
    assert Session.objects.count() == 0


def test_the_exchange_records_the_client_as_the_token_name() -> None:
    make_user("alice")
    response = APIClient().post(
        TOKEN_URL,
        {"username": "alice", "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="PartyEduApp/2.1",
    )
    assert (
        ApiToken.objects.get(key_hash=ApiToken.hash_key(response.json()["token"])).name == "PartyEduApp/2.1"
    )


# --- my tokens -------------------------------------------------------------------------------------------


def test_the_caller_lists_their_own_working_tokens() -> None:
    user = make_user("alice")
    other, _key = api_token_issue(user=user, name="平板")
    api_token_issue(user=make_user("bob"), name="别人的")
    client = api_client(user)
    body = client.get(TOKENS_URL).json()
    assert {row["name"] for row in body} == {"平板", "test"}
    assert [row["current"] for row in body if row["name"] == "test"] == [True]
    assert all(
        set(row) == {"id", "prefix", "name", "created_at", "last_used_at", "expires_at", "current"}
        for row in body
    )
    assert other.prefix in {row["prefix"] for row in body}


def test_the_caller_revokes_their_own_token() -> None:
    user = make_user("alice")
    token, key = api_token_issue(user=user)
    client = api_client(user)
    assert client.delete(f"{TOKENS_URL}{token.pk}/").status_code == 204
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert other.get("/api/v1/ping/").status_code == 401


def test_revoking_the_token_in_use_signs_the_client_out() -> None:
    user = make_user("alice")
    client = api_client(user)
    current = ApiToken.objects.get(user=user)
    assert client.delete(f"{TOKENS_URL}{current.pk}/").status_code == 204
    assert client.get("/api/v1/ping/").status_code == 401


def test_another_users_token_is_404() -> None:
    token, _key = api_token_issue(user=make_user("bob"))
    response = api_client(make_user("alice")).delete(f"{TOKENS_URL}{token.pk}/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_my_tokens_need_authentication() -> None:
    assert APIClient().get(TOKENS_URL).status_code == 401
    assert APIClient().delete(f"{TOKENS_URL}1/").status_code == 401
