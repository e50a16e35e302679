"""Benchmarks, measured side by side in one run so that ratios hold on a noisy machine.

``load``: a synthetic ticket export in the demo layout is landed by the loader and, for
reference, copied by a plain PostgreSQL ``COPY`` into an unindexed table; then the
landed batch is mapped into ``raw.tickets``; all on a scratch database ``itss_bench`` of
the warehouse's server. Landing and mapping each run in a child process, so that each
one's peak memory is its own.

``sla``: a synthetic ticket history (24 months, written straight into ``raw`` with COPY)
on a scratch database ``itss_bench_sla``; times ``dbt build`` of the SLA marts with
everything upstream and their tests, as the nightly DAG runs it, once in full and once
incrementally after one more day of tickets. dbt runs in a child process with its own
target and log folders, so a dbt run in the project's own ``target`` is not disturbed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from itss_warehouse.canonical import ENTITIES
from itss_warehouse.demo import HEADERS, SLA_POLICIES
from itss_warehouse.load import ensure_raw_tables
from itss_warehouse.settings import PACKAGE_DIR, Settings
from itss_warehouse.sources import SourceSet, load_sources
from itss_warehouse.warehouse.connection import ensure_database, ensure_schemas

BENCH_DATABASE = "itss_bench"
PRIORITIES = ["紧急", "高", "中", "低"]


@dataclass(frozen=True)
class LoadBenchmark:
    rows: int
    file_megabytes: float
    copy_seconds: float
    load_seconds: float  # landing: the file into raw_landing, with its batch row and checksum
    load_peak_megabytes: float
    map_seconds: float  # mapping the landed batch into raw.tickets
    map_peak_megabytes: float

    @property
    def ratio(self) -> float:
        return self.load_seconds / self.copy_seconds


def write_ticket_export(path: Path, rows: int, seed: int = 1) -> Path:
    """A deterministic ticket export of ``rows`` rows in the demo ticket tool's layout."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["tickets.csv"])
        for number in range(rows):
            day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            writer.writerow([
                f"INC-{number:08d}", "事件", f"P{rng.randint(1, 50):03d}", rng.choice(PRIORITIES), "网络",
                f"{day} 09:12:00", f"{day} 09:20:00", "", f"{day} 12:00:00", f"{day} 18:00:00", "已关闭", "张三",
                "一线支持", "0", "0", "否", "远程", "", "", f"{day} 18:00:00",
            ])  # fmt: skip
    return path


def _scratch_url(warehouse_url: str) -> str:
    parts = urlsplit(warehouse_url)
    ensure_database(warehouse_url, BENCH_DATABASE)
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def _copy_seconds(url: str, path: Path) -> float:
    columns = len(HEADERS["tickets.csv"])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists public.copy_reference")
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


def _run_in_child(target, *args):
    """``target(*args, results)`` in a fresh process; what it put on ``results``."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=target, args=(*args, results))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"a benchmark's child process failed (exit code {child.exitcode})")
    return results.get()


def _ticket_source() -> SourceSet:
    demo = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    return SourceSet(timezone=demo.timezone, sources=[demo.source_for("tickets.csv")])


def _land_in_child(url: str, landing: str, results: multiprocessing.Queue) -> None:
    from itss_warehouse.load import load_landing

    started = time.perf_counter()
    (batch,) = load_landing(url, Path(landing), _ticket_source())
    if batch.rejected:
        raise RuntimeError(f"{batch.rejected} records of the benchmark's own export were rejected")
    seconds = time.perf_counter() - started
    results.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _map_in_child(url: str, results: multiprocessing.Queue) -> None:
    from itss_warehouse.map_batches import map_landed

    started = time.perf_counter()
    map_landed(url, _ticket_source())
    seconds = time.perf_counter() - started
    results.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def benchmark_load(warehouse_url: str, work_dir: Path, rows: int) -> LoadBenchmark:
    url = _scratch_url(warehouse_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw, raw_landing cascade")
    ensure_schemas(url)
    path = write_ticket_export(work_dir / "landing" / "tickets.csv", rows)
    copy_seconds = _copy_seconds(url, path)
    load_seconds, load_peak = _run_in_child(_land_in_child, url, str(path.parent))
    map_seconds, map_peak = _run_in_child(_map_in_child, url)
    megabytes = path.stat().st_size / 2**20
    return LoadBenchmark(rows, megabytes, copy_seconds, load_seconds, load_peak, map_seconds, map_peak)


def write_results(result: LoadBenchmark, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {**asdict(result), "ratio": result.ratio}
    json_path = out_dir / "load.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    markdown = out_dir / "load.md"
    markdown.write_text(
        "| rows | file MB | COPY s | load s | load / COPY | load peak MB | map s | map peak MB |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {result.rows} | {result.file_megabytes:.0f} | {result.copy_seconds:.2f} | {result.load_seconds:.2f}"
        f" | {result.ratio:.2f} | {result.load_peak_megabytes:.0f} | {result.map_seconds:.2f}"
        f" | {result.map_peak_megabytes:.0f} |\n",
        encoding="utf-8",
    )
    return json_path, markdown


SLA_DATABASE = "itss_bench_sla"
# The SLA marts, all their ancestors (staging views, int_tickets_latest, seeds, calendars) and their tests.
SLA_SELECTOR = "@fct_ticket_sla"
HISTORY_END = dt.date(2026, 6, 30)  # a fixed window, so that every run measures the same data
HISTORY_DAYS = 730
OFFSET = "+0800"  # Asia/Shanghai keeps no daylight saving time: local wall time plus a fixed offset
PROJECTS = 50
TICKET_TYPES, TYPE_WEIGHTS = ["incident", "service_request", "problem", "change"], [70, 92, 95, 100]
TICKET_PRIORITIES, PRIORITY_WEIGHTS = ["P1", "P2", "P3", "P4"], [3, 18, 65, 100]
HOURS = range(24)
HOUR_WEIGHTS = list(itertools.accumulate([1, 1, 1, 1, 1, 1, 1, 2, 6, 8, 8, 7, 4, 6, 8, 8, 7, 5, 3, 2, 2, 1, 1, 1]))
GROUPS = ["service_desk", "network", "systems", "database", "desktop"]
# A plan gone quadratic would keep the benchmark, and the server, busy for hours; far past any target, it is cut off.
STATEMENT_TIMEOUT = "10min"


@dataclass(frozen=True)
class DbtBuild:
    seconds: float  # wall time: dbt's start-up, parsing and the nodes
    node_seconds: float  # dbt's own elapsed time running the nodes
    nodes: dict[str, float]  # each node's execution time, slowest first
    failed: list[str]  # nodes not successful, e.g. cancelled by STATEMENT_TIMEOUT, and those skipped for them


@dataclass(frozen=True)
class SlaBenchmark:
    tickets: int
    day_new_tickets: int
    day_updated_tickets: int
    full: DbtBuild
    incremental: DbtBuild


def _policy(project: int) -> str:
    return "SLA-7X24" if project % 3 == 0 else "SLA-BH"


def _at(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + OFFSET


def _minutes(minutes: float) -> dt.timedelta:
    return dt.timedelta(minutes=minutes)


def _ticket(rng: random.Random, ticket_id: str, opened: dt.datetime, cutoff: dt.datetime) -> tuple[dict, list]:
    """One ticket as the tool would export it at ``cutoff``, and its status history up to then."""
    project = rng.randrange(PROJECTS)
    priority = rng.choices(TICKET_PRIORITIES, cum_weights=PRIORITY_WEIGHTS)[0]
    response, onsite, resolution = SLA_POLICIES[_policy(project)][1][priority]
    # Wall-clock durations with a mean of 0.4 × the target: most tickets meet it, some do not.
    responded = opened + _minutes(rng.expovariate(2.5 / response))
    arrived = responded + _minutes(rng.expovariate(2.5 / onsite)) if rng.random() < 0.25 else None
    resolved = max(arrived or responded, opened + _minutes(rng.expovariate(2.5 / resolution))) + _minutes(5)
    events = [("new", opened), ("in_progress", responded)]
    if rng.random() < 0.15:  # waiting for the customer or a supplier stops the SLA clock
        paused = responded + (resolved - responded) * rng.random()
        resumed = paused + _minutes(rng.expovariate(1 / 240))
        events += [(rng.choice(["on_hold", "pending_customer"]), paused), ("in_progress", resumed)]
        resolved += resumed - paused
    if rng.random() > 0.005:  # a few stay open for months
        events += [("resolved", resolved), ("closed", resolved + _minutes(rng.uniform(60, 4320)))]
    # Each moment is formatted once: isoformat is most of the generator's time.
    events = [(status, _at(at)) for status, at in events if at <= cutoff]
    reached = dict(events)
    ticket = {
        "ticket_id": ticket_id,
        "ticket_type": rng.choices(TICKET_TYPES, cum_weights=TYPE_WEIGHTS)[0],
        "project_id": f"P{project:03d}",
        "priority": priority,
        "category": "network",
        "title": "synthetic",
        "opened_at": events[0][1],
        "responded_at": events[1][1] if len(events) > 1 else None,
        "onsite_arrived_at": _at(arrived if arrived and arrived <= cutoff else None),
        "resolved_at": reached.get("resolved"),
        "closed_at": reached.get("closed"),
        "status": events[-1][0],
        "assignee": f"engineer{rng.randrange(60):02d}",
        "assignment_group": rng.choice(GROUPS),
        "reassignment_count": str(rng.choice([0, 0, 0, 1, 2])),
        "reopen_count": "0",
        "is_major": "true" if priority == "P1" and rng.random() < 0.2 else "false",
        "delivery_mode": "onsite" if arrived else "remote",
        "updated_at": events[-1][1],
    }
    return ticket, [{"ticket_id": ticket_id, "status": status, "changed_at": at} for status, at in events]


def _tickets(
    rng: random.Random, first_day: dt.date, days: int, first_number: int, count: int, cutoff: dt.datetime
) -> Iterator[tuple[dict, list]]:
    """``count`` tickets opened evenly over ``days`` days from ``first_day``, numbered in opening order."""
    for index in range(count):
        day = first_day + dt.timedelta(days=index * days // count)
        opened = dt.datetime.combine(day, dt.time(rng.choices(HOURS, cum_weights=HOUR_WEIGHTS)[0], rng.randrange(60)))
        yield _ticket(rng, f"T{first_number + index:08d}", opened, cutoff)


@contextlib.contextmanager
def _raw_batch(conn: psycopg.Connection, entity: str) -> Iterator[Callable[[dict], None]]:
    """A new batch of ``raw.<entity>``: yields a function that COPYs one row (canonical field → text)."""
    file_name = f"bench_{entity}.csv"
    batch_id, loaded_at = conn.execute(
        "insert into raw.load_batches (source_name, entity, file_name, checksum, row_count, mapped_at)"
        " values ('bench', %s, %s, md5(random()::text), 0, now()) returning batch_id, loaded_at",
        (entity, file_name),
    ).fetchone()
    fields = ENTITIES[entity]
    columns = sql.SQL(", ").join(
        map(sql.Identifier, ("_batch_id", "_source_file", "_source_row", "_loaded_at", *fields))
    )
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(sql.Identifier("raw", entity), columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # None becomes an empty unquoted field: NULL
    rows = 0
    with conn.cursor().copy(statement) as copy:

        def write(row: dict) -> None:
            nonlocal rows
            rows += 1
            writer.writerow([batch_id, file_name, rows + 1, loaded_at, *map(row.get, fields)])
            if buffer.tell() > 1 << 20:
                copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()

        yield write
        copy.write(buffer.getvalue())
    conn.execute("update raw.load_batches set row_count = %s where batch_id = %s", (rows, batch_id))


def _copy_batch(conn: psycopg.Connection, entity: str, rows: Iterable[dict]) -> None:
    with _raw_batch(conn, entity) as write:
        for row in rows:
            write(row)


def _copy_tickets(url: str, tickets: Iterable[tuple[dict, list]]) -> None:
    """Tickets and their status changes in one pass, on two connections: two COPY streams at once."""
    with psycopg.connect(url) as ticket_conn, psycopg.connect(url) as change_conn:
        with (
            _raw_batch(ticket_conn, "tickets") as write_ticket,
            _raw_batch(change_conn, "ticket_status_changes") as write_change,
        ):
            for ticket, changes in tickets:
                write_ticket(ticket)
                for change in changes:
                    write_change(change)


def write_sla_history(url: str, tickets: int, end: dt.date = HISTORY_END, seed: int = 1) -> None:
    """Registers (departments, customers, 50 projects, both SLA policies) and ``tickets`` tickets in ``raw``."""
    projects = [
        {"project_id": f"P{n:03d}", "customer_id": f"C{n % 12:02d}", "dept_id": f"D{n % 4:02d}", "name": f"project {n}",
         "kind": "renewal" if n % 2 else "new", "manager": f"manager{n % 7}", "start_date": "2024-01-01",
         "end_date": "2028-12-31", "service_mode": "resident" if n % 3 == 0 else "remote_onsite",
         "sla_policy_id": _policy(n), "report_frequency": "monthly", "plan_reviewed_at": "2023-12-20"}
        for n in range(PROJECTS)
    ]  # fmt: skip
    policies = [
        {"policy_id": policy, "priority": priority, "response_minutes": str(response), "onsite_minutes": str(onsite),
         "resolution_minutes": str(resolution), "calendar": calendar, "timezone": "Asia/Shanghai"}
        for policy, (calendar, targets) in SLA_POLICIES.items()
        for priority, (response, onsite, resolution) in targets.items()
    ]  # fmt: skip
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        _copy_batch(conn, "departments", ({"dept_id": f"D{n:02d}", "name": f"ops {n}", "in_management_system": "true"}
                                          for n in range(4)))  # fmt: skip
        _copy_batch(conn, "customers", ({"customer_id": f"C{n:02d}", "name": f"customer {n}"} for n in range(12)))
        _copy_batch(conn, "projects", projects)
        _copy_batch(conn, "sla_policies", policies)
    first_day = end - dt.timedelta(days=HISTORY_DAYS - 1)
    cutoff = dt.datetime.combine(end, dt.time(23, 59, 59))
    _copy_tickets(url, _tickets(random.Random(seed), first_day, HISTORY_DAYS, 0, tickets, cutoff))


def write_sla_day(url: str, day: dt.date, history_tickets: int, seed: int = 2) -> tuple[int, int]:
    """One night's batches: the tickets opened on ``day`` and a new version of 0.5 % of the existing ones.

    An updated ticket moves on one step at a random time of ``day``: open → resolved, resolved → closed,
    closed → reassigned (a late edit). Returns (new tickets, updated tickets).
    """
    rng = random.Random(seed)
    cutoff = dt.datetime.combine(day, dt.time(23, 59, 59))
    new = list(_tickets(rng, day, 1, history_tickets, max(1, history_tickets // HISTORY_DAYS), cutoff))
    chosen = [f"T{number:08d}" for number in rng.sample(range(history_tickets), max(1, history_tickets // 200))]
    fields = ENTITIES["tickets"]
    with psycopg.connect(url) as conn:
        query = sql.SQL("select {} from raw.tickets where ticket_id = any(%s)").format(
            sql.SQL(", ").join(map(sql.Identifier, fields))
        )
        current = [dict(zip(fields, row, strict=True)) for row in conn.execute(query, (chosen,))]
        updates = []
        for ticket in current:
            at = _at(dt.datetime.combine(day, dt.time(rng.randrange(8, 20), rng.randrange(60))))
            if ticket["resolved_at"] is None:
                step = {"status": "resolved", "resolved_at": at, "responded_at": ticket["responded_at"] or at}
            elif ticket["closed_at"] is None:
                step = {"status": "closed", "closed_at": at}
            else:
                step = {"reassignment_count": str(int(ticket["reassignment_count"]) + 1)}
            changes = (
                [{"ticket_id": ticket["ticket_id"], "status": step["status"], "changed_at": at}]
                if "status" in step
                else []
            )
            updates.append(({**ticket, **step, "updated_at": at}, changes))
    _copy_tickets(url, new + updates)
    return len(new), len(updates)


def _fresh_database(warehouse_url: str, name: str) -> str:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(warehouse_url)._replace(path=f"/{name}"))
    ensure_schemas(url)
    return url


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _dbt_in_child(settings: Settings, url: str, dbt_dir: str, args: list[str], results: multiprocessing.Queue) -> None:
    from itss_warehouse import environment, transform

    environment.export(settings, url)
    # Private target and log folders: someone may be running dbt in the project's own at the same time.
    os.environ.update(DBT_TARGET_PATH=str(Path(dbt_dir) / "target"), DBT_LOG_PATH=str(Path(dbt_dir) / "logs"))
    os.environ["PGOPTIONS"] += f" -c statement_timeout={STATEMENT_TIMEOUT}"
    started = time.perf_counter()
    try:
        transform.run_dbt(settings, *args)
    except transform.DbtError:
        pass  # run_results.json says which nodes failed
    results.put(time.perf_counter() - started)


def _timed_build(settings: Settings, url: str, dbt_dir: Path, run_date: dt.date, *flags: str) -> DbtBuild:
    args = ["build", "--select", SLA_SELECTOR, "--vars", json.dumps({"run_date": run_date.isoformat()}), *flags]
    seconds = _run_in_child(_dbt_in_child, settings, url, str(dbt_dir), args)
    run_results = json.loads((dbt_dir / "target" / "run_results.json").read_text())
    nodes, failed = {}, []
    for result in sorted(run_results["results"], key=lambda result: result["execution_time"], reverse=True):
        kind, _project, *name = result["unique_id"].split(".")
        nodes[f"{kind} {'.'.join(name)}"] = round(result["execution_time"], 2)
        if result["status"] not in ("success", "pass"):
            failed.append(f"{kind} {'.'.join(name)}: {result['status']}")
    return DbtBuild(seconds, run_results["elapsed_time"], nodes, failed)


def benchmark_sla(settings: Settings, warehouse_url: str, work_dir: Path, tickets: int) -> SlaBenchmark:
    url = _fresh_database(warehouse_url, SLA_DATABASE)
    write_sla_history(url, tickets)
    # Statistics as a warehouse filled over many nights has them, not those of tables loaded a second ago.
    _execute(url, "vacuum analyze")
    dbt_dir = work_dir / "sla_dbt"
    full = _timed_build(settings, url, dbt_dir, HISTORY_END, "--full-refresh")
    # The next night autovacuum has long been through the marts built the night before.
    _execute(url, "vacuum analyze")
    day = HISTORY_END + dt.timedelta(days=1)
    new, updated = write_sla_day(url, day, tickets)
    _execute(url, "analyze raw.tickets, raw.ticket_status_changes")  # as map_landed does after mapping
    return SlaBenchmark(tickets, new, updated, full, _timed_build(settings, url, dbt_dir, day))


def write_sla_results(result: SlaBenchmark, out_dir: Path, slowest: int = 10) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "sla.json"
    json_path.write_text(json.dumps({**asdict(result), "selector": SLA_SELECTOR}, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"`dbt build --select {SLA_SELECTOR}`; the day adds {result.day_new_tickets} new tickets"
        f" and a new version of {result.day_updated_tickets} existing ones.",
        "",
        "Wall time includes dbt's start-up and parsing; node time is dbt's own elapsed time running the nodes.",
        "",
        "| tickets | full build s (nodes s) | incremental s (nodes s) |",
        "|---|---|---|",
        f"| {result.tickets} | {result.full.seconds:.1f} ({result.full.node_seconds:.1f})"
        f" | {result.incremental.seconds:.1f} ({result.incremental.node_seconds:.1f}) |",
    ]
    for title, build in (("full build", result.full), ("incremental", result.incremental)):
        lines += ["", f"| slowest nodes, {title} | s |", "|---|---|"]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in list(build.nodes.items())[:slowest]]
        if build.failed:
            lines += ["", f"Not successful in the {title}: " + "; ".join(build.failed)]
    markdown = out_dir / "sla.md"
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, markdown
