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

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # A page number outside the list is a 404; a page size out of range or not a number falls
        # back to the default (DRF's rule), so the documented bounds are the ones honoured.
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self.django_paginator_class = partial(KnownCountPaginator, count=getattr(view, "known_count", None))
        return super().paginate_queryset(queryset, request, view)
