"""Writing xlsx files: streamed (openpyxl write-only) so an export of many rows stays in bounded
memory, with a bold frozen Chinese header row, column widths, and every text cell that a
spreadsheet could run as a formula escaped (CSV/formula injection)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .control_chars import strip_for_xlsx

# A cell starting with one of these may be read as a formula (or a DDE call) by Excel/WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60
HEADER_FONT = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def escape_formula(value: Any) -> Any:
    """Text made safe for a cell: characters XML cannot hold dropped (old rows may still carry
    them), and text a spreadsheet would evaluate prefixed with a single quote. Other values
    unchanged."""
    if isinstance(value, str):
        value = strip_for_xlsx(value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value


def text_width(text: str) -> int:
    """Display width in Excel's character units: CJK and full-width characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@dataclass(frozen=True)
class ExportColumn:
    header: str
    width: int = 14


class SheetWriter:
    """Rows appended to one write-only worksheet. Dates get a date format; text is escaped."""

    def __init__(
        self, workbook: Workbook, title: str, columns: Sequence[ExportColumn | str], *, wrap: bool = False
    ) -> None:
        self.worksheet = workbook.create_sheet(title=strip_for_xlsx(title)[:31])
        self.rows = 0
        self._wrap = wrap
        cols = [c if isinstance(c, ExportColumn) else ExportColumn(c) for c in columns]
        for index, column in enumerate(cols, start=1):
            width = max(column.width, text_width(column.header) + 2)
            self.worksheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)
        # Must be set before the first row is written in write-only mode.
        self.worksheet.freeze_panes = "A2"
        header = []
        for column in cols:
            cell = WriteOnlyCell(self.worksheet, value=escape_formula(column.header))
            cell.font = HEADER_FONT
            header.append(cell)
        self.worksheet.append(header)

    def append(self, values: Iterable[Any]) -> None:
        self.worksheet.append([self._cell(v) for v in values])
        self.rows += 1

    def _cell(self, value: Any) -> Any:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.worksheet, value=value.replace(tzinfo=None))
            cell.number_format = "yyyy-mm-dd hh:mm"
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self.worksheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if self._wrap and isinstance(value, str):
            cell = WriteOnlyCell(self.worksheet, value=escape_formula(value))
            cell.alignment = WRAP
            return cell
        return escape_formula(value)


class XlsxExport:
    """A streamed workbook of one or more sheets: add sheets with ``sheet()``, append rows to each
    in turn (a write-only sheet cannot be revisited), then take the file with ``to_bytes()``."""

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)

    def sheet(self, title: str, columns: Sequence[ExportColumn | str], *, wrap: bool = False) -> SheetWriter:
        return SheetWriter(self.workbook, title, columns, wrap=wrap)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def xlsx_bytes(title: str, columns: Sequence[ExportColumn | str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A one-sheet workbook in one call."""
    book = XlsxExport()
    sheet = book.sheet(title, columns)
    for row in rows:
        sheet.append(row)
    return book.to_bytes()
