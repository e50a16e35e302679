"""The command line's small commands, against the real warehouse server."""

from __future__ import annotations

import re

import psycopg
import pytest
from typer.testing import CliRunner

from itss_warehouse.cli import app

pytestmark = pytest.mark.integration


def test_warehouse_url_connects():
    result = CliRunner().invoke(app, ["warehouse", "url"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_demo_generate_writes_into_the_landing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ITSS_LANDING_DIR", str(tmp_path / "landing"))
    result = CliRunner().invoke(app, ["demo", "generate", "--seed", "3", "--end-date", "2026-11-21"])
    assert result.exit_code == 0, result.output
    written = result.output.split()
    assert str(tmp_path / "landing" / "tickets.csv") in written
    assert len(written) == 19


def test_source_check_previews_mapped_rows_and_problems_without_loading(small_landing):
    result = CliRunner().invoke(app, ["source", "check", str(small_landing / "tickets.csv"), "--rows", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "tickets.csv: source 'ticket_tool_tickets' → raw.tickets, 20 rows, 1 problem(s)"
    assert lines[1].startswith("  _source_row=2, ticket_id=INC-1, ticket_type=incident, project_id=P1, priority=P3,")
    assert lines[2] == "  row 9, priority: '未知': value not in the mapping's value map"


def test_source_check_lists_every_header_problem(tmp_path):
    export = tmp_path / "tickets.csv"
    export.write_text("工单编号,优先级,工单编号,更新 时间\nINC-1,高,INC-1,\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["source", "check", str(export)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "tickets.csv: 3 header problem(s) for source 'ticket_tool_tickets':"
    assert lines[1].startswith("  missing column(s) 工单类型, 项目编号, 分类, 创建时间,")
    assert lines[1].endswith(", 关联问题, 更新时间 required by source 'ticket_tool_tickets'")
    assert lines[2:] == [
        "  column '更新 时间' differs from the mapped column '更新时间' only in case or spacing",
        "  column(s) 工单编号 appear more than once",
    ]


def test_source_template_writes_the_published_excel_file(tmp_path):
    result = CliRunner().invoke(app, ["source", "template", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "运维工单登记表.xlsx"
    assert result.output.strip() == str(written)
    assert written.stat().st_size > 0


def test_a_run_before_the_dags_start_date_is_refused_not_reported_as_success(tmp_path, monkeypatch):
    monkeypatch.setenv("ITSS_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["run", "--date", "1999-12-31"])
    assert result.exit_code == 2
    message = re.sub(r"[\s│╭╮╰╯─]+", " ", result.output)  # typer draws the error in a box
    assert "1999-12-31 is before the DAGs' start date 2000-01-01" in message
    assert not (tmp_path / "landing").exists()  # refused before anything ran


def test_the_dags_start_early_enough_for_years_of_history():
    from itss_warehouse.orchestration.dag_defaults import START_DATE

    assert START_DATE.date().isoformat() == "2000-01-01"


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["report", "service", "--period", "2026-10"], "raw.load_batches, raw.validation_runs, marts.dim_projects"),
        (["report", "annual", "--period", "2025"], "raw.load_batches, raw.validation_runs, marts.dim_projects"),
        (["mail", "service", "--period", "2026-10"], "raw.load_batches, raw.validation_runs, marts.dim_projects"),
        (["warehouse", "rebuild", "--date", "2026-10-01"], "raw.load_batches yet"),
    ],
)
def test_commands_on_a_new_warehouse_say_what_to_run(create_database, tmp_path, monkeypatch, command, missing):
    url = create_database("cli_new")
    monkeypatch.setenv("ITSS_WAREHOUSE_URL", url)
    monkeypatch.setenv("ITSS_HOME", str(tmp_path))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert missing in result.output
    assert "run `itss run` (or `itss run --date YYYY-MM-DD` for a day of your data)" in result.output
    with psycopg.connect(url) as conn:  # nothing was created either
        assert conn.execute("select count(*) from pg_namespace where nspname in ('raw', 'marts')").fetchone() == (0,)
