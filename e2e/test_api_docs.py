"""The API documentation pages work under the Content-Security-Policy (no inline script)."""

import pytest

from partyedu.testsupport.factories import make_tree, make_user

from .conftest import screenshot
from .test_foundation import login

pytestmark = pytest.mark.browser


def open_swagger_ui(page):
    """Sign in as a secretary and open Swagger UI at its first operation."""
    tree = make_tree()
    make_user("secretary", role="branch_admin", org=tree.branch_a)
    login(page, "secretary")
    page.goto("/api/docs/")
    # The schema of every app takes Swagger UI a while to lay out on a loaded machine.
    page.locator('[data-path="/api/v1/activities/"]').first.wait_for(timeout=60_000)


def test_swagger_ui_renders_the_operations_on_a_desktop(desktop_page):
    open_swagger_ui(desktop_page)

    screenshot(desktop_page, "api-docs-desktop", full_page=False)


def test_swagger_ui_renders_the_last_operations_when_scrolled_to(desktop_page):
    # With this many operations Swagger UI renders only those near the viewport (a virtual list):
    # the last ones appear when the reader scrolls down to them.
    open_swagger_ui(desktop_page)
    last = desktop_page.locator('[data-path="/api/v1/service/talks/"]').first

    for _ in range(300):
        if last.count():
            break
        desktop_page.mouse.wheel(0, 1500)
        desktop_page.wait_for_timeout(100)

    last.wait_for(timeout=10_000)


def test_swagger_ui_makes_no_call_to_an_outside_validator(desktop_page):
    open_swagger_ui(desktop_page)

    assert desktop_page.evaluate("() => ui.getConfigs().validatorUrl") is None


def test_redoc_renders_the_operations_on_a_desktop(desktop_page):
    tree = make_tree()
    make_user("secretary", role="branch_admin", org=tree.branch_a)
    login(desktop_page, "secretary")

    desktop_page.goto("/api/redoc/")

    heading = desktop_page.get_by_role("heading", name="PartyEdu API — 党员教育培训管理平台")
    heading.first.wait_for(timeout=60_000)
    screenshot(desktop_page, "api-redoc-desktop", full_page=False)
