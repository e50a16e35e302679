"""Known answers of the SLA engine, hand-computed in dbt_project/DECISIONS.md ("SLA engine").

Raw rows are written straight into the raw tables (the loader is tested elsewhere), then
the real dbt project builds with the real seeds: China's 2025 National Day week with its
adjusted working days, the 2027 weekday fallback, a lunch break, pauses, a priority
change, a reopen, a missing policy, empty targets and a policy in New York time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from support.dbt_build import NIGHTLY_BUILD
from support.raw_rows import insert_raw

from itss_warehouse.transform import dbt
from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
RUN_DATE = "{run_date: '2027-01-10'}"  # as-of: 2027-01-11 00:00 Asia/Shanghai

PROJECTS = [  # project_id, sla_policy_id
    ("PBH", "BH"), ("P24", "S24"), ("PNY", "NY"), ("PNONE", "MISSING"), ("PPART", "PART"), ("PBLANK", "BLANK"),
]  # fmt: skip
POLICIES = [  # policy_id, priority, response, onsite, resolution, calendar, timezone
    ("BH", "P2", "30", "240", "480", "5x8", "Asia/Shanghai"),
    ("BH", "P3", "60", "480", "960", "5x8", "Asia/Shanghai"),
    ("S24", "P1", "15", "120", "240", "7x24", "Asia/Shanghai"),
    ("S24", "P3", "60", "480", "1440", "7x24", "Asia/Shanghai"),
    ("NY", "P3", "60", "480", "960", "5x8", "America/New_York"),
    # Empty targets, as the mapper writes them (docs/sources.md, "An empty target").
    ("PART", "P2", None, "240", "480", "7x24", "Asia/Shanghai"),
    ("BLANK", "P2", None, None, None, "7x24", "Asia/Shanghai"),
]
# ticket_id, project, priority, opened, responded, resolved, status, updated, reopen_count (Shanghai wall clock)
VERSIONS = [
    ("NATIONAL-DAY", "PBH", "P3", "2025-09-26 17:00", "2025-09-26 17:20", "2025-10-10 10:00", "resolved", "2025-10-10 10:00", "0"),
    ("ADJUSTED-SAT", "PBH", "P3", "2025-10-10 16:00", "2025-10-10 16:30", "2025-10-13 09:30", "resolved", "2025-10-13 09:30", "0"),
    ("PAUSED", "PBH", "P3", "2025-11-13 10:00", "2025-11-13 10:10", "2025-11-17 11:00", "resolved", "2025-11-17 11:00", "0"),
    ("NEW-YEAR", "PBH", "P3", "2026-12-31 17:00", "2026-12-31 17:10", "2027-01-04 09:30", "resolved", "2027-01-04 09:30", "0"),
    ("LUNCH", "PBH", "P3", "2025-11-12 11:30", "2025-11-12 13:20", "2025-11-12 15:00", "resolved", "2025-11-12 15:00", "0"),
    ("ROUND-CLOCK", "P24", "P1", "2026-03-01 08:00", "2026-03-01 08:10", "2026-03-01 12:30", "resolved", "2026-03-01 12:30", "0"),
    ("UPGRADED", "P24", "P3", "2026-03-02 08:00", "", "", "new", "2026-03-02 08:00", "0"),
    ("UPGRADED", "P24", "P1", "2026-03-02 08:00", "2026-03-02 08:40", "2026-03-02 10:00", "resolved", "2026-03-02 10:00", "0"),
    ("REOPENED", "P24", "P1", "2026-03-03 08:00", "2026-03-03 08:05", "2026-03-03 09:00", "resolved", "2026-03-03 09:00", "0"),
    ("REOPENED", "P24", "P1", "2026-03-03 08:00", "2026-03-03 08:05", "", "reopened", "2026-03-03 10:00", "1"),
    ("REOPENED", "P24", "P1", "2026-03-03 08:00", "2026-03-03 08:05", "2026-03-03 13:00", "resolved", "2026-03-03 13:00", "1"),
    ("NO-POLICY", "PNONE", "P1", "2026-03-04 08:00", "2026-03-04 08:05", "2026-03-04 09:00", "resolved", "2026-03-04 09:00", "0"),
    ("NEW-YORK", "PNY", "P3", "2025-11-14 22:00", "2025-11-14 22:30", "2025-11-17 23:00", "resolved", "2025-11-17 23:00", "0"),
    ("OPEN-LATE", "P24", "P1", "2027-01-10 22:00", "2027-01-10 22:05", "", "in_progress", "2027-01-10 22:05", "0"),
    ("OPEN-OVERDUE", "P24", "P1", "2027-01-10 10:00", "2027-01-10 10:05", "", "in_progress", "2027-01-10 10:05", "0"),
    ("CLOSED-NO-RESOLUTION", "P24", "P3", "2026-11-02 09:00", "2026-11-02 09:20", "", "closed", "2026-11-02 15:00", "0"),
    ("CLOSED-UNMEASURED", "P24", "P3", "2026-11-03 09:00", "2026-11-03 09:30", "", "closed", "2026-11-03 10:00", "0"),
    ("PART-TARGET", "PPART", "P2", "2026-03-05 08:00", "2026-03-05 09:30", "2026-03-05 10:00", "resolved", "2026-03-05 10:00", "0"),
    ("BLANK-TARGETS", "PBLANK", "P2", "2026-03-05 08:00", "2026-03-05 08:10", "2026-03-05 10:00", "resolved", "2026-03-05 10:00", "0"),
]  # fmt: skip
# Closed without a resolution time (DECISIONS.md): the second one's source does not judge its resolution.
CLOSED_AT = {"CLOSED-NO-RESOLUTION": "2026-11-02 15:00", "CLOSED-UNMEASURED": "2026-11-03 10:00"}
CLOSE_RULES = {"CLOSED-UNMEASURED": "unmeasured"}
# The ticket tool's own SLA verdict (made_sla)
TOOL_VERDICTS = {"ROUND-CLOCK": "true", "LUNCH": "true", "CLOSED-NO-RESOLUTION": "false"}
STATUS_CHANGES = [  # PAUSED waits for the customer from Thursday 16:00 to Monday 10:00
    ("PAUSED", "new", "2025-11-13 10:00"),
    ("PAUSED", "in_progress", "2025-11-13 10:10"),
    ("PAUSED", "pending_customer", "2025-11-13 16:00"),
    ("PAUSED", "in_progress", "2025-11-17 10:00"),
    ("PAUSED", "resolved", "2025-11-17 11:00"),
]


def _stamp(local: str) -> str:
    return f"{local.replace(' ', 'T')}:00+0800" if local else ""


def _at(local: str, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=zone)


def _insert(conn: psycopg.Connection, entity: str, columns: list[str], rows: list[tuple], export: str = "") -> None:
    insert_raw(conn, entity, columns, rows, loaded_at="2027-01-10T00:00:00+0800", export=export)


@pytest.fixture(scope="module")
def measured(tool_environment: str, pipeline_settings) -> dict[tuple[str, str], tuple]:
    with psycopg.connect(tool_environment) as conn:
        ensure_raw_tables(conn)
        _insert(conn, "projects", ["project_id", "sla_policy_id"], PROJECTS)
        _insert(conn, "sla_policies", ["policy_id", "priority", "response_minutes", "onsite_minutes",
                                       "resolution_minutes", "calendar", "timezone"], POLICIES)  # fmt: skip
        _insert(
            conn,
            "tickets",
            ["ticket_id", "ticket_type", "project_id", "priority", "opened_at", "responded_at", "resolved_at",
             "status", "updated_at", "reopen_count", "delivery_mode", "tool_sla_met", "closed_at",
             "closed_without_resolution"],
            [(ticket, "incident", project, priority, _stamp(opened), _stamp(responded), _stamp(resolved), status,
              _stamp(updated), reopens, "remote", TOOL_VERDICTS.get(ticket, ""), _stamp(CLOSED_AT.get(ticket, "")),
              CLOSE_RULES.get(ticket))
             for ticket, project, priority, opened, responded, resolved, status, updated, reopens in VERSIONS],
        )  # fmt: skip
        _insert(conn, "ticket_status_changes", ["ticket_id", "status", "changed_at"],
                [(ticket, status, _stamp(at)) for ticket, status, at in STATUS_CHANGES])  # fmt: skip
    dbt.run_dbt(pipeline_settings, "--quiet", *NIGHTLY_BUILD, "--vars", RUN_DATE)
    with psycopg.connect(tool_environment) as conn:
        rows = conn.execute(
            "select ticket_id, metric, policy_id, priority_applied, target_minutes, elapsed_calendar_minutes,"
            " elapsed_business_minutes, paused_minutes, net_minutes, due_at, status, breach_minutes,"
            " is_reopened, uses_fallback_calendar from marts.fct_ticket_sla"
        ).fetchall()
    return {(row[0], row[1]): row[2:] for row in rows}


def _check(measured, ticket, metric, *, business, due, status, paused=0, breach=None, calendar=None):
    row = measured[(ticket, metric)]
    _, _, _, calendar_minutes, business_minutes, paused_minutes, net, due_at, actual_status, breach_minutes = row[:10]
    assert business_minutes == Decimal(business), (ticket, metric)
    assert paused_minutes == Decimal(paused), (ticket, metric)
    assert net == Decimal(business) - Decimal(paused), (ticket, metric)
    assert due_at == due, (ticket, metric)
    assert actual_status == status, (ticket, metric)
    assert breach_minutes == (None if breach is None else Decimal(breach)), (ticket, metric)
    if calendar is not None:
        assert calendar_minutes == Decimal(calendar), (ticket, metric)


def test_friday_evening_before_national_day_week(measured):
    # 30 (Fri) + 480 (Sun 9-28, adjusted workday) + 480 + 480 + (10-01..10-08 holiday) + 480 (10-09) + 90 (10-10)
    _check(measured, "NATIONAL-DAY", "resolution", business=2040, calendar=19740,
           due=_at("2025-09-29 17:00"), status="breached", breach=1080)  # fmt: skip
    _check(measured, "NATIONAL-DAY", "response", business=20, due=_at("2025-09-28 09:00"), status="met")
    assert measured[("NATIONAL-DAY", "resolution")][:3] == ("BH", "P3", 960)


def test_adjusted_working_saturday_counts(measured):
    # 90 (Fri 16:00-17:30) + 480 (Sat 10-11, adjusted workday) + 0 (Sun) + 60 (Mon 08:30-09:30)
    _check(measured, "ADJUSTED-SAT", "resolution", business=630, due=_at("2025-10-13 16:00"), status="met")


def test_pause_over_a_night_and_a_weekend(measured):
    # elapsed 390 (Thu) + 480 (Fri) + 150 (Mon); paused 90 (Thu 16:00-17:30) + 480 (Fri) + 90 (Mon 08:30-10:00)
    _check(measured, "PAUSED", "resolution", business=1020, paused=660, due=_at("2025-11-18 14:00"), status="met")
    _check(measured, "PAUSED", "response", business=10, due=_at("2025-11-13 11:00"), status="met")


def test_new_year_2027_falls_back_to_weekdays(measured):
    # 30 (Thu 2026-12-31) + 480 (Fri 2027-01-01: no published holiday, a fallback workday) + 60 (Mon)
    _check(measured, "NEW-YEAR", "resolution", business=570, due=_at("2027-01-04 17:00"), status="met")
    assert measured[("NEW-YEAR", "resolution")][-1] is True
    assert measured[("NATIONAL-DAY", "resolution")][-1] is False


def test_lunch_break_is_not_counted(measured):
    # 11:30-12:00 and 13:00-13:20; the 60-minute target ends at 13:30, not 12:30
    _check(measured, "LUNCH", "response", business=50, calendar=110, due=_at("2025-11-12 13:30"), status="met")


def test_round_the_clock_policy(measured):
    _check(measured, "ROUND-CLOCK", "response", business=10, due=_at("2026-03-01 08:15"), status="met")
    _check(measured, "ROUND-CLOCK", "resolution", business=270, due=_at("2026-03-01 12:00"), status="breached",
           breach=30)  # fmt: skip


def test_priority_at_open_sets_the_targets(measured):
    # Opened P3, raised to P1 later: P3's 60-minute response target applies, so 40 minutes is met.
    assert measured[("UPGRADED", "response")][:3] == ("S24", "P3", 60)
    _check(measured, "UPGRADED", "response", business=40, due=_at("2026-03-02 09:00"), status="met")


def test_reopened_ticket_is_measured_to_its_final_resolution(measured):
    _check(measured, "REOPENED", "resolution", business=300, due=_at("2026-03-03 12:00"), status="breached",
           breach=60)  # fmt: skip
    assert measured[("REOPENED", "resolution")][-2] is True


def test_no_policy_is_never_met(measured):
    assert {metric: row[8] for (ticket, metric), row in measured.items() if ticket == "NO-POLICY"} == {
        "response": "no_policy",
        "resolution": "no_policy",
    }


def test_an_empty_target_is_not_measured(measured, tool_environment):
    # PART's P2 row has no response target: a remote ticket is measured on its resolution only.
    assert [metric for ticket, metric in measured if ticket == "PART-TARGET"] == ["resolution"]
    _check(measured, "PART-TARGET", "resolution", business=120, due=_at("2026-03-05 16:00"), status="met")
    # BLANK's P2 row has no target at all: nothing is measured, and the ticket has no policy to meet.
    assert [metric for ticket, metric in measured if ticket == "BLANK-TARGETS"] == []
    with psycopg.connect(tool_environment) as conn:
        tickets = conn.execute(
            "select ticket_id, response_status, resolution_status, sla_status from marts.fct_tickets"
            " where ticket_id in ('PART-TARGET', 'BLANK-TARGETS') order by ticket_id"
        ).fetchall()
    assert tickets == [
        ("BLANK-TARGETS", "not_applicable", "not_applicable", "no_policy"),
        ("PART-TARGET", "not_applicable", "met", "met"),
    ]


def test_policy_in_new_york_time(measured):
    # Fri 09:00-17:30 New York less lunch = 450, Mon 08:30-10:00 = 90
    _check(measured, "NEW-YORK", "resolution", business=540, due=_at("2025-11-18 09:00", NEW_YORK), status="met")


def test_open_tickets_are_in_progress_or_already_breached(measured):
    # As-of 2027-01-11 00:00: 120 minutes into a 240-minute target, and 840 minutes into it.
    _check(measured, "OPEN-LATE", "resolution", business=120, due=_at("2027-01-11 02:00"), status="in_progress")
    _check(measured, "OPEN-OVERDUE", "resolution", business=840, due=_at("2027-01-10 14:00"), status="breached",
           breach=600)  # fmt: skip


def test_tool_verdicts_are_reconciled(measured, tool_environment):
    with psycopg.connect(tool_environment) as conn:
        detail = conn.execute("select ticket_id, agrees from marts.sla_reconciliation order by ticket_id").fetchall()
        monthly = conn.execute(
            "select grain_id, month, compared, agreeing, agreement_rate, resolved_at_closing,"
            " disagreeing_resolved_at_closing from marts.sla_reconciliation_monthly"
            " where grain = 'organisation' order by month"
        ).fetchall()
    # The tool missed ROUND-CLOCK's late resolution, and judged CLOSED-NO-RESOLUTION breached.
    assert detail == [("CLOSED-NO-RESOLUTION", False), ("LUNCH", True), ("ROUND-CLOCK", False)]
    assert monthly == [
        ("ORG", dt.date(2025, 11, 1), 1, 1, Decimal("1.000000"), 0, 0),
        ("ORG", dt.date(2026, 3, 1), 1, 0, Decimal("0.000000"), 0, 0),
        ("ORG", dt.date(2026, 11, 1), 1, 0, Decimal("0.000000"), 1, 1),
    ]


def test_closed_without_resolution_time_is_resolved_at_closing(measured, tool_environment):
    # 7x24, P3: resolution target 1,440 min. Closed 6 h after opening: met, on the closing time;
    # without the rule it would run to the as-of moment (69 days 15 h) and be breached by 98,820 min.
    _check(measured, "CLOSED-NO-RESOLUTION", "resolution", business=360, due=_at("2026-11-03 09:00"), status="met")
    # Its source does not judge such resolutions: the response alone is measured.
    assert [metric for ticket, metric in measured if ticket == "CLOSED-UNMEASURED"] == ["response"]
    with psycopg.connect(tool_environment) as conn:
        tickets = conn.execute(
            "select ticket_id, resolved_at, is_resolved_at_closing, sla_status, resolution_status from marts.fct_tickets"
            " where ticket_id in ('CLOSED-NO-RESOLUTION', 'CLOSED-UNMEASURED', 'ROUND-CLOCK') order by ticket_id"
        ).fetchall()
        flags = conn.execute(
            "select ticket_id, metric from marts.fct_ticket_sla where is_done_at_closing order by ticket_id"
        ).fetchall()
    assert tickets == [
        ("CLOSED-NO-RESOLUTION", _at("2026-11-02 15:00"), True, "met", "met"),
        ("CLOSED-UNMEASURED", _at("2026-11-03 10:00"), True, "met", "not_applicable"),
        ("ROUND-CLOCK", _at("2026-03-01 12:30"), False, "breached", "breached"),
    ]
    assert flags == [("CLOSED-NO-RESOLUTION", "resolution")]


def test_dim_calendar_marks_holidays_adjusted_days_and_the_fallback(measured, tool_environment):
    with psycopg.connect(tool_environment) as conn:
        days = conn.execute(
            "select calendar_date, is_workday, is_statutory_holiday, is_adjusted_workday, calendar_source"
            " from marts.dim_calendar where calendar_date in ('2025-10-01', '2025-10-11', '2026-12-31', '2027-01-01')"
            " order by calendar_date"
        ).fetchall()
    assert days == [
        (dt.date(2025, 10, 1), False, True, False, "chinesecalendar"),
        (dt.date(2025, 10, 11), True, False, True, "chinesecalendar"),
        (dt.date(2026, 12, 31), True, False, False, "chinesecalendar"),
        (dt.date(2027, 1, 1), True, False, False, "weekday_fallback"),
    ]
