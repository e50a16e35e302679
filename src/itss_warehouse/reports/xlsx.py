"""Workbook helpers shared by the Excel ticket template and the report data appendices."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell, get_time_format
from openpyxl.compat import safe_string
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")


def display_width(text: str) -> int:
    """Display width in Excel character units: CJK characters count double."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def first_sheet(workbook: Workbook) -> Worksheet:
    """The worksheet a new ``Workbook()`` starts with."""
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError(f"expected the new workbook's worksheet, found {sheet!r}")
    return sheet


def workbook_bytes(workbook: Workbook, stamp: datetime) -> bytes:
    """The workbook as .xlsx bytes that depend only on its content and ``stamp``."""
    return _workbook_bytes(workbook, stamp, {})


def _workbook_bytes(workbook: Workbook, stamp: datetime, rows: dict[Worksheet, _Rows]) -> bytes:
    """``workbook_bytes``, with each sheet of ``rows`` given those rows after the ones openpyxl wrote."""
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    # ExcelWriter keeps our `modified` (Workbook.save would stamp the current time). Stored, not compressed:
    # the entries are compressed once, below.
    ExcelWriter(workbook, ZipFile(buffer, "w", ZIP_STORED)).save()
    by_entry = {sheet.path.removeprefix("/"): sheet_rows for sheet, sheet_rows in rows.items()}  # paths set by save
    # Zip entries carry their write time too: pin it so the same content gives the same bytes.
    pinned = io.BytesIO()
    with ZipFile(buffer) as built, ZipFile(pinned, "w", ZIP_DEFLATED) as target:
        for entry in built.infolist():
            data = built.read(entry)
            if entry.filename in by_entry:
                data = by_entry[entry.filename].spliced_into(data)
            target.writestr(ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0)), data, ZIP_DEFLATED)
    return pinned.getvalue()


@dataclass(frozen=True)
class Formatted:
    """A cell value with its own number format (e.g. a ratio shown as a percentage)."""

    value: object
    number_format: str


# Text a spreadsheet may take for a formula (OWASP "CSV injection"): =, +, -, @, tab, carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def keep_as_text(cells: Iterable[Cell | MergedCell]) -> None:
    """Values from data are never formulas: text openpyxl would write as one stays a string,
    and quotePrefix keeps Excel from reading any formula-like text as one when a user edits it."""
    for cell in cells:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"
            cell.quotePrefix = True


HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook: a header row, then one row per record."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]
    number_formats: dict[int, str] | None = None  # column index → Excel number format


def table_workbook(sheets: Iterable[Sheet], stamp: datetime) -> bytes:
    """A workbook of one table per sheet, as ``workbook_bytes``: styled, frozen header row, filters, columns wide
    enough to read."""
    workbook = Workbook()
    workbook.remove(first_sheet(workbook))
    rows = {}
    for table in sheets:
        sheet = workbook.create_sheet(table.title)
        rows[sheet] = _add_table(sheet, table)
    return _workbook_bytes(workbook, stamp, rows)


def _add_table(sheet: Worksheet, table: Sheet) -> _Rows:
    """The header row in ``sheet``, sized and filtered for the records; the records' rows as XML."""
    sheet.append(list(table.headers))
    keep_as_text(sheet[1])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    widths = [display_width(str(header)) for header in table.headers]
    writer = _RowWriter(sheet, table.number_formats or {}, widths)
    xml = "".join(writer.row(number, row) for number, row in enumerate(table.rows, start=2))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    rows = _Rows(xml, sheet.dimensions, f"A1:{get_column_letter(len(widths))}{writer.last_row}")
    sheet.auto_filter.ref = rows.ref
    return rows


@dataclass(frozen=True)
class _Rows:
    xml: str  # <row> elements
    header_ref: str  # the sheet's extent as openpyxl wrote it, its header row alone
    ref: str  # the sheet's extent with the rows

    def spliced_into(self, worksheet: bytes) -> bytes:
        """The worksheet XML openpyxl wrote, with the rows after its own and its extent updated."""
        text = worksheet.decode("utf-8")
        dimension = f'<dimension ref="{self.header_ref}" />'
        if text.count("</sheetData>") != 1 or text.count(dimension) != 1:
            raise RuntimeError(f"openpyxl wrote no single {dimension} and </sheetData> to extend")
        text = text.replace(dimension, f'<dimension ref="{self.ref}" />')
        return text.replace("</sheetData>", f"{self.xml}</sheetData>").encode("utf-8")


class _RowWriter:
    """A table's records as worksheet XML rows, the cells openpyxl would write.

    Without lxml, openpyxl serialises XML in pure Python, about 20 µs a cell: seconds for the appendix of a
    10,000-ticket month. Here openpyxl still types each value and checks its text (through one reused cell, so
    text that cannot go in a worksheet raises as before); only the XML is written here.
    """

    def __init__(self, sheet: Worksheet, number_formats: dict[int, str], widths: list[int]) -> None:
        self.sheet, self.number_formats, self.widths = sheet, number_formats, widths
        if sheet.parent is None:
            raise ValueError("the rows' sheet must belong to a workbook")
        self.epoch = sheet.parent.epoch
        self.typed = Cell(sheet, row=1, column=1)  # a scratch cell: types each value as openpyxl would
        self.styles: dict[tuple[str | None, bool], str] = {}
        self.letters = [get_column_letter(index) for index in range(1, len(widths) + 1)]
        self.last_row = 1

    def row(self, number: int, values: Sequence[object]) -> str:
        if len(values) != len(self.widths):
            raise ValueError(f"row {number} of sheet {self.sheet.title!r} has {len(values)} values for"
                             f" {len(self.widths)} columns")  # fmt: skip
        self.last_row = number
        cells = []
        for column, given in enumerate(values):
            value: Any = _cell_value(given)
            if value is None:
                continue
            self.widths[column] = max(self.widths[column], display_width(str(value)))
            self.typed.value = value
            data_type, value = self.typed.data_type, self.typed.value
            number_format = given.number_format if isinstance(given, Formatted) else self.number_formats.get(column)
            # As keep_as_text: text from data is never a formula.
            quoted = isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            if data_type == "d":
                number_format = number_format or get_time_format(type(value))  # type: ignore[arg-type]  # keyed by type; the stub says instance
                data_type, value = "n", to_excel(value, self.epoch)
            reference = f"{self.letters[column]}{number}"
            style = self._style(number_format, quoted)
            if value == "":
                cells.append(f'<c r="{reference}"{style} t="inlineStr" />')
            elif quoted or data_type == "s":
                value = str(value)
                space = ' xml:space="preserve"' if value.strip() and value != value.strip() else ""
                cells.append(f'<c r="{reference}"{style} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>')
            else:  # n (numbers), b (booleans), e (error codes such as #N/A)
                cells.append(f'<c r="{reference}"{style} t="{data_type}"><v>{escape(safe_string(value))}</v></c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    def _style(self, number_format: str | None, quoted: bool) -> str:
        """The cell attribute naming the workbook's style of this format and quote prefix (none for the default)."""
        key = (number_format, quoted)
        if key not in self.styles:
            cell = Cell(self.sheet, row=1, column=1)  # a scratch cell: only its style is read
            if number_format:
                cell.number_format = number_format
            cell.quotePrefix = quoted
            self.styles[key] = f' s="{cell.style_id}"' if cell.has_style else ""
        return self.styles[key]


def _cell_value(value: object) -> object:
    if isinstance(value, Formatted):
        return _cell_value(value.value)
    # Excel has no time zones: show a moment as Beijing wall-clock time.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)
    return value
