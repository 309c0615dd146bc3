"""API tokens behave like sessions: hashed at rest, expiring, idle-limited, revoked by the user,
by a password change and by disabling the account; the page 我的登录令牌."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from partyedu.accounts import services
from partyedu.accounts.models import ApiToken
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db

PING = "/api/v1/ping/"


def ping(key: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(PING)


# --- issuing and storing -----------------------------------------------------------------------------


def test_only_a_hash_and_a_prefix_of_the_key_are_stored() -> None:
    token, key = services.api_token_issue(user=make_user("alice"), name="张三的手机")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert key not in [str(v) for v in row.values()]
    assert row["key_hash"] == ApiToken.hash_key(key) and len(row["key_hash"]) == 64
    assert row["prefix"] == key[:8]
    assert row["name"] == "张三的手机"


def test_a_token_lives_the_configured_lifetime(settings: Any) -> None:
    token, _key = services.api_token_issue(user=make_user("alice"))
    lifetime = token.expires_at - token.created_at
    assert abs(lifetime - timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS)) < timedelta(seconds=1)


def test_issuing_clears_the_users_ended_tokens() -> None:
    user = make_user("alice")
    old, _key = services.api_token_issue(user=user)
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
    services.api_token_issue(user=user)
    assert not ApiToken.objects.filter(pk=old.pk).exists()


# --- what ends a token -------------------------------------------------------------------------------


def test_an_expired_token_is_refused_with_401(settings: Any) -> None:
    token, key = services.api_token_issue(user=make_user("alice"))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = ping(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已过期，请重新登录获取"


def test_an_idle_token_is_refused_with_401(settings: Any) -> None:
    token, key = services.api_token_issue(user=make_user("alice"))
    idle = timedelta(hours=settings.API_TOKEN_IDLE_HOURS, seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - idle)
    response = ping(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌长时间未使用已失效，请重新登录获取"


def test_use_keeps_a_token_alive_and_is_written_at_most_once_a_minute(settings: Any) -> None:
    token, key = services.api_token_issue(user=make_user("alice"))
    almost_idle = timezone.now() - timedelta(hours=settings.API_TOKEN_IDLE_HOURS) + timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=almost_idle)
    assert ping(key).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use > almost_idle
    assert ping(key).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use


def test_a_revoked_token_is_refused() -> None:
    user = make_user("alice")
    token, key = services.api_token_issue(user=user)
    services.api_token_revoke(actor=user, token=token)
    response = ping(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已撤销，请重新登录获取"
    assert AuditLog.objects.filter(action="revoke", object_type="accounts.apitoken").exists()


def test_a_password_change_revokes_every_token() -> None:
    user = make_user("alice")
    _t1, key1 = services.api_token_issue(user=user)
    _t2, key2 = services.api_token_issue(user=user)
    services.password_change(actor=user, user=user, new_password="Another@2026pw")
    assert ping(key1).status_code == 401 and ping(key2).status_code == 401
    row = AuditLog.objects.get(action="password_change", object_id=str(user.pk))
    assert row.changes == {"api_tokens_revoked": 2}


def test_the_password_change_page_revokes_every_token(client: Any) -> None:
    user = make_user("alice")
    _token, key = services.api_token_issue(user=user)
    client.force_login(user)
    client.post(
        reverse("accounts:password_change"),
        {"old_password": "Test@2026pw", "new_password1": "Another@2026pw", "new_password2": "Another@2026pw"},
    )
    assert ping(key).status_code == 401


def test_disabling_the_account_revokes_every_token() -> None:
    user = make_user("alice")
    token, key = services.api_token_issue(user=user)
    services.user_set_active(actor=None, user=user, is_active=False)
    services.user_set_active(actor=None, user=user, is_active=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ping(key).status_code == 401


def test_a_token_of_a_disabled_account_is_refused() -> None:
    user = make_user("alice")
    _token, key = services.api_token_issue(user=user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = ping(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "账号已停用"


def test_one_user_cannot_revoke_anothers_token() -> None:
    token, _key = services.api_token_issue(user=make_user("alice"))
    with pytest.raises(PermissionDenied, match="只能撤销自己的登录令牌"):
        services.api_token_revoke(actor=make_user("mallory"), token=token)


# --- the page 我的登录令牌 --------------------------------------------------------------------------------


def test_the_page_lists_the_users_working_tokens_only(client: Any) -> None:
    user = make_user("alice")
    mine, _k1 = services.api_token_issue(user=user, name="张三的手机")
    ended, _k2 = services.api_token_issue(user=user, name="旧平板")
    ApiToken.objects.filter(pk=ended.pk).update(expires_at=timezone.now())
    theirs, _k3 = services.api_token_issue(user=make_user("bob"), name="别人的电脑")
    client.force_login(user)
    html = client.get(reverse("accounts:token_list")).content.decode()
    assert f"{mine.prefix}…" in html and "张三的手机" in html
    assert "旧平板" not in html and "别人的电脑" not in html and theirs.prefix not in html


def test_the_page_revokes_one_token(client: Any) -> None:
    user = make_user("alice")
    token, key = services.api_token_issue(user=user)
    _other, other_key = services.api_token_issue(user=user)
    client.force_login(user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert ping(key).status_code == 401 and ping(other_key).status_code == 200


def test_the_page_revokes_all_tokens(client: Any) -> None:
    user = make_user("alice")
    keys = [services.api_token_issue(user=user)[1] for _ in range(3)]
    client.force_login(user)
    client.post(reverse("accounts:token_revoke_all"))
    assert [ping(k).status_code for k in keys] == [401, 401, 401]


def test_another_users_token_is_404_on_the_page(client: Any) -> None:
    token, key = services.api_token_issue(user=make_user("bob"))
    client.force_login(make_user("alice"))
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    assert ping(key).status_code == 200


def test_an_administrator_cannot_revoke_anothers_token_either(client: Any, tree: Tree) -> None:
    token, _key = services.api_token_issue(user=make_user("bob", role="member", org=tree.branch_a))
    client.force_login(make_user(role="sysadmin", org=tree.root))
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("accounts:token_list", [], "get"),
        ("accounts:token_revoke", [1], "post"),
        ("accounts:token_revoke_all", [], "post"),
    ],
)
def test_the_token_pages_need_a_signed_in_user(client: Any, name: str, args: list[int], method: str) -> None:
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["accounts:token_revoke_all"])
def test_revoking_needs_post(client: Any, name: str) -> None:
    client.force_login(make_user("alice"))
    assert client.get(reverse(name)).status_code == 405
