"""What every report's XLSX appendix shares: a cover sheet first, and cells in the reader's terms.

Codes (statuses, metrics, severities …) are shown as the catalogue names them in the workbook's
language, a code the catalogue does not know as it is. Counts are whole numbers with thousands
separators; durations are hours and minutes (Excel's ``[h]:mm`` on a day fraction, so a cell stays a
number a reader can sum), rounded to the minute as the PDF rounds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from itss_warehouse.reports.base import Unit
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE, Formatted, Sheet

COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"  # a quantity that is not whole, e.g. a sum of project rates
DURATION_FORMAT = "[h]:mm"  # [h]: hours past 24 keep counting instead of wrapping into days
MINUTES_PER_DAY = 24 * 60


def label(code: str | None, labels: Mapping[str, str]) -> str | None:
    """The catalogue's name of a code; an unknown code as it is (the data's value, not an error)."""
    return None if code is None else labels.get(code, code)


def flag(value: bool | None, catalogue: dict[str, Any]) -> str | None:
    """A yes/no column in words: Excel would show TRUE/FALSE in every language."""
    return None if value is None else catalogue["flag_yes" if value else "flag_no"]


def quantity(value: Decimal | int | None) -> Formatted | None:
    """A count (``1,234``), or a quantity with decimals (``1.75``) when it is not whole."""
    if value is None:
        return None
    return Formatted(value, COUNT_FORMAT if value == int(value) else DECIMAL_FORMAT)


def duration(minutes: Decimal | int | None) -> Formatted | None:
    """Minutes as hours and minutes, ``3114.65`` → ``51:55``: whole minutes, rounded half up."""
    if minutes is None:
        return None
    whole = Decimal(minutes).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Formatted(float(whole) / MINUTES_PER_DAY, DURATION_FORMAT)


def hours_duration(hours: Decimal | None) -> Formatted | None:
    """Hours (``hours_to_close``) as hours and minutes, like ``duration``."""
    return None if hours is None else duration(Decimal(hours) * 60)


def cover_sheet(
    catalogue: dict[str, Any],
    kind_name: str,
    unit: Unit,
    *,
    as_of: datetime | None,
    data_quality: list[str],
    document: Mapping[str, str] | None = None,
) -> Sheet:
    """The workbook's first sheet: which report it belongs to, its period, as-of time and data quality.

    ``data_quality`` is the statement the report gives its audience (``quality_statement``);
    ``document`` ({"number", "version"}) is the report's document control, shown when it has one.
    """
    t, facts = catalogue["workbook"], catalogue["facts"]
    rows: list[list[object]] = [[t["report"], catalogue["titles"][kind_name]]]
    if document:
        rows += [[t["document_number"], document["number"]], [t["version"], document["version"]]]
    rows += _unit_rows(catalogue, unit)
    as_of_text = (
        f"{as_of.astimezone(LOCAL_TIMEZONE).strftime(catalogue['datetime_format'])}{catalogue['timezone_note']}"
        if as_of
        else catalogue["not_available"]
    )
    rows += [[facts["period"], unit.period.label(catalogue)], [facts["as_of"], as_of_text]]
    rows += [[facts["data_quality"] if index == 0 else "", line] for index, line in enumerate(data_quality)]
    rows.append([t["contents"], t["contents_note"]])
    return Sheet(t["cover"], t["cover_headers"], rows)


def _unit_rows(catalogue: dict[str, Any], unit: Unit) -> list[list[object]]:
    """What the report is about, as the PDF's facts block names it."""
    facts = catalogue["facts"]
    if unit.grain == "project":
        return [
            [facts["project"], f"{unit.facts['project_name']} ({unit.grain_id})"],
            [facts["customer"], unit.facts["customer_name"]],
            [facts["department"], unit.facts.get("department_name") or catalogue["not_available"]],
        ]
    if unit.grain == "department":
        return [[facts["department"], f"{unit.facts['department_name']} ({unit.grain_id})"]]
    return [[catalogue["workbook"]["scope"], catalogue["grains"]["organisation"]]]
