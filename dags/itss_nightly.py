"""
### itss_nightly

Nightly ITSS warehouse run (01:00 Asia/Shanghai): land the changes of database and
API sources as files → land new landing files in `raw_landing` as they are (COPY,
one batch per file, idempotent) → map the landed batches to canonical fields in `raw`
(values that cannot be mapped are quarantined) → validate them with Great
Expectations (bad rows quarantined, critical failures stop the run) → dbt source
freshness → one `dbt build` of staging, intermediate, restricted and marts with their
data tests, through astronomer-cosmos → validate the marts (the reports of `itss_reports.py`
wait for this validation).

The DAG file is thin: tasks call `itss_warehouse.pipeline` through `run_step`, which fails
a task at once, without retries, on an error that cannot fix itself (a header that does not
match its mapping, a failed validation); nothing connects to a database or reads
configuration while the file is parsed.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import ProfileConfig
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator, DbtSourceLocalOperator

from itss_warehouse.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, TIMEZONE
from itss_warehouse.orchestration.steps import run_step

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"

RAW_ASSET = Asset("itss://warehouse/raw")
MARTS_ASSET = Asset("itss://warehouse/marts")


@dag(
    dag_id="itss_nightly",
    schedule=CronTriggerTimetable("0 1 * * *", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["itss", "nightly"],
    doc_md=__doc__,
)
def itss_nightly():
    @task
    def extract_sources() -> list[str]:
        return run_step("extract_sources")

    @task
    def load_raw() -> list[int]:
        return run_step("load_raw")

    # Maps every batch not yet mapped, not only tonight's: a batch whose mapping failed
    # on an earlier night (say, a source definition to fix) is mapped once it can be.
    @task(outlets=[RAW_ASSET])
    def map_raw() -> list[int]:
        return run_step("map_raw")

    @task
    def validate_raw(batch_ids: list[int]) -> dict:
        return run_step("validate_raw", batch_ids)

    # Two dbt tasks through cosmos, not one per model: starting a task costs seconds (a
    # process, the DAG file, a dbt invocation), which one per model multiplied into minutes
    # every night; dbt runs the models in dependency order with its own threads, and the
    # task log lists every model and test. A failed model or test is not transient: no retry.
    dbt = {
        "project_dir": DBT_PROJECT,
        "profile_config": ProfileConfig(
            profile_name="itss", target_name="warehouse", profiles_yml_filepath=DBT_PROJECT / "profiles.yml"
        ),
        "invocation_mode": InvocationMode.DBT_RUNNER,
        "install_deps": False,
        "retries": 0,
        # Open tickets are judged at the end of the run's day, so a re-run or back-fill of a
        # past day gives that day's answer. Both tasks get the vars: dbt parses the whole
        # project again when they change, so the build reuses the freshness check's parse.
        "vars": {"run_date": "{{ ds }}"},
    }
    # A register or ticket export that stopped arriving is a warning in the log, never a silent gap.
    freshness = DbtSourceLocalOperator(task_id="dbt_source_freshness", **dbt)
    # Unit tests check the models' SQL against fixed fixtures, not the night's data: they run
    # in the test suite and in every `itss warehouse rebuild`, not each night (dbt's advice).
    # Full (--full-refresh) when a withdrawal or restoration waits for one (validate_raw's plan).
    transform = DbtBuildLocalOperator(
        task_id="dbt_build", dbt_cmd_flags=["--exclude-resource-type", "unit_test"],
        full_refresh="{{ ti.xcom_pull(task_ids='validate_raw')['build']['full_refresh'] }}", **dbt,
    )  # fmt: skip

    @task(outlets=[MARTS_ASSET])
    def validate_marts(checked: dict) -> dict:
        return run_step("validate_marts", checked["build"])

    # The night that validates the marts again re-runs the report runs blocked since (cleared and
    # run again by the scheduler under their own run id); none blocked: the mapped task is skipped.
    @task
    def blocked_reports() -> list[dict[str, str]]:
        return run_step("blocked_reports_to_retrigger")

    retrigger = TriggerDagRunOperator.partial(task_id="retrigger_blocked_reports", reset_dag_run=True)

    mapped = map_raw()
    extract_sources() >> load_raw() >> mapped
    checked = validate_raw(mapped)
    validated = validate_marts(checked)
    checked >> freshness >> transform >> validated
    blocked = blocked_reports()
    validated >> blocked
    retrigger.expand_kwargs(blocked)


itss_nightly()
