from partyedu.core.scope import has_action, minimal_paths, subtree_q, user_scope
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import make_member, make_user


def test_minimal_paths_drops_paths_inside_others():
    assert minimal_paths(["0001", "00010002", "0002", "00020001"]) == ("0001", "0002")


def test_role_covers_the_whole_subtree(tree):
    user = make_user(role="org_admin", org=tree.district_a)
    visible = set(Organization.objects.restrict(user, "view").values_list("pk", flat=True))
    assert visible == {tree.district_a.pk, tree.branch_a.pk, tree.group_a.pk}


def test_sibling_subtree_is_invisible(tree):
    make_member(tree.branch_b, "李四")
    user = make_user(role="org_admin", org=tree.district_a)
    assert not Member.objects.restrict(user, "view").exists()


def test_user_without_roles_sees_nothing(tree):
    make_member(tree.branch_a)
    assert Member.objects.restrict(make_user(), "view").count() == 0


def test_member_role_sees_only_own_record(tree):
    user = make_user(role="member", org=tree.branch_a)
    own = make_member(tree.branch_a, "王五")
    Member.objects.filter(pk=own.pk).update(user=user)
    make_member(tree.branch_a, "赵六")
    assert list(Member.objects.restrict(user, "view")) == [own]


def test_action_not_granted_gives_nothing(tree):
    make_member(tree.branch_a)
    user = make_user(role="branch_admin", org=tree.branch_a)
    assert Member.objects.restrict(user, "delete").count() == 0
    assert Member.objects.restrict(user, "view").count() == 1


def test_app_specific_action_does_not_leak_to_other_apps(tree):
    user = make_user(role="sysadmin", org=tree.root)
    assert has_action(user, "view", "organizations")
    assert not has_action(user, "view", "members")


def test_several_roles_are_united(tree):
    user = make_user(role="branch_admin", org=tree.branch_a)
    from partyedu.accounts.services import role_assign

    role_assign(actor=None, user=user, role_code="branch_admin", organization=tree.branch_b)
    assert user_scope(user, "view", "members").paths == tuple(
        sorted([tree.branch_a.path, tree.branch_b.path])
    )


def test_deactivated_org_grants_nothing(tree):
    user = make_user(role="org_admin", org=tree.district_b)
    Organization.objects.filter(pk=tree.district_b.pk).update(is_active=False)
    assert user_scope(user, "view", "members").empty


def test_subtree_q_matches_prefix_range_only(tree):
    rows = Organization.objects.filter(subtree_q("path", [tree.branch_a.path]))
    assert set(rows) == {tree.branch_a, tree.group_a}


def test_wildcards_do_not_reach_accounts_or_audit(tree):
    user = make_user(role="branch_admin", org=tree.branch_a)
    assert not has_action(user, "view", "accounts")
    assert not has_action(user, "view_audit", "core")
