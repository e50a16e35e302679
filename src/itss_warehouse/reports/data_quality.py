"""The data-quality status every report states, and the gate that stops a report on bad inputs.

The status is the latest validation run of the raw batches and of the marts
(``raw.validation_runs``) plus the rows held in quarantine. A report is refused when the
marts were never validated or when the latest run of either scope failed a critical check:
a customer must never receive figures built from data that failed validation.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import psycopg
from psycopg.rows import dict_row

from itss_warehouse.xlsx import LOCAL_TIMEZONE

QUARANTINE_ROWS_SHOWN = 20

LATEST_RUNS = """
    select distinct on (scope) scope, validated_at, warnings, failures
    from raw.validation_runs
    order by scope, run_id desc
"""

# Rows, not findings: one row may fail several checks.
QUARANTINE_COUNT = """
    select count(*) as count
    from (select distinct entity, batch_id, source_row from raw.quarantined_rows) as quarantined
"""

QUARANTINE_ROWS = """
    select source_file, source_row, column_name, raw_value, reason
    from raw.quarantined_rows
    order by batch_id, source_file, source_row, check_name
    limit %(limit)s
"""


class ReportBlocked(RuntimeError):
    """The inputs failed validation (or were never validated): no report is produced."""


def status(cur: psycopg.Cursor) -> dict[str, Any]:
    """The inputs' status for the report header; raises ReportBlocked when they failed validation."""
    runs = {row["scope"]: row for row in cur.execute(LATEST_RUNS).fetchall()}
    if "marts" not in runs:
        raise ReportBlocked("the marts have never been validated: run the nightly pipeline first")
    failures = [message for run in runs.values() for message in run["failures"]]
    if failures:
        raise ReportBlocked("the latest validation failed, so no report is produced:\n  " + "\n  ".join(failures))
    count = cur.execute(QUARANTINE_COUNT).fetchone()["count"]
    return {
        "validated_at": runs["marts"]["validated_at"],
        "warnings": [message for scope in ("raw", "marts") if scope in runs for message in runs[scope]["warnings"]],
        "quarantined": count,
        "quarantined_rows": cur.execute(QUARANTINE_ROWS, {"limit": QUARANTINE_ROWS_SHOWN}).fetchall() if count else [],
    }


def marts_validated_since(url: str, period_end: date) -> bool:
    """Whether the marts passed a validation run after ``period_end`` began (Beijing time).

    The monthly DAG waits on this: the nightly run after a month closes has then rebuilt
    and validated every figure of that month.
    """
    start = datetime.combine(period_end, time(), tzinfo=LOCAL_TIMEZONE)
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        exists = cur.execute("select to_regclass('raw.validation_runs') is not null as exists").fetchone()["exists"]
        if not exists:
            return False
        try:
            return status(cur)["validated_at"] >= start
        except ReportBlocked:
            return False
