from __future__ import annotations

from functools import partial
from typing import Any

from rest_framework import pagination

from partyedu.core.pagination import KnownCountPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 200 a page) with ``count/next/previous/results``. A view
    may set ``known_count`` (from summary rows) to spare the database a COUNT over the list."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self.django_paginator_class = partial(KnownCountPaginator, count=getattr(view, "known_count", None))
        return super().paginate_queryset(queryset, request, view)
