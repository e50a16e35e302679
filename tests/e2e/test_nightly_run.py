"""`itss run` end to end: the nightly DAG through Airflow on the hand-computed organisation."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from support.small_landing import EXPECTED_ORGANISATION_RATE, EXPECTED_PROJECT_RATES
from support.smtp_server import PASSWORD, USER, make_certificate, running

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ITSS = str(Path(sys.executable).with_name("itss"))
RUN_DAY = "2026-11-21"
WAREHOUSE_PASSWORD = "wh-Secret-42"


def _run(home: Path, landing: Path, url: str, **extra: str) -> subprocess.CompletedProcess:
    # Only this run's settings: nothing of other tests' tool environment leaks in.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("ITSS_", "AIRFLOW", "DBT_"))}
    env = {**inherited, "ITSS_HOME": str(home), "ITSS_LANDING_DIR": str(landing), "ITSS_WAREHOUSE_URL": url, **extra}
    return subprocess.run([ITSS, "run", "--date", RUN_DAY], capture_output=True, text=True, env=env, timeout=900)


def _counts(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return tuple(
            conn.execute(query).fetchone()[0]
            for query in (
                "select count(*) from raw.load_batches",
                "select count(*) from raw.tickets",
                "select count(*) from raw.quarantined_rows",
                "select count(*) from marts.fct_tickets",
                "select count(*) from marts.kpi_scorecard",
            )
        )


@pytest.fixture(scope="module")
def first_run(create_database, small_landing: Path, tmp_path_factory):
    # A password in the URL (trust authentication ignores it) that must never reach output or logs.
    url = create_database("e2e").replace("://postgres@", f"://postgres:{WAREHOUSE_PASSWORD}@", 1)
    assert WAREHOUSE_PASSWORD in url
    home = tmp_path_factory.mktemp("home")
    landing = home / "landing"
    shutil.copytree(small_landing, landing)
    result = _run(home, landing, url)
    assert result.returncode == 0, result.stdout + result.stderr
    return url, home, landing, result


def test_run_prints_report_paths_and_marts_hold_hand_computed_values(first_run):
    url, home, _, result = first_run
    report = home / "output" / "service_report" / "2026-10" / "P1.zh-CN.html"
    lines = result.stdout.splitlines()
    assert f"  {report}" in lines
    assert "  tickets.csv → raw.tickets: 20 rows (1 of them quarantined)" in lines
    with psycopg.connect(url) as conn:
        organisation = conn.execute(
            "select value from marts.kpi_scorecard where kpi_code = 'SLA_ATTAINMENT' and grain = 'organisation'"
            " and period_type = 'month' and period_start = '2026-10-01'"
        ).fetchone()[0]
    assert float(organisation) == EXPECTED_ORGANISATION_RATE
    html = re.sub(r">\s+<", "><", report.read_text(encoding="utf-8"))
    assert f'<td class="num">{EXPECTED_PROJECT_RATES["P1"]:.1%}</td><td class="num">3 / 4</td>' in html
    assert "INC-2" in html  # the breached ticket is listed
    assert "INC-1<" not in html
    # No SMTP server: the monthly DAG wrote the process report's e-mail (the demo recipients name no P1).
    outbox = home / "outbox"
    assert f"No SMTP server configured (ITSS_SMTP_HOST): 1 e-mail(s) in {outbox}" in lines
    assert [path.name.split("-")[0] for path in outbox.glob("*.eml")] == ["process_report"]


def test_the_nightly_build_runs_the_data_tests_not_the_unit_tests(first_run):
    _, home, _, _ = first_run
    [log] = [path.read_text(errors="replace") for path in (home / "airflow").rglob("itss_nightly_*.log")]
    assert " START test relationships_fct_tickets_project_id" in log
    assert " START unit_test " not in log


def test_second_run_adds_nothing_and_gives_the_same_result(first_run):
    url, home, landing, _ = first_run
    before = _counts(url)
    report = home / "output" / "service_report" / "2026-10" / "P1.zh-CN.html"
    html_before = report.read_bytes()
    result = _run(home, landing, url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Loaded 0 new file(s) (all files were loaded before)." in result.stdout
    assert _counts(url) == before
    assert report.read_bytes() == html_before


def test_critical_validation_failure_stops_the_run_before_dbt(create_database, small_landing, tmp_path):
    url = create_database("e2e_critical")
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    text = (landing / "tickets.csv").read_text(encoding="utf-8-sig")
    (landing / "tickets.csv").write_text(text.replace(",中,", ",普通,"), encoding="utf-8-sig")
    # Five bad priorities of 20 rows are critical only below the default tolerance of 10 rows.
    result = _run(tmp_path / "home", landing, url, ITSS_QUARANTINE_TOLERANCE_ROWS="4")
    assert result.returncode != 0
    assert "tickets.csv, column priority: 5 row(s) fail 'priority is one of P1, P2, P3, P4'" in result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('marts.fct_tickets')").fetchone() == (None,)
    assert not (tmp_path / "home" / "output").exists()
    # The failed task's notification reached the data owner (the outbox: no SMTP server here).
    [alert] = (tmp_path / "home" / "outbox").glob("alert-failed-itss_nightly-validate_raw-*.eml")
    message = email.message_from_bytes(alert.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Airflow 运行失败：itss_nightly"
    assert "priority is one of P1, P2, P3, P4" in message.get_content()


def _dags_test(home: Path, landing: Path, url: str, dag_id: str, day: str, **extra: str) -> str:
    """``airflow dags test`` of a report DAG with this run's settings; its output."""
    settings = Settings(_env_file=None, home=home, landing_dir=landing)
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("ITSS_", "AIRFLOW", "DBT_"))}
    env = {**inherited, **environment.tool_environment(settings, url), "ITSS_HOME": str(home),
           "ITSS_LANDING_DIR": str(landing), **extra}  # fmt: skip
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run([airflow, "dags", "test", dag_id, day], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_half_year_and_yearly_dags_render_their_reports(first_run):
    url, home, landing, _ = first_run
    # The runs of 1 July 2026 (the first half closed) and 1 January 2026 (the year 2025 closed).
    _dags_test(home, landing, url, "itss_half_year_reports", "2026-07-01")
    _dags_test(home, landing, url, "itss_yearly_reports", "2026-01-01")
    output = home / "output"
    departments = {path.name for path in (output / "quality_report" / "2026-H1").iterdir()}
    assert {"D1.zh-CN.html", "D1.zh-CN.pdf", "D1.zh-CN.xlsx"} <= departments
    for kind in ("annual_report", "satisfaction_report"):
        assert sorted(path.name for path in (output / kind / "2025").iterdir()) == [
            f"organisation.zh-CN.{suffix}" for suffix in ("html", "pdf", "xlsx")
        ]


def test_the_monthly_dag_mails_through_the_airflow_connection(first_run, tmp_path):
    url, home, landing, _ = first_run
    certificate = make_certificate(tmp_path)
    recipients = tmp_path / "recipients.yml"
    recipients.write_text(
        "data_owner: {to: [owner@itss.example.cn]}\nprojects:\n  P1: {to: [客户 <c1@bank.example.cn>]}\n"
    )
    with running(certificate) as (handler, port):
        connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": USER, "password": PASSWORD,
                      "extra": {"security": "starttls", "ca_file": str(certificate[0])}}  # fmt: skip
        output = _dags_test(home, landing, url, "itss_monthly_reports", RUN_DAY,
                            ITSS_RECIPIENTS_FILE=str(recipients), AIRFLOW_CONN_ITSS_SMTP=json.dumps(connection))  # fmt: skip
    [(envelope, raw)] = handler.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert envelope == ["c1@bank.example.cn"] and message["Subject"] == "服务报告：P1 运维项目（2026年10月）"
    pdf = next(part for part in message.iter_attachments() if part.get_filename().endswith(".pdf"))
    assert pdf.get_content() == (home / "output" / "service_report" / "2026-10" / "P1.zh-CN.pdf").read_bytes()
    logs = output + "".join(path.read_text(errors="replace") for path in (home / "airflow").rglob("*.log"))
    assert PASSWORD not in logs


def test_no_password_in_the_output_logs_or_reports(first_run):
    _, home, _, result = first_run
    assert "Warehouse: postgresql://postgres:***@" in result.stdout
    files = [path for path in home.rglob("*") if path.is_file() and path.suffix in (".log", ".html", ".eml", ".json")]
    assert files
    leaks = [str(path) for path in files if WAREHOUSE_PASSWORD in path.read_text(errors="replace")]
    assert WAREHOUSE_PASSWORD not in result.stdout + result.stderr and leaks == []
