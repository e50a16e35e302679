"""The demo exports' layouts (from mappings/demo.yml) and how their files are written."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeAlias
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from itss_warehouse.ingest.sources import Source, load_sources
from itss_warehouse.reports.xlsx import first_sheet
from itss_warehouse.settings import PACKAGE_DIR


def _layouts() -> dict[str, Source]:
    """File name → its source in the demo mapping, the one definition of the export layouts."""
    definitions = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    return {source.pattern.replace("*", ""): source for source in definitions.sources}


LAYOUTS = _layouts()


HEADERS = {name: tuple(source.columns) for name, source in LAYOUTS.items()}


SHEETS = {name: source.sheet for name, source in LAYOUTS.items() if source.sheet}
# One exported row: its cells (text, numbers, dates, None) in header order.
Row: TypeAlias = list[Any]


BOM_FILES = {"tickets.csv", "ticket_status_history.csv", "incident_callbacks.csv"}  # as Chinese ticket tools export


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, header: tuple[str, ...], rows: list[Row], *, bom: bool) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([cell(value) for value in row] for row in rows)


def write_xlsx(path: Path, sheet: str, header: tuple[str, ...], rows: list[Row], stamp: datetime) -> None:
    workbook = Workbook()
    worksheet = first_sheet(workbook)
    worksheet.title = sheet
    for row in [list(header), *rows]:
        worksheet.append(row)
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    ExcelWriter(workbook, ZipFile(buffer, "w", ZIP_DEFLATED)).save()  # unlike Workbook.save, keeps our `modified`
    # Zip entries carry their write time too; pin it so reruns are byte-identical.
    with ZipFile(buffer) as source, ZipFile(path, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0)), source.read(entry), ZIP_DEFLATED)
