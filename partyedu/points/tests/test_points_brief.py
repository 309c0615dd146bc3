"""``selectors.member_points_brief``: the API's read of a member's year — the same answer as
``member_points`` from hand-written statements, the scheme's items kept in memory by version."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from django.http import Http404

from partyedu.core.api.serializers import plain_data
from partyedu.points import selectors
from partyedu.points.api.serializers import MemberPointsSerializer
from partyedu.points.models import PointsScheme
from partyedu.points.services import scheme_create, scheme_update, veto_record
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, at, items, mark, meeting, member_moved_between_schemes, scheme

pytestmark = pytest.mark.django_db


def answer(read: Any, user: Any, member: Any) -> Any:
    try:
        return plain_data(MemberPointsSerializer, read(user=user, member=member.pk, year=YEAR))
    except Http404:
        return "404"


def full(**kwargs: Any) -> Any:
    return selectors.member_points(with_manual=False, **kwargs)


def assert_same_for(user: Any, *members: Any) -> None:
    for member in members:
        assert answer(selectors.member_points_brief, user, member) == answer(full, user, member)


def test_brief_equals_member_points_over_the_caps_and_a_veto(tree):
    member, vetoed = make_member(tree.branch_a, "甲"), make_member(tree.branch_a, "乙")
    scheme(tree.root)
    for day in (3, 5, 7):  # the third passes the month's cap
        mark(meeting(tree.branch_a, at(3, day)), member)
        mark(meeting(tree.branch_a, at(4, day)), vetoed)
    veto_record(actor=None, member=vetoed, year=YEAR, category="discipline", reason="受到党内警告处分")
    admin = make_user(role="org_admin", org=tree.root)
    body = answer(selectors.member_points_brief, admin, vetoed)
    assert body["vetoed"] is True and body["total"] == "0.0"
    assert_same_for(admin, member, vetoed)


def test_brief_equals_member_points_for_a_member_who_moved_between_schemes(tree):
    member = member_moved_between_schemes(tree)
    assert_same_for(make_user(role="org_admin", org=tree.root), member)
    assert_same_for(make_user(role="org_admin", org=tree.district_b), member)


def test_brief_scores_a_candidate_by_the_candidates_scheme_or_none(tree):
    scheme(tree.root)
    candidate = make_member(tree.branch_a, "积极分子", status="activist")
    admin = make_user(role="org_admin", org=tree.root)
    assert answer(selectors.member_points_brief, admin, candidate)["by_item"] == []
    scheme_create(
        actor=None, organization=tree.root, year=YEAR, base="50", items=items(), audience="candidates"
    )
    assert answer(selectors.member_points_brief, admin, candidate)["base"] == "50.0"
    assert_same_for(admin, candidate)


def test_brief_is_404_outside_the_scope_as_member_points_is(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    sibling = make_user(role="branch_admin", org=tree.branch_b)
    assert answer(selectors.member_points_brief, sibling, member) == "404"
    assert_same_for(sibling, member)
    assert_same_for(make_user(), member)


def test_brief_lets_a_party_member_read_only_their_own_year(tree):
    own, other = make_member(tree.branch_a, "甲"), make_member(tree.branch_a, "乙")
    scheme(tree.root)
    user = make_user(role="member", org=tree.branch_a)
    own.user = user
    own.save(update_fields=["user"])
    assert answer(selectors.member_points_brief, user, own) != "404"
    assert answer(selectors.member_points_brief, user, other) == "404"
    assert_same_for(user, own, other)


def test_nothing_read_inside_a_transaction_is_kept_in_memory(tree):
    member = make_member(tree.branch_a, "甲")
    scheme(tree.root)
    selectors._SCHEMES.clear()
    selectors.member_points_brief(
        user=make_user(role="org_admin", org=tree.root), member=member.pk, year=YEAR
    )
    assert selectors._SCHEMES == {}


def test_a_scheme_read_once_is_served_from_memory_until_it_changes(
    tree, monkeypatch, django_assert_num_queries
):
    member = make_member(tree.branch_a, "甲")
    city = scheme(tree.root)
    mark(meeting(tree.branch_a, at(3)), member)
    client = api_client(make_user(role="org_admin", org=tree.root))
    monkeypatch.setattr(selectors, "_SCHEMES", OrderedDict())
    monkeypatch.setattr(selectors, "_may_keep", lambda: True)  # as outside the test's transaction
    url = f"/api/v1/members/{member.pk}/points/?year={YEAR}"
    assert client.get(url).status_code == 200
    # token, role grants, the member with the ids of their veto and scheme in force, the lines
    with django_assert_num_queries(4):
        client.get(url)
    renamed = items()
    renamed[0]["name"] = "参加组织生活（新）"
    scheme_update(
        actor=None, scheme=PointsScheme.objects.get(pk=city.pk), base="60", items=renamed, background=False
    )
    names = {i["code"]: i["name"] for i in client.get(url).json()["by_item"]}
    assert names[renamed[0]["code"]] == "参加组织生活（新）"


@pytest.mark.parametrize("pk", [0, 2**63, 10**20])
def test_an_id_no_member_can_have_is_404_not_an_error(tree, pk):
    admin = make_user(role="org_admin", org=tree.root)
    response = api_client(admin).get(f"/api/v1/members/{pk}/points/?year={YEAR}")
    assert response.status_code == 404


def test_only_the_scheme_services_write_items():
    """The kept items are versioned by their scheme's ``updated_at``: a module writing items
    without saving the scheme would leave the API reading an old version."""
    import re
    from pathlib import Path

    import partyedu

    writes = re.compile(
        r"PointsItem\.objects\.(create|bulk_create|bulk_update|update_or_create|get_or_create)\b"
    )
    writers = {
        str(path.relative_to(Path(partyedu.__file__).parent))
        for path in Path(partyedu.__file__).parent.rglob("*.py")
        if "tests" not in path.parts
        and "migrations" not in path.parts
        and writes.search(path.read_text("utf-8"))
    }
    assert writers == {"points/services/schemes.py"}


def test_beyond_the_limit_the_least_recently_read_scheme_is_dropped(tree, monkeypatch):
    in_a, in_b = make_member(tree.branch_a, "甲"), make_member(tree.branch_b, "乙")
    scheme(tree.root)
    district = scheme(tree.district_b)
    monkeypatch.setattr(selectors, "_SCHEMES", OrderedDict())
    monkeypatch.setattr(selectors, "_SCHEMES_MAX", 1)
    monkeypatch.setattr(selectors, "_may_keep", lambda: True)
    admin = make_user(role="org_admin", org=tree.root)
    for member in (in_a, in_b):
        selectors.member_points_brief(user=admin, member=member.pk, year=YEAR)
    assert [scheme_id for scheme_id, _changed in selectors._SCHEMES] == [district.pk]
