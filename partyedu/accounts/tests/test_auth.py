import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import PASSWORD, make_user


@pytest.fixture
def request_():
    return RequestFactory().post("/accounts/login/")


@pytest.mark.django_db
def test_login_by_username(request_):
    user = make_user("alice")
    assert authenticate(request_, username="alice", password=PASSWORD) == user


@pytest.mark.django_db
def test_login_by_mobile(request_):
    user = make_user("bob", mobile="13912345678")
    assert authenticate(request_, username="13912345678", password=PASSWORD) == user


@pytest.mark.django_db
def test_wrong_password_fails_and_is_audited(request_):
    make_user("carol")
    assert authenticate(request_, username="carol", password="wrong") is None
    assert AuditLog.objects.filter(action="login_failed", username="carol", success=False).exists()


@pytest.mark.django_db
def test_inactive_user_cannot_log_in(request_):
    user = make_user("dave")
    user.is_active = False
    user.save()
    assert authenticate(request_, username="dave", password=PASSWORD) is None


@pytest.mark.django_db
def test_mobile_is_encrypted_and_indexed():
    user = make_user("erin", mobile="13712345678")
    user.refresh_from_db()
    assert user.mobile == "13712345678"
    assert user.masked_mobile == "137****5678"
    assert len(user.mobile_hash) == 64


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short1A", "alllowercaseletters", "lowercase123456"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.django_db
def test_three_classes_of_eight_chars_pass():
    validate_password("Demo@2026")


def test_idle_timeout_is_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_lockout_is_five_failures_for_thirty_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60


@pytest.mark.django_db
def test_sixth_attempt_after_five_failures_is_locked_even_with_right_password(request_):
    make_user("frank")
    for _ in range(5):
        authenticate(RequestFactory().post("/accounts/login/"), username="frank", password="wrong")
    assert (
        authenticate(RequestFactory().post("/accounts/login/"), username="frank", password=PASSWORD) is None
    )


@pytest.mark.django_db
def test_lockout_is_audited():
    make_user("gina")
    for _ in range(5):
        authenticate(RequestFactory().post("/accounts/login/"), username="gina", password="wrong")
    assert AuditLog.objects.filter(action="lockout", username="gina").exists()
