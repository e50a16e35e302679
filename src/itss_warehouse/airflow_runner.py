"""Run a DAG through Airflow itself (``airflow dags test``), as the scheduler would.

Airflow runs in a child process with the environment from ``environment.export`` so its
configuration (home, DAG folder, metadata database) never leaks into this process's
imports. Its full log goes to a file; on failure the tail is shown.
"""

from __future__ import annotations

import datetime as dt
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


def run_dag(settings: Settings, dag_id: str, day: dt.date) -> Path:
    """Migrate the metadata database if needed, then run ``dag_id`` for ``day``; return the log path."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    log_file = settings.airflow_home / "logs" / f"{dag_id}_{day.isoformat()}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("", encoding="utf-8")
    if _airflow(log_file, "db", "migrate") != 0:
        raise DagRunFailed(f"airflow db migrate failed:\n{_tail(log_file)}")
    if _airflow(log_file, "dags", "test", dag_id, day.isoformat()) != 0:
        raise DagRunFailed(f"{dag_id} failed for {day} (full log: {log_file}):\n{_tail(log_file)}")
    return log_file
