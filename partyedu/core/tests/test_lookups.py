"""``field__any=[…]`` (core.lookups): the rows ``__in`` finds, one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partyedu.members.models import Member
from partyedu.testsupport.factories import make_member

pytestmark = pytest.mark.django_db


def test_any_finds_the_rows_in_finds(tree):
    members = [make_member(tree.branch_a, f"甲{n}") for n in range(3)]
    ids = [members[0].pk, members[2].pk]
    assert set(Member.objects.filter(pk__any=ids)) == set(Member.objects.filter(pk__in=ids))


def test_any_through_a_foreign_key_finds_the_rows(tree):
    member = make_member(tree.branch_a, "甲")
    make_member(tree.branch_b, "乙")
    found = Member.objects.filter(organization__any=[tree.branch_a.pk]).values_list("pk", flat=True)
    assert list(found) == [member.pk]


def test_any_of_nothing_matches_nothing(tree):
    make_member(tree.branch_a, "甲")
    assert not Member.objects.filter(pk__any=[]).exists()


def test_any_sends_one_parameter_on_postgresql(tree):
    make_member(tree.branch_a, "甲")
    with CaptureQueriesContext(connection) as queries:
        list(Member.objects.filter(pk__any=list(range(1, 2001))).values_list("pk", flat=True))
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "ANY(" in sql
    else:
        assert sql.count(",") >= 1999
