"""Learning selectors that continue from an object read nothing outside the viewer's scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import Http404

from partyedu.learning.models import ResourceProgress
from partyedu.learning.selectors import (
    hour_requirement_inherited,
    learning_summary_from_rows,
    resource_progress_for,
)
from partyedu.learning.services import hour_requirement_set, resource_create
from partyedu.members.models import Member
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import jobs_run

pytestmark = pytest.mark.django_db


def test_summary_rows_of_an_organisation_outside_the_scope_are_none(tree: Tree) -> None:
    make_member(tree.branch_a)
    inside = make_user(role="branch_admin", org=tree.branch_a)
    outsider = make_user(role="org_admin", org=tree.district_b)

    assert learning_summary_from_rows(user=inside, organization=tree.branch_a, year=2026) is not None
    assert learning_summary_from_rows(user=outsider, organization=tree.branch_a, year=2026) is None


def test_progress_of_a_member_is_the_members_own_or_in_the_scope(tree: Tree) -> None:
    own = make_user(username="learner")
    member = make_member(tree.branch_a)
    Member.objects.filter(pk=member.pk).update(user=own)
    member.refresh_from_db()
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        kind="article",
        file=None,
        title="文章",
        body="x",
        duration_seconds=600,
    )
    ResourceProgress.objects.create(member=member, resource=resource)

    assert set(resource_progress_for(user=own, member=member, resource_ids=[resource.pk])) == {resource.pk}
    manager = make_user(role="branch_admin", org=tree.branch_a)
    assert set(resource_progress_for(user=manager, member=member, resource_ids=[resource.pk])) == {
        resource.pk
    }
    outsider = make_user(role="org_admin", org=tree.district_b)
    assert resource_progress_for(user=outsider, member=member, resource_ids=[resource.pk]) == {}


def test_the_inherited_rule_of_a_requirement_outside_the_scope_is_404(tree: Tree) -> None:
    with jobs_run():
        requirement = hour_requirement_set(
            actor=None, organization=tree.branch_a, data={"general_hours": Decimal("30")}
        ).requirement

    inside = make_user(role="org_admin", org=tree.district_a)
    assert hour_requirement_inherited(user=inside, requirement=requirement).organization is None
    with pytest.raises(Http404):
        hour_requirement_inherited(
            user=make_user(role="org_admin", org=tree.district_b), requirement=requirement
        )
