"""The hook registry through which lower apps cause work in higher ones."""

import pytest

from partyedu.core.hooks import HOOKS, HookRegistry, hooks


def test_an_undeclared_hook_cannot_be_registered():
    with pytest.raises(KeyError, match="declare it"):
        HookRegistry().register("nobody.declared_this", lambda: None)


def test_call_runs_every_registered_function_in_order():
    registry, seen = HookRegistry(), []
    registry.register("members.changed", lambda *, member_ids: seen.append(("a", member_ids)))
    registry.register("members.changed", lambda *, member_ids: seen.append(("b", member_ids)))
    registry.call("members.changed", member_ids=[1])
    assert seen == [("a", [1]), ("b", [1])]


def test_registering_the_same_function_twice_keeps_one():
    registry = HookRegistry()

    def work(*, member_ids):
        return len(member_ids)

    registry.register("members.changed", work)
    registry.register("members.changed", work)
    assert registry.call("members.changed", member_ids=[1, 2]) == [2]


def test_one_requires_exactly_one_function():
    with pytest.raises(LookupError):
        HookRegistry().one("scope.access_rows")


def test_the_accounts_app_answers_the_access_loader():
    assert len(hooks.registered("scope.access_rows")) == 1


def test_every_declared_hook_states_its_contract():
    assert all(contract.strip() for contract in HOOKS.values())
