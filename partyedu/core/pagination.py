"""Pagination that does not count a whole list on every page.

A city's lists hold hundreds of thousands of rows (activities, attendance, audit entries), and
``COUNT(*)`` over the scoped list was most of the time of their pages. Two ways out:

- ``KnownCountPaginator``: the count is already known from summary rows (a subtree's members
  from ``Organization.member_count``, the members still short of their hours from the completion
  summary), so the list is not counted at all.
- ``BoundedCountPaginator``: nothing stores the count, so rows are counted only up to a bound —
  ``SELECT COUNT(*) FROM (SELECT … LIMIT bound + 1)``, which stops as soon as it has seen enough.
  The bound reaches well past the page asked for (``LOOKAHEAD_PAGES``), so 下一页 and the page
  numbers always work; beyond it the count is a lower bound (``CountAtLeast``) that renders as
  "1000+", and so does the number of pages.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Rows counted at least (20 pages of 50): a list shorter than this shows its exact count.
COUNT_BOUND = 1000
# Pages counted beyond the one asked for.
LOOKAHEAD_PAGES = 10


class CountAtLeast(int):
    """A count known only to be at least this much: arithmetic and comparisons use the number,
    templates show it as ``1000+``."""

    def __str__(self) -> str:
        return f"{int(self)}+"

    def __repr__(self) -> str:
        return f"CountAtLeast({int(self)})"


class KnownCountPaginator(Paginator):
    def __init__(
        self, object_list: Any, per_page: int, *args: Any, count: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # ``count`` is a cached_property


def page_number(value: Any) -> int:
    """The page asked for (1 for anything that is not a positive number: ``get_page`` then shows
    the first page, as it does for such values)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


class BoundedCountPaginator(Paginator):
    """Counts at most ``bound`` rows of a queryset (see the module docstring). ``count_exact``
    says whether ``count`` is the list's length or a lower bound of it."""

    def __init__(self, object_list: Any, per_page: int, *args: Any, bound: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.bound = bound
        self._exact = True

    @classmethod
    def for_page(cls, object_list: Any, per_page: int, page: Any) -> BoundedCountPaginator:
        """A paginator whose bound reaches ``LOOKAHEAD_PAGES`` beyond ``page``."""
        bound = max(COUNT_BOUND, (page_number(page) + LOOKAHEAD_PAGES) * per_page)
        return cls(object_list, per_page, bound=bound)

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        # Without ORDER BY the database stops after bound + 1 rows instead of sorting them all;
        # selecting the key alone leaves out what only the page shows (joined rows, per-row
        # subqueries such as a count of visits).
        qs = self.object_list.order_by()
        if not (qs.query.combinator or qs.query.values_select or qs.query.distinct_fields):
            qs = qs.values("pk")
        seen = qs[: self.bound + 1].count()
        self._exact = seen <= self.bound
        return seen if self._exact else CountAtLeast(self.bound)

    @property
    def count_exact(self) -> bool:
        _ = self.count
        return self._exact

    @cached_property
    def num_pages(self) -> int:
        pages = super().num_pages
        return pages if self.count_exact else CountAtLeast(pages)
