"""Periods, the message catalogue and the locale-aware Jinja filters every report shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from itss_warehouse.ingest.canonical import PRIORITIES, TICKET_TYPES
from itss_warehouse.reports import quarantine_reasons
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE

MONTHS_IN = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}

# SQL: the projects of a report's unit (every project, the department's, or the one project),
# with ``{projects}`` the alias of marts.dim_projects.
IN_SCOPE = """(
    %(grain)s = 'organisation'
    or (%(grain)s = 'department' and {projects}.dept_id = %(grain_id)s)
    or (%(grain)s = 'project' and {projects}.project_id = %(grain_id)s)
)"""
# SQL: the instant the period ends (its ``end`` day's midnight in Beijing).
PERIOD_END = f"(%(end)s::date::timestamp at time zone '{LOCAL_TIMEZONE.key}')"
# SQL: the ticket types in the order reports list them, and one count column per priority.
TICKET_TYPE_ORDER = "array[" + ", ".join(f"'{code}'" for code in TICKET_TYPES) + "]"


def priority_counts(priority: str, counted: str = "*") -> str:
    """``count(…) filter (where <priority> = 'P1') as "P1"``, … for each canonical priority."""
    return ", ".join(f"count({counted}) filter (where {priority} = '{code}') as \"{code}\"" for code in PRIORITIES)


PERIOD_PATTERN = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})|-Q(?P<quarter>[1-4])|-H(?P<half>[12]))?")


def add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter, half-year or year, as the scorecard's period_type and period_start."""

    type: str
    start: date

    def __post_init__(self) -> None:
        months = MONTHS_IN.get(self.type)
        if months is None or self.start.day != 1 or (self.start.month - 1) % months:
            raise ValueError(f"{self.start} does not start a {self.type}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-10`` (month), ``2026-Q3``, ``2026-H1`` or ``2026`` (year)."""
        match = PERIOD_PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"expected a period such as 2026-10, 2026-Q3, 2026-H1 or 2026, got {text!r}")
        year = int(match["year"])
        if match["month"]:
            if not 1 <= int(match["month"]) <= 12:
                raise ValueError(f"no month {match['month']} in {text!r}")
            return cls("month", date(year, int(match["month"]), 1))
        if match["quarter"]:
            return cls("quarter", date(year, 3 * int(match["quarter"]) - 2, 1))
        if match["half"]:
            return cls("half_year", date(year, 6 * int(match["half"]) - 5, 1))
        return cls("year", date(year, 1, 1))

    @classmethod
    def containing(cls, period_type: str, day: date) -> Period:
        months = MONTHS_IN[period_type]
        return cls(period_type, date(day.year, (day.month - 1) // months * months + 1, 1))

    @classmethod
    def last_closed(cls, period_type: str, day: date) -> Period:
        """The latest period of ``period_type`` complete at the end of ``day``."""
        current = cls.containing(period_type, day + timedelta(days=1))
        return cls(period_type, add_months(current.start, -MONTHS_IN[period_type]))

    @property
    def end(self) -> date:
        """The first day after the period."""
        return add_months(self.start, MONTHS_IN[self.type])

    @property
    def slug(self) -> str:
        """The period's name in the output archive: 2026-10, 2026-Q3, 2026-H1, 2026."""
        number = (self.start.month - 1) // MONTHS_IN[self.type] + 1
        return {
            "month": f"{self.start:%Y-%m}",
            "quarter": f"{self.start.year}-Q{number}",
            "half_year": f"{self.start.year}-H{number}",
            "year": f"{self.start.year}",
        }[self.type]

    def previous_year(self) -> Period:
        return Period(self.type, add_months(self.start, -12))

    def label(self, catalogue: dict[str, Any]) -> str:
        """The period as the catalogue's ``period_formats`` say: 2026年10月, Q3 2026, 2026年上半年 …"""
        number = (self.start.month - 1) // MONTHS_IN[self.type] + 1
        return catalogue["period_formats"][self.type].format(
            year=self.start.year,
            month=self.start.month,
            month_name=catalogue["month_names"][self.start.month - 1],
            number=number,
            half=catalogue["half_names"][number - 1] if self.type == "half_year" else "",
        )


def load_catalogue(templates_dir: Path, language: str) -> dict[str, Any]:
    """The message catalogue for ``language`` from ``<templates_dir>/locales``."""
    path = templates_dir / "locales" / f"{language}.yml"
    if not path.is_file():
        available = sorted(p.stem for p in (templates_dir / "locales").glob("*.yml"))
        raise ValueError(f"no locale {language!r} in {path.parent} (available: {', '.join(available)})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def build_environment(templates_dir: Path, catalogue: dict[str, Any]) -> jinja2.Environment:
    """A Jinja2 environment with autoescape and the locale-aware formatting filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    blank = catalogue["not_available"]

    def or_blank(format_value):
        return lambda value: blank if value is None else format_value(value)

    layout = catalogue["layout"]

    def hours(value):
        return format_duration(Decimal(value) * 60, layout["duration"])

    def kpi_value(value, unit):
        if value is None:
            return blank
        if unit == "hours":  # a mean handling time: hours and minutes, as every duration
            return hours(value)
        return format_kpi(value, unit)

    def target(value, comparator, unit):
        """``≥ 95.0%``: the comparator as its symbol, kept on one line with the value."""
        if value is None:
            return blank
        return f"{COMPARATOR_SYMBOLS.get(comparator, comparator)}\u00a0{kpi_value(value, unit)}"

    env.filters.update(
        blank=or_blank(str),
        percent=or_blank(format_percent),
        number=or_blank(format_number),
        duration=or_blank(lambda minutes: format_duration(minutes, layout["duration"])),
        hours=or_blank(hours),
        reason=lambda text: quarantine_reasons.translate(text, layout["reasons"]),
        warning=lambda text: quarantine_reasons.translate_warning(text, layout["warnings"], layout["reasons"]),
        kpi_value=kpi_value,
        target=target,
        local_time=or_blank(lambda value: value.astimezone(LOCAL_TIMEZONE).strftime(catalogue["datetime_format"])),
        local_date=or_blank(lambda value: value.astimezone(LOCAL_TIMEZONE).date().isoformat()),
        label=lambda code, labels: blank if code is None else labels.get(code, code),
        css_string=css_string,
        css_counters=css_counters,
        message=lambda text, **values: text.format(**values),
    )
    return env


def css_string(text: str) -> Markup:
    """Text for inside a CSS string in a <style> element: quotes, backslashes and tags escaped."""
    escaped = "".join(f"\\{ord(char):x} " if char in '"\\<>&' else char for char in str(text))
    return Markup(escaped)


def css_counters(text: str) -> Markup:
    """``Page {page} of {pages}`` as CSS content: ``"Page " counter(page) " of " counter(pages)``."""
    parts = re.split(r"\{(page|pages)\}", text)
    tokens = [f"counter({part})" if index % 2 else f'"{css_string(part)}"' for index, part in enumerate(parts)]
    return Markup(" ".join(token for token in tokens if token != '""'))


def format_percent(ratio: Decimal) -> str:
    """A 0..1 ratio as ``75.0%``, rounded half up like SQL ``round``."""
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def format_number(value: Decimal | int) -> str:
    """A count to at most two decimals, without trailing zeros, with thousands separators: ``3``, ``1,234.5``.

    Both languages group digits by three with a comma (GB/T 15835 allows it, and readers of
    Chinese business documents expect it).
    """
    if isinstance(value, int):
        return f"{value:,}"
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP).normalize():,f}"


def format_duration(minutes: Decimal | int, formats: dict[str, str]) -> str:
    """Minutes as hours and minutes by the catalogue's ``layout.duration``: ``51 h 55 min``, ``51小时55分``."""
    whole = int(Decimal(minutes).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    hours, rest = divmod(abs(whole), 60)
    sign = "-" if whole < 0 else ""
    if hours == 0:
        return sign + formats["minutes"].format(minutes=rest)
    return sign + formats["hours_minutes"].format(hours=f"{hours:,}", minutes=rest)


# Comparators as the compact symbols a target column shows.
COMPARATOR_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def format_score(score: Decimal) -> str:
    """A 0–100 score to one decimal, rounded half up like SQL ``round`` (the charts label bars with it too)."""
    return str(Decimal(score).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def format_kpi(value: Decimal, unit: str) -> str:
    """A scorecard value in its catalogue unit: ratios as percentages, scores and hours to one decimal."""
    if unit == "ratio":
        return format_percent(value)
    if unit in ("score", "hours"):
        return format_score(value)
    return format_number(value)


RATIO_FORMAT = "0.0%"  # as format_percent shows it in the HTML and PDF


def kpi_number_format(unit: str) -> str:
    """The Excel number format showing a scorecard value as ``format_kpi`` does."""
    # Counts and flags are whole numbers ("0.##" would show 21 as "21."); General for a unit not listed.
    return {"ratio": RATIO_FORMAT, "score": "0.0", "hours": "0.0", "count": "#,##0", "flag": "0"}.get(unit, "General")
