"""``field__any=[…]``: an integer field (a key) equal to one of many values.

On PostgreSQL the values travel as one array parameter (``= ANY(%s::bigint[])``), so a list of
thousands of ids costs neither Django nor the driver a placeholder each (a city's rebuild
passes a hundred thousand member ids through a dozen queries); elsewhere it is ``IN (…)``.
Registered on integer fields and foreign keys by ``CoreConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, IntegerField, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


def register() -> None:
    IntegerField.register_lookup(AnyOf)
    ForeignKey.register_lookup(AnyOf)
