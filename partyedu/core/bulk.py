"""Inserting many plain rows fast: COPY on PostgreSQL, ``executemany`` elsewhere.

``Model.objects.bulk_create`` builds a model instance per row and compiles every value through
the field machinery — about 30 µs a row, which is most of the time when a demo city's year of
attendance (millions of rows) or its learning-hour ledger is written. ``insert_plain`` takes rows
as tuples of column values and hands them to the driver. No signals, no ``pre_save`` (so
``auto_now`` fields must be given), no ids returned: for bulk writers that know exactly what they
write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

EXECUTEMANY_CHUNK = 20_000


def adapt(value: Any) -> Any:
    """A Python value as the database backend stores it (datetimes in UTC text on SQLite)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, Decimal) and connection.vendor != "postgresql":
        return str(value)
    return value


def insert_plain(model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in the order of ``columns``, which are field names) into the
    model's table; returns how many. Values must be what the column stores: pass them through
    ``adapt`` unless they are ints, strings, booleans or None."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= EXECUTEMANY_CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count
