"""Hostile spreadsheets are refused before any parser sees them, quickly and in little memory."""

import io
import struct
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from partyedu.core.importing import Column, ImportFileError, read_sheet
from partyedu.core.xlsx_safety import XlsxRefused, check_xlsx, column_letters, column_number

COLUMNS = (Column("姓名", "name", required=True), Column("备注", "note"))


def workbook_bytes(cells=None, rows=(("姓名", "备注"), ("张三", "甲"))):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for ref, value in (cells or {}).items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:
    """The same workbook with its first sheet's XML passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(item.filename, content)
    return out.getvalue()


def read(data):
    return read_sheet(io.BytesIO(data), filename="a.xlsx", columns=COLUMNS)


def test_column_letters_round_trip():
    assert column_number(b"XFD") == 16384
    assert column_letters(16384) == "XFD"
    assert column_letters(column_number(b"AB")) == "AB"


def test_ordinary_workbook_passes_and_reads():
    sheet = read(workbook_bytes())
    assert [row.cells["name"] for row in sheet.rows] == ["张三"]


def test_cell_at_the_last_excel_position_is_refused_naming_it():
    data = workbook_bytes({"XFD1048576": "x"})
    assert len(data) < 10_000

    with pytest.raises(ImportFileError) as caught:
        read(data)

    assert "XFD1048576" in caught.value.message
    assert "超过导入上限" in caught.value.message


def test_cell_far_to_the_right_is_refused_by_the_cell_limit(settings):
    settings.IMPORT_MAX_CELLS = 1_000

    with pytest.raises(ImportFileError) as caught:
        read(workbook_bytes({"ZZ2": "x"}))  # 2 rows × 702 columns

    assert "ZZ2" in caught.value.message


def test_declared_dimension_beyond_the_limits_is_refused():
    data = rewrite_sheet(
        workbook_bytes(),
        lambda xml: xml.replace(b'<dimension ref="A1:B2" />', b'<dimension ref="A1:XFD1048576" />'),
    )

    with pytest.raises(ImportFileError) as caught:
        read(data)

    assert "声明的范围" in caught.value.message


def test_rows_beyond_the_row_limit_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 10

    with pytest.raises(ImportFileError) as caught:
        read(workbook_bytes({"A2000": "x"}))

    assert "第2000行" in caught.value.message


def test_cells_without_position_are_refused():
    data = rewrite_sheet(workbook_bytes(), lambda xml: xml.replace(b'<c r="A2"', b"<c"))

    with pytest.raises(ImportFileError) as caught:
        read(data)

    assert "另存为.xlsx" in caught.value.message


def bomb(expanded_bytes: int) -> bytes:
    """A valid workbook whose sheet carries ``expanded_bytes`` of padding that compresses ~1000:1."""
    padding = b" " * expanded_bytes
    return rewrite_sheet(workbook_bytes(), lambda xml: xml.replace(b"<sheetData>", padding + b"<sheetData>"))


def test_archive_that_expands_beyond_the_limit_is_refused(settings):
    settings.IMPORT_MAX_XLSX_EXPANDED_BYTES = 1024 * 1024

    with pytest.raises(ImportFileError) as caught:
        read(bomb(3 * 1024 * 1024))

    assert "解压后超过1MB上限" in caught.value.message


def test_decompression_bomb_is_refused_in_bounded_memory():
    data = bomb(512 * 1024 * 1024)  # half a gigabyte of sheet XML in well under a megabyte
    assert len(data) < 1024 * 1024

    tracemalloc.start()
    try:
        with pytest.raises(XlsxRefused):
            check_xlsx(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 40 * 1024 * 1024


def test_sizes_the_archive_declares_are_not_trusted(settings):
    settings.IMPORT_MAX_XLSX_EXPANDED_BYTES = 1024 * 1024
    data = bytearray(bomb(3 * 1024 * 1024))
    # Claim 100 bytes for every member in the local headers and the central directory.
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        position = data.find(signature)
        while position != -1:
            data[position + size_at : position + size_at + 4] = struct.pack("<I", 100)
            position = data.find(signature, position + 4)

    with pytest.raises(XlsxRefused) as caught:
        check_xlsx(bytes(data))

    assert "解压后超过" in caught.value.message


def test_position_inside_an_endless_tag_is_still_seen():
    padding = b" " * (9 * 1024 * 1024)
    data = rewrite_sheet(
        workbook_bytes(), lambda xml: xml.replace(b'<c r="A2"', b'<c r="XFD1048576"' + padding)
    )

    with pytest.raises(XlsxRefused) as caught:
        check_xlsx(data)

    assert "XFD1048576" in caught.value.message


def test_damaged_compressed_data_is_not_an_excel_file():
    data = bytearray(workbook_bytes())
    sheet_at = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml")
    data[sheet_at : sheet_at + 40] = b"\xff" * 40

    with pytest.raises(XlsxRefused) as caught:
        check_xlsx(bytes(data))

    assert "Excel" in caught.value.message


def test_cells_with_position_after_another_attribute_still_read():
    data = rewrite_sheet(
        workbook_bytes(), lambda xml: xml.replace(b'<c r="A2" t="inlineStr"', b'<c t="inlineStr" r="A2"')
    )

    sheet = read(data)

    assert [row.cells["name"] for row in sheet.rows] == ["张三"]


def test_far_position_written_after_another_attribute_is_refused():
    data = rewrite_sheet(
        workbook_bytes(),
        lambda xml: xml.replace(b'<c r="A2" t="inlineStr"', b'<c t="inlineStr"\nr="XFD1048576"'),
    )

    with pytest.raises(XlsxRefused) as caught:
        check_xlsx(data)

    assert "XFD1048576" in caught.value.message
