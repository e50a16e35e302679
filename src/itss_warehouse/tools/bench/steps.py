"""What each benchmark step runs, in its own process (see ``measure.in_child``).

Every step exports the environment the pipeline's tools read (``_export``), so that the
benchmark's scratch warehouse, landing folder and Airflow home are used, never the user's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

# Imported with the module, before the clock starts: landing is timed against a bare COPY.
from itss_warehouse.ingest import landing, sources
from itss_warehouse.settings import PACKAGE_DIR, Settings

DEMO_MAPPING = PACKAGE_DIR / "mappings" / "demo.yml"
# A plan gone quadratic would keep the benchmark, and the server, busy for hours; far past any target, it is cut off.
STATEMENT_TIMEOUT = "15min"
FAILED = ("error", "fail", "runtime error", "skipped")  # skipped: downstream of a failure


def bench_settings(home: Path, url: str) -> Settings:
    """The settings of one benchmark organisation: its own home (landing, Airflow, output) and warehouse."""
    return Settings(home=home, warehouse_url=url, sources_file=DEMO_MAPPING, landing_dir=None, output_dir=None,
                    outbox_dir=None, smtp_host=None)  # fmt: skip


def _url(settings: Settings) -> str:
    """The benchmark organisation's scratch warehouse, which ``bench_settings`` always names."""
    if not settings.warehouse_url:
        raise ValueError("benchmark settings name their warehouse: make them with bench_settings")
    return settings.warehouse_url


def _export(settings: Settings) -> None:
    from itss_warehouse.orchestration import environment

    os.environ.update(
        ITSS_HOME=str(settings.home_path),
        ITSS_LANDING_DIR=str(settings.landing_path),
        ITSS_OUTPUT_DIR=str(settings.output_path),
        ITSS_OUTBOX_DIR=str(settings.outbox_path),
        ITSS_SOURCES_FILE=str(settings.sources_file),
        # dbt's own target and logs: someone may be running dbt in the project's at the same time.
        DBT_TARGET_PATH=str(settings.home_path / "dbt" / "target"),
        DBT_LOG_PATH=str(settings.home_path / "dbt" / "logs"),
    )
    os.environ.pop("ITSS_SMTP_HOST", None)  # failure alerts of a benchmark go to its outbox
    environment.export(settings, _url(settings))


def generate(
    landing: Path, nights_dir: Path | None, end_date: dt.date, months: int, projects: int, tickets: float
) -> None:
    """The demo organisation; its ticketing exports held back one night into ``nights_dir``, if given."""
    from itss_warehouse.tools import demo

    per_project_month = tickets / (projects * months)
    demo.generate(landing, end_date=end_date, months=months, tickets_per_project_month=per_project_month,
                  project_count=projects, nights=1 if nights_dir else 0, nights_dir=nights_dir)  # fmt: skip


def land_file(settings: Settings, path: Path) -> int:
    """Land one export as the nightly's ``load_raw`` does; return its rows."""
    source = sources.load_sources(settings.sources_file).source_for(path.name)
    with psycopg.connect(_url(settings)) as conn:
        batch = landing.load_file(conn, path, source)
    if batch is None:
        raise RuntimeError(f"{path.name} was landed before: the benchmark needs a fresh database")
    return batch.records


def land_landing(settings: Settings) -> int:
    """Land every export not landed yet; return how many files."""
    from itss_warehouse import pipeline

    _export(settings)
    return len(pipeline.load_raw())


def map_raw(settings: Settings) -> int:
    from itss_warehouse import pipeline

    _export(settings)
    return len(pipeline.map_raw())


def validate_raw(settings: Settings) -> dict:
    from itss_warehouse import pipeline

    _export(settings)
    with psycopg.connect(_url(settings)) as conn:
        batch_ids = [row[0] for row in conn.execute("select batch_id from raw.load_batches order by batch_id")]
    return pipeline.validate_raw(batch_ids)


@dataclass(frozen=True)
class DbtBuild:
    node_seconds: float  # dbt's own elapsed time running the nodes (the rest is start-up and parsing)
    slowest: dict[str, float]  # the slowest nodes' execution times


def dbt_build(settings: Settings, run_date: dt.date, slowest: int = 8) -> DbtBuild:
    """``dbt build --full-refresh`` of every model with its tests, as of ``run_date``."""
    from itss_warehouse.transform import dbt

    _export(settings)
    os.environ["PGOPTIONS"] += f" -c statement_timeout={STATEMENT_TIMEOUT}"
    args = ["--quiet", "build", "--full-refresh", "--vars", json.dumps({"run_date": run_date.isoformat()})]
    results_file = Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json"
    results_file.unlink(missing_ok=True)  # a failure before any node runs writes none
    try:
        dbt.run_dbt(settings, *args)
    except dbt.DbtError as error:
        results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
        failed = [result["unique_id"] for result in results if result["status"] in FAILED]
        raise RuntimeError(f"{error}; not successful: {', '.join(failed) or 'none ran'}") from error
    run_results = json.loads(results_file.read_text())
    nodes = sorted(run_results["results"], key=lambda result: result["execution_time"], reverse=True)
    return DbtBuild(
        round(run_results["elapsed_time"], 1),
        {".".join(r["unique_id"].split(".")[2:]): round(r["execution_time"], 1) for r in nodes[:slowest]},
    )


def validate_marts(settings: Settings) -> dict:
    from itss_warehouse import pipeline
    from itss_warehouse.transform.build_plan import plan_build

    _export(settings)
    return pipeline.validate_marts(plan_build(_url(settings)).as_dict())


def migrate_airflow(settings: Settings) -> None:
    from itss_warehouse.orchestration import airflow_runner

    _export(settings)
    airflow_runner.migrate_metadata(settings)


@dataclass(frozen=True)
class NightlyRun:
    tasks: dict[str, float]  # each task's seconds, in the order they ran
    slowest: dict[str, float]  # the dbt build's slowest models and tests


TASK_EDGE = re.compile(r"^(\S+) .*\[DAG TEST\] (starting|end task) task_id=(\w+)", re.MULTILINE)
DBT_NODE = re.compile(r"(?:OK created \S+ \S+ model|PASS) (\S+)? ?\.* \[\S+(?: \S+)* in ([\d.]+)s\]")


def nightly(settings: Settings, day: dt.date, slowest: int = 8) -> NightlyRun:
    """The nightly DAG for ``day``, end to end, through Airflow (``airflow dags test``); what its log
    says took the time."""
    from itss_warehouse.orchestration import airflow_runner

    _export(settings)
    log = airflow_runner.dags_test(settings, "itss_nightly", day).read_text(encoding="utf-8", errors="replace")
    started, tasks = {}, {}
    for moment, edge, task in TASK_EDGE.findall(log):
        at = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        if edge == "starting":
            started[task] = at
        else:
            tasks[task] = round((at - started[task]).total_seconds(), 1)
    nodes = sorted(((float(seconds), name) for name, seconds in DBT_NODE.findall(log) if name), reverse=True)
    return NightlyRun(tasks, {name: seconds for seconds, name in nodes[:slowest]})


# Airflow's own cost of a night: one task that does nothing, run the way the nightly is.
EMPTY_DAG = """
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="itss_bench_empty", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def itss_bench_empty():
    @task
    def nothing() -> None:
        pass

    nothing()


itss_bench_empty()
"""


def empty_dag(settings: Settings, day: dt.date) -> None:
    """``airflow dags test`` of a DAG of one empty task, from a DAG folder of its own in the benchmark's home."""
    from itss_warehouse.orchestration import airflow_runner

    _export(settings)
    folder = settings.home_path / "empty_dag"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "itss_bench_empty.py").write_text(EMPTY_DAG, encoding="utf-8")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(folder)
    airflow_runner.dags_test(settings, "itss_bench_empty", day)


def monthly_reports(settings: Settings, day: dt.date) -> tuple[int, int]:
    """What the monthly DAG renders after ``day``: every service report (quarterly ones too when the month
    closes a quarter) and the process monitoring report, in every format, one process per core.
    Returns (reports, files)."""
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import KINDS
    from itss_warehouse.reports.rendering import render_period

    _export(settings)
    month = Period.last_closed("month", day)
    rendered = [report for kind in ("service_report", "process_report")
                for report in render_period(KINDS[kind], _url(settings), month, settings.output_path,
                                            settings.templates_path, workers=os.cpu_count() or 1)]  # fmt: skip
    return len(rendered), sum(len(report.files) for report in rendered)


def service_report(settings: Settings, month: str) -> dict[str, Path]:
    """Every format of the one service report due for ``month`` (``2026-06``; the project-month benchmark has one
    project), as ``itss report service`` renders it, imports included; returns its files by format."""
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import KINDS
    from itss_warehouse.reports.rendering import render_period

    _export(settings)
    [report] = render_period(KINDS["service_report"], _url(settings), Period.parse(month), settings.output_path,
                             settings.templates_path, breaches_shown=settings.report_breaches_shown)  # fmt: skip
    return report.files


def parse_seconds(settings: Settings) -> dict[str, float]:
    from itss_warehouse.orchestration import airflow_runner

    _export(settings)
    return airflow_runner.parse_seconds(settings)
