"""China's statutory holidays and adjusted working days (调休), as a dbt seed.

The days come from the ``chinesecalendar`` package, which follows the State Council's
yearly notices and so knows only the years announced so far. The seed is committed so
that dbt builds (and their unit tests) do not depend on the package; after upgrading the
package, ``itss calendar seed`` rewrites it and the drift test says when that is due.
Years absent from the seed fall back to Monday–Friday in ``marts.dim_calendar``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import chinese_calendar
from chinese_calendar.constants import Holiday

SEED_NAME = "cn_statutory_days.csv"
COLUMNS = ("calendar_date", "day_kind", "holiday_name", "holiday_name_zh")
_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}


def statutory_days() -> list[tuple[str, str, str, str]]:
    """One row per day off for a holiday and per weekend day worked instead (调休), in date order."""
    days = [(day, "holiday", name) for day, name in chinese_calendar.holidays.items()]
    days += [(day, "adjusted_workday", name) for day, name in chinese_calendar.workdays.items()]
    return [(day.isoformat(), kind, name, _CHINESE_NAMES.get(name, "")) for day, kind, name in sorted(days)]


def write_seed(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(statutory_days())
    return path
