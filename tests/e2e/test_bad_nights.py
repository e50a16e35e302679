"""Bad nights through Airflow: a blocked gate ends the report run at once and alerts the data
owner, `itss run` exits with the gate's reason instead of waiting, the next night that
validates re-triggers the blocked reports, and a damaged header fails its task with no retry."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from support.smtp_server import PASSWORD, USER, make_certificate, running

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ITSS = str(Path(sys.executable).with_name("itss"))
RUN_DAY = "2026-11-21"
BAD_CHECK = "tickets.csv, column priority: 5 row(s) fail 'priority is one of P1, P2, P3, P4'"


def _env(home: Path, landing: Path, url: str, **extra: str) -> dict[str, str]:
    # Only this run's settings: nothing of other tests' tool environment leaks in.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("ITSS_", "AIRFLOW", "DBT_"))}
    # Five bad priorities of 20 rows block only below the default tolerance of 10 rows (the proportionate gate).
    return {**inherited, "ITSS_HOME": str(home), "ITSS_LANDING_DIR": str(landing), "ITSS_WAREHOUSE_URL": url,
            "ITSS_QUARANTINE_TOLERANCE_ROWS": "4", **extra}  # fmt: skip


def _itss_run(home: Path, landing: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([ITSS, "run", "--date", RUN_DAY], capture_output=True, text=True,
                          env=_env(home, landing, url), timeout=600)  # fmt: skip


def _metadata(home: Path, query: str, *params) -> list[tuple]:
    with sqlite3.connect(home / "airflow" / "airflow.db") as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def blocked_night(create_database, small_landing: Path, tmp_path_factory):
    """A warehouse whose raw validation failed critically (bad priorities), then a night that
    rebuilt and validated the marts with no new file: the reports' gate is blocked."""
    url = create_database("bad_nights")
    home = tmp_path_factory.mktemp("home")
    landing = home / "landing"
    shutil.copytree(small_landing, landing)
    text = (landing / "tickets.csv").read_text(encoding="utf-8-sig")
    (landing / "tickets.csv").write_text(text.replace(",中,", ",普通,"), encoding="utf-8-sig")
    failed = _itss_run(home, landing, url)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    started = time.monotonic()
    blocked = _itss_run(home, landing, url)
    return url, home, landing, small_landing, failed, blocked, time.monotonic() - started


def test_a_failed_night_prints_the_failed_task_and_the_products_error_not_a_traceback(blocked_night):
    _, home, _, _, failed, _, _ = blocked_night
    log_file = home / "airflow" / "logs" / f"itss_nightly_{RUN_DAY}.log"
    assert failed.stderr.startswith(f"itss_nightly failed for {RUN_DAY}:\n  task validate_raw: ValidationFailed: ")
    assert BAD_CHECK in failed.stderr and f"Full log: {log_file}" in failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout


def test_itss_run_exits_with_the_gates_reason_and_starts_no_waiting_dag(blocked_night):
    _, home, _, _, _, blocked, seconds = blocked_night
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "itss_nightly succeeded" in blocked.stdout
    assert "Running itss_monthly_reports" not in blocked.stdout
    assert blocked.stderr.startswith("The reports of 2026-10 are blocked, itss_monthly_reports not started: ")
    assert BAD_CHECK in blocked.stderr
    assert "`itss batch withdraw " in blocked.stderr and "`itss validate --raw`" in blocked.stderr
    assert _metadata(home, "select count(*) from dag_run where dag_id = 'itss_monthly_reports'") == [(0,)]
    assert seconds < 120  # the nightly (~30 s here), then the gate at once


def _monthly_dags_test(home: Path, landing: Path, url: str, **extra: str) -> subprocess.CompletedProcess:
    settings = Settings(_env_file=None, home=home, landing_dir=landing)
    env = _env(home, landing, url, **environment.tool_environment(settings, url), **extra)
    airflow = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run([airflow, "dags", "test", "itss_monthly_reports", RUN_DAY], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def blocked_report_run(blocked_night, tmp_path_factory):
    """The scheduled monthly run on the blocked warehouse, mailing through a loopback SMTP server."""
    url, home, landing, *_ = blocked_night
    folder = tmp_path_factory.mktemp("smtp")
    certificate = make_certificate(folder)
    recipients = folder / "recipients.yml"
    recipients.write_text("data_owner: {to: [owner@itss.example.cn]}\nprojects:\n  P1: {to: [c1@bank.example.cn]}\n")
    with running(certificate) as (handler, port):
        connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": USER, "password": PASSWORD,
                      "extra": {"security": "starttls", "ca_file": str(certificate[0])}}  # fmt: skip
        started = time.monotonic()
        result = _monthly_dags_test(home, landing, url, ITSS_RECIPIENTS_FILE=str(recipients),
                                    AIRFLOW_CONN_ITSS_SMTP=json.dumps(connection))  # fmt: skip
        seconds = time.monotonic() - started
    return result, seconds, handler.messages


def test_a_blocked_gate_fails_the_report_run_at_once_and_alerts_the_data_owner(blocked_night, blocked_report_run):
    url, home, *_ = blocked_night
    result, seconds, messages = blocked_report_run
    assert result.returncode == 1 and seconds < 90  # Airflow's start and one check, not a day-long sensor
    tasks = dict(_metadata(home, "select task_id, state || ' ' || try_number from task_instance"
                                 " where dag_id = 'itss_monthly_reports'"))  # fmt: skip
    assert tasks["wait_for_validated_marts"] == "failed 1"  # no retry
    assert tasks["render_service_report"] == tasks["send_service_report"] == "upstream_failed 0"  # never started
    [(envelope, raw)] = messages  # one alert, nothing sent to a customer
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert envelope == ["owner@itss.example.cn"] and message["Subject"] == "Airflow 运行失败：itss_monthly_reports"
    text = message.get_content()
    assert "wait_for_validated_marts" in text and BAD_CHECK in text
    assert "itss batch withdraw " in text and "itss validate --raw" in text
    with psycopg.connect(url) as conn:
        assert conn.execute("select dag_id, period, run_id from raw.blocked_report_runs").fetchall() == [
            (
                "itss_monthly_reports",
                "2026-10",
                _metadata(home, "select run_id from dag_run where dag_id = ?", "itss_monthly_reports")[0][0],
            )
        ]


def test_the_next_night_that_validates_retriggers_the_blocked_reports(blocked_night, blocked_report_run):
    url, home, landing, small_landing, *_ = blocked_night
    [(run_id,)] = _metadata(home, "select run_id from dag_run where dag_id = 'itss_monthly_reports'")
    # The bad export is withdrawn and a corrected one (new bytes) arrives.
    withdrawn = subprocess.run([ITSS, "batch", "withdraw", "tickets.csv", "--reason", "优先级无法识别"],
                               capture_output=True, text=True, env=_env(home, landing, url), timeout=120)  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    shutil.copy(small_landing / "tickets.csv", landing / "tickets_corrected.csv")
    result = _itss_run(home, landing, url)
    assert result.returncode == 0, result.stdout + result.stderr
    retriggers = _metadata(home, "select map_index, state from task_instance where dag_id = 'itss_nightly'"
                                 " and task_id = 'retrigger_blocked_reports' order by run_id")  # fmt: skip
    assert retriggers[-1] == (0, "success")
    triggered = _metadata(home, "select value from xcom where dag_id = 'itss_nightly'"
                                " and task_id = 'retrigger_blocked_reports' and key = 'trigger_run_id'")  # fmt: skip
    assert [json.loads(value) for (value,) in triggered] == [run_id]
    # itss run then ran the monthly reports of 2026-10: they passed the gate, so the period is no longer blocked.
    assert (home / "output" / "service_report" / "2026-10" / "P1.zh-CN.html").is_file()
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.blocked_report_runs").fetchone() == (0,)


def test_a_damaged_header_fails_its_task_at_once_with_no_retry(create_database, small_landing, tmp_path):
    url = create_database("bad_header")
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    text = (landing / "tickets.csv").read_text(encoding="utf-8-sig")
    header, rest = text.split("\n", 1)
    (landing / "tickets.csv").write_text(header.replace("优先级", "优先") + "\n" + rest, encoding="utf-8-sig")
    started = time.monotonic()
    result = _itss_run(tmp_path / "home", landing, url)
    assert result.returncode == 1 and time.monotonic() - started < 120
    [(task_id, try_number)] = _metadata(tmp_path / "home", "select task_id, try_number from task_instance"
                                                           " where dag_id = 'itss_nightly' and state = 'failed'")  # fmt: skip
    assert try_number == 1  # DEFAULT_ARGS would retry twice, five minutes apart
    assert f"  task {task_id}: HeaderError: " in result.stderr and "Traceback" not in result.stderr
