import io
import zipfile
from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from partyedu.core.importing import (
    BOOL,
    CHOICE,
    DATE,
    INT,
    MULTI_CHOICE,
    CellError,
    Column,
    ImportFileError,
    ImportReport,
    RowError,
    parse_date,
    parse_row,
    read_sheet,
    validation_errors,
)
from partyedu.members.choices import MemberCategory, MemberStatus

COLUMNS = (
    Column("姓名", "name", required=True, max_length=5),
    Column("身份证号", "id_number", required=True, aliases=("公民身份号码",)),
    Column("入党日期", "joined_on", DATE),
    Column("党员状态", "status", CHOICE, choices=MemberStatus, keep_if_blank=True),
    Column("党员类别", "categories", MULTI_CHOICE, choices=MemberCategory),
    Column("免于硬性要求", "is_exempt", BOOL),
    Column("排序", "sort_order", INT),
)


def xlsx(*rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read(data, filename="a.xlsx"):
    return read_sheet(io.BytesIO(data), filename=filename, columns=COLUMNS)


def parse(sheet, index=0):
    return parse_row(sheet.rows[index], sheet.columns, {c.field: c.choice_map() for c in sheet.columns})


# --- report types ------------------------------------------------------------------------------------


def test_row_error_reads_as_row_column_message():
    assert (
        str(RowError(5, "身份证号", "身份证号校验位错误，请核对"))
        == "第5行 身份证号: 身份证号校验位错误，请核对"
    )


def test_report_is_ok_only_without_errors():
    assert ImportReport(dry_run=True, total_rows=1, created=1, updated=0, errors=[], preview=[]).ok
    assert not ImportReport(dry_run=True, errors=[RowError(2, "姓名", "不能为空")]).ok


def test_validation_error_fields_become_headers():
    exc = ValidationError({"name": ["太长"], "other": ["别的问题"]})
    assert [str(e) for e in validation_errors(3, exc, {"name": "姓名"})] == [
        "第3行 姓名: 太长",
        "第3行 整行: 别的问题",
    ]


# --- files -------------------------------------------------------------------------------------------


def test_text_file_named_xlsx_is_not_an_excel_file():
    with pytest.raises(ImportFileError, match=r"^文件不是有效的Excel\(xlsx\)文件$"):
        read(b"name,id\nx,y\n")


def test_old_xls_renamed_to_xlsx_is_not_an_excel_file():
    ole_header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(ImportFileError, match="文件不是有效的Excel"):
        read(ole_header)


def test_zip_that_is_not_a_workbook_is_not_an_excel_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="文件不是有效的Excel"):
        read(buffer.getvalue())


def test_xls_extension_is_refused_with_advice():
    with pytest.raises(ImportFileError, match=r"另存为\.xlsx"):
        read(b"whatever", filename="a.xls")


def test_other_extensions_are_refused():
    with pytest.raises(ImportFileError, match="仅支持"):
        read(b"whatever", filename="a.pdf")


def test_oversized_upload_is_refused(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    with pytest.raises(ImportFileError, match="文件超过1MB上限"):
        read(b"PK\x03\x04" + b"\x00" * (1024 * 1024))


def test_oversized_upload_is_refused_by_its_declared_size(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100

    class Upload(io.BytesIO):
        size = 10_000

    with pytest.raises(ImportFileError, match="上限"):
        read_sheet(Upload(b"x"), filename="a.csv", columns=COLUMNS)


def test_too_many_rows_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(ImportFileError, match="超过2行上限"):
        read(xlsx(["姓名", "身份证号"], ["a", "1"], ["b", "2"], ["c", "3"]))


def test_missing_required_headers_are_named():
    with pytest.raises(ImportFileError, match="缺少必需的列：身份证号"):
        read(xlsx(["姓名", "入党日期"], ["a", "2020-01-01"]))


def test_header_without_data_rows_is_refused():
    with pytest.raises(ImportFileError, match="没有数据行"):
        read(xlsx(["姓名", "身份证号"]))


def test_repeated_column_is_refused():
    with pytest.raises(ImportFileError, match="出现了两次"):
        read(xlsx(["姓名", "身份证号", "公民身份号码"], ["a", "1", "2"]))


def test_headers_are_stripped_of_whitespace_and_bom_and_aliases_map():
    sheet = read(xlsx(["\ufeff 姓名 ", "公民身份号码\n", "不认识的列"], ["张三", "110", "x"]))
    assert [c.header for c in sheet.columns] == ["姓名", "身份证号"]
    assert sheet.rows[0].cells == {"name": "张三", "id_number": "110"}


def test_empty_rows_are_ignored_and_row_numbers_are_the_spreadsheet_rows():
    sheet = read(xlsx(["姓名", "身份证号"], ["a", "1"], [None, None], ["b", "2"], [None, " "], [None, None]))
    assert [r.number for r in sheet.rows] == [2, 4]


def test_a_title_row_above_the_headers_is_skipped():
    sheet = read(xlsx(["党员信息表"], ["姓名", "身份证号"], ["a", "1"]))
    assert [r.number for r in sheet.rows] == [3]


def test_csv_with_bom_is_read():
    sheet = read("\ufeff姓名,身份证号\n张三,1\n".encode(), filename="a.csv")
    assert sheet.rows[0].cells["name"] == "张三"


def test_csv_in_gb18030_is_read():
    sheet = read("姓名,身份证号\n欧阳娜,1\n".encode("gb18030"), filename="a.csv")
    assert sheet.rows[0].cells["name"] == "欧阳娜"


def test_tab_separated_csv_is_read():
    sheet = read("姓名\t身份证号\n张三\t1\n".encode(), filename="a.csv")
    assert sheet.rows[0].cells["id_number"] == "1"


# --- cells -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        date(2020, 1, 5),
        datetime(2020, 1, 5, 0, 0),  # noqa: DTZ001 - a spreadsheet cell holds a naive date-time
        "2020-01-05",
        "2020/1/5",
        "20200105",
        20200105,
        "2020年1月5日",
        "2020.01.05",
        43835.0,
    ],
)
def test_dates_in_every_usual_form(value):
    assert parse_date(value) == date(2020, 1, 5)


@pytest.mark.parametrize("value", ["2020-02-30", "去年", "1/5/2020"])
def test_bad_dates_are_refused(value):
    with pytest.raises(CellError):
        parse_date(value)


def test_choice_columns_take_labels_and_multi_choice_splits_on_separators():
    sheet = read(
        xlsx(
            ["姓名", "身份证号", "党员状态", "党员类别", "免于硬性要求", "排序"],
            ["a", "1", "预备党员", "在职，支部委员,流动党员", "是", 3.0],
        )
    )
    values, errors = parse(sheet)
    assert errors == []
    assert values["status"] == "probationary"
    assert values["categories"] == ["employed", "committee", "floating"]
    assert values["is_exempt"] is True
    assert values["sort_order"] == 3


def test_cell_errors_name_row_and_header():
    sheet = read(
        xlsx(
            ["姓名", "身份证号", "党员状态", "入党日期", "免于硬性要求"],
            ["太长的名字啊", None, "党员", "昨天", "也许"],
        )
    )
    _, errors = parse(sheet)
    assert [(e.row, e.column) for e in errors] == [
        (2, "姓名"),
        (2, "身份证号"),
        (2, "党员状态"),
        (2, "入党日期"),
        (2, "免于硬性要求"),
    ]
    assert errors[1].message == "不能为空"


def test_blank_cells_keep_or_clear_by_column():
    sheet = read(xlsx(["姓名", "身份证号", "党员状态", "入党日期", "党员类别"], ["a", "1", None, None, None]))
    values, _ = parse(sheet)
    assert "status" not in values  # keep_if_blank: default or stored value
    assert values["joined_on"] is None
    assert values["categories"] == []


def test_numbers_are_read_as_text_without_decimals():
    sheet = read(xlsx(["姓名", "身份证号"], ["a", 13800138000]))
    values, _ = parse(sheet)
    assert values["id_number"] == "13800138000"


def test_our_own_formula_escape_is_undone_on_import():
    sheet = read(xlsx(["姓名", "身份证号"], ["'=a", "1"]))
    values, _ = parse(sheet)
    assert values["name"] == "=a"
