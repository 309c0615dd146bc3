"""The one spreadsheet import pipeline: read an uploaded xlsx or csv into rows keyed by field,
turn each cell into a typed value by its column, and report problems as ``第N行 列名: 问题``.

Domain apps declare their columns (``Column``) and do the rest in their services: resolve natural
keys (org code, ID number) in bulk, validate every row with the same rules as the forms, and write
all rows in one transaction only when no row has an error. This module never touches the database.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from . import control_chars
from .types import BaseActor
from .xlsx_safety import XlsxRefused, check_xlsx

PREVIEW_ROWS = 20
# Rows written per INSERT/UPDATE statement by the services that use this pipeline.
WRITE_BATCH = 500
# How far down the first sheet we look for the header row (files often carry a title row first).
HEADER_SEARCH_ROWS = 10
WHOLE_ROW = "整行"
XLSX_MAGIC = b"PK\x03\x04"
NOT_XLSX = "文件不是有效的Excel(xlsx)文件"

TEXT = "text"
DATE = "date"
CHOICE = "choice"
MULTI_CHOICE = "multi_choice"
BOOL = "bool"
INT = "int"

MULTI_SEPARATORS = re.compile(r"[、,，;；/\s]+")
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "✗"}
DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_EPOCH = date(1899, 12, 30)
# Excel keeps 15 significant digits; a longer number typed into a number cell is already damaged.
EXACT_DIGITS = 15


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or the whole row, ``column == WHOLE_ROW``). ``row`` is the row
    number the user sees in the spreadsheet: the header is row 1."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of an import. In a dry run ``created``/``updated`` say what a real run would do
    with the rows that passed; after a real run with errors nothing was written and both are 0."""

    dry_run: bool
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    preview: list[dict[str, str]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(Exception):
    """The file as a whole cannot be imported (type, size, encoding, headers, row count)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """A cell value that its column cannot accept."""


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its Chinese header, the field it fills and how a cell is read.

    ``required``: the header must be present and every row needs a value; ``required_header``: the
    header must be present but a cell may be blank. ``keep_if_blank``: a
    blank cell means "not given" (the model default for a new row, the stored value for an existing
    one) rather than "empty". ``choices`` are accepted by label, by code and by ``choice_aliases``.
    ``pii`` columns are masked in previews.
    """

    header: str
    field: str
    kind: str = TEXT
    required: bool = False
    required_header: bool = False
    aliases: tuple[str, ...] = ()
    choices: type[models.TextChoices] | None = None
    choice_aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
    max_length: int | None = None
    keep_if_blank: bool = False
    pii: bool = False
    width: int = 14
    help: str = ""
    example: Any = ""

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.choices.labels] if self.choices else []

    def choice_map(self) -> dict[str, str]:
        if self.choices is None:
            return {}
        mapping = {str(label): value for value, label in self.choices.choices}
        mapping.update({value: value for value in self.choices.values})
        mapping.update(self.choice_aliases)
        return mapping

    def parse(self, value: Any, choice_map: Mapping[str, str] | None = None) -> Any:
        """The typed value of a non-blank cell; raise CellError with a Chinese message."""
        if self.kind == DATE:
            return parse_date(value)
        if self.kind == BOOL:
            return parse_bool(value)
        if self.kind == INT:
            return parse_int(value)
        text = cell_text(value, exact=True)
        if self.kind == CHOICE:
            mapping = choice_map if choice_map is not None else self.choice_map()
            if text not in mapping:
                raise CellError(f"“{text}”不是有效选项，应为：{'、'.join(self.labels)}")
            return mapping[text]
        if self.kind == MULTI_CHOICE:
            mapping = choice_map if choice_map is not None else self.choice_map()
            parts = [p for p in MULTI_SEPARATORS.split(text) if p]
            unknown = [p for p in parts if p not in mapping]
            if unknown:
                raise CellError(f"“{'、'.join(unknown)}”不是有效选项，应为：{'、'.join(self.labels)}")
            return list(dict.fromkeys(mapping[p] for p in parts))
        if self.max_length is not None and len(text) > self.max_length:
            raise CellError(f"不能超过{self.max_length}个字符（当前{len(text)}个）")
        if found := control_chars.IN_LINE.search(text):
            raise CellError(f"{control_chars.LINE_MESSAGE}（{control_chars.describe(found.group())}）")
        return text

    def display(self, value: Any) -> str:
        """A stored value as the text the import accepts (labels for choices), for exports."""
        if value is None or value == "":
            return ""
        if self.kind == CHOICE and self.choices is not None:
            return str(self.choices(value).label)
        if self.kind == MULTI_CHOICE and self.choices is not None:
            return "、".join(str(self.choices(v).label) for v in value if v in self.choices.values)
        if self.kind == BOOL:
            return "是" if value else "否"
        return str(value)


@dataclass
class SourceRow:
    """One non-empty data row: its spreadsheet row number and raw cells keyed by field."""

    number: int
    cells: dict[str, Any]


@dataclass
class Sheet:
    """The recognised columns of a file (in file order) and its non-empty data rows."""

    columns: list[Column]
    rows: list[SourceRow]

    def preview(self, limit: int = PREVIEW_ROWS) -> list[dict[str, str]]:
        """The first rows as header → text, personal data masked."""
        from .pii import mask_id_number

        result = []
        for row in self.rows[:limit]:
            item = {}
            for column in self.columns:
                text = cell_text(row.cells.get(column.field))
                item[column.header] = mask_id_number(text) if column.pii else text
            result.append(item)
        return result


# --- cells -------------------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any, *, exact: bool = False) -> str:
    """A cell as text: integral numbers without ".0", dates as YYYY-MM-DD, a formula-escape quote
    added by our own exports removed. With ``exact``, refuse numbers Excel has already rounded
    (an 18-digit ID number typed into a number cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        if exact and abs(value) >= 10**EXACT_DIGITS:
            raise CellError("数字超过15位已被Excel截断，请将该列设为“文本”格式后重新填写")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]  # undo the formula escape of our own exports
    return text


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = int(value)
        if number == value and 19000101 <= number <= 29991231:
            return parse_date(str(number))
        if 1 <= value < 2958466:  # an Excel serial date in a cell without a date format
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError("不是有效日期，格式应为2020-01-05")
    if isinstance(value, timedelta):
        raise CellError("不是有效日期，格式应为2020-01-05")
    text = cell_text(value)
    match = DATE_TEXT.match(text) or DATE_DIGITS.match(text)
    if not match:
        raise CellError(f"“{text}”不是有效日期，格式应为2020-01-05")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError(f"“{text}”不是有效日期") from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(f"“{text}”应为“是”或“否”")


def parse_int(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = cell_text(value)
    if not re.fullmatch(r"[+-]?\d{1,9}", text):
        raise CellError(f"“{text}”应为整数")
    return int(text)


# --- files -------------------------------------------------------------------------------------------


def _read_upload(file: Any) -> bytes:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    too_big = ImportFileError(f"文件超过{limit / 1024 / 1024:g}MB上限")
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    else:
        size = getattr(file, "size", None)
        if size is not None and size > limit:
            raise too_big
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(limit + 1)
        if isinstance(data, str):
            data = data.encode()
    if len(data) > limit:
        raise too_big
    if not data:
        raise ImportFileError("文件是空的")
    return data


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    if not data.startswith(XLSX_MAGIC):
        raise ImportFileError(NOT_XLSX)
    try:
        check_xlsx(data)
    except XlsxRefused as exc:
        raise ImportFileError(exc.message) from None
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
        ]
        if not sheets:
            raise ImportFileError("Excel文件中没有工作表")
        # Rows from A1 so that list positions are the row numbers the user sees.
        return workbook.get_sheet_by_name(sheets[0]).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise ImportFileError(NOT_XLSX) from exc
    except ImportFileError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for damaged archives
        raise ImportFileError(NOT_XLSX) from exc


def _csv_rows(data: bytes) -> list[list[Any]]:
    text = _decode_csv(data)
    if "\x00" in text:
        raise ImportFileError("CSV文件中含有无效字符，请确认文件类型")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"CSV文件格式有误：{exc}") from exc


def _decode_csv(data: bytes) -> str:
    """UTF-8 with or without BOM (Excel's "CSV UTF-8"), else GB18030 (Excel's plain "CSV" on
    Chinese Windows, a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        encodings: tuple[str, ...] = ("utf-8",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别CSV文件的编码，请另存为UTF-8编码的CSV")


def estimate_rows(data: bytes, filename: str) -> int:
    """Roughly how many rows a file holds, without parsing it: the last row an xlsx sheet reaches,
    or the lines of a csv. Decides whether an import runs as a background job; a file that will
    be refused anyway counts as small, so that its message comes at once."""
    if data.startswith(XLSX_MAGIC):
        try:
            return check_xlsx(data)
        except XlsxRefused:
            return 0
    return data.count(b"\n")


def normalize_header(value: Any) -> str:
    text = re.sub(r"\s+", "", cell_text(value)).lstrip("\ufeff")
    for suffix in ("（必填）", "(必填)", "*", "＊"):
        text = text.removesuffix(suffix)
    return text


def _header_index(columns: Sequence[Column]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            index[normalize_header(name)] = column
    return index


def read_sheet(file: Any, *, filename: str, columns: Sequence[Column]) -> Sheet:
    """Read an uploaded xlsx or csv (file object or bytes) into recognised columns and non-empty
    rows. Raise ImportFileError for any problem with the file as a whole. Unknown columns are
    ignored, so an export with extra informational columns imports as it is."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix not in ("xlsx", "csv"):
        if suffix in ("xls", "et", "wps"):
            raise ImportFileError("不支持旧版.xls文件，请在Excel中另存为.xlsx后再导入")
        raise ImportFileError("仅支持.xlsx或.csv文件")
    data = _read_upload(file)
    # An xlsx saved with a .csv name is still read as what it is.
    raw_rows = _xlsx_rows(data) if suffix == "xlsx" or data.startswith(XLSX_MAGIC) else _csv_rows(data)

    by_header = _header_index(columns)
    header_at = next(
        (
            i
            for i, row in enumerate(raw_rows[:HEADER_SEARCH_ROWS])
            if any(normalize_header(cell) in by_header for cell in row)
        ),
        None,
    )
    if header_at is None:
        header_at = next((i for i, row in enumerate(raw_rows) if not all(map(is_blank, row))), None)
        if header_at is None:
            raise ImportFileError("文件中没有数据")
    positions: list[tuple[int, Column]] = []
    seen: dict[str, str] = {}
    for position, cell in enumerate(raw_rows[header_at]):
        column = by_header.get(normalize_header(cell))
        if column is None:
            continue
        if column.field in seen:
            raise ImportFileError(
                f"列“{column.header}”出现了两次（“{seen[column.field]}”和“{cell_text(cell)}”）"
            )
        seen[column.field] = cell_text(cell)
        positions.append((position, column))
    missing = [c.header for c in columns if (c.required or c.required_header) and c.field not in seen]
    if missing:
        raise ImportFileError(f"缺少必需的列：{'、'.join(missing)}")

    max_rows = settings.IMPORT_MAX_ROWS
    rows: list[SourceRow] = []
    for offset, raw in enumerate(raw_rows[header_at + 1 :]):
        cells = {
            column.field: raw[position] if position < len(raw) else None for position, column in positions
        }
        if all(is_blank(v) for v in cells.values()):
            continue
        if len(rows) >= max_rows:
            raise ImportFileError(f"文件超过{max_rows}行上限，请分批导入")
        rows.append(SourceRow(header_at + offset + 2, cells))
    if not rows:
        raise ImportFileError("文件中没有数据行")
    return Sheet([column for _, column in positions], rows)


# --- rows --------------------------------------------------------------------------------------------


def parse_row(
    row: SourceRow, columns: Iterable[Column], choice_maps: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, Any], list[RowError]]:
    """Typed values of one row by field (blank ``keep_if_blank`` cells left out) and its cell
    errors. ``choice_maps`` holds each choice column's ``choice_map()`` computed once per file."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column in columns:
        raw = row.cells.get(column.field)
        if is_blank(raw):
            if column.required:
                errors.append(RowError(row.number, column.header, "不能为空"))
            elif not column.keep_if_blank:
                values[column.field] = _blank_value(column)
            continue
        try:
            values[column.field] = column.parse(raw, choice_maps.get(column.field))
        except CellError as exc:
            errors.append(RowError(row.number, column.header, str(exc)))
    return values, errors


def _blank_value(column: Column) -> Any:
    if column.kind in (DATE, INT):
        return None
    if column.kind == BOOL:
        return False
    if column.kind == MULTI_CHOICE:
        return []
    return ""


def choice_maps(columns: Iterable[Column]) -> dict[str, dict[str, str]]:
    return {c.field: c.choice_map() for c in columns if c.kind in (CHOICE, MULTI_CHOICE)}


def validation_errors(row: int, exc: ValidationError, headers: Mapping[str, str]) -> list[RowError]:
    """A service's ValidationError as row errors, field names mapped to Chinese headers."""
    if hasattr(exc, "error_dict"):
        return [
            RowError(row, headers.get(name, WHOLE_ROW), message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [RowError(row, WHOLE_ROW, message) for message in exc.messages]


def sort_errors(errors: list[RowError], columns: Sequence[Column]) -> list[RowError]:
    order = {c.header: i for i, c in enumerate(columns)}
    return sorted(errors, key=lambda e: (e.row, order.get(e.column, len(order))))


def batched(items: Sequence[Any], size: int = WRITE_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- templates ---------------------------------------------------------------------------------------


def instruction_rows(columns: Iterable[Column]) -> list[list[str]]:
    """填写说明: one row per column — header, required or not, accepted values and notes."""
    rows = []
    for column in columns:
        parts = []
        if column.labels:
            parts.append(f"可选值：{'、'.join(column.labels)}")
        if column.help:
            parts.append(column.help)
        if column.aliases:
            parts.append(f"也可用列名：{'、'.join(column.aliases)}")
        required = "必填" if column.required else ("须有此列" if column.required_header else "选填")
        rows.append([column.header, required, "；".join(parts)])
    return rows


def general_notes() -> list[str]:
    limit_mb = settings.IMPORT_MAX_UPLOAD_BYTES / 1024 / 1024
    return [
        "第一行为表头，请勿修改列名；示例行请在导入前删除。",
        "先“预检”：系统列出每一行的问题（第N行 列名: 问题）；任何一行有错误时，整个文件都不会写入。",
        f"一次最多导入{settings.IMPORT_MAX_ROWS}行，文件不超过{limit_mb:g}MB；支持.xlsx和UTF-8/GBK编码的.csv。",
    ]


def import_template(
    *, title: str, columns: Sequence[Column], example: Sequence[Any], notes: Iterable[str] = ()
) -> bytes:
    """An empty spreadsheet for an import: the headers and one example row on the first sheet,
    and a 填写说明 sheet listing every column's accepted values."""
    from .exporting import ExportColumn, XlsxExport

    book = XlsxExport()
    sheet = book.sheet(title, [ExportColumn(c.header, c.width) for c in columns])
    sheet.append(example)
    guide = book.sheet(
        "填写说明",
        [ExportColumn("列名", 16), ExportColumn("是否必填", 10), ExportColumn("说明", 80)],
        wrap=True,
    )
    for row in instruction_rows(columns):
        guide.append(row)
    guide.append([])
    for line in [*notes, *general_notes()]:
        guide.append(["说明", "", line])
    return book.to_bytes()


class ImportPlan(Protocol):
    """What a validation pass decided to write: new rows and the number of existing rows matched."""

    new: list[Any]
    changed: list[Any]
    matched: int


# The actor an import runs for, as the app's own service types it (a user, or None for the system).
ActorT = TypeVar("ActorT", bound=BaseActor)


def run_import(
    *,
    actor: ActorT,
    file: Any,
    filename: str,
    dry_run: bool,
    columns: Sequence[Column],
    check: Callable[[ActorT, Sheet, ImportReport], ImportPlan],
    write: Callable[[ImportPlan], dict[str, Any]],
    object_type: str,
    noun: str,
    conflict_message: str,
) -> ImportReport:
    """The one import flow: read the file, validate every row (``check`` fills report.errors), and
    only on a real run with no error at all write everything (``write``) in one transaction with
    one audit row. A dry run writes nothing; so does a real run with any error. A unique-key clash
    with someone else's concurrent write rolls the whole file back with ``conflict_message``."""
    from django.db import IntegrityError, transaction

    from .audit import audit_record
    from .choices import AuditAction

    sheet = read_sheet(file, filename=filename, columns=columns)
    report = ImportReport(dry_run=dry_run, total_rows=len(sheet.rows), preview=sheet.preview())
    if dry_run:
        plan = check(actor, sheet, report)
    else:
        try:
            with transaction.atomic():
                plan = check(actor, sheet, report)
                if report.errors:
                    return report
                details = write(plan)
                audit_record(
                    actor=actor,
                    action=AuditAction.IMPORT,
                    object_type=object_type,
                    object_repr=f"{noun}导入：{filename}",
                    changes={
                        "file": filename,
                        "rows": report.total_rows,
                        "created": len(plan.new),
                        "updated": plan.matched,
                        "changed": len(plan.changed),
                        **details,
                    },
                    message=f"导入{noun}{report.total_rows}行：新增{len(plan.new)}，更新{plan.matched}",
                )
        except IntegrityError as exc:
            raise ImportFileError(conflict_message) from exc
    report.created, report.updated = len(plan.new), plan.matched
    return report
