"""Browser tests: Playwright (Python) driving Debian's Chromium at /usr/bin/chromium against
pytest-django's live server. No browser is ever downloaded. Under CI=true a missing or broken
browser fails the run; elsewhere the tests are skipped with the reason."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still
# synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def _serve_one_request_at_a_time() -> None:
    """On the in-memory SQLite database the live server's request threads all share the test's
    one connection (there is no other way to see its data), so two requests at once — a page's
    HTMX panels, a navigation that overtakes a pending request — interleave their statements and
    transactions on it, and a request fails or loses its writes at random. There the live server
    answers one request at a time (a plain WSGIServer, which also closes each connection so a
    browser's keep-alive cannot hold it). On PostgreSQL every thread has its own connection and
    the server stays threaded."""
    from django.conf import settings
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database["NAME"] not in (":memory:", ""):
        return

    class SerialWSGIServer(WSGIServer):
        def __init__(self, *args: object, connections_override: object = None, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.connections_override = connections_override

    LiveServerThread.server_class = SerialWSGIServer


_serve_one_request_at_a_time()


def _wait_for_requests_in_flight(live_server: object) -> None:
    """After the browser is closed, wait until the live server has answered what the browser had
    already sent (a page's HTMX panels still loading when a test ends): otherwise the server thread
    may still be writing, say, the session while the test's database is emptied after it. On the
    serial server a request of our own is answered only after those before it."""
    from urllib.request import urlopen

    from django.conf import settings

    with urlopen(f"{live_server.url}{settings.STATIC_URL}img/favicon.svg", timeout=60) as response:
        response.read()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # the launch error text is the useful part
            _unavailable(f"Chromium could not be started: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = _watch_policy_violations(page)
    yield page
    context.close()
    _wait_for_requests_in_flight(live_server)
    assert refused == [], "the Content-Security-Policy refused something on these pages"


@pytest.fixture
def desktop_page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1366, "height": 900}, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = _watch_policy_violations(page)
    yield page
    context.close()
    _wait_for_requests_in_flight(live_server)
    assert refused == [], "the Content-Security-Policy refused something on these pages"


def _watch_policy_violations(page: object) -> list[str]:
    """Messages of anything the Content-Security-Policy refused (an inline script, a handler, an
    outside address): every page must work under the policy, so a test that saw one fails."""
    refused: list[str] = []

    def on_console(message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        # Redoc's bundle asks for its vendor's logo from the internet; the policy refusing that
        # request is the point (nothing leaves the intranet), so it is the one refusal expected.
        if "cdn.redoc.ly" in text:
            return
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            refused.append(text)

    page.on("console", on_console)  # type: ignore[attr-defined]
    return refused


def screenshot(page: object, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under var/screenshots (the whole page unless ``full_page`` is False: the
    API reference pages run to hundreds of screens, and rendering them all takes longer than the
    timeout on a loaded machine)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path


@pytest.fixture(autouse=True)
def _roles(transactional_db) -> None:
    # Transactional tests flush the database, data migrations included.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()
