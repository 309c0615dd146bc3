"""Selectors of organisations (and the sizing advice members give them) read nothing of an
organisation outside the viewer's scope."""

from __future__ import annotations

import pytest

from partyedu.members.selectors import member_transfers, sizing_warnings
from partyedu.members.services import member_transfer
from partyedu.organizations.selectors import child_counts, organization_ancestors
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db


def test_ancestors_of_an_organisation_outside_the_scope_are_none(tree: Tree) -> None:
    # given: an administrator of 乙区委 only
    outsider = make_user(role="org_admin", org=tree.district_b)

    # then: 甲一第一党小组 has no ancestors for them, while its own administrator sees the chain
    assert list(organization_ancestors(user=outsider, org=tree.group_a)) == []
    inside = make_user(role="branch_admin", org=tree.group_a)
    assert list(organization_ancestors(user=inside, org=tree.group_a)) == [
        tree.root,
        tree.district_a,
        tree.branch_a,
    ]


def test_child_counts_count_only_children_in_the_scope(tree: Tree) -> None:
    outsider = make_user(role="org_admin", org=tree.district_b)
    city = make_user(role="org_admin", org=tree.root)

    assert child_counts(user=city, orgs=[tree.root, tree.district_a]) == {
        tree.root.pk: 2,
        tree.district_a.pk: 1,
    }
    assert child_counts(user=outsider, orgs=[tree.root, tree.district_a]) == {
        tree.root.pk: 1,
        tree.district_a.pk: 0,
    }


def test_no_sizing_advice_outside_the_scope(tree: Tree) -> None:
    # given: 甲一支部 with one member, too few for a branch
    make_member(tree.branch_a)
    inside = make_user(role="branch_admin", org=tree.branch_a)
    outsider = make_user(role="org_admin", org=tree.district_b)

    assert any("少于3名" in w for w in sizing_warnings(user=inside, org=tree.branch_a))
    # a system administrator (organisations right only) sees the advice of the branches they see
    sysadmin = make_user(role="sysadmin", org=tree.root)
    assert any("少于3名" in w for w in sizing_warnings(user=sysadmin, org=tree.branch_a))
    assert sizing_warnings(user=outsider, org=tree.branch_a) == []


def test_transfers_of_a_member_outside_the_scope_are_none(tree: Tree) -> None:
    member = make_member(tree.branch_a)
    member_transfer(actor=None, member=member, to_organization=tree.branch_b, reason="工作调动")
    member.refresh_from_db()

    # the member's whole history for 乙区委, where the member now is; nothing for 甲区委
    assert member_transfers(user=make_user(role="org_admin", org=tree.district_b), member=member).count() == 1
    assert not member_transfers(user=make_user(role="org_admin", org=tree.district_a), member=member).exists()
