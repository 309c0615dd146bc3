"""End-to-end: a city-level administrator must bind an authenticator at the first sign-in, then
signs in with password and code — on a phone."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from partyedu.accounts.otp import fresh_totp_code
from partyedu.testsupport.factories import PASSWORD, make_tree, make_user

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from_secret(secret: str) -> str:
    """What an authenticator app shows for the secret typed in by hand."""
    text = secret.replace(" ", "")
    return f"{totp(b32decode(text + '=' * (-len(text) % 8))):06d}"


def test_enrolment_then_sign_out_then_sign_in_with_a_code(page):
    # given a city-level administrator without an authenticator
    tree = make_tree()
    make_user("cityadmin", role="org_admin", org=tree.root)

    # when they sign in with the password, they land on the enrolment page and nowhere else
    page.goto("/accounts/login/")
    page.get_by_label("用户名或手机号").fill("cityadmin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="启用双因素认证")).to_be_visible()
    expect(page.locator("svg.otp-qr")).to_be_visible()
    screenshot(page, "otp-enrol-phone")
    page.goto("/members/")
    expect(page.get_by_role("heading", name="启用双因素认证")).to_be_visible()

    # and bind the authenticator with the secret shown (typed by hand into an app)
    secret = page.get_by_test_id("otp-secret").inner_text()
    page.get_by_label("动态验证码").fill(code_from_secret(secret))
    page.get_by_role("button", name="完成绑定").click()

    # then ten recovery codes are shown once
    expect(page.get_by_role("heading", name="请保存您的恢复码")).to_be_visible()
    expect(page.get_by_role("list", name="恢复码").get_by_role("listitem")).to_have_count(10)
    screenshot(page, "otp-recovery-codes-phone")
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(re.compile(r"/members/$"))

    # when they sign out (the menu is folded on a phone) and sign in again
    page.get_by_role("button", name="展开菜单").click()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))  # unfolded
    page.get_by_role("button", name=re.compile("cityadmin")).click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.get_by_label("用户名或手机号").fill("cityadmin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # then the password alone is not enough: the code step asks for the authenticator's code
    expect(page.get_by_role("heading", name="双因素认证")).to_be_visible()
    page.goto("/members/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto("/accounts/otp/verify/")
    device = TOTPDevice.objects.get(user__username="cityadmin", confirmed=True)
    page.get_by_label("动态验证码").fill(fresh_totp_code(device))
    screenshot(page, "otp-code-step-phone")
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="展开菜单")).to_be_visible()
