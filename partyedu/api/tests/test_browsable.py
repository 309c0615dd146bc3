import re

import pytest

from partyedu.testsupport.factories import make_member, make_user


@pytest.fixture
def browser(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    return client


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/organizations/", "/api/v1/members/"])
def test_browsable_pages_render_with_local_assets(browser, url):
    response = browser.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    for asset in re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']""", html):
        assert not re.match(r"^(https?:)?//", asset), asset


def test_browsable_detail_pages_render(browser, tree):
    member = make_member(tree.branch_a)
    assert browser.get(f"/api/v1/members/{member.pk}/", HTTP_ACCEPT="text/html").status_code == 200
    assert (
        browser.get(f"/api/v1/organizations/{tree.branch_a.pk}/", HTTP_ACCEPT="text/html").status_code == 200
    )
