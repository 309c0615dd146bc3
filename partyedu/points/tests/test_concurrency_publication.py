"""Publication, veto and objection answers written at the same moment (PostgreSQL only, as
``test_concurrency.py``: the PostgreSQL stage of CI fails when PostgreSQL is missing, the SQLite
stage skips). Two publications of one branch, year and period at once publish once (the
organisation's row is locked while checking for a running one); two vetoes of one member-year
record one (the member's row, and the partial unique constraint); two answers to one objection
append one correcting line (the objection's row)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from partyedu.core.testing import run_at_once
from partyedu.points.models import PointsEntry, PointsPublication, PointsVeto
from partyedu.points.services import objection_answer, objection_raise, veto_record
from partyedu.testsupport.factories import make_user

from .conftest import YEAR, assert_ledger_equals_rebuild
from .publishing import branch_with_points, publish

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()


def refused_or(call):
    """The call's result, or "refused" for its ValidationError (the loser of a race)."""

    def run():
        try:
            return call()
        except ValidationError:
            return "refused"

    return run


def test_two_publications_of_one_branch_at_once_publish_once(tree):
    branch_with_points(tree)

    results = run_at_once(*(refused_or(lambda: publish(tree.branch_a)) for _ in range(2)))

    assert sorted(r == "refused" for r in results) == [False, True]
    assert PointsPublication.objects.count() == 1


def test_two_vetoes_of_one_member_year_at_once_record_one(tree):
    member, _user, _line = branch_with_points(tree)

    def record():
        return veto_record(actor=None, member=member, year=YEAR, category="discipline", reason="违纪")

    results = run_at_once(refused_or(record), refused_or(record))

    assert sorted(r == "refused" for r in results) == [False, True]
    assert PointsVeto.objects.count() == 1


def test_two_answers_to_one_objection_at_once_append_one_line(tree):
    member, user, line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    objection = objection_raise(
        actor=user, publication=publication, member=member, item=line.item_id, reason="请过假", entry=line
    )
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    def answer():
        return objection_answer(
            actor=secretary, objection=objection, decision="upheld", answer="已核实", points="1"
        )

    results = run_at_once(refused_or(answer), refused_or(answer))

    assert sorted(r == "refused" for r in results) == [False, True]
    lines = PointsEntry.objects.filter(member=member, source_type="objection")
    assert [e.points for e in lines] == [Decimal("1")]
    assert_ledger_equals_rebuild()
