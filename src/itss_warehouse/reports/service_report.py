"""The monthly service report (服务报告) per project, rendered to HTML from the marts.

Every number shown is a mart column or a plain count; this module selects and formats,
it computes no KPI. Labels come from the locale catalogues in ``reports/locales``.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jinja2
import psycopg
import yaml
from markupsafe import Markup
from openpyxl import Workbook
from psycopg.rows import dict_row

from itss_warehouse.reports import charts
from itss_warehouse.reports.pdf import html_to_pdf
from itss_warehouse.xlsx import LOCAL_TIMEZONE, Formatted, add_table_sheet, workbook_bytes

TEMPLATE = "service_report.html.j2"
FORMATS = ("html", "pdf", "xlsx")
PRIORITIES = ("P1", "P2", "P3", "P4")
RATIO_FORMAT = "0.0%"  # as format_percent shows it in the HTML and PDF
QUARANTINE_ROWS_SHOWN = 20

ACTIVE_PROJECTS = """
    select project_id, project_name, customer_name, department_name
    from marts.dim_projects
    where start_date < %(month)s::date + interval '1 month'
      and (end_date is null or end_date >= %(month)s)
    order by project_id
"""

SLA_ATTAINMENT = """
    select period_type, numerator, denominator, value, target, is_met
    from marts.kpi_scorecard
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and grain_id = %(project_id)s
      and ((period_type = 'month' and period_start = %(month)s)
        or (period_type = 'year' and period_start = date_trunc('year', %(month)s::date)::date))
"""

TICKET_VOLUME = """
    select
        ticket_type,
        grouping(ticket_type) = 1 as is_total,
        count(*) filter (where priority = 'P1') as "P1",
        count(*) filter (where priority = 'P2') as "P2",
        count(*) filter (where priority = 'P3') as "P3",
        count(*) filter (where priority = 'P4') as "P4",
        count(*) as total
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month = %(month)s
    group by rollup (ticket_type)
    order by
        grouping(ticket_type),
        array_position(
            array['incident', 'service_request', 'problem', 'change', 'release', 'leftover_issue'], ticket_type
        ),
        ticket_type
"""

# One row per breached metric (marts.sla_breaches), so a ticket late on two metrics shows twice.
BREACHED_TICKETS = """
    select breaches.ticket_id, tickets.ticket_type, breaches.priority_applied as priority, breaches.metric,
           breaches.opened_at, breaches.due_at, breaches.done_at, breaches.target_minutes, breaches.net_minutes,
           breaches.breach_minutes
    from marts.sla_breaches as breaches
    inner join marts.fct_tickets as tickets on breaches.ticket_id = tickets.ticket_id
    where breaches.project_id = %(project_id)s and breaches.opened_month = %(month)s
    order by breaches.opened_at, breaches.ticket_id,
        array_position(array['response', 'onsite', 'resolution'], breaches.metric)
"""

MAJOR_INCIDENTS = """
    select ticket_id, priority, category, opened_at, resolved_at, status
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month = %(month)s and ticket_type = 'incident' and is_major
    order by opened_at, ticket_id
"""

# Changes and releases implemented (with an outcome) among those opened in the month.
CHANGES_AND_RELEASES = """
    select ticket_type,
        count(*) filter (where outcome is not null) as implemented,
        count(*) filter (where outcome = 'success') as succeeded,
        count(*) filter (where outcome = 'failed') as failed,
        count(*) filter (where outcome = 'rolled_back') as rolled_back
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month = %(month)s and ticket_type in ('change', 'release')
    group by ticket_type
    order by ticket_type
"""

DELIVERY_MODES = """
    select count(*) filter (where delivery_mode = 'onsite') as onsite,
           count(*) filter (where delivery_mode = 'remote') as remote
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month = %(month)s
"""

CALLBACK_COVERAGE = """
    select numerator, denominator, value, target, status
    from marts.kpi_scorecard
    where kpi_code = 'CALLBACK_COVERAGE' and grain = 'project' and grain_id = %(project_id)s
      and period_type = 'month' and period_start = %(month)s
"""

SATISFACTION = """
    select level, count(*) as answers, round(avg(score_100), 1) as average_score,
           count(*) filter (where is_low_score) as low_scores
    from marts.fct_satisfaction_answers
    where project_id = %(project_id)s and date_trunc('month', responded_date) = %(month)s
    group by level
    order by array_position(array['callback', 'project', 'annual'], level)
"""

# Leftover issues still open now, whenever they were raised.
LEFTOVER_ISSUES = """
    select ticket_id, category, opened_at, status
    from marts.fct_tickets
    where project_id = %(project_id)s and ticket_type = 'leftover_issue' and status not in ('resolved', 'closed')
    order by opened_at, ticket_id
"""

# Items of the project raised for periods up to this month and not yet due when it began.
IMPROVEMENT_PLAN = """
    select items.kind, items.kpi_code, catalogue.name_zh, catalogue.name_en, catalogue.unit, items.period_type,
           items.period_start, items.value, items.target, items.owner, items.due_date
    from marts.improvement_items as items
    left join marts.kpi_catalogue as catalogue on items.kpi_code = catalogue.kpi_code
    where items.grain = 'project' and items.grain_id = %(project_id)s
      and items.period_start <= %(month)s and items.due_date >= %(month)s
    order by items.due_date, items.kind, items.kpi_code
"""

# The twelve months up to the report month, for the trend charts.
MONTHLY_TREND = """
    select months.month::date as month, scorecard.value, scorecard.target,
        count(tickets.ticket_id) filter (where tickets.priority = 'P1') as "P1",
        count(tickets.ticket_id) filter (where tickets.priority = 'P2') as "P2",
        count(tickets.ticket_id) filter (where tickets.priority = 'P3') as "P3",
        count(tickets.ticket_id) filter (where tickets.priority = 'P4') as "P4"
    from generate_series(%(month)s::date - interval '11 months', %(month)s::date, interval '1 month') as months (month)
    left join marts.kpi_scorecard as scorecard
        on scorecard.kpi_code = 'SLA_ATTAINMENT' and scorecard.grain = 'project'
        and scorecard.grain_id = %(project_id)s and scorecard.period_type = 'month'
        and scorecard.period_start = months.month::date
    left join marts.fct_tickets as tickets
        on tickets.project_id = %(project_id)s and tickets.opened_month = months.month::date
    group by months.month, scorecard.value, scorecard.target
    order by months.month
"""

# The appendix: every KPI of the project for the month, and the tickets behind them.
PROJECT_KPIS = """
    select scorecard.kpi_code, catalogue.name_zh, catalogue.name_en, catalogue.unit, scorecard.numerator,
           scorecard.denominator, scorecard.value, scorecard.target, scorecard.status
    from marts.kpi_scorecard as scorecard
    inner join marts.kpi_catalogue as catalogue on scorecard.kpi_code = catalogue.kpi_code
    where scorecard.grain = 'project' and scorecard.grain_id = %(project_id)s
      and scorecard.period_type = 'month' and scorecard.period_start = %(month)s
    order by scorecard.kpi_code
"""

PROJECT_TICKETS = """
    select ticket_id, ticket_type, priority, opened_at, resolved_at, status, sla_status
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month = %(month)s
    order by opened_at, ticket_id
"""

USES_FALLBACK_CALENDAR = """
    select coalesce(bool_or(uses_fallback_calendar), false) as uses_fallback_calendar
    from marts.fct_ticket_sla
    where project_id = %(project_id)s and opened_month = %(month)s
"""

# Rows, not findings: one row may fail several checks.
QUARANTINE_COUNT = """
    select count(*) as count
    from (select distinct entity, batch_id, source_row from raw.quarantined_rows) as quarantined
"""

QUARANTINE_ROWS = """
    select source_file, source_row, column_name, raw_value, reason
    from raw.quarantined_rows
    order by batch_id, source_file, source_row, check_name
    limit %(limit)s
"""


@dataclass(frozen=True)
class RenderedReport:
    project_id: str
    period_start: date
    language: str
    files: dict[str, Path]

    @property
    def path(self) -> Path:
        """The HTML report, also the e-mail body."""
        return self.files["html"]


def render_service_reports(
    conn: psycopg.Connection,
    month: date,
    output_dir: Path,
    templates_dir: Path,
    *,
    language: str = "zh-CN",
    as_of: datetime | None = None,
    formats: tuple[str, ...] = ("html",),
    project_ids: list[str] | None = None,
) -> list[RenderedReport]:
    """Render one report per project active in ``month`` (or those of ``project_ids``) in ``formats``.

    Re-rendering replaces the files.
    """
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month}")
    if unknown := sorted(set(formats) - set(FORMATS)):
        raise ValueError(f"unknown report format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    catalogue = load_catalogue(templates_dir, language)
    template = build_environment(templates_dir, catalogue).get_template(TEMPLATE)
    folder = output_dir / "service_report" / f"{month:%Y-%m}"
    with conn.cursor(row_factory=dict_row) as cur:
        shared = {
            "t": catalogue,
            "period": month_label(month, catalogue),
            "as_of": as_of if as_of is not None else _latest_load(cur),
            "quarantine": _quarantine(cur),
            "priorities": PRIORITIES,
        }
        reports = []
        for project in active_projects(conn, month, project_ids):
            params = {"project_id": project["project_id"], "month": month}
            sections = _project_sections(cur, params)
            html = template.render(shared, project=project, charts=_charts(cur, params, catalogue), **sections)
            files = {}
            for kind in formats:
                if kind == "html":
                    content = html.encode("utf-8")
                elif kind == "pdf":
                    content = html_to_pdf(html)
                else:
                    content = _appendix(cur, params, sections, catalogue, shared["as_of"])
                files[kind] = folder / f"{project['project_id']}.{language}.{kind}"
                write_atomically(files[kind], content)
            reports.append(RenderedReport(project["project_id"], month, language, files))
    return reports


def active_projects(conn: psycopg.Connection, month: date, project_ids: list[str] | None = None) -> list[dict]:
    """The projects running in ``month`` (all of them, or those named); naming an inactive one is an error."""
    with conn.cursor(row_factory=dict_row) as cur:
        projects = cur.execute(ACTIVE_PROJECTS, {"month": month}).fetchall()
    if project_ids is None:
        return projects
    if unknown := sorted(set(project_ids) - {project["project_id"] for project in projects}):
        raise ValueError(f"no project {', '.join(unknown)} running in {month:%Y-%m}")
    return [project for project in projects if project["project_id"] in project_ids]


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

    env.filters.update(
        blank=or_blank(str),
        percent=or_blank(format_percent),
        number=or_blank(format_number),
        local_time=or_blank(lambda value: value.astimezone(LOCAL_TIMEZONE).strftime(catalogue["datetime_format"])),
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


def month_label(month: date, catalogue: dict[str, Any]) -> str:
    """``2026年10月`` or ``October 2026``, as the catalogue's ``month_format`` says."""
    names = catalogue.get("month_names") or []
    month_name = names[month.month - 1] if names else ""
    return catalogue["month_format"].format(year=month.year, month=month.month, month_name=month_name)


def format_percent(ratio: Decimal) -> str:
    """A 0..1 ratio as ``75.0%``, rounded half up like SQL ``round``."""
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def format_number(value: Decimal | int) -> str:
    """A count or minutes without trailing zeros: ``3``, ``42.5``."""
    if isinstance(value, int):
        return str(value)
    return f"{value.normalize():f}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder so readers never see a partial report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            # mkstemp creates 0600; the report is meant to be read by others (web server, mailer).
            os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        os.unlink(temp_name)
        raise


def _latest_load(cur: psycopg.Cursor) -> datetime | None:
    return cur.execute("select max(loaded_at) as loaded_at from raw.load_batches").fetchone()["loaded_at"]


def _quarantine(cur: psycopg.Cursor) -> dict[str, Any]:
    count = cur.execute(QUARANTINE_COUNT).fetchone()["count"]
    rows = cur.execute(QUARANTINE_ROWS, {"limit": QUARANTINE_ROWS_SHOWN}).fetchall() if count else []
    return {"count": count, "rows": rows}


def _project_sections(cur: psycopg.Cursor, params: dict[str, Any]) -> dict[str, Any]:
    scorecard = {row["period_type"]: row for row in cur.execute(SLA_ATTAINMENT, params).fetchall()}
    return {
        "major_incidents": cur.execute(MAJOR_INCIDENTS, params).fetchall(),
        "changes_and_releases": cur.execute(CHANGES_AND_RELEASES, params).fetchall(),
        "delivery_modes": cur.execute(DELIVERY_MODES, params).fetchone(),
        "callbacks": cur.execute(CALLBACK_COVERAGE, params).fetchone(),
        "satisfaction": cur.execute(SATISFACTION, params).fetchall(),
        "leftover_issues": cur.execute(LEFTOVER_ISSUES, params).fetchall(),
        "improvements": cur.execute(IMPROVEMENT_PLAN, params).fetchall(),
        "sla": {"month": scorecard.get("month"), "year": scorecard.get("year")},
        "volume": cur.execute(TICKET_VOLUME, params).fetchall(),
        "breaches": cur.execute(BREACHED_TICKETS, params).fetchall(),
        "uses_fallback_calendar": cur.execute(USES_FALLBACK_CALENDAR, params).fetchone()["uses_fallback_calendar"],
    }


def _charts(cur: psycopg.Cursor, params: dict[str, Any], catalogue: dict[str, Any]) -> dict[str, str]:
    """The SLA attainment trend against its target and the ticket volume by priority, last twelve months."""
    charts_t = catalogue["charts"]
    months = cur.execute(MONTHLY_TREND, params).fetchall()
    labels = [f"{row['month']:%Y-%m}" for row in months]
    target = next((row["target"] for row in reversed(months) if row["target"] is not None), None)
    return {
        "sla": charts.rate_against_target(
            labels, [row["value"] for row in months], target,
            rate_label=charts_t["sla_attainment"], target_label=charts_t["target"],
        ),
        "volume": charts.stacked_counts(
            labels, {priority: [row[priority] for row in months] for priority in PRIORITIES},
            ylabel=charts_t["tickets"],
        ),
    }  # fmt: skip


def _appendix(
    cur: psycopg.Cursor, params: dict[str, Any], sections: dict[str, Any], catalogue: dict[str, Any], as_of
) -> bytes:
    """The data appendix: the project's KPIs for the month, its SLA breaches, and its tickets."""
    t = catalogue["appendix"]
    name = catalogue["kpi_name_column"]
    workbook = Workbook()
    workbook.remove(workbook.active)
    kpis = cur.execute(PROJECT_KPIS, params).fetchall()
    add_table_sheet(
        workbook,
        t["kpis"],
        t["kpi_headers"],
        (
            [
                row["kpi_code"],
                row[name],
                row["numerator"],
                row["denominator"],
                Formatted(row["value"], RATIO_FORMAT if row["unit"] == "ratio" else "0.##"),
                Formatted(row["target"], RATIO_FORMAT if row["unit"] == "ratio" else "0.##"),
                t["statuses"][row["status"]],
            ]
            for row in kpis
        ),
        number_formats={2: "0.##", 3: "0.##"},
    )
    add_table_sheet(
        workbook,
        t["breaches"],
        t["breach_headers"],
        (
            [
                row["ticket_id"],
                catalogue["ticket_types"].get(row["ticket_type"], row["ticket_type"]),
                row["priority"],
                catalogue["metrics"][row["metric"]],
                row["opened_at"],
                row["due_at"],
                row["done_at"],
                row["target_minutes"],
                row["net_minutes"],
                row["breach_minutes"],
            ]
            for row in sections["breaches"]
        ),
        number_formats={4: "yyyy-mm-dd hh:mm", 5: "yyyy-mm-dd hh:mm", 6: "yyyy-mm-dd hh:mm"},
    )
    add_table_sheet(
        workbook, t["tickets"], t["ticket_headers"],
        ([row["ticket_id"], catalogue["ticket_types"].get(row["ticket_type"], row["ticket_type"]), row["priority"],
          row["opened_at"], row["resolved_at"], row["status"], row["sla_status"]]
         for row in cur.execute(PROJECT_TICKETS, params).fetchall()),
        number_formats={3: "yyyy-mm-dd hh:mm", 4: "yyyy-mm-dd hh:mm"},
    )  # fmt: skip
    stamp = (as_of or datetime(2000, 1, 1, tzinfo=LOCAL_TIMEZONE)).astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)
    return workbook_bytes(workbook, stamp)
