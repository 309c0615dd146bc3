"""The API documentation pages work under the Content-Security-Policy (no inline script)."""

import pytest

from partyedu.testsupport.factories import make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_operations_on_a_desktop(desktop_page):
    tree = make_tree()
    make_user("secretary", role="branch_admin", org=tree.branch_a)
    login(desktop_page, "secretary")

    desktop_page.goto("/api/docs/")

    desktop_page.get_by_text("/api/v1/members/").first.wait_for()
    screenshot(desktop_page, "api-docs-desktop", full_page=False)


def test_redoc_renders_the_operations_on_a_desktop(desktop_page):
    tree = make_tree()
    make_user("secretary", role="branch_admin", org=tree.branch_a)
    login(desktop_page, "secretary")

    desktop_page.goto("/api/redoc/")

    desktop_page.get_by_role("heading", name="PartyEdu API — 党员教育培训管理平台").first.wait_for()
    screenshot(desktop_page, "api-redoc-desktop", full_page=False)
