"""/favicon.ico: browsers and tools ask for it whatever a page links, so it answers instead of
logging a 404 on every first visit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from partyedu.core.views import FAVICON
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_at_the_site_root() -> None:
    assert reverse("core:favicon") == "/favicon.ico"


def test_favicon_ico_redirects_an_anonymous_visitor_to_the_svg_icon(client: Any) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static(FAVICON)


def test_favicon_ico_answers_a_head_request(client: Any) -> None:
    assert client.head("/favicon.ico").status_code == 302


def test_favicon_ico_redirect_is_cached_for_a_day(client: Any) -> None:
    cache_control = client.get("/favicon.ico")["Cache-Control"]

    assert "public" in cache_control
    assert "max-age=86400" in cache_control


def test_the_icon_the_redirect_names_is_a_static_svg_file() -> None:
    path = finders.find(FAVICON)

    assert path is not None
    with open(path, encoding="utf-8") as icon:
        assert icon.read().startswith("<svg")


def test_every_page_links_the_same_icon(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))

    html = client.get(reverse("core:home")).content.decode()

    assert f'<link rel="icon" href="{static(FAVICON)}" type="image/svg+xml">' in html
