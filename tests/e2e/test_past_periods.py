"""Years back: a night of 2016 through Airflow, and a past month's report that later data
does not change (the hand-computed organisation of small_landing, ten years earlier)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from support.small_landing import EXPECTED_ORGANISATION_RATE, TICKET_HEADERS, TICKETS, shift_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ITSS = str(Path(sys.executable).with_name("itss"))
FORMATS = ("html", "pdf", "xlsx")


def _itss(home: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("ITSS_", "AIRFLOW", "DBT_"))}
    env = {**inherited, "ITSS_HOME": str(home), "ITSS_WAREHOUSE_URL": url}
    result = subprocess.run([ITSS, *args], capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _later_tickets(path: Path) -> None:
    """An export of November and December 2016 only: new tickets of P1 and P2, none of October's."""
    rows = []
    for number, row in enumerate(TICKETS[:7], start=100):
        moved = [value.replace("2026-10-", f"2016-{11 + number % 2}-") for value in row]
        rows.append([f"LATE-{number}", *moved[1:]])
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(TICKET_HEADERS)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def night_of_2016(create_database, small_landing: Path, tmp_path_factory):
    url = create_database("e2e_2016")
    home = tmp_path_factory.mktemp("home_2016")
    shift_years(shutil.copytree(small_landing, home / "landing"), 10)
    return url, home, _itss(home, url, "run", "--date", "2016-11-21")


def test_a_night_of_2016_runs_its_tasks_and_reports_its_month(night_of_2016):
    url, home, result = night_of_2016
    lines = result.stdout.splitlines()
    assert "  tickets.csv → raw.tickets: 20 rows (1 of them quarantined)" in lines
    assert f"  {home / 'output' / 'service_report' / '2016-10' / 'P1.zh-CN.html'}" in lines
    with psycopg.connect(url) as conn:
        organisation = conn.execute(
            "select value from marts.kpi_scorecard where kpi_code = 'SLA_ATTAINMENT' and grain = 'organisation'"
            " and period_type = 'month' and period_start = '2016-10-01'"
        ).fetchone()[0]
    assert float(organisation) == EXPECTED_ORGANISATION_RATE


def test_a_past_month_renders_the_same_bytes_after_later_months_are_loaded(night_of_2016):
    url, home, _ = night_of_2016
    october = home / "output" / "service_report" / "2016-10"
    first = {suffix: (october / f"P1.zh-CN.{suffix}").read_bytes() for suffix in FORMATS}
    _later_tickets(home / "landing" / "tickets_2016-12-21.csv")
    later = _itss(home, url, "run", "--date", "2016-12-21")
    assert "  tickets_2016-12-21.csv → raw.tickets: 7 rows (0 of them quarantined)" in later.stdout.splitlines()
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select count(*) from marts.fct_tickets where ticket_id like 'LATE-%%' and opened_month > '2016-10-01'"
        ).fetchone() == (7,)
    shutil.rmtree(october)
    _itss(home, url, "report", "service", "--period", "2016-10", "--project", "P1")
    assert {suffix: (october / f"P1.zh-CN.{suffix}").read_bytes() for suffix in FORMATS} == first
