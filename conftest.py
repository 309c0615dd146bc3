from collections.abc import Callable
from pathlib import Path
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


# --- The standard demo shared by consecutive modules (partyedu.demo.testing) ---------------------------


STANDARD_DEMO_MARK = "pytest.mark.standard_demo"
SHARED_FIXTURE_MARKS = ('scope="module"', 'scope="class"')


def _module_groups(root: Path) -> dict[str, str]:
    """The test modules (as node ids give them) whose tests must run together in one process, and
    their group: those whose text marks them ``pytest.mark.standard_demo`` (a module that does marks
    all its tests so) in one group; each module with a module- or class-scoped fixture (a seed
    shared by its tests) in a group of its own."""
    groups = {}
    for top in ("partyedu", "e2e"):
        for path in (root / top).rglob("test_*.py"):
            text = path.read_text(encoding="utf-8")
            module = str(path.relative_to(root))
            if STANDARD_DEMO_MARK in text:
                groups[module] = "standard_demo"
            elif any(mark in text for mark in SHARED_FIXTURE_MARKS):
                groups[module] = module
    return groups


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``: tests are shared out one at a time as under ``load``, except the
    groups of ``_module_groups``, each sent whole to one process and run there one test after the
    other — so that the standard demo is seeded once (``partyedu.demo.testing``) and a module's
    shared seed once, not once in each process. (xdist's own ``xdist_group`` mark does not group
    under pytest 9.2: it renames items through an attribute pytest 9.2 no longer reads.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    groups = _module_groups(Path(config.rootpath))

    class GroupedScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = groups.get(nodeid.split("::", 1)[0])
            return group if group is not None else super()._split_scope(nodeid)

    return GroupedScheduling(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # After the test and the fixtures that end with it: the standard demo is rolled back unless the
    # next test reads it too (before the database itself is torn down after the last test).
    if nextitem is None or nextitem.get_closest_marker("standard_demo") is None:
        from partyedu.demo.testing import standard_demo_close

        standard_demo_close()
