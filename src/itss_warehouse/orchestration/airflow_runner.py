"""Run a DAG through Airflow itself (``airflow dags test``), as the scheduler would.

Airflow runs in a child process with the environment from ``environment.export`` so its
configuration (home, DAG folder, metadata database) never leaks into this process's
imports. The child leads its own process group: when this process is stopped (Ctrl-C,
SIGTERM from a scheduler or ``timeout``) or the run exceeds its wall-clock limit, the whole
group is stopped with it, so nothing is left running. Its full log goes to a file; on
failure the failed tasks and the product's own error are shown, not Airflow's traceback.
Airflow's exit code is not the whole verdict: a run of a day before a task's start date,
or one whose tasks were all skipped, exits 0 with no task run, so each run's task states
are read from Airflow's metadata database afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from itss_warehouse.settings import Settings


class DagRunFailed(RuntimeError):
    pass


class _Stopped(BaseException):  # not an Exception: nothing in between may swallow it
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


RAN_STATES = {"success", "failed"}
FINISHED_STATES = RAN_STATES | {"skipped", "upstream_failed", "removed"}
# Seconds Airflow gets to end its tasks after SIGTERM before the group is killed.
STOP_GRACE_SECONDS = 10.0


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """While waiting for a child, SIGINT and SIGTERM raise ``_Stopped`` (only the main thread gets signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:  # a second Ctrl-C must not interrupt the stopping of the group
            stopping.append(signum)
            raise _Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _group_alive(child: subprocess.Popen) -> bool:
    child.poll()  # reap the leader: a zombie still counts as a member of its group
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_group(child: subprocess.Popen) -> None:
    """SIGTERM to the child's whole process group, SIGKILL to what is left after the grace period."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(child):
            return
        os.killpg(child.pid, signum)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while _group_alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)


def _airflow(log_file: Path, *args: str, timeout: float | None = None) -> int:
    airflow = Path(sys.executable).with_name("airflow")
    command = " ".join(["airflow", *args])
    with log_file.open("a", encoding="utf-8") as log, _stop_signals_raise():
        child = subprocess.Popen([str(airflow), *args], stdout=log, stderr=subprocess.STDOUT, env=os.environ,
                                 start_new_session=True)  # fmt: skip
        try:
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DagRunFailed(f"`{command}` was stopped after the limit of {timeout:.0f} s"
                               f" (ITSS_DAG_RUN_TIMEOUT_SECONDS); full log: {log_file}") from None  # fmt: skip
        except _Stopped as stopped:
            name = signal.Signals(stopped.signum).name
            raise DagRunFailed(
                f"{name} received: `{command}` and its tasks were stopped; full log: {log_file}"
            ) from None
        finally:
            _stop_group(child)  # stopped, timed out, or a task process Airflow left behind


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


RUNS = "select run_id, state from dag_run where dag_id = :dag_id order by id desc"
RUN_TASKS = "select task_id, map_index, state from task_instance where dag_id = :dag_id and run_id = :run_id"


def _metadata():
    from sqlalchemy import create_engine

    return create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])


def _run_ids(dag_id: str) -> set[str]:
    from sqlalchemy import text

    with _metadata().connect() as conn:
        return {run.run_id for run in conn.execute(text(RUNS), {"dag_id": dag_id})}


def _task_states(dag_id: str, before: set[str]) -> tuple[str | None, dict[str, str | None]]:
    """The state of the newest run not among ``before`` and of each of its tasks.

    Not "the id after the last one": ``dags test`` deletes an earlier run of the same day, and
    SQLite may give the new run the deleted one's id.
    """
    from sqlalchemy import text

    with _metadata().connect() as conn:
        runs = conn.execute(text(RUNS), {"dag_id": dag_id})
        run = next((run for run in runs if run.run_id not in before), None)
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


# `airflow dags test` logs which task it starts, then a failed task's traceback under this line.
TASK_STARTED = re.compile(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)")
TASK_FAILED = re.compile(r"\[error\s*\] Task failed with exception")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
# The wrapper that fails a task at once (orchestration.tasks); the error it wraps is the product's.
WRAPPER = "AirflowFailException"


def task_errors(log_text: str) -> dict[str, str]:
    """Each failed task's own exception, ``Type: message``, as the log's tracebacks end."""
    errors: dict[str, str] = {}
    task: str | None = None
    traceback: list[str] | None = None
    for line in [*log_text.splitlines(), "0000-00-00T00:00 end"]:
        if traceback is not None and LOG_LINE.match(line):
            errors[task or "?"] = _exception(traceback)
            traceback = None
        if started := TASK_STARTED.search(line):
            task = started[1] + (f"[{started[2]}]" if started[2] != "-1" else "")
        elif TASK_FAILED.search(line):
            traceback = []
        elif traceback is not None:
            traceback.append(line)
    return errors


def _exception(traceback: list[str]) -> str:
    """The last exception of a traceback that is the product's, not Airflow's wrapper around it."""
    sections: list[list[str]] = []
    current: list[str] = []
    in_frames = False
    for line in traceback:
        if line.startswith(CHAINED):
            sections.append(current)
            current = []
        elif line.startswith("Traceback "):
            current, in_frames = [], True
        elif in_frames and line.startswith(" "):
            continue  # a frame; the exception's first line is the next unindented one
        elif line or current:
            in_frames = False
            current.append(line)
    sections.append(current)
    messages = ["\n".join(section).strip() for section in sections if "".join(section).strip()]
    # ``package.module.Error: text`` reads as ``Error: text``.
    named = [re.sub(r"^[\w.]*\.(\w+(:|$))", r"\1", message) for message in messages]
    own = [message for message in named if not message.startswith(WRAPPER)]
    return (own or named or ["no exception in the log"])[-1]


def _failure(dag_id: str, day: dt.date, log_file: Path, tasks: dict[str, str | None]) -> str:
    """What failed, the product's own words first; the traceback stays in the log."""
    errors = task_errors(log_file.read_text(encoding="utf-8", errors="replace"))
    failed = sorted(task for task, state in tasks.items() if state == "failed") or sorted(errors)
    if not failed:
        return f"{dag_id} failed for {day} before any task ran:\n{_tail(log_file, 5)}\nFull log: {log_file}"
    lines = [f"{dag_id} failed for {day}:"]
    for task in failed:
        error = errors.get(task, "no error in the log").replace("\n", "\n    ")
        lines.append(f"  task {task}: {error}")
    return "\n".join([*lines, f"Full log: {log_file}"])


def dags_test(settings: Settings, dag_id: str, day: dt.date) -> Path:
    """Run ``dag_id`` for ``day`` in one process (``airflow dags test``); return the log path."""
    log_file = _log_file(settings, f"{dag_id}_{day.isoformat()}")
    before = _run_ids(dag_id)
    code = _airflow(log_file, "dags", "test", dag_id, day.isoformat(), timeout=settings.dag_run_timeout_seconds)
    run_state, tasks = _task_states(dag_id, before)
    if code != 0:
        raise DagRunFailed(_failure(dag_id, day, log_file, tasks))
    problem = _run_problem(run_state, tasks)
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
