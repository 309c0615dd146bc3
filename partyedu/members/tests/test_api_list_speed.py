"""The member list's fast path (issue 9): the count read with the page in one statement, the
pagination answers that must not change because of it, and the audit row of an unmasked page
committed without waiting for the disk on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

LIST_URL = "/api/v1/members/"


@pytest.fixture
def admin_a(tree):
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def five(tree):
    return [make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i}") for i in range(5)]


def test_plain_list_is_token_roles_and_page(tree, admin_a, five, django_assert_num_queries):
    client = api_client(admin_a)
    client.get(LIST_URL)  # the token's last use is written once a minute, not on every request
    with django_assert_num_queries(3):
        response = client.get(LIST_URL)
    assert response.json()["count"] == 5


def test_grant_holders_list_adds_only_its_audit_row(tree, five, django_assert_num_queries):
    holder = make_user("holder", role="org_admin", org=tree.district_a, pii=True)
    client = api_client(holder)
    client.get(LIST_URL)
    with django_assert_num_queries(4):
        response = client.get(LIST_URL)
    assert response.json()["count"] == 5


def test_count_comes_with_the_page_in_one_statement(tree, admin_a, five):
    client = api_client(admin_a)
    client.get(LIST_URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST_URL)
    member_reads = [q["sql"] for q in queries.captured_queries if "members_member" in q["sql"]]
    assert len(member_reads) == 1
    assert "member_count" in member_reads[0]


def test_later_page_has_the_whole_count_and_both_links(tree, admin_a, five):
    body = api_client(admin_a).get(LIST_URL, {"page": 2, "page_size": 2}).json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "page=3" in body["next"]
    assert body["previous"] is not None


def test_last_page_is_short_and_has_no_next_link(tree, admin_a, five):
    body = api_client(admin_a).get(LIST_URL, {"page": 3, "page_size": 2}).json()
    assert body["count"] == 5
    assert len(body["results"]) == 1
    assert body["next"] is None


def test_pages_together_list_every_member_once(tree, admin_a, five):
    client = api_client(admin_a)
    ids = []
    for page in (1, 2, 3):
        ids += [row["id"] for row in client.get(LIST_URL, {"page": page, "page_size": 2}).json()["results"]]
    assert sorted(ids) == sorted(m.pk for m in five)


def test_page_past_the_end_is_404(tree, admin_a, five):
    response = api_client(admin_a).get(LIST_URL, {"page": 4, "page_size": 2})
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "9" * 30])
def test_page_that_is_not_a_page_number_is_404(tree, admin_a, five, page):
    assert api_client(admin_a).get(LIST_URL, {"page": page}).status_code == 404


def test_page_last_is_the_last_page(tree, admin_a, five):
    body = api_client(admin_a).get(LIST_URL, {"page": "last", "page_size": "2"}).json()
    assert body["count"] == 5
    assert len(body["results"]) == 1


def test_empty_scope_lists_nothing_with_count_zero(tree):
    viewer = make_user("viewer", role="org_admin", org=tree.district_b)
    body = api_client(viewer).get(LIST_URL).json()
    assert body["count"] == 0
    assert body["results"] == []


def test_organization_filter_counts_its_subtree_with_the_page(tree, admin_a, five, django_assert_num_queries):
    client = api_client(admin_a)
    client.get(LIST_URL)
    # token, roles and grants, the filter's organisation (checked by the filter and for the count),
    # page with count
    with django_assert_num_queries(5):
        body = client.get(LIST_URL, {"organization": tree.group_a.pk}).json()
    assert body["count"] == 3
    assert {row["organization"] for row in body["results"]} == {tree.group_a.pk}


def test_rows_do_not_carry_the_count_column(tree, admin_a, five):
    row = api_client(admin_a).get(LIST_URL).json()["results"][0]
    assert "list_count" not in row
