"""Two-factor sign-in: who must use it, the code step of the web sign-in, enrolment, recovery
codes, turning it off, and the 安全管理员's reset."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from partyedu.accounts import otp
from partyedu.accounts.models import User
from partyedu.accounts.testing import login_unverified, otp_device_make
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import PASSWORD, Tree, make_user

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")
VERIFY = reverse("accounts:otp_verify")
ENROL = reverse("accounts:otp_enrol")


def password_login(client: Any, username: str, password: str = PASSWORD, next_url: str = "") -> Any:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def signed_in(client: Any) -> bool:
    return "_auth_user_id" in client.session


def enrolled_user(username: str, tree: Tree, role: str = "sysadmin") -> tuple[Any, TOTPDevice]:
    user = make_user(username, role=role, org=tree.root)
    return user, otp_device_make(user)


def recovery_codes(user: User, codes: list[str]) -> None:
    device = StaticDevice.objects.create(user=user, name=otp.RECOVERY_DEVICE_NAME, confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])


# --- who must use it --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "where", "required"),
    [
        ("sysadmin", "root", True),
        ("secadmin", "root", True),
        ("auditor", "root", True),
        ("org_admin", "root", True),
        ("org_admin", "district_a", False),
        ("branch_admin", "branch_a", False),
        ("member", "branch_a", False),
    ],
)
def test_required_for_the_three_administrators_and_the_city_org_admin(
    tree: Tree, role: str, where: str, required: bool
) -> None:
    user = make_user(role=role, org=getattr(tree, where))
    assert otp.otp_required(user) is required


def test_required_roles_follow_the_setting(tree: Tree, settings: Any) -> None:
    settings.OTP_REQUIRED_ROLES = ["branch_admin"]
    assert otp.otp_required(make_user(role="branch_admin", org=tree.branch_a))
    assert not otp.otp_required(make_user(role="sysadmin", org=tree.root))


# --- the code step of the web sign-in ----------------------------------------------------------------


def test_a_user_with_a_device_is_not_signed_in_by_the_password_alone(client: Any, tree: Tree) -> None:
    enrolled_user("admin", tree)
    response = password_login(client, "admin")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not signed_in(client)
    assert client.get(HOME).status_code == 302


def test_the_right_code_completes_the_sign_in(client: Any, tree: Tree) -> None:
    user, device = enrolled_user("admin", tree)
    password_login(client, "admin")
    response = client.post(VERIFY, {"token": otp.totp_code(device)})
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(HOME).status_code == 200
    assert AuditLog.objects.filter(action="login", username="admin", success=True).count() == 1


def test_the_code_step_keeps_the_next_address(client: Any, tree: Tree) -> None:
    _user, device = enrolled_user("admin", tree)
    password_login(client, "admin", next_url="/accounts/users/")
    assert client.post(VERIFY, {"token": otp.totp_code(device)})["Location"] == "/accounts/users/"


def test_a_wrong_code_is_refused_and_audited_as_a_failed_sign_in(client: Any, tree: Tree) -> None:
    enrolled_user("admin", tree)
    password_login(client, "admin")
    response = client.post(VERIFY, {"token": "000000"})
    assert response.status_code == 200
    assert "动态验证码或恢复码不正确" in response.content.decode()
    assert not signed_in(client)
    failed = AuditLog.objects.get(action="login_failed", username="admin")
    assert failed.message == "动态验证码或恢复码错误"


def test_a_code_is_not_accepted_twice(client: Any, tree: Tree) -> None:
    _user, device = enrolled_user("admin", tree)
    code = otp.totp_code(device)
    password_login(client, "admin")
    client.post(VERIFY, {"token": code})
    client.post(reverse("accounts:logout"))
    password_login(client, "admin")
    client.post(VERIFY, {"token": code})
    assert not signed_in(client)


def test_wrong_codes_count_toward_the_account_lockout(
    client: Any, tree: Tree, settings: Any, signin_clock: Any
) -> None:
    # given django-otp's own per-device throttle out of the way, to see the account lockout
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _user, _device = enrolled_user("admin", tree)
    password_login(client, "admin")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        signin_clock.advance(60)
        assert client.post(VERIFY, {"token": "000000"}).status_code == 200
    signin_clock.advance(60)
    response = client.post(VERIFY, {"token": "000000"})
    # then the fifth wrong code locks the account: even password and right code are refused
    assert response.status_code == 403
    signin_clock.advance(60)
    assert password_login(client, "admin").status_code == 403
    assert not signed_in(client)


def test_wrong_codes_start_the_progressive_delay(
    client: Any, tree: Tree, settings: Any, signin_clock: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _user, device = enrolled_user("admin", tree)
    password_login(client, "admin")
    for _ in range(3):
        signin_clock.advance(60)
        client.post(VERIFY, {"token": "000000"})
    response = client.post(VERIFY, {"token": otp.totp_code(device)})
    assert "请等待2秒后再试" in response.content.decode()
    assert not signed_in(client)


def test_the_device_throttle_asks_to_wait_after_a_wrong_code(client: Any, tree: Tree) -> None:
    _user, device = enrolled_user("admin", tree)
    password_login(client, "admin")
    client.post(VERIFY, {"token": "000000"})
    response = client.post(VERIFY, {"token": otp.totp_code(device)})
    assert "尝试过于频繁" in response.content.decode()


def test_a_recovery_code_signs_in_once(client: Any, tree: Tree) -> None:
    user, _device = enrolled_user("admin", tree)
    recovery_codes(user, ["abcdefgh", "ijklmnop"])
    password_login(client, "admin")
    response = client.post(VERIFY, {"recovery-token": "ABCD-EFGH"})
    assert response.status_code == 302 and signed_in(client)
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["ijklmnop"]
    client.post(reverse("accounts:logout"))
    password_login(client, "admin")
    client.post(VERIFY, {"recovery-token": "abcd-efgh"})
    assert not signed_in(client)


def test_the_code_step_expires(client: Any, tree: Tree, monkeypatch: Any) -> None:
    _user, device = enrolled_user("admin", tree)
    password_login(client, "admin")
    monkeypatch.setattr(otp, "PENDING_SECONDS", -1)
    response = client.post(VERIFY, {"token": otp.totp_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert not signed_in(client)


def test_the_code_step_without_a_password_first_goes_to_the_login_page(client: Any) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")


# --- the gate ----------------------------------------------------------------------------------------------


def test_a_required_user_without_a_device_reaches_only_enrolment(client: Any, tree: Tree) -> None:
    make_user("admin", role="org_admin", org=tree.root)
    assert password_login(client, "admin")["Location"] == HOME
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert client.get("/accounts/users/")["Location"].startswith(ENROL)
    assert client.get(ENROL).status_code == 200


def test_a_fragment_asked_from_the_enrolment_page_is_answered_204_without_a_page(
    client: Any, tree: Tree
) -> None:
    make_user("admin", role="org_admin", org=tree.root)
    password_login(client, "admin")
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{ENROL}?next=%2F"}
    response = client.get(reverse("core:notification_count"), headers=headers)
    assert response.status_code == 204 and not response.content
    assert "HX-Redirect" not in response


def test_a_fragment_asked_from_another_page_sends_the_browser_to_enrolment(client: Any, tree: Tree) -> None:
    make_user("admin", role="org_admin", org=tree.root)
    password_login(client, "admin")
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/members/"}
    response = client.get(reverse("core:notification_count"), headers=headers)
    assert response.status_code == 204 and response["HX-Redirect"] == ENROL


def test_a_required_user_without_a_device_gets_403_from_the_api_session(client: Any, tree: Tree) -> None:
    make_user("admin", role="sysadmin", org=tree.root)
    password_login(client, "admin")
    response = client.get("/api/v1/ping/")
    assert response.status_code == 403
    assert "双因素认证" in response.json()["detail"]


def test_an_unverified_session_of_a_user_with_a_device_is_sent_to_the_code_step(
    client: Any, tree: Tree
) -> None:
    user, device = enrolled_user("admin", tree, role="branch_admin")
    login_unverified(client, user)
    response = client.get("/members/")
    assert response["Location"] == f"{VERIFY}?next=%2Fmembers%2F"
    assert (
        client.post(f"{VERIFY}?next=/members/", {"token": otp.totp_code(device)})["Location"] == "/members/"
    )
    assert client.get("/members/").status_code == 200


def test_a_user_who_may_do_without_is_signed_in_by_the_password(client: Any, tree: Tree) -> None:
    user = make_user("sec", role="branch_admin", org=tree.branch_a)
    password_login(client, "sec")
    assert client.get("/members/").status_code == 200
    assert client.session[otp.EXEMPT_SESSION_KEY] == user.pk


def test_a_new_sign_in_decides_afresh_whether_a_device_is_needed(client: Any, tree: Tree) -> None:
    # given a signed-in user who needed no device
    user = make_user("sec", role="branch_admin", org=tree.branch_a)
    password_login(client, "sec")
    client.get(HOME)
    # when their role starts to require one and they sign in again in the same browser session
    from partyedu.accounts.services import role_assign

    role_assign(actor=None, user=user, role_code="sysadmin", organization=tree.root)
    client.post(reverse("accounts:logout"))
    password_login(client, "sec")
    # then they are sent to enrolment
    assert client.get(HOME)["Location"].startswith(ENROL)


def test_force_login_sessions_count_as_verified_in_tests(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="sysadmin", org=tree.root))
    assert client.get("/accounts/users/").status_code == 200


# --- enrolment ---------------------------------------------------------------------------------------------


def test_enrolment_shows_an_inline_svg_qr_code_and_the_secret(client: Any, tree: Tree) -> None:
    user = make_user("admin", role="sysadmin", org=tree.root)
    password_login(client, "admin")
    html = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert '<svg viewBox="' in html and "扫码添加动态验证码" in html
    assert otp.secret_text(device) in html
    assert "须同时使用密码和动态验证码" in html
    # drawn here: no image fetched from anywhere
    assert "<img" not in html.split('id="main"')[1]


def test_enrolment_keeps_the_same_secret_on_reload(client: Any, tree: Tree) -> None:
    user = make_user("admin", role="sysadmin", org=tree.root)
    password_login(client, "admin")
    client.get(ENROL)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_code_confirms_enrolment_and_shows_ten_recovery_codes_once(client: Any, tree: Tree) -> None:
    # given a required user sent to enrolment
    user = make_user("admin", role="sysadmin", org=tree.root)
    password_login(client, "admin")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    # when they confirm with a code
    response = client.post(ENROL, {"token": otp.totp_code(device), "next": "/accounts/users/"})
    # then the device is confirmed, ten recovery codes are shown, and the session is verified
    assert response.status_code == 200
    html = response.content.decode()
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == otp.RECOVERY_CODE_COUNT
    assert all(otp.recovery_code_display(code) in html for code in codes)
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    assert AuditLog.objects.filter(action="otp_enable", object_id=str(user.pk)).exists()
    assert client.get("/accounts/users/").status_code == 200


def test_a_wrong_enrolment_code_is_refused(client: Any, tree: Tree) -> None:
    user = make_user("admin", role="sysadmin", org=tree.root)
    password_login(client, "admin")
    client.get(ENROL)
    response = client.post(ENROL, {"token": "000000"})
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_an_optional_user_can_enrol_and_then_needs_the_code(client: Any, tree: Tree) -> None:
    user = make_user("member", role="member", org=tree.branch_a)
    client.force_login(user)
    client.get(ENROL)
    client.post(ENROL, {"token": otp.totp_code(TOTPDevice.objects.get(user=user))})
    client.post(reverse("accounts:logout"))
    assert password_login(client, "member")["Location"] == VERIFY


def test_an_unverified_session_cannot_replace_the_device(client: Any, tree: Tree) -> None:
    user, _device = enrolled_user("admin", tree, role="member")
    login_unverified(client, user)
    assert client.get(ENROL)["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_replacing_the_device_keeps_only_the_new_one(client: Any, tree: Tree) -> None:
    user, _old = enrolled_user("admin", tree, role="member")
    client.force_login(user)
    client.get(ENROL)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(ENROL, {"token": otp.totp_code(new)})
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [new.pk]


# --- recovery codes and turning it off ------------------------------------------------------------------


def test_regenerating_recovery_codes_replaces_the_old_ones(client: Any, tree: Tree) -> None:
    user, _device = enrolled_user("admin", tree)
    recovery_codes(user, ["abcdefgh"])
    client.force_login(user)
    response = client.post(reverse("accounts:otp_recovery_codes"))
    assert response.status_code == 200
    tokens = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(tokens) == otp.RECOVERY_CODE_COUNT and "abcdefgh" not in tokens
    assert AuditLog.objects.filter(action="otp_recovery_codes", object_id=str(user.pk)).exists()


def test_regenerating_without_a_device_is_refused(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert client.post(reverse("accounts:otp_recovery_codes"))["Location"] == reverse("accounts:otp_settings")
    assert not StaticToken.objects.exists()


def test_the_settings_page_shows_status_and_recovery_codes_left(client: Any, tree: Tree) -> None:
    user, _device = enrolled_user("admin", tree)
    recovery_codes(user, ["abcdefgh", "ijklmnop"])
    client.force_login(user)
    html = client.get(reverse("accounts:otp_settings")).content.decode()
    assert "已启用" in html and "您的角色必须使用" in html and "2 个" in html
    assert "关闭双因素认证" not in html


def test_an_optional_user_turns_it_off_with_a_code(client: Any, tree: Tree) -> None:
    user, device = enrolled_user("member", tree, role="member")
    client.force_login(user)
    response = client.post(reverse("accounts:otp_disable"), {"disable-token": otp.totp_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(action="otp_disable", object_id=str(user.pk)).exists()


def test_turning_it_off_with_a_wrong_code_is_refused(client: Any, tree: Tree) -> None:
    user, _device = enrolled_user("member", tree, role="member")
    client.force_login(user)
    response = client.post(reverse("accounts:otp_disable"), {"disable-token": "000000"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=user).exists()


def test_a_required_user_cannot_turn_it_off(client: Any, tree: Tree) -> None:
    user, device = enrolled_user("admin", tree)
    client.force_login(user)
    response = client.post(reverse("accounts:otp_disable"), {"disable-token": otp.totp_code(device)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=user).exists()


# --- the 安全管理员's reset ---------------------------------------------------------------------------------


def reset_url(user: User) -> str:
    return reverse("accounts:otp_reset", args=[user.pk])


def test_the_security_administrator_resets_a_users_devices(client: Any, tree: Tree) -> None:
    target, _device = enrolled_user("target", tree)
    recovery_codes(target, ["abcdefgh"])
    secadmin = make_user("sec", role="secadmin", org=tree.root)
    client.force_login(secadmin)
    response = client.post(reset_url(target))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    row = AuditLog.objects.get(action="otp_reset")
    assert row.username == "sec" and row.object_id == str(target.pk) and row.changes == {"devices_removed": 2}


def test_after_a_reset_a_required_user_enrols_again_at_the_next_sign_in(client: Any, tree: Tree) -> None:
    target, _device = enrolled_user("target", tree)
    secadmin = Client()
    secadmin.force_login(make_user("sec", role="secadmin", org=tree.root))
    secadmin.post(reset_url(target))
    assert password_login(client, "target")["Location"] == HOME
    assert client.get(HOME)["Location"].startswith(ENROL)


@pytest.mark.parametrize(
    ("role", "where"), [("sysadmin", "root"), ("org_admin", "root"), ("member", "branch_a")]
)
def test_other_roles_cannot_reset(client: Any, tree: Tree, role: str, where: str) -> None:
    target, _device = enrolled_user("target", tree)
    client.force_login(make_user(role=role, org=getattr(tree, where)))
    assert client.post(reset_url(target)).status_code == 403
    assert TOTPDevice.objects.filter(user=target).exists()


def test_reset_needs_a_signed_in_user(client: Any, tree: Tree) -> None:
    target, _device = enrolled_user("target", tree)
    response = client.post(reset_url(target))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_security_administrator_of_a_sibling_organisation_gets_404(client: Any, tree: Tree) -> None:
    target, _device = enrolled_user("target", tree, role="branch_admin")
    target.role_assignments.update(organization=tree.branch_a)
    client.force_login(make_user(role="secadmin", org=tree.district_b))
    assert client.post(reset_url(target)).status_code == 404
    assert TOTPDevice.objects.filter(user=target).exists()


def test_a_security_administrator_cannot_reset_their_own(client: Any, tree: Tree) -> None:
    secadmin, _device = enrolled_user("sec", tree, role="secadmin")
    client.force_login(secadmin)
    assert client.post(reset_url(secadmin)).status_code == 403


def test_reset_needs_post(client: Any, tree: Tree) -> None:
    target, _device = enrolled_user("target", tree)
    client.force_login(make_user(role="secadmin", org=tree.root))
    assert client.get(reset_url(target)).status_code == 405


def test_the_user_page_shows_the_reset_button_to_the_security_administrator_only(
    client: Any, tree: Tree
) -> None:
    target, _device = enrolled_user("target", tree)
    page = reverse("accounts:user_detail", args=[target.pk])
    client.force_login(make_user(role="secadmin", org=tree.root))
    assert "重置双因素认证" in client.get(page).content.decode()
    client.force_login(make_user(role="sysadmin", org=tree.root))
    html = client.get(page).content.decode()
    assert "重置双因素认证" not in html and "已启用" in html


# --- every personal page needs a signed-in user -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("accounts:otp_settings", "get"),
        ("accounts:otp_enrol", "get"),
        ("accounts:otp_recovery_codes", "post"),
        ("accounts:otp_disable", "post"),
    ],
)
def test_anonymous_users_are_sent_to_the_login_page(client: Any, name: str, method: str) -> None:
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["accounts:otp_recovery_codes", "accounts:otp_disable"])
def test_changes_need_post(client: Any, tree: Tree, name: str) -> None:
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert client.get(reverse(name)).status_code == 405
