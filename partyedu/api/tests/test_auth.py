from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from partyedu.accounts.models import ApiToken
from partyedu.accounts.services import api_token_issue
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import PASSWORD, make_user

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.django_db
def test_token_for_username_and_password(api):
    user = make_user("alice")
    response = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert ApiToken.objects.get(key_hash=ApiToken.hash_key(body["token"])).user == user


@pytest.mark.django_db
def test_every_exchange_issues_a_new_token(api):
    make_user("alice")
    first = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json").json()
    second = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json").json()
    assert first["token"] != second["token"]
    assert ApiToken.objects.filter(user__username="alice", revoked_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_token_by_mobile_number(api):
    make_user("bob", mobile="13912345678")
    response = api.post(TOKEN_URL, {"username": "13912345678", "password": PASSWORD}, format="json")
    assert response.status_code == 200


@pytest.mark.django_db
def test_token_sign_in_is_audited(api):
    make_user("alice")
    api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert AuditLog.objects.filter(action="login", username="alice", success=True).exists()


@pytest.mark.django_db
def test_bad_password_is_400_with_non_field_error(api):
    make_user("alice")
    response = api.post(TOKEN_URL, {"username": "alice", "password": "wrong-password"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert body["errors"] == {"non_field_errors": ["用户名或密码错误"]}
    assert AuditLog.objects.filter(action="login_failed", username="alice", success=False).exists()


@pytest.mark.django_db
def test_unknown_user_gets_the_same_answer(api):
    response = api.post(TOKEN_URL, {"username": "nobody", "password": "wrong-password"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["用户名或密码错误"]}


@pytest.mark.django_db
def test_missing_fields_are_reported_by_field(api):
    response = api.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}


@pytest.mark.django_db
def test_lockout_after_five_failures(api, signin_clock):
    # given five failed attempts, each after the progressive delay
    make_user("alice")
    for _ in range(4):
        signin_clock.advance(60)
        assert api.post(TOKEN_URL, {"username": "alice", "password": "bad"}, format="json").status_code == 400
    signin_clock.advance(60)
    fifth = api.post(TOKEN_URL, {"username": "alice", "password": "bad"}, format="json")
    assert fifth.status_code == 429
    # when the right password is given
    response = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    # then the account stays locked, said in JSON
    assert response.status_code == 429
    body = response.json()
    assert "锁定" in body["detail"]
    assert body["errors"] == {}
    assert not ApiToken.objects.filter(user__username="alice").exists()


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_failure_count(api, signin_clock):
    make_user("alice")
    for _ in range(4):
        signin_clock.advance(60)
        api.post(TOKEN_URL, {"username": "alice", "password": "bad"}, format="json")
    signin_clock.advance(60)
    assert api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json").status_code == 200
    for _ in range(4):
        signin_clock.advance(60)
        response = api.post(TOKEN_URL, {"username": "alice", "password": "bad"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_expired_password_gets_no_token(api):
    user = make_user("alice")
    user.__class__.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    response = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert "密码已过期" in response.json()["detail"]


@pytest.mark.django_db
def test_token_authenticates_requests(api):
    user = make_user("alice")
    _token, key = api_token_issue(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/ping/")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "user": "alice"}


@pytest.mark.django_db
def test_session_authenticates_requests(client):
    client.force_login(make_user("alice"))
    assert client.get("/api/v1/ping/").json() == {"ok": True, "user": "alice"}


@pytest.mark.django_db
def test_ping_refuses_anonymous(api):
    response = api.get("/api/v1/ping/")
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.django_db
def test_bad_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/v1/ping/").status_code == 401


@pytest.mark.django_db
def test_token_of_an_expired_password_is_refused(api):
    user = make_user("alice")
    _token, key = api_token_issue(user=user)
    user.__class__.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/ping/")
    assert response.status_code == 403
    assert "密码已过期" in response.json()["detail"]


@pytest.mark.django_db
def test_ping_costs_one_query_with_a_token(api, django_assert_max_num_queries):
    _token, key = api_token_issue(user=make_user("alice"))
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with django_assert_max_num_queries(1):
        assert api.get("/api/v1/ping/").status_code == 200
