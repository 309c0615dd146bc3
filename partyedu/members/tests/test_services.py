from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.members.models import MemberTransfer
from partyedu.members.selectors import member_list
from partyedu.members.services import member_create, member_leave_roll, member_transfer, member_update
from partyedu.testsupport.factories import make_member, make_user, valid_id_number


def test_create_derives_birth_date_and_gender_from_id(tree):
    member = member_create(
        actor=None, data={"organization": tree.branch_a, "name": "李梅", "id_number": "11010519491231002X"}
    )
    assert member.birth_date == date(1949, 12, 31)
    assert member.gender == "F"


def test_bad_checksum_is_refused_on_id_field(tree):
    with pytest.raises(ValidationError) as exc:
        member_create(
            actor=None, data={"organization": tree.branch_a, "name": "x", "id_number": "110105194912310021"}
        )
    assert "校验位" in exc.value.message_dict["id_number"][0]


def test_birth_date_must_match_id(tree):
    with pytest.raises(ValidationError) as exc:
        member_create(
            actor=None,
            data={
                "organization": tree.branch_a,
                "name": "x",
                "id_number": "11010519491231002X",
                "birth_date": date(1950, 1, 1),
            },
        )
    assert "birth_date" in exc.value.message_dict


def test_gender_must_match_id(tree):
    with pytest.raises(ValidationError) as exc:
        member_create(
            actor=None,
            data={
                "organization": tree.branch_a,
                "name": "x",
                "id_number": "11010519491231002X",
                "gender": "M",
            },
        )
    assert "gender" in exc.value.message_dict


def test_member_cannot_be_in_two_branches(tree):
    number = valid_id_number()
    make_member(tree.branch_a, id_number=number)
    with pytest.raises(ValidationError) as exc:
        make_member(tree.branch_b, id_number=number)
    assert "只能编入一个党支部" in exc.value.message_dict["id_number"][0]


def test_member_must_be_in_branch_or_group(tree):
    with pytest.raises(ValidationError) as exc:
        make_member(tree.district_a)
    assert "organization" in exc.value.message_dict


def test_create_outside_scope_is_refused(tree):
    actor = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        member_create(
            actor=actor, data={"organization": tree.branch_b, "name": "x", "id_number": valid_id_number()}
        )


def test_exemption_needs_a_reason(tree):
    with pytest.raises(ValidationError) as exc:
        make_member(tree.branch_a, is_exempt=True)
    assert "exempt_reason" in exc.value.message_dict


def test_unknown_category_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        make_member(tree.branch_a, categories=["astronaut"])
    assert "categories" in exc.value.message_dict


def test_bad_phone_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        make_member(tree.branch_a, phone="12345")
    assert "phone" in exc.value.message_dict


def test_update_cannot_change_org_directly(tree):
    member = make_member(tree.branch_a)
    with pytest.raises(ValidationError):
        member_update(actor=None, member=member, data={"organization": tree.branch_b})


def test_update_audits_changed_fields_without_pii(tree):
    member = make_member(tree.branch_a, phone="13812345678")
    member_update(actor=None, member=member, data={"name": "张三丰", "phone": "13900001111"})
    row = AuditLog.objects.filter(action="update", object_id=str(member.pk)).get()
    assert row.changes["name"] == ["张三", "张三丰"]
    assert row.changes["phone"] == ["***", "***"]


def test_transfer_moves_member_and_keeps_history(tree):
    member = make_member(tree.branch_a)
    member_transfer(actor=None, member=member, to_organization=tree.branch_b, reason="工作调动")
    member.refresh_from_db()
    assert member.organization == tree.branch_b
    transfer = MemberTransfer.objects.get(member=member)
    assert (transfer.from_organization, transfer.to_organization) == (tree.branch_a, tree.branch_b)


def test_transfer_to_same_org_is_refused(tree):
    member = make_member(tree.branch_a)
    with pytest.raises(ValidationError):
        member_transfer(actor=None, member=member, to_organization=tree.branch_a)


def test_transfer_target_outside_scope_is_refused(tree):
    member = make_member(tree.branch_a)
    actor = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        member_transfer(actor=actor, member=member, to_organization=tree.branch_b)


def test_search_by_pinyin_initials(tree):
    make_member(tree.branch_a, "张三")
    make_member(tree.branch_a, "李四")
    user = make_user(role="org_admin", org=tree.root)
    assert [m.name for m in member_list(user=user, filters={"q": "zs"})] == ["张三"]


def test_search_by_full_id_number(tree):
    number = valid_id_number()
    make_member(tree.branch_a, "张三", id_number=number)
    make_member(tree.branch_a, "李四")
    user = make_user(role="org_admin", org=tree.root)
    assert [m.name for m in member_list(user=user, filters={"q": number})] == ["张三"]


def test_filter_by_category(tree):
    make_member(
        tree.branch_a, "张三", categories=["retired", "frail"], is_exempt=True, exempt_reason="年老体弱"
    )
    make_member(tree.branch_a, "李四", categories=["employed"])
    user = make_user(role="org_admin", org=tree.root)
    assert [m.name for m in member_list(user=user, filters={"category": "retired"})] == ["张三"]


def test_filter_by_subtree(tree):
    make_member(tree.group_a, "张三")
    make_member(tree.branch_b, "李四")
    user = make_user(role="org_admin", org=tree.root)
    assert [m.name for m in member_list(user=user, filters={"organization": tree.district_a})] == ["张三"]


def test_soft_deleted_members_hidden_by_default(tree):
    member = make_member(tree.branch_a)
    member_leave_roll(actor=None, member=member, reason="去世")
    user = make_user(role="org_admin", org=tree.root)
    assert member_list(user=user).count() == 0


def test_leaving_the_roll_needs_a_reason(tree):
    member = make_member(tree.branch_a)
    with pytest.raises(ValidationError):
        member_leave_roll(actor=None, member=member, reason="")


def test_leaving_the_roll_keeps_counts_exact(tree):
    from partyedu.members.services import member_summaries_rebuild

    member = make_member(tree.branch_a)
    member_leave_roll(actor=None, member=member, reason="去世")
    assert member_summaries_rebuild() == {"member_paths": 0, "member_counts": 0}
