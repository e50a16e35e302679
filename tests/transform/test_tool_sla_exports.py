"""The shipped ServiceNow and Jira mappings, from export files to the per-metric reconciliation.

The incident export of tests/fixtures/sources and a Task SLA list export of two of its
incidents, written in ServiceNow's field names; the Jira issue export and its SLA columns.
Loaded, mapped and validated as a night does, then built. Policy POL (7x24): P1 response 15
minutes, resolution 240; P2 30 and 480; P3 60 and 1440; P4 120 and 2880. As-of: the end of
2026-11-24, Asia/Shanghai.

- INC0010231 (P1, opened 08:12:45, resolved 10:03:10): the tool's response stopped 08:20,
  7 minutes 15 seconds in: met; resolved 110 minutes in: met. The tool agrees on both.
- INC0010232 (P2, opened 14:30:02): the tool's response stopped 15:10:02, 40 minutes in,
  over 30: breached on both clocks; resolved 195 minutes in: met.
- YWJC-101 (Highest → P1, 09:05 to 11:32), on Jira's clock: its first response had 8
  minutes left: met (ours, without a response time, breached); its resolution 1h 33m left:
  met, as our 147 of 240 minutes.
- YWJC-102 (Medium → P3, waiting for the customer since 21 Nov 14:15): Jira's first
  response 2 hours past its target: breached, as ours.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from support.dbt_build import NIGHTLY_BUILD
from support.ingest import ingest
from transform.test_sla_engine import _insert

from itss_warehouse.ingest.sources import SourceSet, load_sources
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.transform import dbt
from itss_warehouse.validate import runner
from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
MAPPINGS = ["servicenow.yml", "servicenow_task_sla.yml", "jira_service_management.yml",
            "jira_service_management_sla.yml"]  # fmt: skip
SHANGHAI = ZoneInfo("Asia/Shanghai")
TASK_SLAS = """\
task,sla,stage,start_time,end_time,planned_end_time,has_breached,business_duration,business_pause_duration,business_time_left
INC0010231,Priority 1 response (15 minutes),Completed,2026-11-20 08:12:45,2026-11-20 08:20:00,2026-11-20 08:27:45,false,7 Minutes,0 Seconds,7 Minutes
INC0010231,Priority 1 resolution (8 hour),Completed,2026-11-20 08:12:45,2026-11-20 10:03:10,2026-11-20 12:12:45,false,1 Hour 50 Minutes,0 Seconds,2 Hours 9 Minutes
INC0010232,Priority 2 response (30 minutes),Completed,2026-11-20 14:30:02,2026-11-20 15:10:02,2026-11-20 15:00:02,true,40 Minutes,0 Seconds,0 Seconds
"""
JIRA_SLAS = """\
Issue key,Custom field (Time to first response),Custom field (Time to resolution)
YWJC-101,8m,1h 33m
YWJC-102,-2h,
"""
POLICIES = [("POL", "P1", "15", "240"), ("POL", "P2", "30", "480"), ("POL", "P3", "60", "1440"),
            ("POL", "P4", "120", "2880")]  # fmt: skip


@pytest.fixture(scope="module")
def built(tool_environment: str, pipeline_settings, tmp_path_factory) -> str:
    url = tool_environment
    landing = tmp_path_factory.mktemp("exports")
    shutil.copy(FIXTURES / "incident_servicenow.csv", landing / "incident_2026-11-24.csv")
    shutil.copy(FIXTURES / "jira_jsm_export.csv", landing / "jira_2026-11-24.csv")
    (landing / "task_sla_2026-11-24.csv").write_text(TASK_SLAS, encoding="utf-8")
    (landing / "jsm_sla_2026-11-24.csv").write_text(JIRA_SLAS, encoding="utf-8")
    definitions = [load_sources(PACKAGE_DIR / "mappings" / name) for name in MAPPINGS]
    sources = SourceSet(timezone="Asia/Shanghai", sources=[s for d in definitions for s in d.sources])
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        _insert(conn, "projects", ["project_id", "sla_policy_id"],
                [(project, "POL") for project in ("P001", "P002", "YWJC", "RMYY")])  # fmt: skip
        _insert(conn, "sla_policies", ["policy_id", "priority", "response_minutes", "resolution_minutes", "calendar",
                                       "timezone"], [(*row, "7x24", "Asia/Shanghai") for row in POLICIES])  # fmt: skip
    batches = ingest(url, landing, sources)
    assert len(batches) == 4
    runner.validate_raw_batches(url, [batch.batch_id for batch in batches], pipeline_settings)
    dbt.run_dbt(pipeline_settings, "--quiet", *NIGHTLY_BUILD, "--vars", "{run_date: '2026-11-24'}")
    return url


def _at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)


def test_each_metric_the_tools_judged_is_reconciled(built: str):
    with psycopg.connect(built) as conn:
        rows = conn.execute(
            "select ticket_id, metric, sla_clock, engine_status, tool_status, agrees, engine_due_at, tool_due_at,"
            " due_difference_minutes from marts.sla_reconciliation_by_metric order by 1, 2"
        ).fetchall()
    assert rows == [
        ("INC0010231", "resolution", "ours", "met", "met", True, _at("2026-11-20 12:12:45"),
         _at("2026-11-20 12:12:45"), Decimal(0)),
        ("INC0010231", "response", "ours", "met", "met", True, _at("2026-11-20 08:27:45"), _at("2026-11-20 08:27:45"),
         Decimal(0)),
        ("INC0010232", "response", "ours", "breached", "breached", True, _at("2026-11-20 15:00:02"),
         _at("2026-11-20 15:00:02"), Decimal(0)),
        # Jira's clock: no times to compare, only the verdicts.
        ("YWJC-101", "resolution", "tool", "met", "met", True, None, None, None),
        ("YWJC-101", "response", "tool", "breached", "met", False, None, None, None),
        ("YWJC-102", "response", "tool", "breached", "breached", True, None, None, None),
    ]  # fmt: skip


def test_the_response_of_each_tool_is_measured_not_assumed(built: str):
    with psycopg.connect(built) as conn:
        rows = conn.execute(
            "select ticket_id, status, engine_status, done_at, done_at_source from marts.fct_ticket_sla"
            " where metric = 'response' and ticket_id in ('INC0010231', 'INC0010232', 'YWJC-101') order by 1"
        ).fetchall()
    assert rows == [
        ("INC0010231", "met", "met", _at("2026-11-20 08:20"), "tool"),
        ("INC0010232", "breached", "breached", _at("2026-11-20 15:10:02"), "tool"),
        ("YWJC-101", "met", "breached", None, None),
    ]
