"""Assignment holds, OLA and breach attribution (DECISIONS.md, "Assignment holds and OLA"), hand-computed.

Policy FLAT: 7x24, P1 resolution 240 minutes; on_hold pauses the clock. As-of 2026-11-21 00:00
Asia/Shanghai. OLA (seeds/ola_targets.csv of a copy of the project): SD 30 minutes for every
priority, NET 60 for P1 (and 999 on business hours for its other priorities), VENDOR 600 on the
business_hours calendar (09:00-18:00).

- T-THREE (Tue 10 Nov) passes SD 09:00 → NET 09:30 (on hold 10:00-11:00) → VENDOR 12:00, resolved 15:00.
- T-NIGHT (Tue 10 Nov) passes SD 17:00 → VENDOR 17:30, resolved Wed 10:00: the vendor's clock is its hours.
- T-OPEN (Fri 20 Nov) passes SD 20:10 → NET 21:00 and is still open; the second night adds VENDOR at 23:00.
- T-EDGE (Fri 20 Nov, opened 22:00) has changes stamped before its opening (SD 21:50, NET 21:55), two at one
  moment told apart by the update counter (VENDOR then DB at 23:00), and one after the as-of moment (DESK 00:20).
- T-HIST (Tue 13 Oct, 09:00-11:00) comes as one snapshot version showing VENDOR; the second night brings its
  assignment history (SD 09:00 → NET 09:20 → VENDOR 10:30), which alone must have it measured again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from transform.test_dated_policies import REPO, _at, _night
from transform.test_sla_engine import _insert, _stamp

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OLA = "SD,*,30,,,\nNET,P1,60,,,\nNET,*,999,business_hours,,\nVENDOR,*,600,business_hours,,\n"
VERSION_COLUMNS = ["ticket_id", "ticket_type", "project_id", "priority", "opened_at", "resolved_at", "status",
                   "assignment_group", "updated_at", "update_sequence", "delivery_mode"]  # fmt: skip
# ticket, status, group, updated (Shanghai), sequence; opened and resolved are the ticket's
OPENED = {"T-THREE": "2026-11-10 09:00", "T-NIGHT": "2026-11-10 17:00", "T-OPEN": "2026-11-20 20:10",
          "T-EDGE": "2026-11-20 22:00", "T-HIST": "2026-10-13 09:00"}  # fmt: skip
RESOLVED = {"T-THREE": "2026-11-10 15:00", "T-NIGHT": "2026-11-11 10:00", "T-HIST": "2026-10-13 11:00"}
EVENTS = [
    ("T-THREE", "new", "SD", "2026-11-10 09:00", 1),
    ("T-THREE", "in_progress", "NET", "2026-11-10 09:30", 2),
    ("T-THREE", "on_hold", "NET", "2026-11-10 10:00", 3),
    ("T-THREE", "in_progress", "NET", "2026-11-10 11:00", 4),
    ("T-THREE", "in_progress", "VENDOR", "2026-11-10 12:00", 5),
    ("T-THREE", "resolved", "VENDOR", "2026-11-10 15:00", 6),
    ("T-NIGHT", "new", "SD", "2026-11-10 17:00", 1),
    ("T-NIGHT", "in_progress", "VENDOR", "2026-11-10 17:30", 2),
    ("T-NIGHT", "resolved", "VENDOR", "2026-11-11 10:00", 3),
    ("T-OPEN", "new", "SD", "2026-11-20 20:10", 1),
    ("T-OPEN", "in_progress", "NET", "2026-11-20 21:00", 2),
    ("T-EDGE", "new", "SD", "2026-11-20 21:50", 1),
    ("T-EDGE", "new", "NET", "2026-11-20 21:55", 2),
    ("T-EDGE", "in_progress", "VENDOR", "2026-11-20 23:00", 3),
    ("T-EDGE", "in_progress", "DB", "2026-11-20 23:00", 4),
    ("T-EDGE", "in_progress", "DESK", "2026-11-21 00:20", 5),
    ("T-HIST", "resolved", "VENDOR", "2026-10-13 11:00", None),
]
LATER_EVENT = ("T-OPEN", "in_progress", "VENDOR", "2026-11-20 23:00", 3)
HISTORY = [("T-HIST", "SD", "2026-10-13 09:00"), ("T-HIST", "NET", "2026-10-13 09:20"),
           ("T-HIST", "VENDOR", "2026-10-13 10:30")]  # fmt: skip
HOLDS = ("ticket_id, hold_number, assignment_group, held_from, held_until, is_open, calendar_id, held_minutes,"
         " paused_minutes, ola_target_minutes, within_ola")  # fmt: skip


@pytest.fixture(scope="module")
def pipeline_settings(tmp_path_factory, small_landing: Path) -> Settings:
    """The conftest's settings, with a copy of the dbt project whose OLA seed has the groups' rows."""
    home = tmp_path_factory.mktemp("home")
    project = home / "project" / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    seed = project / "seeds" / "ola_targets.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + OLA, encoding="utf-8")
    return Settings(_env_file=None, home=home, landing_dir=shutil.copytree(small_landing, home / "landing"),
                    project_dir=project.parent)  # fmt: skip


def _versions(events: list[tuple]) -> list[tuple]:
    return [(ticket, "incident", "PF", "P1", _stamp(OPENED[ticket]), _stamp(RESOLVED.get(ticket, "")) if status ==
             "resolved" else "", status, group, _stamp(updated), str(sequence or ""), "remote")
            for ticket, status, group, updated, sequence in events]  # fmt: skip


def _read(url: str) -> dict[str, list]:
    with psycopg.connect(url) as conn:
        return {
            "holds": conn.execute(f"select {HOLDS} from marts.fct_ticket_assignments order by 1, 2").fetchall(),
            "attribution": conn.execute(
                "select ticket_id, assignment_group, held_minutes, share, is_holder_at_due"
                " from marts.sla_breach_attribution order by 1, 2"
            ).fetchall(),
            "ola": conn.execute(
                "select assignment_group, month, holds, judged, met, missed, attainment, held_minutes"
                " from marts.ola_attainment_monthly order by 1, 2"
            ).fetchall(),
        }


@pytest.fixture(scope="module")
def nights(tool_environment: str, pipeline_settings: Settings) -> dict[str, dict]:
    url = tool_environment
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        _insert(conn, "projects", ["project_id", "sla_policy_id"], [("PF", "FLAT")])
        _insert(conn, "sla_policies", ["policy_id", "priority", "response_minutes", "resolution_minutes", "calendar",
                                       "timezone"], [("FLAT", "P1", None, "240", "7x24", "Asia/Shanghai")])  # fmt: skip
        _insert(conn, "tickets", VERSION_COLUMNS, _versions(EVENTS))
    _night(pipeline_settings)
    first = _read(url)
    with psycopg.connect(url) as conn:
        _insert(conn, "tickets", VERSION_COLUMNS, _versions([LATER_EVENT]), export="-later")
        _insert(conn, "ticket_assignment_changes", ["ticket_id", "assignment_group", "changed_at"],
                [(ticket, group, _stamp(at)) for ticket, group, at in HISTORY], export="-history")  # fmt: skip
    _night(pipeline_settings)
    second = _read(url)
    _night(pipeline_settings, "--full-refresh")
    return {"first": first, "second": second, "full": _read(url)}


def _hold(ticket, number, group, held_from, held_until, minutes, paused, target, within, calendar="7x24"):
    until = _at(held_until) if held_until else None
    return (ticket, number, group, _at(held_from), until, until is None, calendar, Decimal(minutes), Decimal(paused),
            target, within)  # fmt: skip


def test_each_group_holds_the_ticket_until_the_next_takes_it_net_of_pauses(nights):
    holds = nights["first"]["holds"]
    assert holds == [
        # Before the opening: SD held it for no minute, NET from the opening; NET's P1 row's calendar (the
        # policy's 7x24), not its `*` row's business hours. VENDOR then DB at 23:00, by the update counter; DB
        # still holds it at the as-of moment, DESK's change of 00:20 lies after it.
        _hold("T-EDGE", 1, "SD", "2026-11-20 22:00", "2026-11-20 22:00", 0, 0, 30, True),
        _hold("T-EDGE", 2, "NET", "2026-11-20 22:00", "2026-11-20 23:00", 60, 0, 60, True),
        _hold("T-EDGE", 3, "VENDOR", "2026-11-20 23:00", "2026-11-20 23:00", 0, 0, 600, True, "business_hours"),
        _hold("T-EDGE", 4, "DB", "2026-11-20 23:00", None, 60, 0, None, None),
        # A snapshot's one group holds the ticket from its opening, on the vendor's hours.
        _hold("T-HIST", 1, "VENDOR", "2026-10-13 09:00", "2026-10-13 11:00", 120, 0, 600, True, "business_hours"),
        _hold("T-NIGHT", 1, "SD", "2026-11-10 17:00", "2026-11-10 17:30", 30, 0, 30, True),
        # 17:30-18:00 and 09:00-10:00 on the vendor's business hours, not the 990 minutes of 7x24.
        _hold("T-NIGHT", 2, "VENDOR", "2026-11-10 17:30", "2026-11-11 10:00", 90, 0, 600, True, "business_hours"),
        # NET still holds it at the as-of moment, already over its 60 minutes.
        _hold("T-OPEN", 1, "SD", "2026-11-20 20:10", "2026-11-20 21:00", 50, 0, 30, False),
        _hold("T-OPEN", 2, "NET", "2026-11-20 21:00", None, 180, 0, 60, False),
        _hold("T-THREE", 1, "SD", "2026-11-10 09:00", "2026-11-10 09:30", 30, 0, 30, True),
        # 150 minutes held, the hour on hold not counted: 90 against NET's 60.
        _hold("T-THREE", 2, "NET", "2026-11-10 09:30", "2026-11-10 12:00", 90, 60, 60, False),
        _hold("T-THREE", 3, "VENDOR", "2026-11-10 12:00", "2026-11-10 15:00", 180, 0, 600, True, "business_hours"),
    ]


def test_a_resolution_breach_is_shared_by_the_groups_that_held_it(nights):
    # T-THREE: 300 net minutes against 240, due 14:00 (09:00 + 240 + the hour on hold), while VENDOR held it.
    # T-NIGHT: due 21:00 the evening it opened, held by VENDOR; T-OPEN: due 2026-11-21 00:10, not yet over.
    assert nights["first"]["attribution"] == [
        ("T-NIGHT", "SD", Decimal(30), Decimal("0.2500"), False),
        ("T-NIGHT", "VENDOR", Decimal(90), Decimal("0.7500"), True),
        ("T-THREE", "NET", Decimal(90), Decimal("0.3000"), False),
        ("T-THREE", "SD", Decimal(30), Decimal("0.1000"), False),
        ("T-THREE", "VENDOR", Decimal(180), Decimal("0.6000"), True),
    ]


def test_ola_attainment_counts_the_holds_ended_in_the_month(nights):
    october, november = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    assert nights["first"]["ola"] == [
        ("NET", november, 2, 2, 1, 1, Decimal("0.5"), Decimal(150)),
        ("SD", november, 4, 4, 3, 1, Decimal("0.75"), Decimal(110)),
        ("VENDOR", october, 1, 1, 1, 0, Decimal(1), Decimal(120)),
        ("VENDOR", november, 3, 3, 3, 0, Decimal(1), Decimal(270)),
    ]


def test_a_later_reassignment_ends_the_open_hold_and_a_full_refresh_agrees(nights):
    second = nights["second"]
    holds = [hold for hold in second["holds"] if hold[0] == "T-OPEN"]
    # NET held it 21:00-23:00 (120 > 60); VENDOR's hours have not begun by midnight: open, within so far.
    assert holds == [
        _hold("T-OPEN", 1, "SD", "2026-11-20 20:10", "2026-11-20 21:00", 50, 0, 30, False),
        _hold("T-OPEN", 2, "NET", "2026-11-20 21:00", "2026-11-20 23:00", 120, 0, 60, False),
        _hold("T-OPEN", 3, "VENDOR", "2026-11-20 23:00", None, 0, 0, 600, None, "business_hours"),
    ]
    assert [row for row in second["holds"] if row[0] not in ("T-OPEN", "T-HIST")] == [
        row for row in nights["first"]["holds"] if row[0] not in ("T-OPEN", "T-HIST")
    ]
    assert second == nights["full"]


def test_assignment_history_splits_a_snapshot_hold_into_the_groups_that_held_it(nights):
    # The history's batch alone has the resolved ticket measured again: SD 20 minutes, NET 70 against its 60,
    # VENDOR 30 minutes of its hours; the snapshot's VENDOR at 11:00 is the group already holding it.
    assert [hold for hold in nights["second"]["holds"] if hold[0] == "T-HIST"] == [
        _hold("T-HIST", 1, "SD", "2026-10-13 09:00", "2026-10-13 09:20", 20, 0, 30, True),
        _hold("T-HIST", 2, "NET", "2026-10-13 09:20", "2026-10-13 10:30", 70, 0, 60, False),
        _hold("T-HIST", 3, "VENDOR", "2026-10-13 10:30", "2026-10-13 11:00", 30, 0, 600, True, "business_hours"),
    ]
