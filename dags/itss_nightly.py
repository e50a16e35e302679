"""
### itss_nightly

Nightly ITSS warehouse run (01:00 Asia/Shanghai): land the changes of database and
API sources as files → land new landing files in `raw_landing` as they are (COPY,
one batch per file, idempotent) → map the landed batches to canonical fields in `raw`
(values that cannot be mapped are quarantined) → validate them with Great
Expectations (bad rows quarantined, critical failures stop the run) → dbt build of
staging, intermediate and marts through astronomer-cosmos → validate the marts (the
reports of `itss_reports.py` wait for this validation).

The DAG file is thin: tasks call `itss_warehouse.pipeline`; nothing connects to a
database or reads configuration while the file is parsed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from airflow.sdk import Asset, dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, SourceRenderingBehavior, TestBehavior

from itss_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE, TIMEZONE

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"

# cosmos logs every rendered node at INFO through stdlib loggers Airflow does not filter.
for _logger in ("cosmos.converter", "cosmos.dbt.graph", "cosmos.dbt.project"):
    logging.getLogger(_logger).setLevel(logging.WARNING)

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
        from itss_warehouse import pipeline

        return pipeline.extract_sources()

    @task
    def load_raw() -> list[int]:
        from itss_warehouse import pipeline

        return pipeline.load_raw()

    # Maps every batch not yet mapped, not only tonight's: a batch whose mapping failed
    # on an earlier night (say, a source definition to fix) is mapped once it can be.
    @task(outlets=[RAW_ASSET])
    def map_raw() -> list[int]:
        from itss_warehouse import pipeline

        return pipeline.map_raw()

    @task(retries=0)
    def validate_raw(batch_ids: list[int]) -> dict:
        from itss_warehouse import pipeline

        return pipeline.validate_raw(batch_ids)

    transform = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
        ),
        profile_config=ProfileConfig(
            profile_name="itss",
            target_name="warehouse",
            profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
        ),
        # One `dbt build` task per model (its tests included): fewer, faster tasks than
        # separate run/test tasks. Tests spanning several models (relationships) get
        # their own task once all their parents are built.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
            emit_datasets=False,
        ),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER),
        # Open tickets are judged at the end of the run's day, so a re-run or back-fill
        # of a past day gives that day's answer.
        operator_args={"vars": {"run_date": "{{ ds }}"}, "install_deps": False},
        # A failed model or test is not transient: fail fast instead of retrying.
        default_args={"retries": 0},
    )

    @task(outlets=[MARTS_ASSET], retries=0)
    def validate_marts() -> dict:
        from itss_warehouse import pipeline

        return pipeline.validate_marts()

    mapped = map_raw()
    extract_sources() >> load_raw() >> mapped
    checked = validate_raw(mapped)
    checked >> transform >> validate_marts()


itss_nightly()
