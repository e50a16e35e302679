"""Workbook helpers shared by the Excel ticket template and the report data appendices."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")


def display_width(text: str) -> int:
    """Display width in Excel character units: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def first_sheet(workbook: Workbook) -> Worksheet:
    """The worksheet a new ``Workbook()`` starts with."""
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError(f"expected the new workbook's worksheet, found {sheet!r}")
    return sheet


def workbook_bytes(workbook: Workbook, stamp: datetime) -> bytes:
    """The workbook as .xlsx bytes that depend only on its content and ``stamp``."""
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    # ExcelWriter keeps our `modified` (Workbook.save would stamp the current time).
    ExcelWriter(workbook, ZipFile(buffer, "w", ZIP_DEFLATED)).save()
    # Zip entries carry their write time too: pin it so the same content gives the same bytes.
    pinned = io.BytesIO()
    with ZipFile(buffer) as built, ZipFile(pinned, "w", ZIP_DEFLATED) as target:
        for entry in built.infolist():
            target.writestr(ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0)), built.read(entry), ZIP_DEFLATED)
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


def add_table_sheet(
    workbook: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    number_formats: dict[int, str] | None = None,
) -> None:
    """A sheet holding one table: styled, frozen header row, filters, columns wide enough to read."""
    sheet = workbook.create_sheet(title)
    sheet.append(list(headers))
    keep_as_text(sheet[1])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    widths = [display_width(str(header)) for header in headers]
    for row in rows:
        sheet.append([_cell_value(value) for value in row])
        widths = [max(width, display_width(_shown(value))) for width, value in zip(widths, row, strict=True)]
        keep_as_text(sheet[sheet.max_row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, Formatted):
                cell.number_format = value.number_format
            elif number_formats and cell.column - 1 in number_formats:
                cell.number_format = number_formats[cell.column - 1]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _cell_value(value: object) -> object:
    if isinstance(value, Formatted):
        return _cell_value(value.value)
    # Excel has no time zones: show a moment as Beijing wall-clock time.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)
    return value


def _shown(value: object) -> str:
    return "" if value is None else str(_cell_value(value))
