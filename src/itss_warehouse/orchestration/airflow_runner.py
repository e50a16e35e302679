"""Run a DAG through Airflow itself (``airflow dags test``), as the scheduler would.

Airflow runs in a child process with the environment from ``environment.export`` so its
configuration (home, DAG folder, metadata database) never leaks into this process's
imports. Its full log goes to a file; on failure the tail is shown. Airflow's exit code is
not the whole verdict: a run of a day before a task's start date, or one whose tasks were
all skipped, exits 0 with no task run, so each run's task states are read from Airflow's
metadata database afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from itss_warehouse.settings import Settings


class DagRunFailed(RuntimeError):
    pass


RAN_STATES = {"success", "failed"}
FINISHED_STATES = RAN_STATES | {"skipped", "upstream_failed", "removed"}


def _airflow(log_file: Path, *args: str) -> int:
    airflow = Path(sys.executable).with_name("airflow")
    with log_file.open("a", encoding="utf-8") as log:
        return subprocess.run([str(airflow), *args], stdout=log, stderr=subprocess.STDOUT, env=os.environ).returncode


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _log_file(settings: Settings, name: str) -> Path:
    log_file = settings.airflow_home / "logs" / f"{name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("", encoding="utf-8")
    return log_file


def migrate_metadata(settings: Settings) -> None:
    """Create or upgrade Airflow's metadata database (a no-op once it is current)."""
    log_file = _log_file(settings, "db_migrate")
    if _airflow(log_file, "db", "migrate") != 0:
        raise DagRunFailed(f"airflow db migrate failed:\n{_tail(log_file)}")


LAST_RUN = "select coalesce(max(id), 0) from dag_run where dag_id = :dag_id"
NEW_RUN = "select run_id, state from dag_run where dag_id = :dag_id and id > :after order by id desc limit 1"
RUN_TASKS = "select task_id, map_index, state from task_instance where dag_id = :dag_id and run_id = :run_id"


def _metadata():
    from sqlalchemy import create_engine

    return create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])


def _last_run_id(dag_id: str) -> int:
    from sqlalchemy import text

    with _metadata().connect() as conn:
        return conn.execute(text(LAST_RUN), {"dag_id": dag_id}).scalar_one()


def _task_states(dag_id: str, after_run_id: int) -> tuple[str | None, dict[str, str | None]]:
    """The state of the run created after ``after_run_id`` and of each of its tasks."""
    from sqlalchemy import text

    with _metadata().connect() as conn:
        run = conn.execute(text(NEW_RUN), {"dag_id": dag_id, "after": after_run_id}).first()
        if run is None:
            return None, {}
        tasks = conn.execute(text(RUN_TASKS), {"dag_id": dag_id, "run_id": run.run_id})
        return run.state, {task_id + (f"[{index}]" if index >= 0 else ""): state for task_id, index, state in tasks}


def _run_problem(run_state: str | None, tasks: dict[str, str | None]) -> str | None:
    """Why a run Airflow exited 0 for is not a success, or None."""
    if run_state is None:
        return "Airflow created no DAG run"
    unfinished = sorted(task for task, state in tasks.items() if state not in FINISHED_STATES)
    if unfinished:
        return f"the run ended {run_state} with tasks that did not finish: {', '.join(unfinished)}"
    if not any(state in RAN_STATES for state in tasks.values()):
        states = ", ".join(f"{task} {state}" for task, state in sorted(tasks.items())) or "no task instance"
        return f"no task ran ({states}): the day is before the DAG's start date, or every task was skipped"
    if run_state != "success":
        return f"the run ended {run_state}"
    return None


def dags_test(settings: Settings, dag_id: str, day: dt.date) -> Path:
    """Run ``dag_id`` for ``day`` in one process (``airflow dags test``); return the log path."""
    log_file = _log_file(settings, f"{dag_id}_{day.isoformat()}")
    before = _last_run_id(dag_id)
    if _airflow(log_file, "dags", "test", dag_id, day.isoformat()) != 0:
        raise DagRunFailed(f"{dag_id} failed for {day} (full log: {log_file}):\n{_tail(log_file)}")
    problem = _run_problem(*_task_states(dag_id, before))
    if problem:
        raise DagRunFailed(f"{dag_id} did not succeed for {day}: {problem} (full log: {log_file})")
    return log_file


def run_dag(settings: Settings, dag_id: str, day: dt.date) -> Path:
    """Migrate the metadata database if needed, then run ``dag_id`` for ``day``; return the log path."""
    migrate_metadata(settings)
    return dags_test(settings, dag_id, day)


def parse_seconds(settings: Settings) -> dict[str, float]:
    """Each DAG file's parse time as Airflow's DAG processor measures it (``airflow dags report``)."""
    log_file = _log_file(settings, "dags_report")
    airflow = Path(sys.executable).with_name("airflow")
    report = subprocess.run([str(airflow), "dags", "report", "--output", "json"], capture_output=True, text=True,
                            env=os.environ)  # fmt: skip
    log_file.write_text(report.stdout + report.stderr, encoding="utf-8")
    if report.returncode != 0:
        raise DagRunFailed(f"airflow dags report failed:\n{_tail(log_file)}")
    # Warnings may precede the JSON on stdout.
    files = json.loads(report.stdout[report.stdout.index("[{") :])
    return {entry["file"]: _seconds(entry["duration"]) for entry in files}


def _seconds(duration: str) -> float:
    """``0:00:00.089009`` (a printed timedelta) in seconds."""
    hours, minutes, seconds = duration.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
