import pytest

from partyedu.core.testing import Tree, make_tree


@pytest.fixture
def scope_tree(db) -> Tree:
    return make_tree()


@pytest.fixture
def tree(db) -> Tree:
    return make_tree()


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools(django_db_setup, django_db_blocker):
    # On PostgreSQL each process keeps a connection pool (config/settings/base.py); its idle
    # connections must be closed before the test database can be dropped.
    yield
    from django.db import connections

    for alias in connections:
        close_pool = getattr(connections[alias], "close_pool", None)
        if close_pool is not None:
            close_pool()
