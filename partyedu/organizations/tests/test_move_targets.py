"""移动 is offered only where there is somewhere to move to (issue 11, everyday paths)."""

from django.urls import reverse

from partyedu.organizations.choices import parent_levels_for
from partyedu.organizations.selectors import organization_move_targets
from partyedu.testsupport.factories import make_org, make_user


def test_a_group_may_stand_only_under_a_branch():
    assert parent_levels_for("group") == {"branch"}


def test_targets_fit_the_level_and_leave_out_the_own_subtree_and_the_parent(tree):
    admin = make_user(role="org_admin", org=tree.root)
    targets = set(organization_move_targets(user=admin, org=tree.branch_a))
    assert targets == {tree.root, tree.district_b}


def test_no_move_button_when_nothing_in_scope_can_hold_the_organisation(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.branch_a))
    html = client.get(reverse("organizations:detail", args=[tree.group_a.pk])).content.decode()
    assert reverse("organizations:move", args=[tree.group_a.pk]) not in html
    assert reverse("organizations:edit", args=[tree.group_a.pk]) in html


def test_move_button_when_another_branch_in_scope_can_hold_the_group(client, tree):
    make_org(tree.district_a, "甲二支部")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("organizations:detail", args=[tree.group_a.pk])).content.decode()
    assert reverse("organizations:move", args=[tree.group_a.pk]) in html
