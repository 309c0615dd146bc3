from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.accounts.selectors import can_see_pii, user_list
from partyedu.accounts.services import (
    pii_grant_create,
    pii_grant_revoke,
    role_assign,
    role_revoke,
    user_create,
)
from partyedu.core.models import AuditLog
from partyedu.core.scope import has_action
from partyedu.testsupport.factories import PASSWORD, make_user


def test_secadmin_assigns_a_role_and_it_takes_effect(tree):
    secadmin = make_user(role="secadmin", org=tree.root)
    user = make_user()
    role_assign(actor=secadmin, user=user, role_code="branch_admin", organization=tree.branch_a)
    assert has_action(user, "view", "members")
    assert AuditLog.objects.filter(action="grant", user=secadmin).exists()


def test_org_admin_cannot_grant_roles(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        role_assign(actor=admin, user=make_user(), role_code="branch_admin", organization=tree.branch_a)


def test_sysadmin_cannot_grant_roles(tree):
    sysadmin = make_user(role="sysadmin", org=tree.root)
    with pytest.raises(PermissionDenied):
        role_assign(actor=sysadmin, user=make_user(), role_code="auditor", organization=tree.root)


def test_revoked_role_stops_working(tree):
    user = make_user(role="org_admin", org=tree.district_a)
    role_revoke(actor=None, assignment=user.role_assignments.get())
    assert not has_action(user, "view", "members")


def test_unknown_role_is_refused(tree):
    with pytest.raises(ValidationError):
        role_assign(actor=None, user=make_user(), role_code="king", organization=tree.root)


def test_pii_grant_covers_subtree_only(tree):
    user = make_user(role="org_admin", org=tree.root)
    pii_grant_create(actor=None, user=user, organization=tree.district_a, reason="换届核查")
    assert can_see_pii(user, tree.group_a.path)
    assert not can_see_pii(user, tree.branch_b.path)


def test_expired_pii_grant_is_ignored(tree):
    user = make_user()
    pii_grant_create(
        actor=None,
        user=user,
        organization=tree.root,
        reason="x",
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    assert not can_see_pii(user, tree.branch_a.path)


def test_revoked_pii_grant_is_ignored(tree):
    user = make_user()
    grant = pii_grant_create(actor=None, user=user, organization=tree.root, reason="x")
    pii_grant_revoke(actor=None, grant=grant)
    assert not can_see_pii(user, tree.branch_a.path)


def test_pii_grant_needs_a_reason(tree):
    with pytest.raises(ValidationError):
        pii_grant_create(actor=None, user=make_user(), organization=tree.root, reason=" ")


def test_duplicate_username_is_refused(db):
    make_user("same")
    with pytest.raises(ValidationError) as exc:
        user_create(actor=None, username="same", password=PASSWORD)
    assert "username" in exc.value.message_dict


def test_duplicate_mobile_is_refused(db):
    make_user(mobile="13800000000")
    with pytest.raises(ValidationError) as exc:
        user_create(actor=None, username="other", password=PASSWORD, mobile="13800000000")
    assert "mobile" in exc.value.message_dict


def test_user_list_is_empty_for_plain_members(tree):
    member_user = make_user(role="member", org=tree.branch_a)
    assert user_list(user=member_user).count() == 0
