"""``derive.scheme_of``: one member's scheme in force, as ``schemes_for`` finds it, in one query."""

from __future__ import annotations

import pytest

from partyedu.points.models import PointsScheme
from partyedu.points.services.derive import members_state, scheme_of, schemes_for
from partyedu.testsupport.factories import make_member

from .conftest import YEAR, items, scheme

pytestmark = pytest.mark.django_db


def test_scheme_of_is_the_nearest_scheme_up_the_path(tree):
    scheme(tree.root)
    refined = items()
    refined[0]["points"] = "3"
    scheme(tree.district_a, item_list=refined)
    member = make_member(tree.branch_a, "甲")
    state = members_state([member.pk])[member.pk]
    found = scheme_of(state, YEAR)
    assert found == schemes_for({member.pk: state}, {YEAR})[(member.pk, YEAR)]
    codes = [i.code for i in found.item_list]  # type: ignore[attr-defined]
    assert codes == [i["code"] for i in refined]


def test_scheme_of_reads_one_query(tree, django_assert_num_queries):
    scheme(tree.root)
    member = make_member(tree.branch_a, "甲")
    state = members_state([member.pk])[member.pk]
    with django_assert_num_queries(1):
        found = scheme_of(state, YEAR)
    assert found is not None and found.organization == tree.root


def test_scheme_of_finds_a_scheme_without_items(tree):
    scheme(tree.root)
    bare = PointsScheme.objects.create(organization=tree.district_a, year=YEAR, name="空方案")
    member = make_member(tree.branch_a, "甲")
    found = scheme_of(members_state([member.pk])[member.pk], YEAR)
    assert found == bare and found.item_list == []  # type: ignore[attr-defined]


def test_scheme_of_a_candidate_is_the_candidates_scheme(tree):
    scheme(tree.root)
    candidate = make_member(tree.branch_a, "积极分子", status="activist")
    assert scheme_of(members_state([candidate.pk])[candidate.pk], YEAR) is None
