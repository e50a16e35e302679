"""The benchmarks keep working (small mode); their figures are measured, never asserted."""

from __future__ import annotations

import datetime as dt
import json
import os

import psycopg
import pytest
from typer.testing import CliRunner

from itss_warehouse import bench
from itss_warehouse.cli import app

pytestmark = pytest.mark.integration


def test_small_load_benchmark_writes_its_figures(tmp_path, monkeypatch, maintenance_url):
    monkeypatch.setenv("ITSS_HOME", str(tmp_path))
    monkeypatch.setenv("ITSS_WAREHOUSE_URL", maintenance_url)
    result = CliRunner().invoke(app, ["bench", "load", "--rows", "2000"])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "bench" / "load.json").read_text())
    assert figures["rows"] == 2000
    assert figures["copy_seconds"] > 0 and figures["load_seconds"] > 0 and figures["load_peak_megabytes"] > 0
    assert figures["map_seconds"] > 0 and figures["map_peak_megabytes"] > 0
    with psycopg.connect(bench._scratch_url(maintenance_url)) as conn:
        assert conn.execute("select count(*) from raw.tickets").fetchone() == (2000,)
    assert "| 2000 |" in (tmp_path / "bench" / "load.md").read_text()


# The guard staging puts on every timestamp (dbt_project/macros/safe_cast.sql): a value failing it is lost.
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"
STATUSES = {"new", "in_progress", "on_hold", "pending_customer", "resolved", "closed", "reopened"}


def test_synthetic_sla_data_fits_raw_and_staging(create_warehouse):
    url = create_warehouse("bench_sla")
    bench.write_sla_history(url, 400)
    new, updated = bench.write_sla_day(url, bench.HISTORY_END + dt.timedelta(days=1), 400)

    with psycopg.connect(url) as conn:
        batches = dict(conn.execute("select entity, sum(row_count)::int from raw.load_batches group by entity"))
        tickets = conn.execute(
            "select count(*), count(distinct ticket_id), count(*) filter (where resolved_at is null),"
            " count(*) filter (where resolved_at::timestamptz < opened_at::timestamptz) from raw.tickets"
        ).fetchone()
        bad_timestamps = conn.execute(
            "select count(*) from raw.tickets, unnest(array[opened_at, responded_at, onsite_arrived_at, resolved_at,"
            " closed_at, updated_at]) as value where value !~ %(p)s"
            " union all select count(*) from raw.ticket_status_changes where changed_at !~ %(p)s",
            {"p": TIMESTAMP},
        ).fetchall()
        statuses = {row[0] for row in conn.execute("select distinct status from raw.ticket_status_changes")}
        priorities = {row[0] for row in conn.execute("select distinct priority from raw.tickets")}

    assert (new, updated) == (1, 2)
    assert batches["tickets"] == 400 + new + updated and batches["ticket_status_changes"] > 2 * 400
    assert [batches[entity] for entity in ("departments", "customers", "projects", "sla_policies")] == [4, 12, 50, 8]
    # one version per ticket, a second one for the updated; some still open; none resolved before it opened
    assert tickets[:2] == (400 + new + updated, 400 + new) and tickets[2] > 0 and tickets[3] == 0
    assert bad_timestamps == [(0,), (0,)]
    assert {"new", "in_progress", "on_hold", "pending_customer", "resolved", "closed"} <= statuses <= STATUSES
    assert priorities == {"P1", "P2", "P3", "P4"}


def test_small_reports_benchmark_renders_every_monthly_report(tmp_path, monkeypatch, maintenance_url):
    monkeypatch.setenv("ITSS_HOME", str(tmp_path))
    monkeypatch.setenv("ITSS_WAREHOUSE_URL", maintenance_url)
    saved = dict(os.environ)  # the benchmark exports the dbt and GX environment of its scratch database
    try:
        result = CliRunner().invoke(app, ["bench", "reports", "--projects", "2"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "bench" / "reports.json").read_text())
    # P001 and P002 report monthly: two service reports and the process monitoring report, three formats each.
    assert (figures["projects"], figures["period"], figures["reports"], figures["files"]) == (2, "2026-09", 3, 9)
    assert figures["render_seconds"] > 0 and figures["render_peak_megabytes"] > 0
    assert len(list((tmp_path / "bench" / "reports_output").rglob("*.pdf"))) == 3
