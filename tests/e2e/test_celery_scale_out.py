"""Scale-out for real: an Airflow scheduler, DAG processor, API server and Celery worker on this
machine, with the metadata and the warehouse on its PostgreSQL server and Redis as the broker.

The nightly DAG is back-filled for a past day and the monthly reports DAG for the month before,
as in production: the pipeline connects as a login of the loader role and dbt as one of the
transformer role. The back-fill must give the same marts as a build outside Airflow for the same
day, and the same report as ``itss report``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql
from support.small_landing import EXPECTED_ORGANISATION_RATE

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings
from itss_warehouse.warehouse import raw
from itss_warehouse.warehouse.connection import ensure_schemas
from itss_warehouse.warehouse.roles import LOADER, TRANSFORMER

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.scale_out]

SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS = ("127.0.0.1", 6379)
BROKER_DB = 7  # a Redis database of its own, emptied first: no stale task from an earlier run
BIN = Path(sys.executable).parent
LOADER_LOGIN, TRANSFORMER_LOGIN = "itss_test_loader", "itss_test_transformer"
NIGHT = ("2026-11-21T00:30:00+08:00", "2026-11-21T01:30:00+08:00")  # one nightly run: 01:00 Beijing
MONTH_START = ("2026-11-01T00:00:00+08:00", "2026-11-01T12:00:00+08:00")  # the monthly run of 1 Nov, 06:00


def _answers(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, 2).close()
        return True
    except OSError:
        return False


def _fresh_database(name: str) -> str:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return f"{SERVER}/{name}"


def _as(url: str, login: str) -> str:
    return url.replace("://postgres@", f"://{login}:{login}-pw@", 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path, metadata_url: str):
        self.env, self.logs, self.metadata_url = env, logs, metadata_url
        self.processes: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self, stack: ExitStack, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("w", encoding="utf-8")
        process = subprocess.Popen(
            [str(BIN / "airflow"), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        stack.callback(log.close)
        stack.callback(_stop, process)

    def query(self, statement: str, *params) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(statement, params).fetchall()

    def wait(self, what: str, condition, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            exited = [name for name, process in self.processes.items() if process.poll() is not None]
            if exited or time.monotonic() > deadline:
                tails = "\n".join(
                    f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                    for log in sorted(self.logs.glob("*.log"))
                )
                pytest.fail(f"{', '.join(exited) or 'timed out'} while waiting for {what}\n{tails}")
            time.sleep(3)

    def backfill(self, dag_id: str, window: tuple[str, str], timeout: float) -> list[tuple]:
        """Back-fill ``dag_id`` over ``window``, wait for its runs to finish; their (logical date, state)."""
        self.airflow("dags", "unpause", dag_id)
        self.airflow("backfill", "create", "--dag-id", dag_id, "--from-date", window[0], "--to-date", window[1])
        finished = "select count(*) = 0 from dag_run where dag_id = %s and state not in ('success', 'failed')"
        self.wait(f"the back-fill of {dag_id}", lambda: self.query(finished, dag_id)[0][0], timeout)
        return self.query("select logical_date, state from dag_run where dag_id = %s", dag_id)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(small_landing: Path, tmp_path_factory):
    if not (_answers(("127.0.0.1", 5432)) and _answers(REDIS)):
        pytest.skip("needs the PostgreSQL server at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    home = tmp_path_factory.mktemp("celery_home")
    landing = home / "landing"
    shutil.copytree(small_landing, landing)
    warehouse = _fresh_database("itss_test_celery_warehouse")
    metadata = _fresh_database("itss_test_celery_airflow")
    redis.Redis(*REDIS, db=BROKER_DB).flushdb()
    logins = {
        "ITSS_TEST_LOADER_PASSWORD": f"{LOADER_LOGIN}-pw",
        "ITSS_TEST_TRANSFORMER_PASSWORD": f"{TRANSFORMER_LOGIN}-pw",
    }
    owner_env = {**os.environ, "ITSS_WAREHOUSE_URL": warehouse, "ITSS_HOME": str(home), **logins}
    setup = [
        str(BIN / "itss"),
        "setup-roles",
        "--login",
        f"{LOADER_LOGIN}={LOADER}",
        "--login",
        f"{TRANSFORMER_LOGIN}={TRANSFORMER}",
    ]
    subprocess.run(setup, env=owner_env, check=True, capture_output=True)

    settings = Settings(_env_file=None, home=home, landing_dir=landing)
    port = _free_port()
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("ITSS_", "AIRFLOW", "DBT_"))}
    env = {
        **inherited,
        # The pipeline's connection is the loader's, dbt's the transformer's (as in docker-compose.yml).
        **environment.tool_environment(settings, _as(warehouse, LOADER_LOGIN)),
        "ITSS_DBT_USER": TRANSFORMER_LOGIN,
        "ITSS_DBT_PASSWORD": f"{TRANSFORMER_LOGIN}-pw",
        "ITSS_HOME": str(home),
        "ITSS_LANDING_DIR": str(landing),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.replace("postgresql://", "postgresql+psycopg2://", 1),
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{BROKER_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        # Only the back-fills run: no scheduled run of today when a DAG is unpaused.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    logs = home / "cluster_logs"
    logs.mkdir()
    cluster = Cluster(env, logs, metadata)
    cluster.airflow("db", "migrate")
    with ExitStack() as stack:
        cluster.start(stack, "api-server", "api-server", "--port", str(port))
        cluster.start(stack, "scheduler", "scheduler")
        cluster.start(stack, "dag-processor", "dag-processor")
        cluster.start(stack, "worker", "celery", "worker", "--concurrency", "2")
        parsed = "select count(*) from dag where dag_id in ('itss_nightly', 'itss_monthly_reports')"
        cluster.wait("the DAGs to be parsed", lambda: cluster.query(parsed)[0][0] == 2, 300)
        yield cluster, warehouse, home, landing


def _marts_fingerprints(url: str) -> dict[str, str]:
    """Every mart's rows, hashed in a stable order: equal fingerprints, equal marts (but for
    the time of the build, ``measured_at``, ``sla_measured_at`` and ``sla_measured_through``)."""
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'marts'")]
        return {
            table: conn.execute(
                sql.SQL(
                    "select md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
                    " from (select to_jsonb(t) - 'measured_at' - 'sla_measured_at' - 'sla_measured_through' as r"
                    " from marts.{} t) rows"
                ).format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def test_nightly_backfill_runs_on_the_celery_worker_as_the_pipeline_roles(cluster):
    airflow, warehouse, _, _ = cluster
    runs = airflow.backfill("itss_nightly", NIGHT, 900)
    assert [state for _, state in runs] == ["success"]
    states = dict(airflow.query("select task_id, state from task_instance where dag_id = 'itss_nightly'"))
    # No report run was blocked: the re-trigger has nothing to expand and is skipped, not run.
    assert len(states) == 9 and states["retrigger_blocked_reports"] == "skipped"
    task_count = list(states.values()).count("success")
    # Every task instance that ran went through Celery: the worker stored one successful result per
    # task (the last one may land a moment after the scheduler marked the run done).
    results = "select count(*) from celery_taskmeta where status = 'SUCCESS'"
    airflow.wait("a Celery result per task", lambda: airflow.query(results)[0][0] == task_count, 60)
    assert "succeeded in" in (airflow.logs / "worker.log").read_text(errors="replace")
    with psycopg.connect(warehouse) as conn:
        owners = conn.execute(
            "select schemaname, string_agg(distinct tableowner, ',') from pg_tables"
            " where schemaname in ('raw', 'restricted', 'marts') group by schemaname order by schemaname"
        ).fetchall()
        organisation = conn.execute(
            "select value from marts.kpi_scorecard where kpi_code = 'SLA_ATTAINMENT' and grain = 'organisation'"
            " and period_type = 'month' and period_start = '2026-10-01'"
        ).fetchone()[0]
    assert owners == [("marts", TRANSFORMER), ("raw", LOADER), ("restricted", TRANSFORMER)]
    assert float(organisation) == EXPECTED_ORGANISATION_RATE


def test_the_backfilled_marts_equal_a_build_outside_airflow_for_the_same_day(cluster, tmp_path):
    from support.demo_build import build

    airflow, warehouse, _, landing = cluster
    [(logical_date, _)] = airflow.query("select logical_date, state from dag_run where dag_id = 'itss_nightly'")
    direct = _fresh_database("itss_test_celery_direct")
    ensure_schemas(direct)
    # The same pseudonym key, or every manager's pseudonym differs.
    with psycopg.connect(warehouse) as source, psycopg.connect(direct) as target:
        raw.ensure_raw_tables(target)  # with the key table, and a key to overwrite
        target.execute("update raw.pseudonym_key set (inner_pad, outer_pad) = (%s, %s)",
                       source.execute("select inner_pad, outer_pad from raw.pseudonym_key").fetchone())  # fmt: skip
    build(direct, landing, tmp_path / "home", logical_date.date())  # the run's {{ ds }}: its UTC date
    expected = _marts_fingerprints(direct)
    assert len(expected) > 20
    assert _marts_fingerprints(warehouse) == expected


def test_monthly_backfill_renders_what_itss_report_renders(cluster, tmp_path):
    airflow, warehouse, home, _ = cluster
    runs = airflow.backfill("itss_monthly_reports", MONTH_START, 600)
    assert [state for _, state in runs] == ["success"]
    # Every task at its first try: rendering in a Celery worker's task process works as it is, and
    # the two send tasks, which may run at once, both create the mail log (warehouse.connection.lock_ddl).
    retried = "select task_id, try_number from task_instance where dag_id = 'itss_monthly_reports' and try_number > 1"
    assert airflow.query(retried) == []
    archived = home / "output" / "service_report" / "2026-10" / "P1.zh-CN.html"
    env = {**airflow.env, "ITSS_WAREHOUSE_URL": warehouse, "ITSS_OUTPUT_DIR": str(tmp_path)}
    command = [str(BIN / "itss"), "report", "service", "--period", "2026-10", "--project", "P1", "--format", "html"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert (tmp_path / "service_report" / "2026-10" / "P1.zh-CN.html").read_bytes() == archived.read_bytes()
    # The run's e-mail went to the outbox (no SMTP server configured here).
    assert [path.name.split("-")[0] for path in (home / "outbox").glob("*.eml")] == ["process_report"]


def test_no_login_password_in_any_log_or_output(cluster):
    _, _, home, _ = cluster
    passwords = [f"{LOADER_LOGIN}-pw".encode(), f"{TRANSFORMER_LOGIN}-pw".encode()]
    files = [path for path in home.rglob("*") if path.is_file()]
    assert len(files) > 20  # the task logs of both runs, the reports, the e-mail
    leaks = [str(path) for path in files for password in passwords if password in path.read_bytes()]
    assert leaks == []
