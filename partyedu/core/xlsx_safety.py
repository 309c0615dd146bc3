"""Refuse hostile or oversized xlsx files before any spreadsheet library parses them.

Threat model: an xlsx is a zip of XML parts, and the parser we use (calamine) builds each sheet as
one dense rectangle from A1 to the furthest cell. So a 1.6 KB file whose sheet holds a single cell
at XFD1048576 asks for 17 billion cells (512 GB), and a 9 MB file whose parts inflate to gigabytes
takes minutes and gigabytes before anything fails. Anyone who may import (a branch secretary, or a
stolen account) can send such a file, and one request would take down a worker for everybody.

So before parsing we read the archive ourselves, with bounded memory and time:

* every member is inflated with zlib in bounded steps, counting the bytes that really come out
  (never trusting the sizes the archive declares), and the whole archive may not expand beyond
  ``IMPORT_MAX_XLSX_EXPANDED_BYTES``;
* every worksheet is scanned, as it streams, for the rows and columns it reaches (the declared
  ``<dimension>``, every ``<row r>`` and cell reference), and may not reach further than the import
  limits allow: rows beyond ``IMPORT_MAX_ROWS`` plus a margin, or more cells in the rectangle than
  ``IMPORT_MAX_CELLS``;
* cells or rows without a position (legal, but then the parser counts positions itself) are refused
  with a request to re-save the file in Excel, since their extent cannot be bounded cheaply.

Each refusal is an ``ImportFileError`` with a Chinese message that says what to do; nothing here
touches the database. The scan is linear in the expanded size and stops at the first breach.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from django.conf import settings

# Rows that may precede the header row or trail the data (titles, notes, blank formatted rows).
ROW_MARGIN = 1_000
# Inflate at most this much per step, so memory stays bounded whatever the archive claims.
STEP_BYTES = 4 * 1024 * 1024
MAX_MEMBERS = 2_000
LONG_TAG = 64 * 1024
KEEP_OF_LONG_TAG = 256
LOCAL_HEADER = struct.Struct("<4s22xHH")
LOCAL_SIGNATURE = b"PK\x03\x04"

ROOT = re.compile(rb"<(\w+:)?worksheet\b")
ROW_NUMBER = re.compile(rb"\d{1,9}")
# The row number, or the column letters, of a position: r="12" on a row, r="AB12" on a cell.
# Patterns start with a literal where they can: the regex engine then skips ahead in C.
ROWS_OF = re.compile(rb' r="[A-Z]{0,4}(\d{1,9})"')
COLUMNS_OF = re.compile(rb' r="([A-Z]{1,4})\d')
ANY_ROWS_OF = re.compile(rb'\sr="[A-Z]{0,4}(\d{1,9})"')
ANY_COLUMNS_OF = re.compile(rb'\sr="([A-Z]{1,4})\d')
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="(?:[A-Z]+\d+:)?([A-Z]{1,4})(\d{1,9})"')
# A cell or row element without an r attribute.
UNPLACED = re.compile(rb"<(?:\w+:)?(?:c|row)\b(?![^>]*\sr=)")


class XlsxRefused(Exception):
    """The archive may not be parsed; ``message`` says why in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Extent:
    """How far one worksheet reaches: the last row and column (1-based) of any row or cell in it.

    Exact, without visiting every cell in Python: each step first searches (in C, allocating
    nothing) for a position beyond what is known, and only a step that has one is read in full.
    Ordinary sheets grow row by row, so the last ``<row r>`` of a step is taken as known first."""

    def __init__(self, row_limit: int, cell_limit: int) -> None:
        self.rows = 0
        self.columns = 0
        self.row_limit = row_limit
        self.cell_limit = cell_limit
        self.prefix: bytes | None = None

    def scan(self, xml: bytes) -> None:
        if self.prefix is None:
            root = ROOT.search(xml)
            self.prefix = (root.group(1) or b"") if root else b""
            declared = DIMENSION.search(xml)
            if declared:
                self._check(declared.group(1), int(declared.group(2)), declared=True)
        if _odd_placement(self.prefix).search(xml):
            # A row or cell whose position is missing, or is not its first attribute: rare
            # writers, read exactly with the slower patterns.
            if UNPLACED.search(xml):
                raise XlsxRefused(
                    "工作表中有未标明位置的行或单元格，请用Excel（或WPS）打开后另存为.xlsx再导入"
                )
            self.rows = max(self.rows, _last_row(ANY_ROWS_OF, xml))
            self.columns = max(self.columns, _last_column(ANY_COLUMNS_OF, xml))
        else:
            last_row = xml.rfind(b"<" + self.prefix + b'row r="')
            if last_row != -1:
                digits = ROW_NUMBER.match(xml, last_row + len(self.prefix) + 8)
                if digits:
                    self.rows = max(self.rows, int(digits.group(0)))
            if _above(self.rows, DIGITS).search(xml):
                self.rows = max(self.rows, _last_row(ROWS_OF, xml))
            if _above(self.columns, LETTERS).search(xml):
                self.columns = max(self.columns, _last_column(COLUMNS_OF, xml))
        self._check(column_letters(self.columns).encode(), self.rows, declared=False)

    def _check(self, letters: bytes, row: int, *, declared: bool) -> None:
        columns = column_number(letters) if letters else 1
        if row <= self.row_limit and row * columns <= self.cell_limit:
            return
        where = f"{letters.decode()}{row}（第{row}行、第{columns}列）"
        what = "工作表声明的范围延伸到" if declared else "工作表的内容延伸到"
        raise XlsxRefused(
            f"{what}{where}，超过导入上限（最多{settings.IMPORT_MAX_ROWS}行数据、{self.cell_limit}个单元格）。"
            "请删除表格右侧和下方多余的行列（包括只设置了格式的空白单元格）后另存，或分批导入"
        )


def _last_row(pattern: re.Pattern[bytes], xml: bytes) -> int:
    return max((int(row) for row in set(pattern.findall(xml))), default=0)


def _last_column(pattern: re.Pattern[bytes], xml: bytes) -> int:
    return max((column_number(letters) for letters in set(pattern.findall(xml))), default=0)


@functools.lru_cache(maxsize=8)
def _odd_placement(prefix: bytes) -> re.Pattern[bytes]:
    """A row or cell element whose first attribute is not r."""
    return re.compile(b"<" + re.escape(prefix) + rb'(?:c|row)(?! r=")[\s>/]')


DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@functools.lru_cache(maxsize=256)
def _above(value: int, alphabet: str) -> re.Pattern[bytes]:
    """A pattern for any row or cell position whose row number (``DIGITS``) or column letters
    (``LETTERS``) lie beyond ``value``: longer, or as long and greater at the first difference."""
    if alphabet == DIGITS:
        text, wrap = (str(value) if value else ""), rb' r="[A-Z]{0,4}(?:%s)"'
    else:
        text, wrap = column_letters(value), rb' r="(?:%s)\d'
    low, high = alphabet[0], alphabet[-1]
    any_char = f"[{low}-{high}]"
    options = [f"{any_char}{{{len(text) + 1},}}"]
    for i, char in enumerate(text):
        if char != high:
            options.append(
                f"{re.escape(text[:i])}[{chr(ord(char) + 1)}-{high}]{any_char}{{{len(text) - i - 1}}}"
            )
    return re.compile(wrap % "|".join(options).encode())


def column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + (byte - 64)
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _limits() -> tuple[int, int, int]:
    return (
        settings.IMPORT_MAX_XLSX_EXPANDED_BYTES,
        settings.IMPORT_MAX_ROWS + ROW_MARGIN,
        settings.IMPORT_MAX_CELLS,
    )


def check_xlsx(data: bytes) -> int:
    """Raise XlsxRefused unless ``data`` is a zip whose parts expand within the limits and whose
    worksheets stay within the row and cell limits. Returns the last row any worksheet reaches
    (an upper bound of the rows an import will read, known before parsing)."""
    expanded_limit, row_limit, cell_limit = _limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件") from exc
    if len(members) > MAX_MEMBERS:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件（压缩包内文件过多）")
    too_big = XlsxRefused(
        f"文件解压后超过{expanded_limit / 1024 / 1024:g}MB上限，请删除无关的工作表、图片和格式后另存，或分批导入"
    )
    # What the archive admits to is checked first (a refusal in microseconds); what it hides is
    # caught below by counting what really inflates.
    if sum(member.file_size for member in members) > expanded_limit:
        raise too_big
    budget = expanded_limit
    reach = 0
    for member in members:
        is_sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
        extent = Extent(row_limit, cell_limit)
        carry = b""
        for piece in _inflate(data, member):
            budget -= len(piece)
            if budget < 0:
                raise too_big
            if not is_sheet:
                continue
            # Scan whole tags only: keep the text after the last ">" for the next step.
            text = carry + piece
            cut = text.rfind(b">") + 1
            extent.scan(text[:cut])
            carry = text[cut:]
            if len(carry) > LONG_TAG:
                # An absurdly long tag: look at what it holds now, keep only its end for the
                # next step so that memory stays bounded (a position is far shorter than the end kept).
                extent.scan(carry)
                carry = carry[-KEEP_OF_LONG_TAG:]
        if is_sheet and carry:
            extent.scan(carry)
        reach = max(reach, extent.rows)
    return reach


def _inflate(data: bytes, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's content in bounded pieces, counting what really comes out of the compressed
    stream rather than what the archive's headers say."""
    start = member.header_offset
    header = data[start : start + LOCAL_HEADER.size]
    if len(header) < LOCAL_HEADER.size:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件")
    signature, name_length, extra_length = LOCAL_HEADER.unpack(header)
    if signature != LOCAL_SIGNATURE:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件")
    offset = start + LOCAL_HEADER.size + name_length + extra_length
    raw = memoryview(data)[offset : offset + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        for position in range(0, len(raw), STEP_BYTES):
            yield bytes(raw[position : position + STEP_BYTES])
        return
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件（不支持的压缩方式）")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = bytes(raw)
    try:
        while pending and not inflater.eof:
            piece = inflater.decompress(pending, STEP_BYTES)
            pending = inflater.unconsumed_tail
            if piece:
                yield piece
        while not inflater.eof:
            piece = inflater.decompress(b"", STEP_BYTES)
            if not piece:
                break
            yield piece
    except zlib.error as exc:
        raise XlsxRefused("文件不是有效的Excel(xlsx)文件（压缩数据已损坏）") from exc
