"""A DAG run is a success only when its tasks ran: Airflow itself exits 0 when none did."""

from __future__ import annotations

import datetime as dt

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


def test_a_run_whose_tasks_ran_succeeds(settings):
    assert airflow_runner.dags_test(settings, "itss_probe", dt.date(2024, 3, 1)).is_file()


def test_a_day_before_the_start_date_runs_no_task_and_fails(settings):
    with pytest.raises(
        DagRunFailed, match=r"itss_probe did not succeed for 2017-03-01: no task ran \(no task instance\)"
    ):
        airflow_runner.dags_test(settings, "itss_probe", dt.date(2017, 3, 1))


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
