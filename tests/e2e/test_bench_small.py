"""The benchmark suite in small mode (``itss bench --tickets 20000``): every step runs, every
figure is written, the night's incremental marts equal a full rebuild's, and the service report
of the 10,000-ticket project-month is whole. Its timings are measured, never asserted; the full
run is a command (docs/performance.md)."""

from __future__ import annotations

import json

import psycopg
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.tools.bench import suite

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STEPS = [
    "generate",
    "load tickets",
    "load other exports",
    "map",
    "validate raw",
    "full build",
    "nightly",
    "nightly, nothing new",
    "Airflow alone",
    "full rebuild after the nights",
    "monthly reports",
    "DAG parse",
]
NIGHT = "2026-06-30"
MONTH_STEPS = ["generate", "load", "map", "validate raw", "full build", "validate marts", "service report"]


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory, maintenance_url):
    home = tmp_path_factory.mktemp("bench_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ITSS_HOME", str(home))
        patch.setenv("ITSS_WAREHOUSE_URL", maintenance_url)
        result = CliRunner().invoke(app, ["bench", "--tickets", "20000"])
    assert result.exit_code == 0, result.output
    url = maintenance_url.rsplit("/", 1)[0] + "/itss_bench_20000"
    return home / "bench", url, result.output


def test_every_step_is_measured_and_written(small_bench):
    out_dir, _, output = small_bench
    [size] = json.loads((out_dir / "bench.json").read_text(encoding="utf-8"))["sizes"]
    assert [step["step"] for step in size["steps"]] == STEPS
    assert all(step["seconds"] > 0 and step["peak_megabytes"] > 0 for step in size["steps"])
    # The generator is deterministic: the same organisation every run.
    assert (size["tickets"], size["night_tickets"]) == (20076, 33)
    # June 2026 closes a quarter, so quarterly projects report too: the 50 projects active in June (two of
    # the 50 ended and were renewed), and the process monitoring report; HTML, PDF and XLSX each.
    assert (size["reports"], size["report_files"]) == (51, 153)
    assert set(size["parse_seconds"]) == {"itss_nightly.py", "itss_reports.py"}
    assert size["copy_seconds"] > 0 and size["full_build"]["node_seconds"] > 0
    # What the nights' time went to, from their Airflow logs: every task, and the dbt build's slowest nodes.
    # (retrigger_blocked_reports, mapped over no blocked run, has no task instance to time)
    tasks = ["extract_sources", "load_raw", "map_raw", "validate_raw", "dbt_source_freshness", "dbt_build",
             "validate_marts", "blocked_reports"]  # fmt: skip
    assert list(size["nightly"]["tasks"]) == tasks and list(size["quiet_night"]["tasks"]) == tasks
    assert len(size["nightly"]["slowest"]) == 8 and all(seconds > 0 for seconds in size["nightly"]["slowest"].values())
    assert size["differences"] == {}
    markdown = (out_dir / "bench.md").read_text(encoding="utf-8")
    for row in ("| load tickets |", "| nightly |", "| DAG parse: itss_nightly.py |"):
        assert row in markdown and row.strip("| ") in output
    assert "| incremental marts = full rebuild |  |  | equal row for row | yes |" in markdown
    assert "A night with nothing new to load took" in markdown and "the day's 33 tickets added" in output
    empty_dag_log = out_dir / "20000" / "home" / "airflow" / "logs" / "itss_bench_empty_2026-07-01.log"
    assert "[DAG TEST] end task task_id=nothing" in empty_dag_log.read_text(encoding="utf-8")


def test_the_night_went_through_the_dag_and_its_check_can_fail(small_bench):
    _, url, _ = small_bench
    with psycopg.connect(url, autocommit=True) as conn:
        night = dict(
            conn.execute("select entity, row_count from raw.load_batches where file_name like %s", (f"%{NIGHT}%",))
        )
        # The first department's tool also exports the day's reassignments and the SLA records of the tickets closed.
        assert night == {"tickets": 33, "ticket_status_changes": 39, "ticket_assignment_changes": 5,
                         "tool_sla_records": 10, "incident_callbacks": 5}  # fmt: skip
        # The next night found nothing to load, yet went through dbt: its day is the marts' last.
        last_batches = "select max(batch_id) = max(batch_id) filter (where file_name like %s) from raw.load_batches"
        assert conn.execute(last_batches, (f"%{NIGHT}%",)).fetchone()[0]
        last_day = "select max(day)::text from bench_incremental.marts__ticket_backlog_daily"
        assert conn.execute(last_day).fetchone()[0] == "2026-07-01"
        # The kept incremental marts hold the night's tickets: the comparison was not of two equal histories.
        kept = "select count(*) from bench_incremental.marts__fct_tickets where opened_at >= %s::date"
        assert conn.execute(kept, (NIGHT,)).fetchone()[0] > 0
        conn.execute("update bench_incremental.marts__fct_tickets set priority = 'P4' where priority = 'P1'")
        changed = conn.execute("select count(*) from marts.fct_tickets where priority = 'P1'").fetchone()[0]
    assert suite.differences(url) == {"marts.fct_tickets": 2 * changed}


def test_the_project_months_report_is_rendered_with_every_breach_in_its_appendix(small_bench):
    out_dir, url, output = small_bench
    month = json.loads((out_dir / "bench.json").read_text(encoding="utf-8"))["project_month"]
    assert [step["step"] for step in month["steps"]] == MONTH_STEPS
    assert all(step["seconds"] > 0 and step["peak_megabytes"] > 0 for step in month["steps"])
    with psycopg.connect(url.replace("itss_bench_20000", "itss_bench_project_month")) as conn:
        projects = conn.execute("select count(*) from marts.dim_projects").fetchone()[0]
        breaches = conn.execute("select count(*) from marts.sla_breaches where opened_month = '2026-06-01'").fetchone()
    # One project, its June: 10,000 tickets in the marts (the generator is deterministic), many of them late.
    assert (projects, month["tickets"], month["breaches"]) == (1, 10_000, breaches[0]) and breaches[0] > 1_000
    folder = out_dir / "project_month" / "home" / "output" / "service_report" / "2026-06"
    assert sorted(path.name for path in folder.iterdir()) == [f"P001.zh-CN.{kind}" for kind in ("html", "pdf", "xlsx")]
    assert month["files"] == {kind: (folder / f"P001.zh-CN.{kind}").stat().st_size for kind in ("html", "pdf", "xlsx")}
    workbook = load_workbook(folder / "P001.zh-CN.xlsx", read_only=True)
    assert sum(1 for _ in workbook["SLA违约"].iter_rows(min_row=2)) == month["breaches"]
    assert sum(1 for _ in workbook["工单明细"].iter_rows(min_row=2)) == month["tickets"]
    # The report itself summarises the breaches and lists the 20 largest: a few pages, not one row per breach.
    html = (folder / "P001.zh-CN.html").read_text(encoding="utf-8")
    assert f"本期违约 {month['breaches']} 项" in html and "以下列出超时最多的 20 项" in html
    assert len(PdfReader(folder / "P001.zh-CN.pdf").pages) < 10
    markdown = (out_dir / "bench.md").read_text(encoding="utf-8")
    assert "## One project-month" in markdown and "| service report |" in markdown
    assert "One project's month of 10,000 tickets" in output and "≤ 10 s; peak ≤ 500 MB" in output
