"""A DAG run is a success only when its tasks ran: Airflow itself exits 0 when none did. A run
that fails says what failed first; one stopped or over its time limit leaves no process behind."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from itss_warehouse.orchestration import airflow_runner
from itss_warehouse.orchestration.airflow_runner import DagRunFailed
from itss_warehouse.settings import Settings

pytestmark = pytest.mark.slow  # Airflow runs the probe DAG (its metadata in SQLite, no server)

PROBE_DAG = """
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="itss_probe", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def itss_probe():
    @task
    def work() -> None:
        pass

    work()


itss_probe()


@dag(dag_id="itss_probe_failing", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def itss_probe_failing():
    @task(retries=0)
    def check() -> None:
        raise ValueError("tickets.csv: the header lacks column 'priority'")

    check()


itss_probe_failing()


@dag(dag_id="itss_probe_sleeping", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def itss_probe_sleeping():
    @task
    def sleep() -> None:
        import subprocess

        print("probe task sleeping", flush=True)
        subprocess.run(["sleep", "600"])  # a grandchild too: the whole group must go

    sleep()


itss_probe_sleeping()
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("verdict")
    (home / "dags").mkdir()
    (home / "dags" / "itss_probe.py").write_text(PROBE_DAG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_HOME", str(home / "airflow"))
        patch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(home / "dags"))
        patch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        patch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
        settings = Settings(_env_file=None, home=home)
        airflow_runner.migrate_metadata(settings)
        yield settings


def _processes_of(airflow_home: Path) -> list[int]:
    """The processes whose environment names this Airflow home: the runner's children and theirs."""
    marker = f"AIRFLOW_HOME={airflow_home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # ended meanwhile, or not ours
            continue
    return found


def _wait_for(predicate, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_run_whose_tasks_ran_succeeds(settings):
    assert airflow_runner.dags_test(settings, "itss_probe", dt.date(2024, 3, 1)).is_file()


def test_a_day_before_the_start_date_runs_no_task_and_fails(settings):
    with pytest.raises(
        DagRunFailed, match=r"itss_probe did not succeed for 2017-03-01: no task ran \(no task instance\)"
    ):
        airflow_runner.dags_test(settings, "itss_probe", dt.date(2017, 3, 1))


def test_a_failed_run_says_which_task_failed_and_why_not_the_traceback(settings):
    started = time.monotonic()
    with pytest.raises(DagRunFailed) as failed:
        airflow_runner.dags_test(settings, "itss_probe_failing", dt.date(2024, 3, 1))
    log_file = settings.airflow_home / "logs" / "itss_probe_failing_2024-03-01.log"
    assert str(failed.value) == (
        "itss_probe_failing failed for 2024-03-01:\n"
        "  task check: ValueError: tickets.csv: the header lacks column 'priority'\n"
        f"Full log: {log_file}"
    )
    assert "Traceback" in log_file.read_text()
    assert time.monotonic() - started < 60


RUNNER = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from itss_warehouse.orchestration import airflow_runner
    from itss_warehouse.settings import Settings
    try:
        airflow_runner.dags_test(Settings(_env_file=None, home=Path(sys.argv[1])), "itss_probe_sleeping",
                                 dt.date(2024, 3, 1))
    except airflow_runner.DagRunFailed as error:
        sys.exit(str(error))
    """
)


def test_sigterm_stops_the_run_and_every_process_it_started(settings):
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(settings.home)], stderr=subprocess.PIPE, text=True)
    log_file = settings.airflow_home / "logs" / "itss_probe_sleeping_2024-03-01.log"
    _wait_for(lambda: log_file.exists() and "probe task sleeping" in log_file.read_text(), 90)
    started = _processes_of(settings.airflow_home)
    assert len(started) >= 2  # airflow dags test and the task's sleep
    runner.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    _, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 1
    assert time.monotonic() - stopped_at < airflow_runner.STOP_GRACE_SECONDS + 5
    assert f"SIGTERM received: `airflow dags test itss_probe_sleeping 2024-03-01` and its tasks were stopped; " \
           f"full log: {log_file}" in stderr  # fmt: skip
    assert _processes_of(settings.airflow_home) == []
    assert all(not Path(f"/proc/{pid}").exists() for pid in started)


def test_a_run_over_its_time_limit_is_stopped_with_what_it_started(settings):
    limited = settings.model_copy(update={"dag_run_timeout_seconds": 15})
    started = time.monotonic()
    with pytest.raises(DagRunFailed, match=r"was stopped after the limit of 15 s \(ITSS_DAG_RUN_TIMEOUT_SECONDS\)"):
        airflow_runner.dags_test(limited, "itss_probe_sleeping", dt.date(2024, 3, 2))
    assert time.monotonic() - started < 15 + airflow_runner.STOP_GRACE_SECONDS + 5
    assert _processes_of(settings.airflow_home) == []


# Verdicts on states Airflow reached otherwise (a skip, a run stopped midway) than by this probe.
def test_a_run_whose_every_task_was_skipped_fails():
    assert airflow_runner._run_problem("success", {"work": "skipped"}) == (
        "no task ran (work skipped): the day is before the DAG's start date, or every task was skipped"
    )


def test_a_run_with_unfinished_tasks_fails():
    problem = airflow_runner._run_problem("failed", {"extract": "success", "load": None, "map": "queued"})
    assert problem == "the run ended failed with tasks that did not finish: load, map"
    assert airflow_runner._run_problem("failed", {"extract": "failed"}) == "the run ended failed"
    assert airflow_runner._run_problem(None, {}) == "Airflow created no DAG run"
