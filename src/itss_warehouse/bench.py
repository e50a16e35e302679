"""Benchmarks, measured side by side in one run so that ratios hold on a noisy machine.

``load``: a synthetic ticket export in the demo layout is loaded into ``raw`` by the
loader and, for reference, copied by a plain PostgreSQL ``COPY`` into an unindexed
table; both on a scratch database ``itss_bench`` of the warehouse's server. The load
runs in a child process so its peak memory is its own.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import random
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from itss_warehouse.demo import HEADERS
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.warehouse.connection import ensure_database, ensure_schemas

BENCH_DATABASE = "itss_bench"
PRIORITIES = ["紧急", "高", "中", "低"]


@dataclass(frozen=True)
class LoadBenchmark:
    rows: int
    file_megabytes: float
    copy_seconds: float
    load_seconds: float
    load_peak_megabytes: float

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


def _load_in_child(url: str, landing: str, results: multiprocessing.Queue) -> None:
    from itss_warehouse.load import load_landing
    from itss_warehouse.sources import SourceSet, load_sources

    demo = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    tickets = SourceSet(timezone=demo.timezone, sources=[demo.source_for("tickets.csv")])
    started = time.perf_counter()
    load_landing(url, Path(landing), tickets)
    seconds = time.perf_counter() - started
    results.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def benchmark_load(warehouse_url: str, work_dir: Path, rows: int) -> LoadBenchmark:
    url = _scratch_url(warehouse_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade")
    ensure_schemas(url)
    path = write_ticket_export(work_dir / "landing" / "tickets.csv", rows)
    copy_seconds = _copy_seconds(url, path)
    results: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=_load_in_child, args=(url, str(path.parent), results))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the load benchmark's child process failed (exit code {child.exitcode})")
    load_seconds, peak = results.get()
    return LoadBenchmark(rows, path.stat().st_size / 2**20, copy_seconds, load_seconds, peak)


def write_results(result: LoadBenchmark, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {**asdict(result), "ratio": result.ratio}
    json_path = out_dir / "load.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    markdown = out_dir / "load.md"
    markdown.write_text(
        "| rows | file MB | COPY s | load s | load / COPY | load peak MB |\n|---|---|---|---|---|---|\n"
        f"| {result.rows} | {result.file_megabytes:.0f} | {result.copy_seconds:.2f} | {result.load_seconds:.2f}"
        f" | {result.ratio:.2f} | {result.load_peak_megabytes:.0f} |\n",
        encoding="utf-8",
    )
    return json_path, markdown
