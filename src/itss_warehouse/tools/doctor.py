"""``itss doctor``: checks the configuration, the warehouse, fonts, SMTP and the calendar, and says what to fix."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from itss_warehouse.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str = ""


def run_checks(settings: Settings, today: dt.date) -> list[Check]:
    checks: list[Callable[[], Check]] = [
        lambda: _sources(settings),
        lambda: _recipients(settings),
        lambda: _warehouse(settings),
        lambda: _gate(settings),
        _fonts,
        lambda: _smtp(settings),
        lambda: _calendar(settings, today),
    ]
    return [check() for check in checks]


def _sources(settings: Settings) -> Check:
    from itss_warehouse.ingest.sources import load_sources

    try:
        definitions = load_sources(settings.sources_file)
    except Exception as error:
        return Check("sources", "fail", str(error), "correct the file named by ITSS_SOURCES_FILE")
    return Check("sources", "ok", f"{len(definitions.sources)} source(s) in {settings.sources_file}")


def _recipients(settings: Settings) -> Check:
    from itss_warehouse.mail.recipients import RecipientsError, load_recipients

    try:
        recipients = load_recipients(settings.recipients_file)
    except RecipientsError as error:
        return Check("recipients", "fail", str(error), "correct the file named by ITSS_RECIPIENTS_FILE")
    return Check("recipients", "ok", f"{len(recipients.projects)} project(s), data owner {recipients.data_owner.to[0]}")


def _warehouse(settings: Settings) -> Check:
    from itss_warehouse.warehouse.connection import libpq_url, one_row, warehouse_url

    fix = "start PostgreSQL or correct ITSS_WAREHOUSE_URL (unset it for the embedded server)"
    try:
        url = warehouse_url(settings) if not settings.warehouse_url else libpq_url(settings.warehouse_url)
        with psycopg.connect(url, connect_timeout=5) as conn:
            version = one_row(conn.execute("show server_version"))[0]
            marts = one_row(conn.execute("select to_regclass('marts.kpi_scorecard') is not null"))[0]
    except Exception as error:  # any failure to connect is this check's finding
        host = (settings.warehouse_url or "embedded").rpartition("@")[2]  # never the password
        return Check("warehouse", "fail", f"cannot connect to {host}: {str(error).splitlines()[0]}", fix)
    if not marts:
        return Check("warehouse", "warn", f"PostgreSQL {version}, no marts yet", "run `itss run` to build them")
    return Check("warehouse", "ok", f"PostgreSQL {version}, marts built")


def _gate(settings: Settings) -> Check:
    """The reports' gate: open, or closed by which batches, and what opens it."""
    from itss_warehouse.validate.gate import BATCH_STATE_TABLES, blockers
    from itss_warehouse.warehouse.connection import libpq_url, missing_tables, warehouse_url

    try:
        url = warehouse_url(settings) if not settings.warehouse_url else libpq_url(settings.warehouse_url)
        if missing_tables(url, BATCH_STATE_TABLES):
            return Check("reports gate", "warn", "nothing loaded yet", "run `itss run`")
        with psycopg.connect(url, connect_timeout=5) as conn:
            reasons = blockers(conn)
    except Exception as error:  # the warehouse check above says why
        return Check("reports gate", "warn", f"not checked: {str(error).splitlines()[0]}")
    if not reasons:
        return Check("reports gate", "ok", "open: every current batch and the marts passed validation")
    return Check("reports gate", "fail", "closed:\n      " + "\n      ".join(reasons),
                 "each reason names the command that opens the gate; `itss batch list` shows every batch")  # fmt: skip


def _fonts() -> Check:
    from itss_warehouse.reports.pdf import MissingFontError, require_cjk_font

    try:
        return Check("fonts", "ok", f"CJK font for the PDF reports: {require_cjk_font()}")
    except MissingFontError as error:
        return Check("fonts", "fail", str(error), "apt-get install fonts-noto-cjk (make install does this)")


def _smtp(settings: Settings) -> Check:
    from itss_warehouse.mail import transport

    config = transport.smtp_config(settings)
    if config is None:
        return Check("smtp", "warn", f"no SMTP server: e-mails are written to {settings.outbox_path}",
                     "set ITSS_SMTP_HOST (and _PORT, _USER, _PASSWORD) to send them")  # fmt: skip
    try:
        with transport.connect(config) as smtp:
            smtp.noop()
    except Exception as error:
        return Check("smtp", "fail", f"{config!r}: {type(error).__name__}: {error}",
                     "check ITSS_SMTP_* (host, port, security, user, password, CA file)")  # fmt: skip
    return Check("smtp", "ok", f"{config!r}: connected and logged in")


def _calendar(settings: Settings, today: dt.date) -> Check:
    """The statutory calendar (and company overrides) should know this year and the next."""
    seeds = settings.dbt_project_path / "seeds"
    years = set()
    for name in ("cn_statutory_days.csv", "calendar_overrides.csv"):
        with (seeds / name).open(encoding="utf-8") as handle:
            years |= {int(row["calendar_date"][:4]) for row in csv.DictReader(handle)}
    missing = [year for year in (today.year, today.year + 1) if year not in years]
    if missing:
        years_missing = ", ".join(map(str, missing))
        return Check(
            "calendar", "warn",
            f"no statutory holidays for {years_missing}: SLA minutes fall back to Monday–Friday there",
            "once the State Council publishes them, upgrade chinesecalendar and run `itss calendar seed`,"
            " or add the days to dbt_project/seeds/calendar_overrides.csv",
        )  # fmt: skip
    return Check("calendar", "ok", f"statutory holidays known for {today.year} and {today.year + 1}")
