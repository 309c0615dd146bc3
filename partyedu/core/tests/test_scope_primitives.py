"""The primitives every app decides scope with (``partyedu.core.scope``)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from partyedu.accounts.choices import RoleCode
from partyedu.core.scope import (
    POLICY_ROLE,
    can,
    can_set_policy,
    is_system,
    policy_paths,
    require,
    require_anywhere,
    require_policy,
    scope_for,
)
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_member, make_user


def test_policy_role_is_the_org_admin_role_code():
    assert POLICY_ROLE == RoleCode.ORG_ADMIN


def test_scope_covers_the_subtree_of_the_role(tree):
    scope = scope_for(make_user(role="org_admin", org=tree.district_a), "view", "members")
    assert scope.covers(tree.branch_a.path)
    assert not scope.covers(tree.branch_b.path)


def test_scope_q_filters_any_path_field(tree):
    inside, _outside = make_member(tree.branch_a, "甲"), make_member(tree.branch_b, "乙")
    scope = scope_for(make_user(role="org_admin", org=tree.district_a), "view", "members")
    assert list(Member.objects.filter(scope.q("org_path"))) == [inside]


def test_scope_q_without_subtrees_matches_nothing(tree):
    make_member(tree.branch_a)
    assert not Member.objects.filter(scope_for(make_user(), "view", "members").q("org_path")).exists()


def test_restrict_reads_the_right_of_another_app(tree):
    make_member(tree.branch_a)
    # A 讲师-like right over learning only: the member rows are visible for learning, not for members.
    user = make_user(role="org_admin", org=tree.district_a)
    assert Member.objects.restrict(user, "view", app_label="learning").count() == 1
    assert Member.objects.restrict(make_user(), "view", app_label="learning").count() == 0


def test_can_accepts_an_organisation_or_its_path(tree):
    user = make_user(role="org_admin", org=tree.district_a)
    assert can(user, "change", tree.branch_a, app_label="study")
    assert can(user, "change", tree.branch_a.path, app_label="study")
    assert not can(user, "change", tree.branch_b, app_label="study")
    assert not can(user, "change", None, app_label="study")


def test_require_raises_with_the_given_message(tree):
    user = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied, match="不归你管"):
        require(user, "change", tree.branch_b, app_label="study", message="不归你管")


def test_require_lets_the_system_through(tree):
    require(None, "delete", tree.branch_b, app_label="study")


def test_anonymous_user_is_not_the_system(tree):
    assert not is_system(AnonymousUser())
    with pytest.raises(PermissionDenied):
        require(AnonymousUser(), "view", tree.branch_a, app_label="study")


def test_require_anywhere_refuses_a_user_without_the_action(tree):
    require_anywhere(make_user(role="org_admin", org=tree.district_a), "view", app_label="study")
    with pytest.raises(PermissionDenied, match="您没有执行此操作的权限"):
        require_anywhere(make_user(), "view", app_label="study")


def test_policy_is_set_by_org_admins_only(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    assert policy_paths(admin) == (tree.district_a.path,)
    assert can_set_policy(admin, tree.branch_a)
    assert not can_set_policy(admin, tree.branch_b)
    assert not can_set_policy(secretary)
    with pytest.raises(PermissionDenied, match="规定由组织部门"):
        require_policy(secretary, tree.branch_a, "规定由组织部门设定")


def _ids_by_restrict_sql(user, action="view", app_label=None):
    from django.db import connection

    from partyedu.core.scope import restrict_sql

    condition, params = restrict_sql(Member, user, action, alias="m", app_label=app_label)
    table = connection.ops.quote_name(Member._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT m.id FROM {table} m WHERE {condition}", params)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(
    ("role", "where", "app_label"),
    [
        ("org_admin", "root", None),
        ("org_admin", "district_a", None),
        ("branch_admin", "branch_b", None),
        ("member", "branch_a", "points"),
        (None, None, None),
    ],
)
def test_restrict_sql_finds_the_rows_restrict_finds(tree, role, where, app_label):
    inside = make_member(tree.branch_a, "甲")
    make_member(tree.branch_b, "乙")
    user = make_user(role=role, org=getattr(tree, where)) if role else make_user()
    inside.user = user if role == "member" else None
    inside.save(update_fields=["user"])
    expected = set(Member.objects.restrict(user, "view", app_label=app_label).values_list("pk", flat=True))
    assert _ids_by_restrict_sql(user, app_label=app_label) == expected


def test_restrict_sql_refuses_a_scope_through_a_join(tree):
    from partyedu.core.scope import restrict_sql
    from partyedu.members.models import MemberTransfer

    admin = make_user(role="org_admin", org=tree.root)
    with pytest.raises(ValueError, match="not a column of its own"):
        restrict_sql(MemberTransfer, admin, alias="t")
