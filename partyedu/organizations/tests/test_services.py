import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.members.selectors import sizing_warnings
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import (
    member_counts,
    organization_ancestors,
    organization_get,
)
from partyedu.organizations.services import (
    decode_segment,
    encode_segment,
    organization_create,
    organization_deactivate,
    organization_move,
    organization_update,
    rebuild_org_paths,
)
from partyedu.testsupport.factories import make_member, make_org, make_user


def test_segments_round_trip():
    assert decode_segment(encode_segment(12345)) == 12345
    assert len(encode_segment(1)) == 4


def test_children_get_consecutive_paths(tree):
    assert tree.district_b.path == tree.root.path + "0002"
    assert tree.group_a.path.startswith(tree.branch_a.path)


def test_create_under_out_of_scope_parent_is_refused(tree):
    actor = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        organization_create(
            actor=actor,
            parent=tree.district_b,
            name="新支部",
            code="NEW1",
            level="branch",
            org_type="community",
        )


def test_create_checks_level_fits_parent(tree):
    with pytest.raises(ValidationError) as exc:
        organization_create(
            actor=None, parent=tree.group_a, name="x", code="X1", level="branch", org_type="other"
        )
    assert "level" in exc.value.message_dict


def test_duplicate_code_is_refused_by_field(tree):
    with pytest.raises(ValidationError) as exc:
        organization_create(
            actor=None,
            parent=tree.root,
            name="重复",
            code=tree.branch_a.code,
            level="committee",
            org_type="organ",
        )
    assert "code" in exc.value.message_dict


def test_move_rewrites_the_whole_subtree(tree):
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    tree.group_a.refresh_from_db()
    branch = Organization.objects.get(pk=tree.branch_a.pk)
    assert branch.path.startswith(tree.district_b.path)
    assert tree.group_a.path.startswith(branch.path)
    assert tree.group_a.depth == branch.depth + 1


def test_org_cannot_become_its_own_ancestor(tree):
    with pytest.raises(ValidationError) as exc:
        organization_move(actor=None, org=tree.district_a, new_parent=tree.branch_a)
    assert "parent" in exc.value.message_dict


def test_move_is_audited(tree):
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert AuditLog.objects.filter(action="move", object_id=str(tree.branch_a.pk)).exists()


def test_update_changes_name_and_initials(tree):
    org = organization_update(actor=None, org=tree.branch_a, data={"name": "张家村党支部"})
    assert org.name_initials.startswith(" zjc")


def test_update_refuses_path_fields(tree):
    with pytest.raises(ValidationError):
        organization_update(actor=None, org=tree.branch_a, data={"path": "0009"})


def test_deactivate_refuses_while_members_remain(tree):
    make_member(tree.branch_a)
    with pytest.raises(ValidationError):
        organization_deactivate(actor=None, org=tree.district_a)


def test_deactivate_covers_subtree(tree):
    organization_deactivate(actor=None, org=tree.district_b)
    assert not Organization.objects.get(pk=tree.branch_b.pk).is_active


def test_ancestors_are_root_first(tree):
    assert list(
        organization_ancestors(user=make_user(role="org_admin", org=tree.root), org=tree.group_a)
    ) == [tree.root, tree.district_a, tree.branch_a]


def test_member_counts_are_cumulative(tree):
    make_member(tree.branch_a, "甲")
    make_member(tree.group_a, "乙")
    make_member(tree.branch_b, "丙")
    orgs = Organization.objects.filter(
        pk__in=[tree.root.pk, tree.district_a.pk, tree.branch_a.pk, tree.group_a.pk]
    )
    counts = member_counts(list(orgs))
    assert counts == {tree.root.pk: 3, tree.district_a.pk: 2, tree.branch_a.pk: 2, tree.group_a.pk: 1}


def test_small_branch_warns(tree):
    make_member(tree.branch_b)
    assert any(
        "少于3名" in w
        for w in sizing_warnings(user=make_user(role="org_admin", org=tree.root), org=tree.branch_b)
    )


def test_organization_get_outside_scope_is_404(tree):
    from django.http import Http404

    with pytest.raises(Http404):
        organization_get(user=make_user(role="org_admin", org=tree.district_a), pk=tree.branch_b.pk)


def test_rebuild_repairs_broken_paths(tree):
    Organization.objects.filter(pk=tree.group_a.pk).update(path="ZZZZ", depth=0)
    rebuild_org_paths()
    group = Organization.objects.get(pk=tree.group_a.pk)
    branch = Organization.objects.get(pk=tree.branch_a.pk)
    assert group.path.startswith(branch.path) and group.depth == 3


def test_new_org_after_move_gets_a_fresh_path(tree):
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    newcomer = make_org(tree.district_a, "甲二支部")
    assert Organization.objects.filter(path=newcomer.path).count() == 1


def test_member_summaries_stay_exact_through_create_transfer_and_move(tree):
    from partyedu.members.services import member_summaries_rebuild, member_transfer

    member = make_member(tree.branch_a, "甲")
    make_member(tree.group_a, "乙")
    member_transfer(actor=None, member=member, to_organization=tree.branch_b)
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    assert member_summaries_rebuild() == {"member_paths": 0, "member_counts": 0}


def test_member_summaries_rebuild_repairs_drift(tree):
    from partyedu.members.models import Member
    from partyedu.members.services import member_summaries_rebuild

    member = make_member(tree.branch_a, "甲")
    Member.objects.filter(pk=member.pk).update(org_path="ZZZZ")
    Organization.objects.filter(pk=tree.branch_a.pk).update(member_count=9)
    assert member_summaries_rebuild() == {"member_paths": 1, "member_counts": 1}
    assert Organization.objects.get(pk=tree.branch_a.pk).member_count == 1
    assert Organization.objects.get(pk=tree.root.pk).member_count == 1


def test_moved_members_follow_their_organisation(tree):
    from partyedu.members.models import Member

    member = make_member(tree.group_a, "甲")
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    group = Organization.objects.get(pk=tree.group_a.pk)
    assert Member.objects.get(pk=member.pk).org_path == group.path


def test_move_carries_the_subtree_count_to_the_new_ancestors(tree):
    make_member(tree.group_a, "甲")
    make_member(tree.branch_a, "乙")
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    counts = dict(Organization.objects.values_list("pk", "member_count"))
    assert counts[tree.district_a.pk] == 0
    assert counts[tree.district_b.pk] == 2
    assert counts[tree.root.pk] == 2
