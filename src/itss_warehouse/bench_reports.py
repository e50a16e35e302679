"""Benchmark of the monthly reports: every project's service report (the month closes a
quarter, so quarterly projects report too) and the process monitoring report, in HTML,
PDF and XLSX, for a demo company of ``projects`` projects (target: 50 in under 2 minutes
on the 2-core machine).

The demo exports (12 months) are loaded, validated and built with dbt into a scratch
database ``itss_bench_reports`` first; only the rendering is timed, as the monthly DAG runs
it (one process per core).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from itss_warehouse import demo, environment, load, map_batches, sources, transform, validation
from itss_warehouse.bench import _fresh_database
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import FORMATS, plan, render
from itss_warehouse.settings import Settings

DATABASE = "itss_bench_reports"
END_DATE = dt.date(2026, 9, 30)  # closes a quarter: quarterly projects report too
MONTHLY = ("service_report", "process_report")


@dataclass(frozen=True)
class ReportsBenchmark:
    projects: int
    period: str
    reports: int
    files: int
    workers: int
    build_seconds: float  # load, validation and dbt build: set-up, not the target
    render_seconds: float
    render_peak_megabytes: float  # the largest rendering process

    @property
    def seconds_per_report(self) -> float:
        return self.render_seconds / self.reports


def benchmark_reports(settings: Settings, warehouse_url: str, work_dir: Path, projects: int) -> ReportsBenchmark:
    landing = work_dir / "reports_landing"
    demo.generate(landing, end_date=END_DATE, months=12, project_count=projects)
    url = _fresh_database(warehouse_url, DATABASE)
    environment.export(settings, url)
    os.environ.update(DBT_TARGET_PATH=str(work_dir / "reports_dbt" / "target"),
                      DBT_LOG_PATH=str(work_dir / "reports_dbt" / "logs"))  # fmt: skip
    started = time.perf_counter()
    definitions = sources.load_sources(settings.sources_file)
    load.load_landing(url, landing, definitions)
    batches = map_batches.map_landed(url, definitions)
    validation.validate_raw_batches(url, [batch.batch_id for batch in batches], settings)
    transform.run_dbt(settings, "--quiet", "build", "--vars", json.dumps({"run_date": END_DATE.isoformat()}))
    validation.validate_marts(url, settings)
    build_seconds = time.perf_counter() - started

    month = Period.last_closed("month", END_DATE)
    workers = os.cpu_count() or 1
    output = work_dir / "reports_output"
    started = time.perf_counter()
    rendered = [
        report
        for name in MONTHLY
        for report in render(KINDS[name], url, plan(KINDS[name], url, month), output, settings.templates_path,
                             formats=FORMATS, workers=workers)
    ]  # fmt: skip
    render_seconds = time.perf_counter() - started
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return ReportsBenchmark(
        projects, month.slug, len(rendered), sum(len(report.files) for report in rendered), workers,
        round(build_seconds, 1), round(render_seconds, 1), round(peak / 1024, 1),
    )  # fmt: skip


def write_results(result: ReportsBenchmark, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "reports.json"
    json_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    markdown = out_dir / "reports.md"
    markdown.write_text(
        "| projects | reports | files | workers | render s | s per report | peak MB | target |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {result.projects} | {result.reports} | {result.files} | {result.workers} | {result.render_seconds}"
        f" | {result.seconds_per_report:.2f} | {result.render_peak_megabytes} | < 120 s for 50 projects |\n",
        encoding="utf-8",
    )
    return json_path, markdown
