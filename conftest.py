from collections.abc import Callable
from typing import Any

import pytest

from partyedu.testsupport.factories import Tree, make_tree, make_user


@pytest.fixture
def scope_tree(db) -> Tree:
    return make_tree()


@pytest.fixture
def tree(db) -> Tree:
    return make_tree()


@pytest.fixture
def user_factory() -> Callable[..., Any]:
    """``make_user`` for the generic permission mixins of ``partyedu.core.testing``, which may not
    import the accounts app themselves (core is the bottom layer)."""
    return make_user


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The sign-in throttle counts in the cache (per account and per address: every test client
    # is 127.0.0.1); one test's failures must not delay or block the next.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class SignInClock:
    """The clock of the sign-in delays (``partyedu.accounts.throttle.now``), moved by hand."""

    def __init__(self) -> None:
        import time

        self.value = time.time()

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def signin_clock(monkeypatch) -> SignInClock:
    from partyedu.accounts import throttle

    clock = SignInClock()
    monkeypatch.setattr(throttle, "now", clock)
    return clock


@pytest.fixture(scope="session", autouse=True)
def _postgres_test_database(django_db_setup, django_db_blocker):
    from django.db import connection, connections

    if connection.vendor == "postgresql":
        # Transactional tests empty the tables with TRUNCATE, which the audit log refuses unless
        # the session is in maintenance (migration core 0004). Only this throwaway database is.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET partyedu.audit_maintenance = 'on'")
            # The same for the other append-only tables (partyedu.core.ledger).
            cursor.execute(f"ALTER DATABASE {name} SET partyedu.append_only_truncate = 'on'")
        # Connections opened before that (pooled ones too) start again with the setting.
        connections.close_all()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    yield
    # Each process keeps a connection pool on PostgreSQL (config/settings/base.py); its idle
    # connections must be closed before the test database can be dropped.

    for alias in connections:
        close_pool = getattr(connections[alias], "close_pool", None)
        if close_pool is not None:
            close_pool()
