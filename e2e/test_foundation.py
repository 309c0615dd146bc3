"""End-to-end: a secretary and an organisation department use the platform in a real browser."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from partyedu.accounts.models import User
from partyedu.accounts.otp import fresh_totp_code, otp_enrolled, otp_required
from partyedu.accounts.testing import otp_device_make
from partyedu.members.models import Member
from partyedu.testsupport.factories import PASSWORD, make_member, make_tree, make_user, valid_id_number

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, username: str, password: str = PASSWORD) -> None:
    """Sign in as a person would. An account that has, or must have, a second factor gets a test
    authenticator, and the code it would show is typed at the second step."""
    device = _authenticator(username) if password == PASSWORD else None
    page.goto("/accounts/login/")
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(password)
    # Each step waits for the page its button leads to. A caller's next navigation started while
    # a step's POST is still in flight aborts it in the browser but not on the server, which then
    # cycles the session key under the caller's next request (the sign-in is lost).
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if device is not None:
        page.get_by_label("动态验证码").fill(fresh_totp_code(device))
        with page.expect_navigation():
            page.get_by_role("button", name="验证并登录").click()


def _authenticator(username: str):
    user = User.objects.filter(username=username).first()
    if user is None or not (otp_required(user) or otp_enrolled(user)):
        return None
    return otp_device_make(user)


def test_login_with_wrong_password_shows_chinese_error(page):
    make_user("alice")
    login(page, "alice", "wrong-password")
    assert page.url.endswith("/accounts/login/")
    assert page.get_by_text(re.compile("密码不正确")).first.is_visible()


def test_login_lands_on_home_with_only_allowed_menu(page):
    tree = make_tree()
    make_user("sec", role="branch_admin", org=tree.branch_a)
    login(page, "sec")
    page.wait_for_url(re.compile(r"/$"))
    nav = page.locator("nav")
    assert nav.get_by_role("link", name="党员").first.is_visible() or nav.get_by_text("党员").count() > 0
    assert nav.get_by_text("审计日志").count() == 0
    screenshot(page, "home-phone")


def test_member_search_by_pinyin_initials(desktop_page):
    page = desktop_page
    tree = make_tree()
    make_member(tree.branch_a, "张三")
    make_member(tree.branch_a, "李四")
    make_user("admin", role="org_admin", org=tree.root)
    login(page, "admin")
    page.goto("/members/")
    # The list's own filter (the navbar has a site search box too).
    page.locator("main").get_by_label("搜索").fill("zs")
    page.get_by_role("button", name="查询").click()
    table = page.locator("#member-table")
    # The table is refreshed in place; wait until the filtered rows have arrived.
    expect(table.get_by_text("李四")).to_have_count(0)
    expect(table.get_by_text("张三")).to_be_visible()
    screenshot(page, "members-search")


def _members_xlsx(org_code: str, rows: list[tuple[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "所在党组织代码", "党员状态"])
    for name, number in rows:
        sheet.append([name, number, org_code, "正式党员"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_dry_run_lists_bad_rows_then_commit_writes_all(desktop_page):
    page = desktop_page
    tree = make_tree()
    make_user("admin", role="org_admin", org=tree.root)
    login(page, "admin")

    # given a file with one bad ID number
    bad = _members_xlsx(tree.branch_a.code, [("王五", valid_id_number()), ("赵六", "110105194912310021")])
    page.goto("/members/import/")
    page.locator("input[type=file]").set_input_files(
        {"name": "members.xlsx", "mimeType": "application/octet-stream", "buffer": bad}
    )
    page.get_by_role("button", name="上传并检查").click()
    # then the dry run names the row and column, and nothing is written
    page.get_by_text(re.compile("第3行 身份证号")).wait_for()
    assert Member.objects.count() == 0
    screenshot(page, "import-dry-run-errors")

    # given a good file
    good = _members_xlsx(tree.branch_a.code, [("王五", valid_id_number()), ("赵六", valid_id_number())])
    page.goto("/members/import/")
    page.locator("input[type=file]").set_input_files(
        {"name": "members.xlsx", "mimeType": "application/octet-stream", "buffer": good}
    )
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_role("button", name="确认导入").wait_for()
    assert Member.objects.count() == 0  # still only a dry run
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert set(Member.objects.values_list("name", flat=True)) == {"王五", "赵六"}
    screenshot(page, "import-committed")


def test_member_detail_masks_and_reveals_pii_for_grant_holder(desktop_page):
    page = desktop_page
    tree = make_tree()
    member = make_member(tree.branch_a, "张三", phone="13812345678")
    make_user("admin", role="org_admin", org=tree.root, pii=True)
    login(page, "admin")
    page.goto(f"/members/{member.pk}/")
    assert page.get_by_text("138****5678").first.is_visible()
    page.get_by_role("link", name="显示完整信息").click()
    page.get_by_text("13812345678").first.wait_for()
    screenshot(page, "member-detail-unmasked")
