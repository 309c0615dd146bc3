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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from django.core.cache import cache
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
