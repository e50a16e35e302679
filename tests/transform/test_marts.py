"""dbt build (models, seeds, schema and unit tests) on the hand-computed small organisation."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from support.ingest import ingest
from support.small_landing import (
    BAD_TICKET_ROW,
    EXPECTED_ORGANISATION_RATE,
    EXPECTED_PROJECT_RATES,
    EXPECTED_WEIGHTED_RATE,
    TICKET_HEADERS,
    _ticket,
)
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.ingest import sources
from itss_warehouse.tools.demo import HEADERS
from itss_warehouse.transform import dbt
from itss_warehouse.validate import runner

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUN_DATE = "{run_date: '2026-11-21'}"


def _load_validate(url: str, settings) -> None:
    batches = ingest(url, settings.landing_path, sources.load_sources(settings.sources_file))
    runner.validate_raw_batches(url, [batch.batch_id for batch in batches], settings)


@pytest.fixture(scope="module")
def built(tool_environment: str, pipeline_settings) -> str:
    _load_validate(tool_environment, pipeline_settings)
    dbt.run_dbt(pipeline_settings, "--quiet", "build", "--vars", RUN_DATE)
    return tool_environment


def _october(url: str) -> dict[tuple[str, str, str], Decimal]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select kpi_code, grain, grain_id, value from marts.kpi_scorecard"
            " where period_type = 'month' and period_start = '2026-10-01'"
        ).fetchall()
    return {(code, grain, grain_id): value for code, grain, grain_id, value in rows}


def test_sla_attainment_matches_hand_computation(built: str):
    october = _october(built)
    for project_id, rate in EXPECTED_PROJECT_RATES.items():
        assert october[("SLA_ATTAINMENT", "project", project_id)] == Decimal(str(rate)).quantize(Decimal("0.000001"))
    assert october[("SLA_ATTAINMENT", "organisation", "ORG")] == Decimal(str(EXPECTED_ORGANISATION_RATE))
    assert october[("SLA_ATTAINMENT_TICKET_WEIGHTED", "organisation", "ORG")] == Decimal(str(EXPECTED_WEIGHTED_RATE))
    assert october[("SLA_ATTAINMENT", "department", "D1")] == Decimal("0.750000")


def test_scorecard_columns_are_the_documented_contract(built: str):
    with psycopg.connect(built) as conn:
        columns = conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'kpi_scorecard' order by ordinal_position"
        ).fetchall()
    assert [name for (name,) in columns] == [
        "kpi_code",
        "grain",
        "grain_id",
        "period_type",
        "period_start",
        "numerator",
        "denominator",
        "value",
        "target",
        "is_met",
        "target_source",
        "gap",
        "status",
        "previous_value",
    ]


def test_quarantined_ticket_is_kept_in_raw_but_not_in_marts(built: str):
    with psycopg.connect(built) as conn:
        assert conn.execute(
            "select distinct source_row, column_name from raw.quarantined_rows where entity = 'tickets'"
        ).fetchall() == [(BAD_TICKET_ROW, "priority")]
        assert conn.execute("select count(*) from raw.tickets where ticket_id = 'INC-8'").fetchone() == (1,)
        assert conn.execute("select count(*) from marts.fct_tickets where ticket_id = 'INC-8'").fetchone() == (0,)


# A row each table accepts; each case below breaks one rule of its contract (marts/sla/sla.yml,
# marts/ticketing/ticketing.yml, staging/ticketing/ticketing.yml) and names the error, or the
# constraint when several share an error.
VALID_ROWS = {
    "marts.fct_ticket_sla": {
        "ticket_id": "CONTRACT-1",
        "metric": "response",
        "status": "breached",
        "due_at": "2026-10-01 09:00+08",
        "net_minutes": 90,
        "breach_minutes": 30,
        "is_exempted": False,
        "counted_status": "breached",
        "sla_clock": "ours",
        "engine_status": "breached",
    },
    "marts.fct_tickets": {
        "ticket_id": "CONTRACT-1",
        "opened_month": "2026-10-01",
        "sla_status": "met",
        "sla_status_before_exemptions": "met",
    },
    "staging.stg_ticket_tool__tickets": {
        "ticket_id": "CONTRACT-1",
        "ticket_type": "incident",
        "priority": "P1",
        "opened_at": "2026-10-01 09:00+08",
        "closed_without_resolution": "closed_at",
    },
    "staging.stg_ticket_tool__status_changes": {"ticket_id": "CONTRACT-1", "changed_at": "2026-10-01 09:00+08"},
}
NOT_NULL, CHECK = psycopg.errors.NotNullViolation, psycopg.errors.CheckViolation
CONTRACT_BREACHES = [
    ("marts.fct_ticket_sla", {"ticket_id": None}, NOT_NULL),
    ("marts.fct_ticket_sla", {"metric": None}, NOT_NULL),
    ("marts.fct_ticket_sla", {"metric": "sometime"}, "fct_ticket_sla_metric_known"),
    ("marts.fct_ticket_sla", {"status": None}, NOT_NULL),
    ("marts.fct_ticket_sla", {"status": "late"}, "fct_ticket_sla_status_known"),
    ("marts.fct_ticket_sla", {"due_at": None}, "fct_ticket_sla_measured_unless_no_policy"),
    ("marts.fct_ticket_sla", {"net_minutes": None}, "fct_ticket_sla_measured_unless_no_policy"),
    ("marts.fct_ticket_sla", {"breach_minutes": None}, "fct_ticket_sla_breach_has_overrun"),
    ("marts.fct_ticket_sla", {"status": "met", "is_exempted": True}, "fct_ticket_sla_exempted_only_if_breached"),
    ("marts.fct_tickets", {"ticket_id": None}, NOT_NULL),
    ("marts.fct_tickets", {"opened_month": None}, NOT_NULL),
    ("marts.fct_tickets", {"sla_status": None}, NOT_NULL),
    ("marts.fct_tickets", {"sla_status": "late"}, "fct_tickets_sla_status_known"),
    ("staging.stg_ticket_tool__tickets", {"ticket_id": None}, NOT_NULL),
    ("staging.stg_ticket_tool__tickets", {"opened_at": None}, NOT_NULL),
    ("staging.stg_ticket_tool__tickets", {"priority": "P9"}, "stg_ticket_tool__tickets_priority_known"),
    ("staging.stg_ticket_tool__tickets", {"ticket_type": "bug"}, "stg_ticket_tool__tickets_ticket_type_known"),
    ("staging.stg_ticket_tool__tickets", {"closed_without_resolution": None}, NOT_NULL),
    (
        "staging.stg_ticket_tool__tickets",
        {"closed_without_resolution": "never"},
        "stg_ticket_tool__tickets_closed_rule_known",
    ),
    ("staging.stg_ticket_tool__status_changes", {"ticket_id": None}, NOT_NULL),
    ("staging.stg_ticket_tool__status_changes", {"changed_at": None}, NOT_NULL),
]


def _insert(conn: psycopg.Connection, table: str, row: dict) -> None:
    columns = ", ".join(row)
    conn.execute(f"insert into {table} ({columns}) values ({', '.join(['%s'] * len(row))})", list(row.values()))


def test_history_tables_reject_rows_their_contracts_forbid(built: str):
    """These tables grow with history, so their rules are constraints checked on each write, not nightly tests."""
    with psycopg.connect(built) as conn:
        for table, row in VALID_ROWS.items():
            with conn.transaction(force_rollback=True):
                _insert(conn, table, row)
        for table, change, expected in CONTRACT_BREACHES:
            with pytest.raises(psycopg.errors.IntegrityError) as error, conn.transaction():
                _insert(conn, table, VALID_ROWS[table] | change)
            if isinstance(expected, str):
                assert (type(error.value), error.value.diag.constraint_name) == (CHECK, expected), (table, change)
            else:
                assert type(error.value) is expected, (table, change)


# When and from which batches a row was last computed: differs between runs by design.
RUN_STAMPS = {"sla_measured_at", "measured_at", "measured_through_batch", "sla_measured_through"}


def _snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        tables = {}
        for table in (
            "fct_tickets",
            "fct_ticket_sla",
            "sla_attainment_monthly",
            "ticket_backlog_daily",
            "kpi_scorecard",
            "fct_satisfaction_answers",
        ):
            names = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'marts' and table_name = %s order by ordinal_position",
                    (table,),
                )
                if name not in RUN_STAMPS
            ]
            columns = ", ".join(names)
            tables[table] = conn.execute(f"select {columns} from marts.{table} order by {columns}").fetchall()
    return tables


def _guide_queries() -> list[str]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "analyst-guide.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)


def test_analyst_guide_queries_answer_on_the_small_organisation(built: str):
    missed, trend, csat, satisfaction, audits, improvements, backlog, teams = _guide_queries()
    with psycopg.connect(built) as conn:
        # October: P1 0.75 (INC-2 responded 15 minutes late), P2 0.5 (INC-7 resolved a day late).
        # Runs before test_incremental_day_equals_full_rebuild adds a later export.
        assert [(*row[:5], int(row[5])) for row in conn.execute(missed).fetchall()] == [
            ("P1", Decimal("0.750000"), Decimal("1.0"), "response", 1, 15),
            ("P2", Decimal("0.500000"), Decimal("1.0"), "resolution", 1, 1440),
        ]
        # resolution on time: 5 of the 6 judged tickets; October is the first month
        assert [row[1:3] for row in conn.execute(trend).fetchall()] == [(Decimal("0.833333"), None)]
        # the annual survey: (92 + 88 + 90) / 3, short of 96; no survey the year before
        assert conn.execute(csat).fetchall() == [
            (dt.date(2026, 1, 1), Decimal("90.000000"), Decimal("96"), "missed", None)
        ]
        # callback 满意 = 100; the project survey's 5 and 3 of 5 are 100 and 60 (one low score)
        assert conn.execute(satisfaction).fetchall() == [
            ("annual", dt.date(2026, 1, 1), Decimal("90.00"), 3, 0),
            ("callback", dt.date(2026, 1, 1), Decimal("100.00"), 1, 0),
            ("project", dt.date(2026, 1, 1), Decimal("80.00"), 2, 1),
        ]
        # both departments are in the management system, neither was audited in 2026
        assert conn.execute(audits).fetchall() == [
            (dt.date(2026, 1, 1), Decimal(0), Decimal(2), Decimal("0.000000"), Decimal("1.0"), "missed")
        ]
        items = {row[:4]: row[6:] for row in conn.execute(improvements).fetchall()}
        # both projects' manager is 李四, named in marts by one pseudonym
        [(manager,)] = conn.execute(
            "select distinct project_manager_key from restricted.project_managers where project_manager = '李四'"
        ).fetchall()
        # Raised when October ended, open on the as-of day (the end of 21 November): 21 days.
        assert items[("kpi_missed", "SLA_ATTAINMENT", "project", "P1")] == (manager, dt.date(2026, 12, 1), "open", 21)
        assert items[("sla_review", "SLA_ATTAINMENT", "project", "P2")] == (manager, dt.date(2026, 12, 1), "open", 21)
        days = {day.day: counts for day, *counts in conn.execute(backlog).fetchall()}
        # INC-7, October's one resolution breach, held by 一线支持 from opening to resolution: 2,880 minutes.
        assert conn.execute(teams).fetchall() == [("一线支持", 1, Decimal(1), Decimal(2880))]
    # INC-7 (P3, due a day after opening on 15 October 09:00) is open at the end of the
    # 15th and 16th, and overdue at the end of the 16th; INC-6 was resolved the day it opened.
    assert (min(days), max(days)) == (3, 31)
    assert {day: counts for day, counts in days.items() if counts != [0, 0]} == {15: [1, 0], 16: [1, 1]}


def test_docs_describe_every_mart_and_column(built: str, pipeline_settings):
    site = dbt.generate_docs(pipeline_settings, "--vars", RUN_DATE)
    assert (site / "index.html").exists()
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    catalog = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["nodes"]
    marts = {
        key: node for key, node in manifest.items() if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    assert {"model.itss_warehouse.kpi_scorecard", "model.itss_warehouse.project_lifecycle"} <= set(marts)
    undescribed = [key for key, node in marts.items() if not node["description"].strip()]
    for key, node in marts.items():
        described = {name for name, column in node["columns"].items() if column["description"].strip()}
        undescribed += [f"{key}.{name}" for name in catalog[key]["columns"] if name not in described]
    assert undescribed == []


def _last_analyzed(url: str, tables: list[str]) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select schemaname || '.' || relname, last_analyze from pg_stat_user_tables"
            " where schemaname || '.' || relname = any(%s)",
            (tables,),
        )
        return dict(rows.fetchall())


def test_statistics_are_gathered_only_for_tables_the_run_wrote(built: str, pipeline_settings):
    # Run again with no new batch: the scorecard, a table rebuilt every run, is analyzed
    # again; the ticket versions, appended to, got no row and keep their statistics.
    tables = ["marts.kpi_scorecard", "staging.stg_ticket_tool__tickets"]
    before = _last_analyzed(built, tables)
    models = ("--select", "kpi_scorecard", "stg_ticket_tool__tickets")
    dbt.run_dbt(pipeline_settings, "--quiet", "run", *models, "--vars", RUN_DATE)
    after = _last_analyzed(built, tables)
    assert before["marts.kpi_scorecard"] is not None
    assert after["marts.kpi_scorecard"] is not None and after["marts.kpi_scorecard"] > before["marts.kpi_scorecard"]
    assert after["staging.stg_ticket_tool__tickets"] == before["staging.stg_ticket_tool__tickets"] is not None


def test_incremental_day_equals_full_rebuild(built: str, pipeline_settings):
    # The next day's export: INC-2 updated (now answered in time), a new ticket, and a
    # stale copy of INC-1 (older updated_at, other priority) that must not win but shows
    # that INC-1 was opened as P1 (its SLA then uses P1's 15-minute response target).
    updated_inc2 = _ticket(
        "INC-2", "事件", "P1", "高", "2026-10-10 10:00:00", "2026-10-10 10:20:00", "", "2026-10-10 12:00:00"
    )
    updated_inc2[-1] = "2026-11-21 09:00:00"
    stale_inc1 = _ticket("INC-1", "事件", "P1", "紧急", "2026-10-05 09:00:00", "2026-10-05 09:30:00", "", "")
    stale_inc1[-1] = "2026-10-05 09:30:00"
    new_ticket = _ticket("INC-9", "事件", "P2", "低", "2026-11-21 08:00:00", "2026-11-21 08:30:00", "", "")
    # INC-1 moves from P1 to P2: its callback HF-1, already in the marts, follows it.
    moved_inc1 = _ticket(
        "INC-1", "事件", "P2", "中", "2026-10-05 09:00:00", "2026-10-05 09:30:00", "", "2026-10-05 15:00:00"
    )
    moved_inc1[-1] = "2026-11-21 09:30:00"
    # INC-3 turns out to be a problem: no longer SLA-measured, its metric rows must go.
    inc3_problem = _ticket(
        "INC-3", "问题", "P1", "低", "2026-10-12 08:00:00", "2026-10-12 09:00:00", "", "2026-10-13 08:00:00"
    )
    inc3_problem[-1] = "2026-11-21 10:00:00"
    landing = Path(pipeline_settings.landing_path)
    with (landing / "tickets_2026-11-21.csv").open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(TICKET_HEADERS)
        writer.writerows([updated_inc2, stale_inc1, new_ticket, moved_inc1, inc3_problem])
    # The callback register adds a call on INC-6 (P2).
    with (landing / "incident_callbacks_2026-11-21.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["incident_callbacks.csv"])
        writer.writerow(["HF-2", "INC-6", "2026-10-04 10:00:00", "基本满意", ""])

    _load_validate(built, pipeline_settings)
    dbt.run_dbt(pipeline_settings, "--quiet", "build", "--vars", RUN_DATE)
    incremental = _snapshot(built)
    # P1: INC-2 now met, REQ-4 met; P2: INC-6 met, INC-7 and INC-1 (moved in) not, INC-9 open
    october = _october(built)
    assert october[("SLA_ATTAINMENT", "project", "P1")] == Decimal("1.000000")
    assert october[("SLA_ATTAINMENT", "project", "P2")] == Decimal("0.333333")
    with psycopg.connect(built) as conn:
        assert conn.execute(
            "select priority, priority_at_open, sla_status, response_status from marts.fct_tickets"
            " where ticket_id = 'INC-1'"
        ).fetchone() == ("P3", "P1", "breached", "breached")
        assert conn.execute("select sla_status from marts.fct_tickets where ticket_id = 'INC-9'").fetchone() == (
            "in_progress",
        )
        assert conn.execute("select count(*) from marts.fct_ticket_sla where ticket_id = 'INC-3'").fetchone() == (0,)
        assert conn.execute(
            "select response_id, project_id, dept_id, score_100 from marts.fct_satisfaction_answers"
            " where answer_source = 'callback_register' order by response_id"
        ).fetchall() == [("HF-1", "P2", "D2", 100), ("HF-2", "P2", "D2", 60)]

    # The rebuild a user runs after changing policies, seeds or vars: full refresh, then the marts validated.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ITSS_HOME", str(pipeline_settings.home_path))
        patch.setenv("ITSS_WAREHOUSE_URL", built)
        result = CliRunner().invoke(app, ["warehouse", "rebuild", "--date", "2026-11-21"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt and validated" in result.output
    assert _snapshot(built) == incremental
    with psycopg.connect(built) as conn:
        assert conn.execute(
            "select scope, failures from raw.validation_runs order by run_id desc limit 1"
        ).fetchone() == (
            "marts",
            [],
        )


def _backlog(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select project_id, day, open_tickets, open_overdue_tickets from marts.ticket_backlog_daily"
            " order by project_id, day"
        ).fetchall()


def test_backlog_re_run_of_a_past_day_equals_its_full_build(built: str, pipeline_settings):
    # After the incremental day: a back-fill of 20 October drops the later days, a full
    # build of that day gives the same, and running 21 November again restores them.
    def run(run_date: str, *args: str) -> list[tuple]:
        dbt.run_dbt(
            pipeline_settings, "--quiet", "run", "--select", "ticket_backlog_daily", *args,
            "--vars", f"{{run_date: '{run_date}'}}",
        )  # fmt: skip
        return _backlog(built)

    november = _backlog(built)
    october = run("2026-10-20")
    assert october == run("2026-10-20", "--full-refresh")
    assert max(day for _, day, _, _ in october) == dt.date(2026, 10, 20)
    # P1's first ticket (INC-1, 5 October) moved to P2: P1 starts at INC-2, 10 October.
    assert min(day for project, day, _, _ in october if project == "P1") == dt.date(2026, 10, 10)
    assert run("2026-11-21") == november
