"""Query-string filters shared by every filterset (API and web). Numbers are bounded here, once:
an id or a year the database or the calendar cannot hold (``?site=1e30``, ``?year=10000``) is a
form error on that field — 400 naming the field in the API, ignored on a web list — never an
overflow deep in a query."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from .years import YEAR_MAX, YEAR_MIN

# Primary keys are BigAutoField: a signed 64-bit integer in SQLite and PostgreSQL alike.
ID_MAX = 2**63 - 1


class _BoundedIntegerFilter(django_filters.NumberFilter):
    """A whole number within ``[min_value, max_value]``; "1.5", "1e3" and "NaN" are refused."""

    field_class = forms.IntegerField
    min_value: int
    max_value: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", self.min_value)
        kwargs.setdefault("max_value", self.max_value)
        super().__init__(*args, **kwargs)

    def get_max_validator(self) -> None:
        return None  # the form field's own bounds replace NumberFilter's blanket 1e50


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(_BoundedIntegerFilter):
    """The id of a related object (organisation, site, lecturer …)."""

    min_value = 1
    max_value = ID_MAX


@extend_schema_field({"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})
class YearFilter(_BoundedIntegerFilter):
    """A calendar year within the range the platform records."""

    min_value = YEAR_MIN
    max_value = YEAR_MAX
