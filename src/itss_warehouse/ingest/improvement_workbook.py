"""The improvement register workbook (改进措施登记表): ``itss improvements export``.

The quality department's round trip: the current register (every item of
``marts.improvement_items``, with what was filled in before) is written to a workbook in
the chosen language, filled in, and dropped in the landing folder, where the source of the
same language (``mappings/improvement_register.yml``, the one definition of sheet, headers
and drop-down choices) reads it back. The workbook has drop-downs for origin, cause category
and status, date cells, the item's id, origin and the generated KPI columns locked (sheet
protection, no password: it guards against slips, not people), empty rows below for items
raised by hand, and an instructions sheet. Values from sources stay strings, never formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from psycopg.rows import dict_row

from itss_warehouse.ingest.canonical import HAND_RAISED_IMPROVEMENT_ORIGINS
from itss_warehouse.ingest.sources import Source, load_sources
from itss_warehouse.reports.formatting import Period, load_catalogue
from itss_warehouse.reports.xlsx import HEADER_FILL, HEADER_FONT, display_width, first_sheet, keep_as_text
from itss_warehouse.settings import PACKAGE_DIR

REGISTER_MAPPING = PACKAGE_DIR / "mappings" / "improvement_register.yml"
SOURCE_BY_LANGUAGE = {"zh-CN": "improvement_register_zh", "en": "improvement_register_en"}
BLANK_ROWS = 200  # unlocked rows below the items, for items raised by hand
DATE_FORMAT = "yyyy-mm-dd"
INFO_FILL = PatternFill("solid", fgColor="D9D9D9")
# Not read back: what opened the item, shown so the person filling it in need not look it up.
INFO_COLUMNS = ("kpi", "scope", "period", "value", "target", "gap", "due_date", "state")
# Locked on the exported rows: the item's key, origin and the day it was raised (for a generated
# item, when its period ended: the mart keeps its own), given once.
LOCKED_FIELDS = ("item_id", "origin", "raised_date")

REGISTER_ITEMS = """
    select items.item_id, items.kind as origin, people.description, items.raised_date,
           coalesce(categories.name_zh, items.cause_category) as cause_category_zh,
           coalesce(categories.name_en, items.cause_category) as cause_category_en,
           items.cause_analysis, items.corrective_action, items.preventive_action,
           -- marts name people by pseudonym only; the register names them as it wrote them
           coalesce(people.owner, managers.project_manager, items.owner) as owner,
           items.planned_date, items.status, items.completed_date, people.verified_by, items.verified_date,
           items.verification_note,
           catalogue.name_zh as kpi_zh, catalogue.name_en as kpi_en, catalogue.unit, items.grain_id as scope,
           items.period_type, items.period_start, items.value, items.target, items.gap, items.due_date, items.state
    from marts.improvement_items as items
    left join restricted.improvement_register_people as people on items.item_id = people.item_id
    left join restricted.project_managers as managers
        on items.grain = 'project' and items.grain_id = managers.project_id
    left join marts.kpi_catalogue as catalogue on items.kpi_code = catalogue.kpi_code
    left join marts.improvement_cause_categories as categories on items.cause_category = categories.category_code
    left join marts.dim_projects as projects on items.grain = 'project' and items.grain_id = projects.project_id
    where (%(start)s::date is null or items.period_start >= %(start)s and items.period_start < %(end)s)
      and (%(department)s::text is null or items.grain = 'department' and items.grain_id = %(department)s
        or projects.dept_id = %(department)s)
    order by items.due_date, items.kind, items.kpi_code, items.grain_id, items.item_id
"""

# What the export reads besides the scorecard's marts: a warehouse built before the register lacks them.
REGISTER_TABLES = (
    "marts.improvement_items",
    "marts.improvement_cause_categories",
    "restricted.improvement_register_people",
)
CATEGORIES = "select category_code, name_zh, name_en from marts.improvement_cause_categories order by sort_order"


@dataclass(frozen=True)
class Export:
    path: Path
    items: int


def register_source(language: str, mapping: Path = REGISTER_MAPPING) -> Source:
    """The source that reads the workbook of ``language`` back."""
    if language not in SOURCE_BY_LANGUAGE:
        raise ValueError(f"no improvement register in {language!r} (available: {', '.join(SOURCE_BY_LANGUAGE)})")
    by_name = {source.name: source for source in load_sources(mapping).sources}
    return by_name[SOURCE_BY_LANGUAGE[language]]


def default_file_name(source: Source, stamp: str) -> str:
    """The name the source's pattern claims: its fixed prefix, then ``_<stamp>``."""
    return f"{source.pattern.split('*')[0]}_{stamp}{Path(source.pattern).suffix}"


def export_register(
    url: str,
    templates_dir: Path,
    output: Path | None,
    language: str = "zh-CN",
    period: Period | None = None,
    owner: str | None = None,
    today: date | None = None,
    department: str | None = None,
) -> Export:
    """Write the register (of ``period``'s items, of ``owner``'s, of ``department``'s and its projects', or
    all) to ``output`` (a file or a folder)."""
    source = register_source(language)
    labels = load_catalogue(templates_dir, language)
    params = {"start": period.start if period else None, "end": period.end if period else None,
              "department": department}  # fmt: skip
    with psycopg.connect(url, row_factory=dict_row) as conn:
        items = [row for row in conn.execute(REGISTER_ITEMS, params) if owner is None or row["owner"] == owner]
        categories = conn.execute(CATEGORIES).fetchall()
    suffix = "zh" if language == "zh-CN" else "en"
    category_labels = [row[f"name_{suffix}"] for row in categories]
    stamp = period.start.strftime("%Y-%m") if period else (today or date.today()).isoformat()
    path = output or Path(".")
    if path.is_dir():
        path = path / default_file_name(source, stamp)
    workbook = Workbook()
    sheet = first_sheet(workbook)
    _register_sheet(sheet, source, labels, items, category_labels, suffix)
    _instructions_sheet(workbook.create_sheet(labels["register"]["instructions_sheet"]), source, labels)
    workbook.properties.title = labels["register"]["title"]
    workbook.properties.creator = "itss-warehouse"
    workbook.save(path)
    return Export(path, len(items))


def _labels_by_code(source: Source, field: str) -> dict[str, str]:
    return {code: label for label, code in source.values[field].items()}


def _row(source: Source, labels: dict[str, Any], item: dict[str, Any], suffix: str) -> list[Any]:
    """The item's cells: the read-back fields in the source's order (codes as the file's labels), then INFO_COLUMNS."""
    origins, statuses = _labels_by_code(source, "origin"), _labels_by_code(source, "status")
    register = labels["register"]
    values = {
        **item,
        "origin": origins.get(item["origin"], item["origin"]),
        "status": statuses.get(item["status"], item["status"]),
        "cause_category": item[f"cause_category_{suffix}"],
    }
    period_name = labels["improvement"]["periods"].get(item["period_type"], item["period_type"])
    info = {
        "kpi": item[f"kpi_{suffix}"],
        "scope": item["scope"],
        "period": f"{item['period_start']:%Y-%m} ({period_name})",
        "value": _number(item["value"]),
        "target": _number(item["target"]),
        "gap": _number(item["gap"]),
        "due_date": item["due_date"],
        "state": register["states"].get(item["state"], item["state"]),
    }
    return [values[field] for field in source.columns.values()] + [info[column] for column in INFO_COLUMNS]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _number_format(is_date: bool, info: str | None, unit: str | None) -> str | None:
    """A date column's format, or an information column's: dates, and KPI figures in their unit."""
    if is_date or info == "due_date":
        return DATE_FORMAT
    if info in ("value", "target", "gap"):
        return "0.00%" if unit == "ratio" else "0.00"
    return None


def _register_sheet(
    sheet: Worksheet,
    source: Source,
    labels: dict[str, Any],
    items: list[dict[str, Any]],
    category_labels: list[str],
    suffix: str,
) -> None:
    assert source.sheet, "the register's sources name their sheet"
    sheet.title = source.sheet
    fields = list(source.columns.values())
    headers = list(source.columns) + [labels["register"]["info_headers"][column] for column in INFO_COLUMNS]
    sheet.append(headers)
    for item in items:
        sheet.append(_row(source, labels, item, suffix))
        keep_as_text(sheet[sheet.max_row])
    last_item_row = sheet.max_row
    last_row = last_item_row + BLANK_ROWS
    units = [item["unit"] for item in items]
    columns = [(field, None) for field in fields] + [(None, column) for column in INFO_COLUMNS]
    for index, (header, (field, info)) in enumerate(zip(headers, columns, strict=True), start=1):
        header_cell = sheet.cell(row=1, column=index)
        # Read-back columns in the report blue; information columns grey, as their cells.
        header_cell.font = HEADER_FONT if field else Font(bold=True)
        header_cell.fill = HEADER_FILL if field else INFO_FILL
        header_cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in range(2, last_row + 1):
            cell = sheet.cell(row=row, column=index)
            # The exported items' keys and generated columns stay as generated; the rows below are free.
            editable = row > last_item_row or (field is not None and field not in LOCKED_FIELDS)
            cell.protection = Protection(locked=not editable)
            unit = units[row - 2] if row <= last_item_row else None
            number_format = _number_format(field in source.dates, info, unit)
            if number_format:
                cell.number_format = number_format
            if info and row <= last_item_row:
                cell.fill = INFO_FILL
        sheet.column_dimensions[get_column_letter(index)].width = min(max(display_width(header) + 4, 14), 40)
    origins = _labels_by_code(source, "origin")
    choices = {
        "cause_category": (category_labels, 2),
        "status": (list(source.values["status"]), 2),
        # Only the rows below the items are raised by hand; their origin is one of the hand-raised ones.
        "origin": ([origins[code] for code in HAND_RAISED_IMPROVEMENT_ORIGINS], last_item_row + 1),
    }
    for field, (options, first_row) in choices.items():
        letter = get_column_letter(fields.index(field) + 1)
        validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True,
                                    showErrorMessage=True, error=" / ".join(options))  # fmt: skip
        validation.add(f"{letter}{first_row}:{letter}{last_row}")
        sheet.add_data_validation(validation)
    for field in source.dates:
        letter = get_column_letter(fields.index(field) + 1)
        validation = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                                    showErrorMessage=True, error=DATE_FORMAT)  # fmt: skip
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last_item_row}"
    # Sorting and filtering stay allowed; a protected sheet otherwise refuses both.
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False


def _instructions_sheet(sheet: Worksheet, source: Source, labels: dict[str, Any]) -> None:
    register = labels["register"]
    sheet.append(list(register["instruction_headers"]))
    for header, field in source.columns.items():
        editable = register["locked"] if field in LOCKED_FIELDS else register["editable"]
        sheet.append([header, editable, register["columns"][field]])
        keep_as_text(sheet[sheet.max_row])
    sheet.append([])
    sheet.append([register["info_note"]])
    for number, rule in enumerate(register["rules"], start=1):
        sheet.append([f"{number}. {rule}"])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for letter, width in zip("ABC", (16, 10, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2, max_row=len(source.columns) + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
