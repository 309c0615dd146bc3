import io
from datetime import date

import pytest
from openpyxl import load_workbook

from partyedu.core.exporting import ExportColumn, XlsxExport, escape_formula, xlsx_bytes


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"])
def test_text_that_looks_like_a_formula_is_escaped(value):
    assert escape_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "a=b", "", None, 12, -5, date(2020, 1, 1)])
def test_other_values_are_unchanged(value):
    assert escape_formula(value) == value


def load(data):
    return load_workbook(io.BytesIO(data))


def test_formula_text_is_written_as_text_not_formula():
    wb = load(xlsx_bytes("表", ["姓名"], [['=HYPERLINK("http://x")']]))
    cell = wb.active["A2"]
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://x")'


def test_header_is_bold_and_frozen_with_widths():
    wb = load(
        xlsx_bytes("党员", [ExportColumn("姓名", 10), ExportColumn("所在党组织代码", 8)], [["张三", "T1"]])
    )
    ws = wb["党员"]
    assert [c.value for c in ws[1]] == ["姓名", "所在党组织代码"]
    assert ws["A1"].font.b
    assert not ws["A2"].font.b
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 10
    # Never narrower than the Chinese header itself (two units per character).
    assert ws.column_dimensions["B"].width >= 14


def test_dates_are_written_as_dates():
    wb = load(xlsx_bytes("表", ["日期"], [[date(2020, 1, 5)]]))
    cell = wb.active["A2"]
    assert cell.value.date() == date(2020, 1, 5)
    assert cell.number_format == "yyyy-mm-dd"


def test_several_sheets_in_one_workbook():
    book = XlsxExport()
    book.sheet("一", ["a"]).append([1])
    second = book.sheet("二", ["b"])
    second.append([2])
    second.append([3])
    assert second.rows == 2
    assert load(book.to_bytes()).sheetnames == ["一", "二"]
