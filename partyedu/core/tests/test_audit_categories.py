"""The audit log reads a member's categories as their Chinese labels (brief H7 item 4): a JSON list of
choice codes is displayed through the choices its app declares (``core.choice_lists``), in the
before/after table and the facts alike, never as raw codes such as ["retired"]."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.audit_display import audit_changes, item_choices
from partyedu.core.models import AuditLog
from partyedu.members.choices import MemberCategory
from partyedu.members.models import Member
from partyedu.members.services import member_update
from partyedu.testsupport.factories import Tree, make_member, make_user


def test_member_categories_take_their_choices_from_the_members_app() -> None:
    assert item_choices(Member._meta.get_field("categories")) == dict(MemberCategory.choices)


def test_a_change_of_categories_shows_labels_on_both_sides() -> None:
    row = audit_changes("members.member", {"categories": [["retired"], ["employed", "frail"]]}).changed[0]
    assert (row.label, row.old, row.new) == ("党员类别", "离退休", "在职、年老体弱")


def test_a_new_members_two_categories_are_a_list_not_a_change() -> None:
    # Two codes are one value of the field, not an [old, new] pair.
    changes = audit_changes("members.member", {"categories": ["retired", "frail"]})
    assert changes.changed == []
    assert changes.facts[0].value == "离退休、年老体弱"


def test_a_created_members_categories_show_labels() -> None:
    row = audit_changes("members.member", {"after": {"categories": ["employed", "committee"]}}).created[0]
    assert row.new == "在职、支部委员"


def test_no_categories_show_as_a_dash_and_an_unknown_code_as_itself() -> None:
    row = audit_changes("members.member", {"categories": [[], ["astronaut"]]}).changed[0]
    assert (row.old, row.new) == ("—", "astronaut")


def test_another_json_field_is_not_read_as_categories() -> None:
    assert item_choices(AuditLog._meta.get_field("changes")) is None


@pytest.mark.django_db
def test_the_audit_page_shows_the_labels_of_changed_categories(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王小明", categories=["retired"])
    member_update(actor=None, member=member, data={"categories": ["employed", "frail"]})
    row = AuditLog.objects.filter(object_type="members.member", action="update").latest("id")
    client.force_login(make_user(role="auditor", org=tree.root))
    html = client.get(reverse("core:audit_detail", args=[row.pk])).content.decode()
    assert '<td data-label="原值">离退休</td><td data-label="新值">在职、年老体弱</td>' in html
    assert "retired" not in html and "frail" not in html
