"""Append-only tables: the audit log, the learning-hours ledger and every ledger to come.

A row of such a table is written once and never changed or deleted; a mistake is corrected by a
new row (a ledger appends a correcting line, ``version + 1``), so every figure derived from the
table can be explained line by line and rebuilt from it. The threat is not only a hostile user —
no view offers to edit these rows — but also well-meant code: a "quick fix" ``update()``, a bulk
clean-up, a cascade from deleting a member or an account, or a stray ``TRUNCATE``. Each of them
would silently rewrite history, so each is refused at three levels:

1. the model (``AppendOnlyModel``): ``save()`` of a row that has a primary key and ``delete()``;
2. the queryset (``AppendOnlyQuerySet``): ``update()``, ``bulk_update()``, ``delete()``, upserts
   (``bulk_create(update_conflicts=True)``) and Django's internal ``_raw_delete()``. Foreign keys
   of an append-only model use ``PROTECT``: a cascade would reach the rows through Django's base
   manager, around this queryset;
3. the database, on PostgreSQL (``append_only_trigger_operations``): a row trigger refuses
   ``UPDATE`` and ``DELETE``, a statement trigger refuses ``TRUNCATE`` — whatever client, raw SQL
   included. On a partitioned table the row trigger of the parent is cloned onto every partition,
   present and future, but a statement trigger is not: a ``TRUNCATE`` of one partition fires only
   that partition's own triggers, so each partition needs its own (``append_only_truncate_sql``).

Two exits exist, both named and narrow:

- ``append_only_purge()`` lets one transaction delete the rows of the models it names (never
  update them). Only system paths that remove a whole data set may use it — today ``seed_demo
  --force`` removing the demo city. A production ledger is never purged.
- The throwaway test database sets ``partyedu.append_only_truncate = 'on'`` (``conftest.py``),
  because Django empties tables between transactional tests with ``TRUNCATE``. A production
  database never has it set.

A database superuser can still disable triggers; the audit log's answer to that is log shipping
(docs/deployment.md). The audit log predates this module: its own triggers (migrations core 0002,
0004, 0006 and ``core.partitions``) refuse the same statements, with ``partyedu.audit_maintenance``
as its test-database setting, and it admits no purge at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from django.db import DEFAULT_DB_ALIAS, connections, migrations, models, transaction

from .scope import ScopedModel, ScopedQuerySet

logger = logging.getLogger(__name__)

# The session setting the triggers read: the tables whose rows this transaction may delete.
PURGE_SETTING = "partyedu.append_only_purge"
# The session setting that lets the throwaway test database be emptied with TRUNCATE.
TRUNCATE_SETTING = "partyedu.append_only_truncate"

# Labels (``app.model``) of the models whose rows the current context may delete.
_purging: ContextVar[frozenset[str]] = ContextVar("append_only_purging", default=frozenset())


class AppendOnlyError(PermissionError):
    """An attempt to change or delete a row of an append-only table."""


def _refuse_change(model: type[models.Model]) -> AppendOnlyError:
    return AppendOnlyError(f"{model._meta.verbose_name}不可修改")


def _check_delete(model: type[models.Model]) -> None:
    if model._meta.label_lower not in _purging.get():
        raise AppendOnlyError(f"{model._meta.verbose_name}不可删除")


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that reads and inserts, and refuses everything that changes or removes rows."""

    def update(self, **kwargs: Any) -> int:
        raise _refuse_change(self.model)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise _refuse_change(self.model)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if kwargs.get("update_conflicts"):
            raise _refuse_change(self.model)
        return super().bulk_create(objs, *args, **kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _check_delete(self.model)
        return super().delete()

    def _raw_delete(self, using: str | None) -> int:
        _check_delete(self.model)
        return super()._raw_delete(using)


class AppendOnlyModel(models.Model):
    """Abstract base of a table whose rows are written once: ``save()`` inserts a new row (one
    without a primary key yet) and refuses any other; ``delete()`` is refused."""

    # Whether ``append_only_purge`` may name the model at all (the audit log: never).
    purgeable: ClassVar[bool] = True

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise _refuse_change(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _check_delete(type(self))
        return super().delete(*args, **kwargs)


# The django-stubs plugin types each queryset's ``as_manager`` and each model's ``objects`` apart,
# so a queryset or model with two such bases looks like a conflict to mypy; it is none at run time.
class ScopedAppendOnlyQuerySet(AppendOnlyQuerySet, ScopedQuerySet):  # type: ignore[override]
    """Organisational data that is append-only: ``restrict(user, action)`` and the guards."""


class ScopedAppendOnlyModel(AppendOnlyModel, ScopedModel):
    """Abstract base of an append-only table that belongs to an organisation (a ledger)."""

    objects = ScopedAppendOnlyQuerySet.as_manager()  # type: ignore[assignment,misc]

    class Meta:
        abstract = True


@contextmanager
def append_only_purge(
    *models_: type[AppendOnlyModel], reason: str, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Let the enclosed code delete rows of the named append-only models, in one transaction.

    Who may use it: system code that removes a whole data set and says so in its documentation —
    today ``partyedu.demo.seed.clear_data`` (``seed_demo --force``). Never a request, a service of
    the domain, a job or a housekeeping step: those correct a ledger by appending a line. Updates
    stay refused inside the block, and so do deletions of every model it does not name.

    On PostgreSQL it sets ``partyedu.append_only_purge`` to the named tables for the enclosed
    statements only (``set_config(…, is_local)``, restored on the way out, and gone with the
    transaction at the latest), which the triggers read."""
    if not reason.strip():
        raise ValueError("append_only_purge needs a reason")
    for model in models_:
        if not (isinstance(model, type) and issubclass(model, AppendOnlyModel)):
            raise TypeError(f"{model!r} is not an append-only model")
        if not model.purgeable:
            raise AppendOnlyError(f"{model._meta.verbose_name}不可删除")
    labels = frozenset(model._meta.label_lower for model in models_)
    tables = {model._meta.db_table for model in models_}
    logger.warning("append-only purge of %s: %s", ", ".join(sorted(labels)), reason)
    connection = connections[using]
    token = _purging.set(_purging.get() | labels)
    try:
        with transaction.atomic(using=using):
            previous = ""
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT coalesce(current_setting(%s, true), '')", [PURGE_SETTING])
                    previous = cursor.fetchone()[0]
                    allowed = ",".join(sorted(tables | {t for t in previous.split(",") if t}))
                    cursor.execute("SELECT set_config(%s, %s, true)", [PURGE_SETTING, allowed])
            yield
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, %s, true)", [PURGE_SETTING, previous])
    finally:
        _purging.reset(token)


# --- PostgreSQL triggers --------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(table: str) -> str:
    # The name goes into DDL unquoted, and the function name adds 12 characters to it.
    if not _IDENTIFIER.match(table) or len(table) > 63 - len("_append_only"):
        raise ValueError(f"unsuitable table name for append-only triggers: {table!r}")
    return table


def append_only_function_sql(table: str) -> str:
    """The trigger function of ``table``: refuses UPDATE always; DELETE and TRUNCATE unless the
    transaction purges this table (``append_only_purge``); TRUNCATE also on the test database."""
    table = _checked(table)
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND '{table}' = ANY (
        string_to_array(coalesce(current_setting('{PURGE_SETTING}', true), ''), ',')
    ) THEN
        IF TG_LEVEL = 'ROW' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' AND coalesce(current_setting('{TRUNCATE_SETTING}', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def append_only_truncate_sql(table: str, *, on: str | None = None) -> str:
    """The TRUNCATE guard of ``table`` on ``table`` itself or on one of its partitions (``on``):
    a statement trigger, which partitions do not inherit."""
    table = _checked(table)
    target = _checked(on or table)
    return (
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {target} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only();"
    )


class PostgreSQLRunSQL(migrations.RunSQL):
    """``RunSQL`` that runs on PostgreSQL only: other databases (SQLite in development and tests)
    rely on the model and queryset guards."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def append_only_trigger_operations(table: str) -> list[migrations.RunSQL]:
    """The migration operations that make PostgreSQL refuse UPDATE, DELETE and TRUNCATE on
    ``table`` (reversible; nothing on other databases). A partitioned table gets the row trigger
    on every partition from its parent; each partition needs ``append_only_truncate_sql``."""
    table = _checked(table)
    row_trigger = (
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only();"
    )
    return [
        PostgreSQLRunSQL(
            sql="\n".join([append_only_function_sql(table), row_trigger, append_only_truncate_sql(table)]),
            reverse_sql=(
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};\n"
                f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};\n"
                f"DROP FUNCTION IF EXISTS {table}_append_only();"
            ),
        )
    ]
