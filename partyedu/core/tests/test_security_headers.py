"""Every dynamic response carries the security headers; no template needs inline script."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("partyedu/*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.fixture
def signed_in(client, tree):
    make_member(tree.branch_a, "李红")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    return client


def test_pages_carry_a_content_security_policy_without_inline_script(signed_in):
    policy = signed_in.get(reverse("members:list"))["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def test_pages_carry_a_permissions_policy(signed_in):
    assert "camera=()" in signed_in.get(reverse("members:list"))["Permissions-Policy"]


def test_signed_in_pages_with_personal_data_are_not_stored(signed_in):
    cache_control = signed_in.get(reverse("members:list"))["Cache-Control"]

    assert "no-store" in cache_control
    assert "private" in cache_control


def test_api_answers_are_not_stored(tree):
    response = api_client(make_user(role="org_admin", org=tree.district_a)).get("/api/v1/members/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_sign_in_page_is_not_stored(client):
    assert "no-store" in client.get(reverse("accounts:login"))["Cache-Control"]


@pytest.mark.parametrize("directory", TEMPLATE_DIRS, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_has_inline_script_or_event_handlers(directory):
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)[:60]}"
        for path in directory.rglob("*.html")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER)
        for match in pattern.finditer(path.read_text())
    ]

    assert offenders == []
