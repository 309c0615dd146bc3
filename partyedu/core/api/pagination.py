from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import InvalidPage, Page
from django.db import connection
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from partyedu.core.pagination import KnownCountPaginator

# The column in which a page's rows carry the list's count (see ``count_expression``).
COUNT_COLUMN = "list_count"


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 200 a page) with ``count/next/previous/results``. A view
    may spare the database a COUNT over the list with a count already known from summary rows:
    ``known_count`` (a number), or ``count_expression`` (a scalar SQL expression of the count,
    read in the same statement as the page, so that the count costs no round trip of its own)."""

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
        expression = getattr(view, "count_expression", None)
        if expression is not None:
            rows = self._page_with_count(queryset, request, expression)
            if rows is not None:
                return rows
            view.known_count = _scalar(expression)  # a page given as "last": count first
        # A factory with the count bound, where DRF expects the class.
        self.django_paginator_class = partial(  # type: ignore[assignment]
            KnownCountPaginator, count=getattr(view, "known_count", None)
        )
        return super().paginate_queryset(queryset, request, view)

    def _page_with_count(self, queryset: Any, request: Any, expression: Any) -> list[Any] | None:
        """The page and the list's count in one statement (the count annotated on every row),
        with the same answers as DRF's ``paginate_queryset`` (404 for a page past the end); None
        for a page number that is not a plain number (such as ``last``), which needs the count
        first. Only an empty page costs a second statement, for its count."""
        page_size = self.get_page_size(request)
        given = request.query_params.get(self.page_query_param) or "1"
        # Anything but a plain page number of sane size (an offset the database can take) goes
        # the usual way, where the count decides first.
        if not page_size or not (given.isascii() and given.isdigit() and len(given) <= 9) or int(given) < 1:
            return None
        self.request = request
        number = int(given)
        offset = (number - 1) * page_size
        rows = list(queryset.annotate(**{COUNT_COLUMN: expression})[offset : offset + page_size])
        if not rows:
            count = _scalar(expression)
        elif isinstance(rows[0], dict):  # a values() queryset
            count = rows[0][COUNT_COLUMN]
        else:
            count = getattr(rows[0], COUNT_COLUMN)
        paginator = KnownCountPaginator(queryset, page_size, count=count)
        try:
            paginator.validate_number(number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=given, message=str(exc))) from exc
        rows = rows[: max(count - offset, 0)]  # as Django's paginator: never past the count
        self.page = Page(rows, number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows


def _scalar(expression: Any) -> int:
    sql, params = expression.sql, expression.params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})", params)
        return int(cursor.fetchone()[0])
