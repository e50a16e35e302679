"""The DAG folder parses cleanly, quickly and without touching any database or connection."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings

# An address nothing listens on: parsing must not need the warehouse.
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nowhere"

PARSE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import psycopg, psycopg2
    lookups = []
    def refuse(name):
        def _refuse(*args, **kwargs):
            lookups.append(name)
            raise RuntimeError(f"{name} called while parsing DAGs")
        return _refuse
    psycopg.connect = refuse("psycopg.connect")
    psycopg2.connect = refuse("psycopg2.connect")
    from airflow.models.connection import Connection
    Connection.get_connection_from_secrets = classmethod(refuse("Connection.get_connection_from_secrets"))
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({
        "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
        "lookups": lookups,
        "dags": {
            dag_id: {
                "tags": sorted(dag.tags),
                "schedule": str(dag.timetable.summary),
                "tasks": sorted(dag.task_ids),
                "downstream": {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks},
                "owner": dag.default_args.get("owner"),
                "doc": bool(dag.doc_md),
                "trigger_rules": {task.task_id: getattr(task.trigger_rule, "value", task.trigger_rule) for task in dag.tasks},
                "failure_callbacks": {
                    task.task_id: ",".join(callback.__name__ for callback in (task.on_failure_callback or []))
                    for task in dag.tasks
                },
            }
            for dag_id, dag in bag.dags.items()
        },
    }))
    """
)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict:
    settings = Settings(_env_file=None, home=tmp_path_factory.mktemp("home"))
    env = environment.tool_environment(settings, UNREACHABLE)
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(settings.dags_path)],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_import_errors_and_no_connection_lookups(parsed: dict):
    assert parsed["import_errors"] == {}
    assert parsed["lookups"] == []


def test_nightly_dag_is_scheduled_tagged_and_documented(parsed: dict):
    nightly = parsed["dags"]["itss_nightly"]
    assert nightly["schedule"] == "0 1 * * *"
    assert nightly["tags"] == ["itss", "nightly"]
    assert nightly["owner"] == "data-platform"
    assert nightly["doc"]


def test_nightly_dag_wires_load_validate_and_dbt(parsed: dict):
    tasks = parsed["dags"]["itss_nightly"]["tasks"]
    for task_id in ("extract_sources", "load_raw", "map_raw", "validate_raw", "validate_marts"):
        assert task_id in tasks
    downstream = parsed["dags"]["itss_nightly"]["downstream"]
    assert downstream["extract_sources"] == ["load_raw"]
    assert downstream["load_raw"] == ["map_raw"]
    assert downstream["map_raw"] == ["validate_raw"]
    # dbt through cosmos: source freshness, then one build of every model with its tests
    # validate_marts also reads validate_raw's build plan (what the build took in)
    assert sorted(downstream["validate_raw"]) == ["dbt_source_freshness", "validate_marts"]
    assert downstream["dbt_source_freshness"] == ["dbt_build"]
    assert downstream["dbt_build"] == ["validate_marts"]
    # the night that validates re-triggers the report runs the gate blocked
    assert downstream["validate_marts"] == ["blocked_reports"]
    assert downstream["blocked_reports"] == ["retrigger_blocked_reports"]
    assert len(tasks) == 9


@pytest.mark.parametrize(
    ("dag_id", "schedule", "renders"),
    [
        ("itss_monthly_reports", "0 6 1 * *", ["render_process_report", "render_service_report"]),
        ("itss_half_year_reports", "0 7 1 1,7 *", ["render_quality_report"]),
        ("itss_yearly_reports", "0 8 1 1 *", ["render_annual_report", "render_satisfaction_report"]),
    ],
)
def test_report_dags_wait_for_validated_marts_render_then_send(parsed: dict, dag_id, schedule, renders):
    reports = parsed["dags"][dag_id]
    assert reports["schedule"] == schedule
    assert reports["tags"] == ["itss", "reports"]
    assert reports["doc"]
    sends = [render.replace("render_", "send_") for render in renders]
    assert reports["tasks"] == sorted(["wait_for_validated_marts", *renders, *sends])
    assert reports["downstream"]["wait_for_validated_marts"] == renders
    for render, send in zip(renders, sends, strict=True):
        assert reports["downstream"][render] == [send]
        # A blocked gate fails the sensor, alerting the data owner once; nothing is sent.
        assert reports["trigger_rules"][send] == "all_success"


def test_every_task_notifies_the_data_owner_when_it_fails(parsed: dict):
    for dag_id, dag in parsed["dags"].items():
        assert set(dag["failure_callbacks"].values()) == {"notify_failure"}, dag_id
