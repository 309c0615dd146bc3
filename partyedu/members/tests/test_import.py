import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from partyedu.core.choices import AuditAction
from partyedu.core.importing import ImportFileError
from partyedu.core.models import AuditLog
from partyedu.members.models import Member
from partyedu.members.services import member_import, member_import_template
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "手机号",
    "民族",
    "学历",
    "所在党组织代码",
    "党员状态",
    "确定为发展对象日期",
    "入党日期",
    "转正日期",
    "党员类别",
    "免于硬性要求",
    "免除原因",
]


def member_row(org, **values):
    row = {
        "姓名": "李红",
        "身份证号": valid_id_number(date(1980, 1, 1)),
        "所在党组织代码": org.code,
        "党员状态": "正式党员",
        "入党日期": "2005-07-01",
    }
    row.update(values)
    return row


def xlsx(rows, headers=HEADERS):
    """A workbook as a user would type it (plain cells, no escaping)."""
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers] if isinstance(row, dict) else row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def fast_xlsx(rows, headers=HEADERS):
    """A large workbook, written streaming."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(actor, data, *, dry_run=False, filename="党员.xlsx"):
    return member_import(actor=actor, file=io.BytesIO(data), filename=filename, dry_run=dry_run)


@pytest.fixture
def admin(tree):
    return make_user(role="org_admin", org=tree.district_a)


# --- creating ------------------------------------------------------------------------------------------


def test_valid_file_creates_members(tree, admin):
    rows = [
        member_row(
            tree.branch_a,
            姓名="李红",
            身份证号="11010519491231002X",
            手机号="13800138000",
            学历="大学本科",
            党员类别="离退休、年老体弱",
            免于硬性要求="是",
            免除原因="年老体弱，送学上门",
        ),
        member_row(tree.group_a, 姓名="王强", 党员状态="预备党员"),
    ]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors
    assert (report.total_rows, report.created, report.updated) == (2, 2, 0)
    li = Member.objects.get(name="李红")
    assert li.organization == tree.branch_a
    assert li.birth_date == date(1949, 12, 31)
    assert li.gender == "F"
    assert li.phone == "13800138000"
    assert li.education == "bachelor"
    assert li.categories == ["retired", "frail"]
    assert li.is_exempt and li.exempt_reason == "年老体弱，送学上门"
    assert li.joined_on == date(2005, 7, 1)
    assert " lh" in li.name_initials
    assert Member.objects.get(name="王强").status == "probationary"


def test_dry_run_writes_nothing_but_says_what_would_happen(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a), member_row(tree.branch_a)]), dry_run=True)
    assert report.ok and report.dry_run
    assert report.created == 2
    assert Member.objects.count() == 0
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_preview_shows_first_rows_with_id_number_masked(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a, 身份证号="11010519491231002X")]), dry_run=True)
    assert report.preview[0]["姓名"] == "李红"
    assert report.preview[0]["身份证号"] == "110***********002X"
    assert report.preview[0]["所在党组织代码"] == tree.branch_a.code


def test_preview_is_limited_to_twenty_rows(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a) for _ in range(25)]), dry_run=True)
    assert report.total_rows == 25
    assert len(report.preview) == 20


def test_header_aliases_are_accepted(tree, admin):
    headers = ["姓名", "公民身份号码", "组织代码"]
    report = run(admin, xlsx([["赵六", valid_id_number(), tree.branch_a.code]], headers=headers))
    assert report.ok, report.errors
    assert Member.objects.get().name == "赵六"


def test_dates_are_read_from_excel_dates_and_text(tree, admin):
    rows = [
        member_row(tree.branch_a, 姓名="甲", 入党日期=date(2020, 1, 5)),
        member_row(tree.branch_a, 姓名="乙", 入党日期="2020/1/5"),
        member_row(tree.branch_a, 姓名="丙", 入党日期="20200105"),
    ]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors
    assert set(Member.objects.values_list("joined_on", flat=True)) == {date(2020, 1, 5)}


def test_blank_status_and_ethnicity_take_the_defaults(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a, 党员状态=None, 民族=None)]))
    assert report.ok, report.errors
    member = Member.objects.get()
    assert (member.status, member.ethnicity) == ("full", "汉族")


# --- errors ------------------------------------------------------------------------------------------


def test_bad_id_checksum_names_row_and_column(tree, admin):
    rows = [member_row(tree.branch_a), member_row(tree.branch_a, 身份证号="110105194912310021")]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [str(e) for e in report.errors] == ["第3行 身份证号: 身份证号校验位错误，请核对"]


def test_birth_date_inconsistent_with_id_is_an_error(tree, admin):
    row = member_row(tree.branch_a, 身份证号="11010519491231002X", 出生日期="1950-01-01")
    report = run(admin, xlsx([row]), dry_run=True)
    assert len(report.errors) == 1
    error = report.errors[0]
    assert (error.row, error.column) == (2, "出生日期")
    assert "1949-12-31" in error.message


def test_gender_inconsistent_with_id_is_an_error(tree, admin):
    row = member_row(tree.branch_a, 身份证号="11010519491231002X", 性别="男")
    report = run(admin, xlsx([row]), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "性别")]
    assert "女" in report.errors[0].message


def test_unknown_choice_label_lists_the_allowed_values(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a, 党员状态="党员")]), dry_run=True)
    assert report.errors[0].column == "党员状态"
    assert "正式党员" in report.errors[0].message


def test_duplicate_id_in_the_file_is_reported_on_the_later_row(tree, admin):
    number = valid_id_number()
    rows = [
        member_row(tree.branch_a),
        member_row(tree.branch_a, 身份证号=number),
        member_row(tree.branch_a, 身份证号=number),
    ]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [str(e) for e in report.errors] == ["第4行 身份证号: 与第3行身份证号重复"]


def test_org_code_that_does_not_exist(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a, 所在党组织代码="NOPE")]), dry_run=True)
    assert [str(e) for e in report.errors] == [
        "第2行 所在党组织代码: 组织代码 NOPE 不存在或不在您的管理范围内"
    ]


def test_org_outside_the_actors_scope_reads_like_a_missing_one(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_b)]), dry_run=True)
    assert [str(e) for e in report.errors] == [
        f"第2行 所在党组织代码: 组织代码 {tree.branch_b.code} 不存在或不在您的管理范围内"
    ]


def test_members_can_only_join_a_branch_or_group(tree, admin):
    report = run(admin, xlsx([member_row(tree.district_a)]), dry_run=True)
    assert report.errors[0].column == "所在党组织代码"
    assert "党支部或党小组" in report.errors[0].message


def test_every_bad_row_is_reported(tree, admin):
    rows = [
        member_row(tree.branch_a, 姓名=None),
        member_row(tree.branch_a),
        member_row(tree.branch_a, 手机号="12345"),
        member_row(tree.branch_a, 入党日期="去年"),
    ]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "姓名"), (4, "手机号"), (5, "入党日期")]
    assert report.created == 1


def test_id_number_typed_as_a_number_is_refused(tree, admin):
    report = run(admin, xlsx([member_row(tree.branch_a, 身份证号=110105194912310020)]), dry_run=True)
    assert report.errors[0].column == "身份证号"
    assert "文本" in report.errors[0].message


def test_real_run_with_an_error_writes_nothing(tree, admin):
    rows = [member_row(tree.branch_a), member_row(tree.branch_a, 身份证号="123")]
    report = run(admin, xlsx(rows))
    assert not report.ok
    assert (report.created, report.updated) == (0, 0)
    assert Member.objects.count() == 0
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_missing_required_headers_are_named(tree, admin):
    with pytest.raises(ImportFileError, match="缺少必需的列：身份证号、所在党组织代码"):
        run(admin, xlsx([["张三"]], headers=["姓名"]))


def test_a_text_file_named_xlsx_is_refused(tree, admin):
    with pytest.raises(ImportFileError, match=r"文件不是有效的Excel\(xlsx\)文件"):
        run(admin, "姓名,身份证号\n张三,1\n".encode())


def test_user_without_the_import_action_is_refused(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        run(secretary, xlsx([member_row(tree.branch_a)]), dry_run=True)


# --- csv ---------------------------------------------------------------------------------------------


def csv_text(tree, name):
    return f"姓名,身份证号,所在党组织代码,入党日期\r\n{name},{valid_id_number()},{tree.branch_a.code},2001/7/1\r\n"


def test_csv_in_utf8_with_bom(tree, admin):
    report = run(admin, b"\xef\xbb\xbf" + csv_text(tree, "张三").encode("utf-8"), filename="党员.csv")
    assert report.ok, report.errors
    assert Member.objects.get().name == "张三"


def test_csv_in_gb18030(tree, admin):
    report = run(admin, csv_text(tree, "欧阳娜").encode("gb18030"), filename="党员.csv")
    assert report.ok, report.errors
    assert Member.objects.get().name == "欧阳娜"


# --- re-import ---------------------------------------------------------------------------------------


def test_reimport_updates_the_member_instead_of_duplicating(tree, admin):
    member = make_member(tree.branch_a, "李红", phone="13900000000")
    row = member_row(tree.branch_a, 身份证号=member.id_number, 手机号="13800138000", 学历="硕士研究生")
    report = run(admin, xlsx([row]))
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 1)
    assert Member.objects.count() == 1
    member.refresh_from_db()
    assert member.phone == "13800138000"
    assert member.education == "master"


def test_reimport_cannot_move_a_member_to_another_org(tree, admin):
    member = make_member(tree.branch_a)
    report = run(admin, xlsx([member_row(tree.group_a, 身份证号=member.id_number)]), dry_run=True)
    assert [str(e) for e in report.errors] == ["第2行 所在党组织代码: 变更所在党组织请办理组织关系转接"]


def test_member_registered_outside_scope_is_an_error_that_reveals_nothing(tree, admin):
    outsider = make_member(tree.branch_b, "钱七")
    report = run(admin, xlsx([member_row(tree.branch_a, 身份证号=outsider.id_number)]), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "身份证号")]
    assert tree.branch_b.name not in report.errors[0].message
    assert "钱七" not in report.errors[0].message


# --- audit and scale ---------------------------------------------------------------------------------


def test_real_run_writes_one_audit_row_for_the_file(tree, admin):
    run(admin, xlsx([member_row(tree.branch_a) for _ in range(3)]), filename="三人.xlsx")
    rows = AuditLog.objects.filter(action=AuditAction.IMPORT)
    assert rows.count() == 1
    log = rows.get()
    assert log.user == admin
    assert log.changes["file"] == "三人.xlsx"
    assert (log.changes["created"], log.changes["updated"]) == (3, 0)
    assert not AuditLog.objects.filter(action=AuditAction.CREATE, object_type="members.member").exists()


def ten_thousand_rows(tree):
    orgs = [tree.branch_a.code, tree.group_a.code]
    return [
        {
            "姓名": f"党员{i}",
            "身份证号": valid_id_number(date(1960 + i % 40, 1 + i % 12, 1 + i % 28), male=bool(i % 2)),
            "手机号": f"138{i:08d}",
            "所在党组织代码": orgs[i % 2],
            "党员状态": "正式党员",
            "入党日期": date(2000, 7, 1),
            "党员类别": "在职",
        }
        for i in range(10_000)
    ]


def test_ten_thousand_rows_with_one_bad_row_at_the_end_write_nothing(tree, admin):
    rows = ten_thousand_rows(tree)
    rows[-1]["身份证号"] = rows[-1]["身份证号"][:17] + ("0" if rows[-1]["身份证号"][17] != "0" else "1")
    before = Member.objects.count()
    report = run(admin, fast_xlsx(rows))
    assert [e.row for e in report.errors] == [10_001]
    assert Member.objects.count() == before


def test_ten_thousand_valid_rows_import(tree, admin):
    # Speed is measured by `make bench`, not asserted here.
    report = run(admin, fast_xlsx(ten_thousand_rows(tree)))
    assert report.ok, report.errors[:5]
    assert report.created == 10_000
    assert Member.objects.count() == 10_000


# --- template ----------------------------------------------------------------------------------------


def test_template_has_the_headers_an_example_and_instructions(db):
    wb = load_workbook(io.BytesIO(member_import_template()))
    assert wb.sheetnames == ["党员信息", "填写说明"]
    rows = list(wb["党员信息"].values)
    assert list(rows[0]) == HEADERS
    assert "11010519491231002X" in rows[1]
    notes = [r[0] for r in wb["填写说明"].values]
    assert "党员状态" in notes
    assert any("正式党员" in (r[2] or "") for r in wb["填写说明"].values)


def test_template_example_row_fails_only_on_the_org_code(tree, admin):
    report = run(admin, member_import_template(), dry_run=True)
    assert [e.column for e in report.errors] == ["所在党组织代码"]


def test_import_keeps_member_summaries_exact(tree):
    from partyedu.members.services import member_summaries_rebuild

    user = make_user(role="org_admin", org=tree.root)
    rows = [["王五", valid_id_number(), tree.branch_a.code], ["赵六", valid_id_number(), tree.group_a.code]]
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "所在党组织代码"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    report = member_import(actor=user, file=out, filename="m.xlsx", dry_run=False)
    assert report.ok and report.created == 2
    assert member_summaries_rebuild() == {"member_paths": 0, "member_counts": 0}
