"""Pagination of HTML lists: a known count is used as is; otherwise a list is counted only up to a
bound past the page asked for, and beyond it the count and the number of pages are lower bounds
("1000+")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from partyedu.accounts.models import User
from partyedu.core import pagination
from partyedu.core.pagination import BoundedCountPaginator, CountAtLeast
from partyedu.core.views import paginate

pytestmark = pytest.mark.django_db


@pytest.fixture
def users() -> Any:
    User.objects.bulk_create([User(username=f"p{i:02d}") for i in range(12)])
    return User.objects.filter(username__startswith="p").order_by("username")


def test_a_list_shorter_than_the_bound_is_counted_exactly(users: Any) -> None:
    paginator = BoundedCountPaginator(users, 5, bound=20)
    assert paginator.count == 12 and paginator.count_exact
    assert paginator.num_pages == 3 and str(paginator.num_pages) == "3"


def test_a_longer_list_shows_a_lower_bound_with_a_plus(users: Any) -> None:
    paginator = BoundedCountPaginator(users, 2, bound=6)
    assert paginator.count == 6 and not paginator.count_exact
    assert isinstance(paginator.count, CountAtLeast) and str(paginator.count) == "6+"
    assert str(paginator.num_pages) == "3+"
    page = paginator.get_page(3)
    assert page.has_next() is False  # the last page the bound knows of
    assert [u.username for u in page] == ["p04", "p05"]


def test_counting_stops_at_the_bound_without_sorting(users: Any) -> None:
    paginator = BoundedCountPaginator(users, 2, bound=6)
    with CaptureQueriesContext(connection) as captured:
        _ = paginator.count
    (sql,) = [q["sql"].upper() for q in captured.captured_queries]
    assert "LIMIT 7" in sql and "ORDER BY" not in sql


def test_the_bound_reaches_past_the_page_asked_for(users: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "COUNT_BOUND", 2)
    monkeypatch.setattr(pagination, "LOOKAHEAD_PAGES", 1)
    first = paginate(RequestFactory().get("/"), users, per_page=2)
    assert str(first.paginator.count) == "4+" and first.has_next()
    # page 5 is beyond the first bound: the bound moves with the page, so it opens and has a next
    fifth = paginate(RequestFactory().get("/", {"page": "5"}), users, per_page=2)
    assert fifth.number == 5 and fifth.has_next()
    assert [u.username for u in fifth] == ["p08", "p09"]
    # the real end is found when the bound reaches it
    last = paginate(RequestFactory().get("/", {"page": "6"}), users, per_page=2)
    assert isinstance(last.paginator, BoundedCountPaginator)
    assert last.paginator.count == 12 and last.paginator.count_exact and not last.has_next()


def test_a_page_number_beyond_a_short_list_shows_its_last_page(users: Any) -> None:
    page = paginate(RequestFactory().get("/", {"page": "99"}), users, per_page=5)
    assert page.number == 3 and page.paginator.count == 12


def test_a_known_count_spares_the_count_query(users: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):  # the page's rows only
        page = paginate(RequestFactory().get("/"), users, per_page=5, count=12)
        assert len(list(page)) == 5
    assert page.paginator.num_pages == 3


def test_pagination_partial_shows_a_lower_bound_of_pages(users: Any) -> None:
    request = RequestFactory().get("/")
    page = BoundedCountPaginator(users, 2, bound=6).get_page(1)
    html = render_to_string("partials/pagination.html", {"page_obj": page}, request=request)
    assert "第 1 / 3+ 页" in html and "?page=2" in html
