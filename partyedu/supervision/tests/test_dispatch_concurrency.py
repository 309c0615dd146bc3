"""Retries at the same moment never double a row (PostgreSQL only: SQLite serialises writers)."""

from __future__ import annotations

import pytest
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.testsupport.factories import make_user

from ..models.dispatch import Dispatch, DispatchFeedback, DispatchRecipient
from ..services.dispatch import dispatch_create, dispatch_feedback_submit
from .dispatch_helpers import in_days, make_dispatch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test's flush also empties the roles written by a migration.
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def test_the_same_dispatch_sent_twice_at_once_is_written_once(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    admin = make_user("a1", role="org_admin", org=tree.root)

    def send():
        return dispatch_create(
            actor=admin, organization=tree.root, title="数据报送", due=in_days(3), target_level="branch"
        ).pk

    results = run_at_once(send, send)
    assert len(set(results)) == 1
    assert Dispatch.objects.count() == 1
    assert DispatchRecipient.objects.count() == 2


def test_two_first_answers_at_once_make_one_feedback(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    dispatch = make_dispatch(tree.root)
    first = make_user("s1", role="branch_admin", org=tree.branch_a)
    second = make_user("s2", role="branch_admin", org=tree.branch_a)
    run_at_once(
        lambda: dispatch_feedback_submit(
            actor=first, dispatch=dispatch, organization=tree.branch_a, text="一"
        ),
        lambda: dispatch_feedback_submit(
            actor=second, dispatch=dispatch, organization=tree.branch_a, text="二"
        ),
        atomic=True,
    )
    assert DispatchFeedback.objects.count() == 1
