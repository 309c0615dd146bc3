"""Pagination that can take a count already known from summary rows, so a list of 100,000
members does not count 100,000 rows on every page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator


class KnownCountPaginator(Paginator):
    def __init__(
        self, object_list: Any, per_page: int, *args: Any, count: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # ``count`` is a cached_property
