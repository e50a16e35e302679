"""The monthly service report (服务报告) per project, rendered to HTML from the marts.

Every number shown is a mart column or a plain count; this module selects and formats,
it computes no KPI. Labels come from the locale catalogues in ``reports/locales``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import psycopg
import yaml
from psycopg.rows import dict_row

TEMPLATE = "service_report.html.j2"
LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
PRIORITIES = ("P1", "P2", "P3", "P4")
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
    path: Path


def render_service_reports(
    conn: psycopg.Connection,
    month: date,
    output_dir: Path,
    templates_dir: Path,
    *,
    language: str = "zh-CN",
    as_of: datetime | None = None,
) -> list[RenderedReport]:
    """Render one report per project active in ``month``; re-rendering replaces the files."""
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month}")
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
        for project in cur.execute(ACTIVE_PROJECTS, {"month": month}).fetchall():
            params = {"project_id": project["project_id"], "month": month}
            html = template.render(shared, project=project, **_project_sections(cur, params))
            path = folder / f"{project['project_id']}.{language}.html"
            write_atomically(path, html)
            reports.append(RenderedReport(project["project_id"], month, language, path))
    return reports


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
        message=lambda text, **values: text.format(**values),
    )
    return env


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


def write_atomically(path: Path, text: str) -> None:
    """Write via a temp file in the same folder so readers never see a partial report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            # mkstemp creates 0600; the report is meant to be read by others (web server, mailer).
            os.fchmod(handle.fileno(), 0o644)
            handle.write(text.encode("utf-8"))
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
        "sla": {"month": scorecard.get("month"), "year": scorecard.get("year")},
        "volume": cur.execute(TICKET_VOLUME, params).fetchall(),
        "breaches": cur.execute(BREACHED_TICKETS, params).fetchall(),
        "uses_fallback_calendar": cur.execute(USES_FALLBACK_CALENDAR, params).fetchone()["uses_fallback_calendar"],
    }
