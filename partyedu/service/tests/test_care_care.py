"""关怀帮扶: cases, visits and aid with the approval of the level above over the threshold, the
totals by organisation (the Jinan "12 aid payments worth ¥13,500" figure, derived), pairs, the
threshold policy, and exports that never hold a note."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.accounts.models import Role
from partyedu.core.models import AuditLog
from partyedu.service.models import CareCase, CarePair, CareVisit, ServicePolicy
from partyedu.service.selectors_care import aid_threshold, care_totals, pending_approvals
from partyedu.service.services.care import (
    care_case_create,
    care_case_end,
    care_export,
    care_pair_create,
    care_visit_approve,
    care_visit_record,
    service_policy_set,
)
from partyedu.service.todo_care import care_todos
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import make_case, make_visit, yesterday

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_a_case_needs_the_care_action_and_keeps_its_note_out_of_the_log(tree):
    member = make_member(tree.branch_a, "刘老党员")
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    case = care_case_create(
        actor=secretary, member=member, kind="alone", since=yesterday(), note="独居，行动不便"
    )

    assert case.note == "独居，行动不便"
    log = AuditLog.objects.get(object_type="service.carecase", object_id=str(case.pk))
    assert "独居" not in str(log.changes)
    with pytest.raises(PermissionDenied):
        care_case_create(
            actor=make_user(role="member", org=tree.branch_a), member=member, kind="alone", since=yesterday()
        )


def test_without_the_care_action_a_secretary_records_no_care(tree):
    role = Role.objects.get(code="branch_admin")
    role.actions = [a for a in role.actions if a != "service.care"]
    role.save()
    member = make_member(tree.branch_a, "刘老党员")

    with pytest.raises(PermissionDenied):
        care_case_create(
            actor=make_user(role="branch_admin", org=tree.branch_a),
            member=member,
            kind="alone",
            since=yesterday(),
        )


def test_one_open_case_of_a_kind_per_member_and_a_case_ends_once(tree):
    member = make_member(tree.branch_a, "刘老党员")
    case = make_case(member)
    with pytest.raises(ValidationError) as caught:
        make_case(member)
    assert "在办" in caught.value.message_dict["kind"][0]

    care_case_end(actor=None, case=case, ended_on=TODAY())
    with pytest.raises(ValidationError):
        care_case_end(actor=None, case=case, ended_on=TODAY())
    assert CareCase.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"date": "tomorrow"}, "date", "不能晚于今天"),
        ({"amount": "-5"}, "amount", "金额须为0到"),
        ({"amount": "abc"}, "amount", "金额须为数字"),
        ({"amount": "200", "fund_source": ""}, "fund_source", "资金来源"),
        ({"aid_kind": "cash", "amount": "0", "fund_source": ""}, "amount", "请填写金额"),
        ({"aid_kind": "bribe"}, "aid_kind", "请选择帮扶方式"),
    ],
)
def test_bad_visits_name_the_field_and_write_nothing(tree, kwargs, field, message):
    member = make_member(tree.branch_a, "刘老党员")
    data = {"aid_kind": "cash", "amount": "300", "fund_source": "dues", "date": yesterday(), **kwargs}
    if data["date"] == "tomorrow":
        data["date"] = TODAY() + timedelta(days=1)

    with pytest.raises(ValidationError) as caught:
        care_visit_record(actor=None, member=member, **data)

    assert message in " ".join(caught.value.message_dict[field])
    assert not CareVisit.objects.exists()


def test_a_retried_visit_is_not_recorded_twice(tree):
    member = make_member(tree.branch_a, "刘老党员")
    make_visit(member, "300")
    with pytest.raises(ValidationError):
        make_visit(member, "300")
    assert CareVisit.objects.count() == 1


def test_aid_above_the_threshold_waits_for_the_level_above_and_then_counts(tree):
    # given: the default threshold ¥500
    member = make_member(tree.branch_a, "刘老党员")
    small = make_visit(member, "500")
    big = make_visit(member, "1200", occasion="生病探望")
    assert (small.needs_approval, big.needs_approval) == (False, True)
    admin = make_user(role="org_admin", org=tree.district_a)
    totals = care_totals(user=admin, organization=tree.district_a, year=yesterday().year)
    assert (totals.total.payments, totals.total.amount, totals.pending) == (1, Decimal("500"), 1)

    # when: the branch itself may not approve, the district's org_admin may
    with pytest.raises(PermissionDenied):
        care_visit_approve(actor=make_user(role="branch_admin", org=tree.branch_a), visit=big)
    with pytest.raises(PermissionDenied):
        care_visit_approve(actor=make_user(role="org_admin", org=tree.branch_a), visit=big)
    assert list(pending_approvals(user=admin)) == [big]
    care_visit_approve(actor=admin, visit=big)

    # then
    big.refresh_from_db()
    assert big.approved_by == admin
    totals = care_totals(user=admin, organization=tree.district_a, year=yesterday().year)
    assert (totals.total.payments, totals.total.amount, totals.pending) == (2, Decimal("1700"), 0)
    with pytest.raises(ValidationError) as caught:
        care_visit_approve(actor=admin, visit=big)
    assert caught.value.message_dict["visit"] == ["该笔帮扶已经审批"]
    with pytest.raises(ValidationError):
        care_visit_approve(actor=admin, visit=small)


def test_the_org_admin_above_is_asked_to_approve(tree):
    make_visit(make_member(tree.branch_a, "刘老党员"), "800")
    admin = make_user(role="org_admin", org=tree.district_a)

    items = [i for i in care_todos(user=admin) if i.key == "service.care_approvals"]

    assert items and items[0].title == "1笔帮扶金额超过审批线，待您审批"
    assert care_todos(user=make_user(role="org_admin", org=tree.district_b)) == []


def test_the_nearest_policy_up_the_tree_sets_the_threshold(tree):
    admin = make_user(role="org_admin", org=tree.root)
    service_policy_set(actor=admin, organization=tree.district_a, aid_approval_threshold="1000")
    assert aid_threshold(user=admin, path=tree.group_a.path) == Decimal("1000")
    assert aid_threshold(user=admin, path=tree.branch_b.path) == Decimal("500")
    service_policy_set(actor=admin, organization=tree.branch_a, aid_approval_threshold="200")
    assert aid_threshold(user=admin, path=tree.group_a.path) == Decimal("200")

    visit = make_visit(make_member(tree.branch_a, "刘老党员"), "300")
    assert visit.needs_approval is True


def test_the_threshold_is_the_organisation_departments(tree):
    with pytest.raises(PermissionDenied):
        service_policy_set(
            actor=make_user(role="branch_admin", org=tree.branch_a),
            organization=tree.branch_a,
            aid_approval_threshold="1",
        )
    with pytest.raises(ValidationError) as caught:
        service_policy_set(actor=None, organization=tree.branch_a, aid_approval_threshold="-1")
    assert "aid_approval_threshold" in caught.value.message_dict
    assert not ServicePolicy.objects.exists()


def test_totals_derive_the_year_by_child_organisation_and_fund_source(tree):
    """The Jinan figure: 12 aid payments worth ¥13,500 — counted from the visits, never typed."""
    year = yesterday().year
    admin = make_user(role="org_admin", org=tree.root)
    service_policy_set(actor=admin, organization=tree.root, aid_approval_threshold="2000")
    members = [make_member(tree.branch_a, f"困难党员{i}") for i in range(6)]
    for i, member in enumerate(members):
        make_visit(member, "1000", fund_source="dues", occasion="春节走访")
        if i < 3:
            make_visit(member, "1250", fund_source="union", occasion="七一慰问")
        else:
            make_visit(member, "0", aid_kind="visit", fund_source="", occasion="七一慰问")
    make_visit(make_member(tree.branch_b, "乙支部困难党员"), "500", fund_source="budget")

    totals = care_totals(user=admin, organization=tree.district_a, year=year)
    assert (totals.total.visits, totals.total.people, totals.total.payments) == (12, 6, 9)
    assert totals.total.amount == Decimal("9750")
    assert totals.total.by_source == {"dues": Decimal("6000"), "union": Decimal("3750")}
    assert [(r.organization, r.visits, r.amount) for r in totals.rows] == [
        (tree.branch_a, 12, Decimal("9750"))
    ]

    city = care_totals(user=admin, organization=tree.root, year=year)
    assert (city.total.payments, city.total.amount) == (10, Decimal("10250"))
    assert [r.organization for r in city.rows] == [tree.district_a, tree.district_b]
    assert care_totals(user=admin, organization=tree.root, year=year - 1).total.visits == 0


def test_totals_take_the_same_number_of_queries_whatever_the_rows(tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    care_totals(user=admin, organization=tree.root, year=yesterday().year)  # roles loaded
    for i in range(5):
        make_visit(make_member(tree.branch_a if i % 2 else tree.branch_b, f"党员{i}"), "100")
    with django_assert_max_num_queries(5):
        care_totals(user=admin, organization=tree.root, year=yesterday().year)


def test_pairs_are_two_different_members_the_elder_older(tree):
    elder = make_member(tree.branch_a, "老党员", birth=timezone.localdate().replace(year=1950))
    young = make_member(tree.branch_a, "青年党员", birth=timezone.localdate().replace(year=1998))

    pair = care_pair_create(
        actor=None, elder=elder, younger=young, kind="old_guides_young", since=yesterday()
    )
    assert pair.kind == "old_guides_young"

    with pytest.raises(ValidationError) as caught:
        care_pair_create(actor=None, elder=elder, younger=young, kind="young_helps_old", since=yesterday())
    assert "已经结对" in caught.value.message_dict["younger"][0]
    with pytest.raises(ValidationError) as caught:
        care_pair_create(actor=None, elder=young, younger=elder, kind="old_guides_young", since=yesterday())
    assert "年长" in caught.value.message_dict["elder"][0]
    with pytest.raises(ValidationError) as caught:
        care_pair_create(actor=None, elder=elder, younger=elder, kind="old_guides_young", since=yesterday())
    assert "两名不同的党员" in caught.value.message_dict["younger"][0]
    assert CarePair.objects.count() == 1


def test_the_export_needs_the_care_action(tree):
    make_case(make_member(tree.branch_a, "刘老党员"))
    role = Role.objects.get(code="branch_admin")
    role.actions = [a for a in role.actions if a != "service.care"]
    role.save()

    with pytest.raises(PermissionDenied):
        care_export(actor=make_user(role="branch_admin", org=tree.branch_a))
    assert not AuditLog.objects.filter(action="export").exists()


def test_with_the_care_action_the_export_still_leaves_the_notes_out(tree):
    member = make_member(tree.branch_a, "刘老党员")
    make_case(member, note="重病住院的隐私情况")
    make_visit(member, "300", note="家属情况的隐私")
    make_visit(member, "900", occasion="生病探望", note="病情")
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    content = care_export(actor=secretary, year=yesterday().year)

    book = load_workbook(io.BytesIO(content))
    cases = list(book["困难党员"].iter_rows(values_only=True))
    visits = list(book["关怀走访"].iter_rows(values_only=True))
    assert cases[1][:3] == ("刘老党员", "甲一支部", "重病")
    assert sorted(v[8] for v in visits[1:]) == ["待上级审批", "无需审批"]
    assert "隐私" not in str(cases + visits) and "病情" not in str(visits)
    assert AuditLog.objects.filter(action="export", object_type="service.carevisit").exists()
