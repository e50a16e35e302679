"""Run a DAG through Airflow itself (``airflow dags test``), as the scheduler would.

Airflow runs in a child process with the environment from ``environment.export`` so its
configuration (home, DAG folder, metadata database) never leaks into this process's
imports. Its full log goes to a file; on failure the tail is shown.
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


def dags_test(settings: Settings, dag_id: str, day: dt.date) -> Path:
    """Run ``dag_id`` for ``day`` in one process (``airflow dags test``); return the log path."""
    log_file = _log_file(settings, f"{dag_id}_{day.isoformat()}")
    if _airflow(log_file, "dags", "test", dag_id, day.isoformat()) != 0:
        raise DagRunFailed(f"{dag_id} failed for {day} (full log: {log_file}):\n{_tail(log_file)}")
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
