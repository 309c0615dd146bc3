import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.members.models import Member
from partyedu.members.selectors import member_list
from partyedu.members.services import member_export, member_import
from partyedu.testsupport.factories import make_member, make_user


def sheet_rows(data):
    ws = load_workbook(io.BytesIO(data))["党员信息"]
    rows = list(ws.values)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export(user):
    return member_export(actor=user, queryset=member_list(user=user, action="export"))


@pytest.fixture
def member(tree):
    return make_member(
        tree.branch_a,
        "李红",
        id_number="11010519491231002X",
        phone="13800138000",
        categories=["retired", "frail"],
        is_exempt=True,
        exempt_reason="年老体弱",
        joined_on=date(1975, 7, 1),
    )


def test_export_masks_personal_data_without_a_pii_grant(tree, member):
    row = sheet_rows(export(make_user(role="org_admin", org=tree.district_a)))[0]
    assert row["身份证号"] == "110***********002X"
    assert row["手机号"] == "138****8000"


def test_export_unmasks_with_a_pii_grant(tree, member):
    row = sheet_rows(export(make_user(role="org_admin", org=tree.district_a, pii=True)))[0]
    assert row["身份证号"] == "11010519491231002X"
    assert row["手机号"] == "13800138000"


def test_export_uses_the_import_headers_and_labels(tree, member):
    row = sheet_rows(export(make_user(role="org_admin", org=tree.district_a)))[0]
    assert row["姓名"] == "李红"
    assert row["性别"] == "女"
    assert row["所在党组织代码"] == tree.branch_a.code
    assert row["所在党组织"] == tree.branch_a.name
    assert row["党员状态"] == "正式党员"
    assert row["党员类别"] == "离退休、年老体弱"
    assert row["免于硬性要求"] == "是"
    assert row["入党日期"].date() == date(1975, 7, 1)


def test_export_leaves_out_members_outside_the_actors_scope(tree, member):
    make_member(tree.branch_b, "钱七")
    rows = sheet_rows(
        member_export(actor=make_user(role="org_admin", org=tree.district_a), queryset=Member.objects.all())
    )
    assert [r["姓名"] for r in rows] == ["李红"]


def test_user_without_the_export_action_is_refused(tree, member):
    with pytest.raises(PermissionDenied):
        member_export(actor=make_user(), queryset=Member.objects.all())


def test_formula_in_a_name_is_escaped(tree):
    make_member(tree.branch_a, '=HYPERLINK("http://evil")')
    ws = load_workbook(io.BytesIO(export(make_user(role="org_admin", org=tree.district_a))))["党员信息"]
    assert ws["A2"].data_type == "s"
    assert ws["A2"].value == '\'=HYPERLINK("http://evil")'


def test_export_writes_one_audit_row_with_count_and_unmasking(tree, member):
    make_member(tree.branch_a, "王强")
    user = make_user(role="org_admin", org=tree.district_a, pii=True)
    export(user)
    log = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert log.user == user
    assert log.changes["rows"] == 2
    assert log.changes["unmasked"] is True


def test_masked_export_is_audited_as_masked(tree, member):
    export(make_user(role="branch_admin", org=tree.branch_a))
    assert AuditLog.objects.get(action=AuditAction.EXPORT).changes["unmasked"] is False


def test_export_then_reimport_round_trips(tree, member):
    make_member(tree.group_a, "王强", phone="13900000000", education="master", status="probationary")
    user = make_user(role="org_admin", org=tree.district_a, pii=True)
    before = [dict(row) for row in Member.objects.order_by("id").values()]
    data = export(user)
    report = member_import(actor=user, file=io.BytesIO(data), filename="导出.xlsx", dry_run=False)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 2)
    after = [dict(row) for row in Member.objects.order_by("id").values()]
    for row in before + after:
        row.pop("updated_at")
    assert after == before


def test_masked_phone_in_a_reimported_masked_file_keeps_the_stored_number(tree, member):
    # Only the ID number needs the grant to round-trip; a masked phone is taken as "unchanged".
    user = make_user(role="org_admin", org=tree.district_a, pii=True)
    rows = sheet_rows(export(user))
    rows[0]["手机号"] = "138****8000"
    wb = Workbook()
    wb.active.append(list(rows[0]))
    wb.active.append(list(rows[0].values()))
    buffer = io.BytesIO()
    wb.save(buffer)
    report = member_import(actor=user, file=io.BytesIO(buffer.getvalue()), filename="x.xlsx", dry_run=False)
    assert report.ok, report.errors
    member.refresh_from_db()
    assert member.phone == "13800138000"
