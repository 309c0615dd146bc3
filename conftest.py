import pytest

from partyedu.core.testing import Tree, make_tree


@pytest.fixture
def scope_tree(db) -> Tree:
    return make_tree()


@pytest.fixture
def tree(db) -> Tree:
    return make_tree()
