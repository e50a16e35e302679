"""The ticket tool's own SLA records (DECISIONS.md, "The tool's SLA records"), hand-computed.

Policy TOOLSLA: 7x24, P1 response 30 minutes, resolution 240. The ticket exports carry no
response time, as ServiceNow's incident list does not. As-of 2026-11-21 00:00 Asia/Shanghai.

- R-MET (10 Nov 09:00-11:00): its records arrive only the second night, on our clock: the
  response record's stop time (09:20) is its response.
- R-DIFF (10 Nov 10:00-16:00): the tool says the response breached (45 minutes) as we do, and
  the resolution met, where we count 360 minutes against 240: the tool paused 90 minutes and
  due at 16:30, our due time 14:00.
- R-NONE (10 Nov 12:00-13:00): no record, no response time: breached once due.
- C-TOOL (12 Nov 10:00-11:00), project PC, whose source runs on the tool's clock: the tool
  says its response (10 minutes, due 10:05 on the tool) breached, which stands.
- J-DONE (13 Nov 10:00-12:00) and J-OPEN (20 Nov 22:00, open), project PJ, have Jira's SLA
  columns on the tool's clock: time left, no stage, no times. J-DONE's response had 20
  minutes left and the ticket is resolved: met, where our clock, without a response time,
  says breached; its resolution was 30 minutes past Jira's target: breached, where we count
  120 of 240. J-OPEN's response had 10 minutes left at the export: in progress.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from transform.test_dated_policies import _at, _night
from transform.test_sla_engine import _insert, _stamp

from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TICKETS = [
    ("R-MET", "PT", "2026-11-10 09:00", "2026-11-10 11:00"),
    ("R-DIFF", "PT", "2026-11-10 10:00", "2026-11-10 16:00"),
    ("R-NONE", "PT", "2026-11-10 12:00", "2026-11-10 13:00"),
    ("C-TOOL", "PC", "2026-11-12 10:00", "2026-11-12 11:00"),
    ("J-DONE", "PJ", "2026-11-13 10:00", "2026-11-13 12:00"),
    ("J-OPEN", "PJ", "2026-11-20 22:00", ""),
]
# Jira's SLA columns: ticket, metric, time left
JIRA_RECORDS = [("J-DONE", "response", "20"), ("J-DONE", "resolution", "-30"), ("J-OPEN", "response", "10")]
RECORD_COLUMNS = ["ticket_id", "metric", "stage", "started_at", "stopped_at", "breach_at", "has_breached",
                  "business_elapsed_minutes", "paused_minutes", "sla_clock"]  # fmt: skip
# ticket, metric, start, stop, breach, breached, elapsed, paused
RECORDS_FIRST_NIGHT = [
    ("R-DIFF", "response", "2026-11-10 10:00", "2026-11-10 10:45", "2026-11-10 10:30", "true", "45", "0"),
    ("R-DIFF", "resolution", "2026-11-10 10:00", "2026-11-10 16:00", "2026-11-10 16:30", "false", "270", "90"),
]
RECORDS_TOOL_CLOCK = [
    ("C-TOOL", "response", "2026-11-12 10:00", "2026-11-12 10:10", "2026-11-12 10:05", "true", "10", "0"),
    ("C-TOOL", "resolution", "2026-11-12 10:00", "2026-11-12 11:00", "2026-11-12 14:00", "false", "60", "0"),
]
RECORDS_SECOND_NIGHT = [
    ("R-MET", "response", "2026-11-10 09:00", "2026-11-10 09:20", "2026-11-10 09:30", "false", "20", "0"),
    ("R-MET", "resolution", "2026-11-10 09:00", "2026-11-10 11:00", "2026-11-10 13:00", "false", "120", "0"),
]
COLUMNS = ("ticket_id, metric, sla_clock, done_at, done_at_source, due_at, status, engine_status, tool_status,"
           " breach_minutes")  # fmt: skip
RECONCILED = ("ticket_id, metric, engine_status, tool_status, agrees, engine_due_at, tool_due_at,"
              " due_difference_minutes")  # fmt: skip


def _records(rows: list[tuple], clock: str) -> list[tuple]:
    return [(ticket, metric, "completed", _stamp(start), _stamp(stop), _stamp(breach), breached, elapsed, paused,
             clock) for ticket, metric, start, stop, breach, breached, elapsed, paused in rows]  # fmt: skip


def _read(url: str) -> dict[str, list]:
    with psycopg.connect(url) as conn:
        return {
            "sla": conn.execute(f"select {COLUMNS} from marts.fct_ticket_sla order by 1, 2").fetchall(),
            "reconciled": conn.execute(
                f"select {RECONCILED} from marts.sla_reconciliation_by_metric order by 1, 2"
            ).fetchall(),
        }


@pytest.fixture(scope="module")
def nights(tool_environment: str, pipeline_settings) -> dict[str, dict]:
    url = tool_environment
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        _insert(
            conn, "projects", ["project_id", "sla_policy_id"], [("PT", "TOOLSLA"), ("PC", "TOOLSLA"), ("PJ", "TOOLSLA")]
        )
        _insert(conn, "sla_policies", ["policy_id", "priority", "response_minutes", "resolution_minutes", "calendar",
                                       "timezone"], [("TOOLSLA", "P1", "30", "240", "7x24", "Asia/Shanghai")])  # fmt: skip
        _insert(conn, "tickets", ["ticket_id", "ticket_type", "project_id", "priority", "opened_at", "resolved_at",
                                  "status", "updated_at", "delivery_mode"],
                [(ticket, "incident", project, "P1", _stamp(opened), _stamp(resolved),
                  "resolved" if resolved else "in_progress", _stamp(resolved or opened), "remote")
                 for ticket, project, opened, resolved in TICKETS])  # fmt: skip
        _insert(conn, "tool_sla_records", RECORD_COLUMNS, _records(RECORDS_FIRST_NIGHT, "ours"))
        _insert(conn, "tool_sla_records", RECORD_COLUMNS, _records(RECORDS_TOOL_CLOCK, "tool"), export="-tool")
        _insert(conn, "tool_sla_records", ["ticket_id", "metric", "remaining_minutes", "sla_clock"],
                [(*record, "tool") for record in JIRA_RECORDS], export="-jira")  # fmt: skip
    _night(pipeline_settings)
    first = _read(url)
    with psycopg.connect(url) as conn:
        _insert(conn, "tool_sla_records", RECORD_COLUMNS, _records(RECORDS_SECOND_NIGHT, "ours"), export="-later")
    _night(pipeline_settings)
    second = _read(url)
    _night(pipeline_settings, "--full-refresh")
    return {"first": first, "second": second, "full": _read(url)}


def _row(ticket, metric, clock, done, source, due, status, engine, tool, overrun):
    return (ticket, metric, clock, _at(done) if done else None, source, _at(due), status, engine, tool,
            None if overrun is None else Decimal(overrun))  # fmt: skip


def test_the_tools_records_supply_the_response_time_and_its_clock_judges_where_set(nights):
    assert nights["second"]["sla"] == [
        _row("C-TOOL", "resolution", "tool", "2026-11-12 11:00", "export", "2026-11-12 14:00", "met", "met", "met",
             None),
        # Our clock says 10 minutes against 30; the tool's, whose verdict stands, a breach due 10:05.
        _row("C-TOOL", "response", "tool", "2026-11-12 10:10", "tool", "2026-11-12 10:05", "breached", "met",
             "breached", 0),
        # Jira's columns: its verdicts stand; without its times, our due times remain.
        _row("J-DONE", "resolution", "tool", "2026-11-13 12:00", "export", "2026-11-13 14:00", "breached", "met",
             "breached", 0),
        _row("J-DONE", "response", "tool", None, None, "2026-11-13 10:30", "met", "breached", "met", None),
        _row("J-OPEN", "resolution", "ours", None, None, "2026-11-21 02:00", "in_progress", "in_progress", None,
             None),
        _row("J-OPEN", "response", "tool", None, None, "2026-11-20 22:30", "in_progress", "breached", "in_progress",
             None),
        _row("R-DIFF", "resolution", "ours", "2026-11-10 16:00", "export", "2026-11-10 14:00", "breached",
             "breached", "met", 120),
        _row("R-DIFF", "response", "ours", "2026-11-10 10:45", "tool", "2026-11-10 10:30", "breached", "breached",
             "breached", 15),
        _row("R-MET", "resolution", "ours", "2026-11-10 11:00", "export", "2026-11-10 13:00", "met", "met", "met",
             None),
        _row("R-MET", "response", "ours", "2026-11-10 09:20", "tool", "2026-11-10 09:30", "met", "met", "met", None),
        _row("R-NONE", "resolution", "ours", "2026-11-10 13:00", "export", "2026-11-10 16:00", "met", "met", None,
             None),
        # 10 Nov 12:00 to the as-of moment, 21 Nov 00:00: 15,120 minutes, 15,090 over the 30.
        _row("R-NONE", "response", "ours", None, None, "2026-11-10 12:30", "breached", "breached", None, 15090),
    ]  # fmt: skip


def test_records_loaded_after_a_ticket_was_measured_have_it_measured_again(nights):
    first = {(row[0], row[1]): row for row in nights["first"]["sla"]}
    # Before its records: no response time, breached once due (09:00 + 30 to the as-of moment: 15,270 over).
    assert first["R-MET", "response"] == _row("R-MET", "response", "ours", None, None, "2026-11-10 09:30",
                                              "breached", "breached", None, 15270)  # fmt: skip
    assert nights["second"] == nights["full"]


def test_the_reconciliation_compares_each_metric_and_its_due_times(nights):
    assert nights["second"]["reconciled"] == [
        ("C-TOOL", "resolution", "met", "met", True, None, _at("2026-11-12 14:00"), None),
        ("C-TOOL", "response", "met", "breached", False, None, _at("2026-11-12 10:05"), None),
        ("J-DONE", "resolution", "met", "breached", False, None, None, None),
        ("J-DONE", "response", "breached", "met", False, None, None, None),
        # The tool paused the ticket 90 minutes our status history does not show: due 150 minutes later.
        ("R-DIFF", "resolution", "breached", "met", False, _at("2026-11-10 14:00"), _at("2026-11-10 16:30"),
         Decimal(150)),
        ("R-DIFF", "response", "breached", "breached", True, _at("2026-11-10 10:30"), _at("2026-11-10 10:30"),
         Decimal(0)),
        ("R-MET", "resolution", "met", "met", True, _at("2026-11-10 13:00"), _at("2026-11-10 13:00"), Decimal(0)),
        ("R-MET", "response", "met", "met", True, _at("2026-11-10 09:30"), _at("2026-11-10 09:30"), Decimal(0)),
    ]  # fmt: skip
