"""A demo seeded once for many tests: ``seeded_once`` keeps one transaction open around the seed
for as long as a module-scoped (or class-scoped) fixture lives, and rolls it back at the end, as
Django's ``TestCase.setUpClass`` does for ``setUpTestData``.

Each test that uses the seed still runs in its own transaction (pytest-django's ``db``), nested in
that one as a savepoint: what a test writes is rolled back after it, so the tests sharing a seed
stay independent of each other and of their order. Only for tests that merely read the demo or
write on top of it; a test that needs ``transaction=True`` (it commits, or empties the tables)
or an empty database cannot share it.

    @pytest.fixture(scope="module")
    def seeded_demo(django_db_setup, django_db_blocker):
        with seeded_once(django_db_blocker, lambda: call_command("seed_demo", ...)) as value:
            yield value

    @pytest.fixture
    def demo(seeded_demo, db):
        return seeded_demo
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

if TYPE_CHECKING:
    from pytest_django import DjangoDbBlocker

T = TypeVar("T")


@contextmanager
def seeded_once(django_db_blocker: DjangoDbBlocker, seed: Callable[[], T]) -> Iterator[T]:
    """Run ``seed`` in a transaction of its own, give what it returned, and roll the transaction
    back when the block ends. ``django_db_blocker`` is pytest-django's fixture: the database is
    reachable only while seeding and rolling back, as the tests in between ask for it (``db``)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # As TestCase's own atomic blocks: a durable block inside (in the seed or a test) is
        # allowed, the same as when the seed ran inside the test's transaction.
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
        try:
            value = seed()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
        finally:
            # The cache is not rolled back with the database: nothing the seed cached outlives it.
            cache.clear()
    try:
        yield value
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
        cache.clear()


# --- The standard demo, shared by consecutive modules --------------------------------------------------
# Many test modules read the same demo (``seed_demo`` with 300 members and seed 7). Seeding it for
# each module took most of their time, so it is seeded once and its transaction is left open from
# one such module to the next; the root conftest rolls it back as soon as the next test is not one
# of them (``pytest.mark.standard_demo``, which also puts them in one xdist group so that they run
# one after the other in one process). What a module seeds on top of it is rolled back when the
# module ends, and what a test writes when the test ends, as with ``seeded_once``.

STANDARD_MEMBERS = 300
STANDARD_SEED = 7


class _StandardDemo:
    """The open transaction holding the standard demo in this process, and what the seed printed."""

    atomic: Any = None
    blocker: Any = None
    output = ""
    users = 0  # fixtures inside ``on_standard_demo`` still open


_standard = _StandardDemo()


def _standard_demo_output(django_db_blocker: DjangoDbBlocker) -> str:
    """Seed the standard demo in a transaction left open, unless it is open already."""
    if _standard.atomic is None:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic._from_testcase = True  # type: ignore[attr-defined]
            atomic.__enter__()
            out = io.StringIO()
            try:
                call_command("seed_demo", members=STANDARD_MEMBERS, seed=STANDARD_SEED, stdout=out)
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
            finally:
                cache.clear()
        _standard.atomic, _standard.blocker, _standard.output = atomic, django_db_blocker, out.getvalue()
    return _standard.output


def standard_demo_close() -> None:
    """Roll the standard demo back, if it is open (the root conftest calls this)."""
    if _standard.atomic is None:
        return
    if _standard.users:
        raise RuntimeError(
            "the standard demo is closed while a fixture still uses it: give its fixture the scope of "
            "the tests marked standard_demo (their module, or a class holding them)"
        )
    atomic, blocker = _standard.atomic, _standard.blocker
    _standard.atomic = _standard.blocker = None
    with blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
    cache.clear()


@contextmanager
def on_standard_demo(
    django_db_blocker: DjangoDbBlocker, extra: Callable[[], T] | None = None
) -> Iterator[tuple[str, T | None]]:
    """For a module- or class-scoped fixture of a module marked ``pytest.mark.standard_demo``:
    what ``seed_demo`` printed when it seeded the standard demo, and what ``extra`` (seeding more on
    top of it, in a savepoint rolled back when the block ends) returned."""
    output = _standard_demo_output(django_db_blocker)
    with seeded_once(django_db_blocker, extra or (lambda: None)) as value:
        _standard.users += 1
        try:
            yield output, value
        finally:
            _standard.users -= 1
