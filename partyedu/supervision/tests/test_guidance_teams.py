"""Guidance teams: the 督导员 roles a team confers and takes back, who may set up a team, and the
coverage of branches (未覆盖)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.accounts.services import role_assign
from partyedu.core.models import AuditLog
from partyedu.study.services import activity_record
from partyedu.supervision.models.guidance import GuidanceRoleGrant, GuidanceTeam
from partyedu.supervision.selectors import guidance as selectors
from partyedu.supervision.services import guidance as services
from partyedu.testsupport.factories import make_member, make_org, make_user

from .guidance_factories import a_team, an_inspector

pytestmark = pytest.mark.django_db


def inspector_roles(user):
    return set(
        RoleAssignment.objects.filter(user=user, role__code="inspector").values_list(
            "organization_id", flat=True
        )
    )


def an_activity(org, topic="标记活动"):
    start = timezone.now() - timedelta(days=1)
    return activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "theme_day",
            "start": start,
            "end": start + timedelta(hours=2),
            "topic": topic,
        },
    )


def test_a_team_member_gets_the_inspector_role_at_each_covered_organisation(tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    assert inspector_roles(user) == {tree.branch_a.pk}


def test_the_inspector_reads_covered_activities_and_gets_404_outside(client, tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    inside, outside = an_activity(tree.branch_a), an_activity(tree.branch_b)
    client.force_login(user)
    assert client.get(f"/study/activities/{inside.pk}/").status_code == 200
    assert client.get(f"/study/activities/{outside.pk}/").status_code == 404


def test_the_inspector_gets_403_on_member_pages(client, tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    make_member(tree.branch_a, "李四")
    client.force_login(user)
    assert client.get("/members/").status_code == 403


def test_the_inspector_cannot_record_activities(client, tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    client.force_login(user)
    assert client.get("/study/activities/new/").status_code == 403


def test_removing_the_coverage_takes_the_role_back(tree):
    user = make_user()
    team = a_team(tree.district_a, tree.branch_a, user)
    services.guidance_coverage_remove(actor=None, coverage=team.coverage.get())
    assert inspector_roles(user) == set()
    assert not GuidanceRoleGrant.objects.exists()


def test_a_role_given_by_the_security_administrator_is_never_removed_by_a_team(tree):
    user = make_user()
    role_assign(actor=None, user=user, role_code="inspector", organization=tree.branch_a)
    team = a_team(tree.district_a, tree.branch_a, user)
    services.guidance_team_update(actor=None, team=team, data={"is_active": False})
    assert inspector_roles(user) == {tree.branch_a.pk}


def test_another_active_team_keeps_the_role(tree):
    user = make_user()
    first = a_team(tree.district_a, tree.branch_a, user)
    a_team(tree.district_a, tree.branch_a, user)
    services.guidance_team_update(actor=None, team=first, data={"is_active": False})
    assert inspector_roles(user) == {tree.branch_a.pk}


def test_deactivating_the_last_team_takes_the_role_back(tree):
    user = make_user()
    team = a_team(tree.district_a, tree.branch_a, user)
    services.guidance_team_update(actor=None, team=team, data={"is_active": False})
    assert inspector_roles(user) == set()


def test_removing_a_member_takes_their_role_back(tree):
    leader, other = make_user(), make_user()
    team = a_team(tree.district_a, tree.branch_a, leader, other)
    services.guidance_member_remove(actor=None, member=team.members.get(user=other))
    assert inspector_roles(other) == set()
    assert inspector_roles(leader) == {tree.branch_a.pk}


def test_a_branch_secretary_may_not_set_up_a_team(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        services.guidance_team_create(
            actor=secretary, organization=tree.branch_a, name="自设指导组", year=2026
        )
    assert not GuidanceTeam.objects.exists()


def test_an_org_admin_sets_up_a_team_with_an_audit_row(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    team = services.guidance_team_create(actor=admin, organization=tree.district_a, name="第一组", year=2026)
    assert AuditLog.objects.filter(object_type="supervision.guidanceteam", object_id=str(team.pk)).exists()


def test_coverage_outside_the_owner_subtree_is_refused(tree):
    team = a_team(tree.district_a, tree.branch_a, make_user())
    with pytest.raises(ValidationError) as exc:
        services.guidance_coverage_add(actor=None, team=team, organization=tree.branch_b)
    assert "联系组织" in str(exc.value)


def test_a_duplicate_team_name_is_refused(tree):
    a_team(tree.district_a, tree.branch_a, make_user(), name="第一组")
    with pytest.raises(ValidationError):
        a_team(tree.district_a, tree.branch_a, make_user(), name="第一组")


def test_coverage_flags_branches_without_a_team(tree):
    admin = make_user(role="org_admin", org=tree.root)
    a_team(tree.district_a, tree.district_a, make_user())
    _branches, rows = selectors.coverage_branches(user=admin, organization=tree.root)
    uncovered, _ = selectors.coverage_branches(user=admin, organization=tree.root, uncovered_only=True)
    assert list(uncovered) == [tree.branch_b]
    assert selectors.coverage_summary(user=admin, organization=tree.root).uncovered == 1
    named = selectors.coverage_rows(user=admin, branches=[tree.branch_a], rows=rows)[0]
    assert named.team is not None and named.contact is not None


def test_the_team_set_service_replaces_members_and_coverage(tree):
    leader, extra = make_user(), make_user()
    extra_branch = make_org(tree.district_a, "甲二支部")
    team = a_team(tree.district_a, tree.branch_a, leader)
    services.guidance_team_set(
        actor=None, team=team, members=[leader, extra], coverage=[(extra_branch, extra.username)]
    )
    assert inspector_roles(extra) == {extra_branch.pk}
    assert inspector_roles(leader) == {extra_branch.pk}
    assert team.coverage.get().contact == extra


def test_a_contact_must_be_a_member(tree):
    team = a_team(tree.district_a, tree.branch_a, make_user())
    stranger = make_user()
    with pytest.raises(ValidationError):
        services.guidance_coverage_add(actor=None, team=team, organization=tree.branch_a, contact=stranger)


def test_lectures_to_inspect_include_those_just_held_and_not_older_ones(tree):
    from .guidance_factories import a_lecture

    inspector = an_inspector(tree.district_a, tree.branch_a)
    now = timezone.now()
    just_held = a_lecture(tree.branch_a, start=now - timedelta(days=2))
    coming = a_lecture(tree.branch_a, start=now + timedelta(days=5))
    a_lecture(tree.branch_a, start=now - timedelta(days=5))
    a_lecture(tree.branch_b, start=now + timedelta(days=1))
    found = selectors.upcoming_lectures_to_inspect(user=inspector)
    assert [lecture.pk for lecture in found] == [just_held.pk, coming.pk]
