"""One history size, measured end to end on its own scratch database ``itss_bench_<tickets>``.

1. A deterministic organisation (``demo.generate``): 50 projects, ``tickets`` tickets over five
   years with their status history, callbacks, surveys, complaints, service reports and audits.
   The ticketing exports are held back one night, whose changes go to ``nights/<day>/``.
2. Load: the ticket export landed as the nightly's ``load_raw`` lands it, against a plain
   ``COPY`` of the same file into an unindexed table; then the other exports, mapping, validation.
3. Full build: ``dbt build --full-refresh`` of every model and test, as of the held-back day.
4. The night: its exports are put in the landing folder and the nightly DAG runs end to end
   through Airflow for that day (incremental models, validation, source freshness). Then the next
   night, with nothing new to load: what any night costs, whatever the day's changes; and a DAG of
   one empty task the same way: what Airflow alone costs.
5. Check: the nights' marts are kept, everything is rebuilt in full for the last night's day, and
   the two must be equal row for row, but for the columns that record when a row was computed.
6. The monthly reports of the month the night closes; the DAG files' parse times.

``run_project_month`` measures one report on its own scratch database ``itss_bench_project_month``:
one project whose one month holds 10,000 tickets, built as a night would build it (load, map,
validate, ``dbt build``, validate the marts), then that month's service report in every format.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.abc import Query

from itss_warehouse.tools.bench import steps
from itss_warehouse.tools.bench.measure import Measured, in_child
from itss_warehouse.tools.bench.steps import DbtBuild, NightlyRun
from itss_warehouse.tools.demo import HEADERS
from itss_warehouse.warehouse.connection import ensure_schemas, one_row
from itss_warehouse.warehouse.raw import ensure_raw_tables

END_DATE = dt.date(2026, 6, 30)  # the night closes June and the second quarter: every project reports
MONTHS = 60
PROJECTS = 50
NIGHT = END_DATE
HISTORY_DAY = NIGHT - dt.timedelta(days=1)
QUIET_NIGHT = NIGHT + dt.timedelta(days=1)  # the night after, with nothing new to load
# When and from which batches a row was last computed: differs between an incremental run and a full one by design.
# ``as_of`` too: a ticket whose metrics were done is not measured again, and they do not depend on it;
# one still open is measured again every night.
RUN_STAMPS = (
    "sla_measured_at",
    "measured_at",
    "measured_through_batch",
    "status_through_batch",
    "assignments_through_batch",
    "sla_measured_through",
    "as_of",
)
COMPARED_SCHEMAS = ("marts", "restricted")
SNAPSHOT_SCHEMA = "bench_incremental"
# The generator draws a month's volume at 0.7–1.3 × the rate it is given; with its seed this rate gives June
# 10,004 tickets: 10,000 in the marts, and the four bad rows the generator always writes, quarantined.
MONTH_TICKET_RATE = 13_991


@dataclass(frozen=True)
class SizeResult:
    tickets: int  # rows of the history's ticket export
    night_tickets: int  # tickets new or changed in the night's export
    copy_seconds: float
    steps: list[Measured]
    full_build: DbtBuild
    nightly: NightlyRun
    quiet_night: NightlyRun
    reports: int
    report_files: int
    parse_seconds: dict[str, float]
    differences: dict[str, int]  # table → rows in one build and not the other

    def step(self, name: str) -> Measured:
        return next(measured for measured in self.steps if measured.step == name)


@dataclass(frozen=True)
class ProjectMonthResult:
    tickets: int  # the month's tickets in the marts
    breaches: int  # its breached ticket metrics not exempted (marts.sla_breaches), every one in the report's appendix
    steps: list[Measured]  # the set-up, then the report
    files: dict[str, int]  # the report's bytes per format

    @property
    def report(self) -> Measured:
        return self.steps[-1]


def _fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    ensure_schemas(url)
    return url


def _execute(url: str, statement: Query) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def copy_seconds(url: str, path: Path) -> float:
    """A plain ``COPY`` of the export into an unindexed table of text columns: the floor for loading it."""
    columns = len(HEADERS[path.name])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create table public.copy_reference ({})").format(
                sql.SQL(", ").join(sql.SQL(f"c{index} text") for index in range(columns))
            )
        )
        started = time.perf_counter()
        with conn.cursor().copy("copy public.copy_reference from stdin with (format csv, header true)") as copy:
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("drop table public.copy_reference")
    return seconds


def _compared_tables(conn: psycopg.Connection) -> list[tuple[str, str, list[str]]]:
    """(schema, table, columns but the run stamps) of every table and view the marts build."""
    rows = conn.execute(
        "select table_schema, table_name, array_agg(column_name::text order by ordinal_position)"
        " filter (where column_name <> all(%s)) from information_schema.columns"
        " where table_schema = any(%s) group by 1, 2 order by 1, 2",
        (list(RUN_STAMPS), list(COMPARED_SCHEMAS)),
    ).fetchall()
    return [(schema, table, columns) for schema, table, columns in rows]


def keep_marts(url: str) -> None:
    """Copy every mart (and restricted table) into ``bench_incremental`` as ``<schema>__<table>``."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(SNAPSHOT_SCHEMA)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(SNAPSHOT_SCHEMA)))
        for schema, table, _ in _compared_tables(conn):
            conn.execute(
                sql.SQL("create table {} as select * from {}").format(
                    sql.Identifier(SNAPSHOT_SCHEMA, f"{schema}__{table}"), sql.Identifier(schema, table)
                )
            )


def differences(url: str) -> dict[str, int]:
    """Per table, the rows in the kept marts and not in the current ones, and the other way round (a multiset
    difference: a duplicated row counts). Empty when the two are equal row for row."""
    found = {}
    with psycopg.connect(url) as conn:
        for schema, table, columns in _compared_tables(conn):
            fields = sql.SQL(", ").join(map(sql.Identifier, columns))
            current = sql.SQL("select {} from {}").format(fields, sql.Identifier(schema, table))
            kept = sql.SQL("select {} from {}").format(fields, sql.Identifier(SNAPSHOT_SCHEMA, f"{schema}__{table}"))
            query = sql.SQL(
                "select (select count(*) from ({} except all {}) a) + (select count(*) from ({} except all {}) b)"
            )
            count = one_row(conn.execute(query.format(kept, current, current, kept)))[0]
            if count:
                found[f"{schema}.{table}"] = count
    return found


def _step(measured: list[Measured], name: str, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a child process of its own (``in_child``); its figures go to ``measured``."""
    value, figures = in_child(name, function, *args)
    measured.append(figures)
    return value


def run_size(server_url: str, work_dir: Path, tickets: int) -> SizeResult:
    folder = work_dir / str(tickets)
    shutil.rmtree(folder, ignore_errors=True)
    url = _fresh_database(server_url, f"itss_bench_{tickets}")
    settings = steps.bench_settings(folder / "home", url)
    landing, nights = settings.landing_path, folder / "nights"
    measured: list[Measured] = []
    step = functools.partial(_step, measured)

    step("generate", steps.generate, landing, nights, END_DATE, MONTHS, PROJECTS, tickets)
    ticket_file = landing / "tickets.csv"
    # The raw tables are made once in a warehouse's life, not by a night's load: not timed.
    with psycopg.connect(url) as conn, conn.transaction():
        ensure_raw_tables(conn)
    reference = copy_seconds(url, ticket_file)
    history_tickets = step("load tickets", steps.land_file, settings, ticket_file)
    step("load other exports", steps.land_landing, settings)
    step("map", steps.map_raw, settings)
    step("validate raw", steps.validate_raw, settings)
    # Statistics as a warehouse filled over many nights has them, not those of tables loaded a moment ago.
    _execute(url, "vacuum analyze")
    full_build = step("full build", steps.dbt_build, settings, HISTORY_DAY)
    # By the next night autovacuum has long been through the tables built the night before.
    _execute(url, "vacuum analyze")
    night_files = sorted((nights / NIGHT.isoformat()).iterdir())
    for path in night_files:
        shutil.copy2(path, landing / path.name)
    with (nights / NIGHT.isoformat() / f"tickets_{NIGHT.isoformat()}.csv").open(encoding="utf-8-sig") as handle:
        night_tickets = sum(1 for _ in handle) - 1
    in_child("migrate Airflow", steps.migrate_airflow, settings)  # set-up, not timed
    nightly = step("nightly", steps.nightly, settings, NIGHT)
    _execute(url, "vacuum analyze")  # as before the first night
    quiet_night = step("nightly, nothing new", steps.nightly, settings, QUIET_NIGHT)
    step("Airflow alone", steps.empty_dag, settings, QUIET_NIGHT)
    keep_marts(url)
    step("full rebuild after the nights", steps.dbt_build, settings, QUIET_NIGHT)
    found = differences(url)
    reports, files = step("monthly reports", steps.monthly_reports, settings, NIGHT)
    parse = step("DAG parse", steps.parse_seconds, settings)
    return SizeResult(history_tickets, night_tickets, round(reference, 2), measured, full_build, nightly,
                      quiet_night, reports, files, parse, found)  # fmt: skip


def run_project_month(server_url: str, work_dir: Path) -> ProjectMonthResult:
    """One project's June of 10,000 tickets, built as a night builds it; then its service report in every format."""
    folder = work_dir / "project_month"
    shutil.rmtree(folder, ignore_errors=True)
    url = _fresh_database(server_url, "itss_bench_project_month")
    settings = steps.bench_settings(folder / "home", url)
    measured: list[Measured] = []
    step = functools.partial(_step, measured)

    step("generate", steps.generate, settings.landing_path, None, END_DATE, 1, 1, MONTH_TICKET_RATE)
    with psycopg.connect(url) as conn, conn.transaction():
        ensure_raw_tables(conn)
    step("load", steps.land_landing, settings)
    step("map", steps.map_raw, settings)
    step("validate raw", steps.validate_raw, settings)
    _execute(url, "vacuum analyze")
    step("full build", steps.dbt_build, settings, END_DATE)
    _execute(url, "vacuum analyze")
    step("validate marts", steps.validate_marts, settings)
    month = dt.date(END_DATE.year, END_DATE.month, 1)
    files = step("service report", steps.service_report, settings, f"{month:%Y-%m}")
    with psycopg.connect(url) as conn:
        tickets, breaches = one_row(
            conn.execute(
                "select (select count(*) from marts.fct_tickets where opened_month = %(month)s),"
                " (select count(*) from marts.sla_breaches where opened_month = %(month)s and not is_exempted)",
                {"month": month},
            )
        )
    return ProjectMonthResult(tickets, breaches, measured, {kind: path.stat().st_size for kind, path in files.items()})
