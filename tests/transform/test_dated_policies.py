"""Dated SLA policies and calendars (DECISIONS.md, "Dated policies and calendars"), hand-computed.

Three nights on one as-of moment (2026-11-21 00:00 Asia/Shanghai), then a full refresh:

1. policy AMEND (7x24, P1: response 30, resolution 240) has one undated version;
2. the PMO export adds a version from 2026-11-15 (P1: response 15, resolution 120) and repeats
   policy OTHER unchanged: only AMEND's tickets opened from 15 November are judged again;
3. the company adds a day off on Monday 2026-11-23: due times still ahead move past it, and
   nothing done before it changes.

The full refresh then gives every row the incremental nights left. The seeds are a copy's,
so the day off can be added without touching the repository's.
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
from transform.test_sla_engine import _insert, _stamp

from itss_warehouse.settings import Settings
from itss_warehouse.transform import dbt
from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHANGHAI = ZoneInfo("Asia/Shanghai")
RUN_DATE = "{run_date: '2026-11-20'}"  # as-of: 2026-11-21 00:00 Asia/Shanghai
REPO = Path(__file__).resolve().parents[2]

PROJECTS = [("PA", "AMEND"), ("PB", "OTHER"), ("PH", "HOL")]
POLICY_COLUMNS = ["policy_id", "priority", "response_minutes", "onsite_minutes", "resolution_minutes", "calendar",
                  "timezone", "valid_from", "valid_to"]  # fmt: skip
POLICIES = [
    ("AMEND", "P1", "30", None, "240", "7x24", "Asia/Shanghai", None, None),
    ("OTHER", "P1", "30", None, "240", "7x24", "Asia/Shanghai", None, None),
    ("HOL", "P3", "60", None, "1080", "business_hours", "Asia/Shanghai", None, None),
]
AMENDMENT = ("AMEND", "P1", "15", None, "120", "7x24", "Asia/Shanghai", "2026-11-15", None)
# ticket_id, project, priority, opened, responded, resolved, status (Shanghai wall clock)
TICKETS = [
    ("A-BEFORE", "PA", "P1", "2026-11-14 23:30", "2026-11-14 23:50", "2026-11-15 02:50", "resolved"),
    ("A-AFTER", "PA", "P1", "2026-11-15 00:10", "2026-11-15 00:20", "2026-11-15 02:40", "resolved"),
    ("A-OPEN", "PA", "P1", "2026-11-20 21:00", "2026-11-20 21:05", "", "in_progress"),
    ("B-AFTER", "PB", "P1", "2026-11-16 09:00", "2026-11-16 09:10", "2026-11-16 11:00", "resolved"),
    ("H-PAST", "PH", "P3", "2026-11-16 10:00", "2026-11-16 10:30", "2026-11-17 10:00", "resolved"),
    ("H-DONE", "PH", "P3", "2026-11-19 10:00", "2026-11-19 10:20", "2026-11-20 11:00", "resolved"),
    ("H-OPEN", "PH", "P3", "2026-11-20 14:00", "2026-11-20 14:30", "", "in_progress"),
]  # fmt: skip
COLUMNS = ("ticket_id, metric, policy_id, target_minutes, elapsed_business_minutes, due_at, status, breach_minutes,"
           " measured_at")  # fmt: skip


@pytest.fixture(scope="module")
def pipeline_settings(tmp_path_factory, small_landing: Path) -> Settings:
    """The conftest's settings, with a copy of the dbt project whose seeds the test may change."""
    home = tmp_path_factory.mktemp("home")
    project = home / "project"
    shutil.copytree(REPO / "dbt_project", project / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    return Settings(_env_file=None, home=home, landing_dir=shutil.copytree(small_landing, home / "landing"),
                    project_dir=project)  # fmt: skip


def _at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)


def _rows(url: str) -> dict[tuple[str, str], tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select {COLUMNS} from marts.fct_ticket_sla").fetchall()
    return {(row[0], row[1]): row[2:] for row in rows}


def _measured(rows, ticket, metric) -> tuple:
    """Policy, target, business minutes, due, status, overrun."""
    policy, target, business, due, status, breach, _ = rows[(ticket, metric)]
    return policy, target, business, due, status, breach


def _night(settings: Settings, *args: str) -> None:
    dbt.run_dbt(settings, "--quiet", *NIGHTLY_BUILD, "--vars", RUN_DATE, *args)


@pytest.fixture(scope="module")
def nights(tool_environment: str, pipeline_settings: Settings) -> dict[str, dict]:
    url = tool_environment
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        _insert(conn, "projects", ["project_id", "sla_policy_id"], PROJECTS)
        _insert(conn, "sla_policies", POLICY_COLUMNS, POLICIES)
        _insert(
            conn,
            "tickets",
            ["ticket_id", "ticket_type", "project_id", "priority", "opened_at", "responded_at", "resolved_at",
             "status", "updated_at", "reopen_count", "delivery_mode"],
            [(ticket, "incident", project, priority, _stamp(opened), _stamp(responded), _stamp(resolved), status,
              _stamp(resolved or responded), "0", "remote")
             for ticket, project, priority, opened, responded, resolved, status in TICKETS],
        )  # fmt: skip
    _night(pipeline_settings)
    first = _rows(url)

    # The whole export again, with AMEND's new version.
    with psycopg.connect(url) as conn:
        _insert(conn, "sla_policies", POLICY_COLUMNS, [*POLICIES, AMENDMENT], export="-amended")
    _night(pipeline_settings)
    amended = _rows(url)
    with psycopg.connect(url) as conn:
        versions = conn.execute(
            "select policy_id, priority, version_number, valid_from, valid_through, response_target_minutes,"
            " resolution_target_minutes from marts.dim_sla_policies order by policy_id, priority, version_number"
        ).fetchall()

    overrides = pipeline_settings.dbt_project_path / "seeds" / "calendar_overrides.csv"
    overrides.write_text(overrides.read_text(encoding="utf-8") + "2026-11-23,false,公司活动日\n", encoding="utf-8")
    _night(pipeline_settings)
    day_off = _rows(url)
    _night(pipeline_settings, "--full-refresh")
    return {"first": first, "amended": amended, "versions": versions, "day_off": day_off, "full": _rows(url)}


def test_the_policy_in_force_on_the_opening_day_judges_the_ticket(nights):
    first, amended = nights["first"], nights["amended"]
    # The first night, every AMEND ticket on the undated version.
    assert _measured(first, "A-AFTER", "resolution") == (
        "AMEND",
        240,
        Decimal(150),
        _at("2026-11-15 04:10"),
        "met",
        None,
    )
    assert _measured(first, "A-OPEN", "resolution") == (
        "AMEND",
        240,
        Decimal(180),
        _at("2026-11-21 01:00"),
        "in_progress",
        None,
    )
    # Opened 14 November 23:30 in Shanghai (15:30 UTC): the old version, its row untouched.
    assert amended[("A-BEFORE", "response")] == first[("A-BEFORE", "response")]
    assert amended[("A-BEFORE", "resolution")] == first[("A-BEFORE", "resolution")]
    assert _measured(amended, "A-BEFORE", "response") == ("AMEND", 30, Decimal(20), _at("2026-11-15 00:00"), "met",
                                                          None)  # fmt: skip
    # Opened 15 November 00:10: the new version, although it was done before the amendment landed.
    assert _measured(amended, "A-AFTER", "response") == ("AMEND", 15, Decimal(10), _at("2026-11-15 00:25"), "met",
                                                         None)  # fmt: skip
    assert _measured(amended, "A-AFTER", "resolution") == (
        "AMEND",
        120,
        Decimal(150),
        _at("2026-11-15 02:10"),
        "breached",
        Decimal(30),
    )
    assert _measured(amended, "A-OPEN", "resolution") == (
        "AMEND",
        120,
        Decimal(180),
        _at("2026-11-20 23:00"),
        "breached",
        Decimal(60),
    )
    assert nights["versions"] == [
        ("AMEND", "P1", 1, None, dt.date(2026, 11, 14), 30, 240),
        ("AMEND", "P1", 2, dt.date(2026, 11, 15), None, 15, 120),
        ("HOL", "P3", 1, None, None, 60, 1080),
        ("OTHER", "P1", 1, None, None, 30, 240),
    ]


def test_only_the_tickets_a_change_judges_are_measured_again(nights):
    first, amended = nights["first"], nights["amended"]
    changed = {ticket for key, row in amended.items() if row != first[key] for ticket in [key[0]]}
    # AMEND's tickets opened from 15 November, and those measured every night: H-OPEN is open,
    # H-DONE's resolution is due after the as-of moment. OTHER's repeated export changes nothing.
    assert changed == {"A-AFTER", "A-OPEN", "H-OPEN", "H-DONE"}
    assert amended[("B-AFTER", "resolution")] == first[("B-AFTER", "resolution")]


def test_a_new_day_off_moves_only_due_times_after_it(nights):
    amended, day_off = nights["amended"], nights["day_off"]
    # business_hours: 09:00-18:00, 540 minutes a day. H-DONE: 480 (Thu) + 540 (Fri) = 1020 of 1080
    # by Friday evening, so due 60 minutes into the next working day: Monday, then Tuesday.
    assert _measured(amended, "H-DONE", "resolution") == (
        "HOL",
        1080,
        Decimal(600),
        _at("2026-11-23 10:00"),
        "met",
        None,
    )
    assert _measured(day_off, "H-DONE", "resolution") == (
        "HOL",
        1080,
        Decimal(600),
        _at("2026-11-24 10:00"),
        "met",
        None,
    )
    # H-OPEN: 240 by the as-of moment, 540 on the next working day, due 300 minutes into the one after.
    assert _measured(amended, "H-OPEN", "resolution") == (
        "HOL",
        1080,
        Decimal(240),
        _at("2026-11-24 14:00"),
        "in_progress",
        None,
    )
    assert _measured(day_off, "H-OPEN", "resolution") == (
        "HOL",
        1080,
        Decimal(240),
        _at("2026-11-25 14:00"),
        "in_progress",
        None,
    )
    # Done and due before the day off: untouched. H-PAST: 480 (Mon) + 60 (Tue), due Wed 10:00.
    assert day_off[("H-PAST", "resolution")] == amended[("H-PAST", "resolution")]
    assert _measured(day_off, "H-PAST", "resolution") == (
        "HOL",
        1080,
        Decimal(540),
        _at("2026-11-18 10:00"),
        "met",
        None,
    )
    for key in (("A-BEFORE", "resolution"), ("A-AFTER", "resolution"), ("B-AFTER", "resolution")):
        assert day_off[key] == amended[key]


def test_the_incremental_nights_equal_a_full_refresh(nights):
    def measured(rows):
        return {key: row[:-1] for key, row in rows.items()}  # all but measured_at

    assert measured(nights["full"]) == measured(nights["day_off"])
