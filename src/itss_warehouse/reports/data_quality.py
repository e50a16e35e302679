"""The data-quality status every report states, and the gate that stops a report on bad inputs.

The status is the latest validation run of the raw batches and of the marts
(``raw.validation_runs``) plus the unit's records held in quarantine in its period. A report is refused when the
marts were never validated or when the latest run of either scope failed a critical check:
a customer must never receive figures built from data that failed validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from itss_warehouse.reports.base import Cursor
from itss_warehouse.reports.formatting import IN_SCOPE
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE
from itss_warehouse.warehouse.connection import one_row

QUARANTINED_SHOWN = 20

LATEST_RUNS = """
    select distinct on (scope) scope, validated_at, warnings, failures
    from raw.validation_runs
    order by scope, run_id desc
"""

# The quarantined records of the unit's projects and period (restricted.quarantined_records
# places each one), each once with all its problems; one without a project only in the
# organisation's reports.
QUARANTINED_RECORDS = f"""
    select records.source_file, records.source_row, records.problems, count(*) over () as total
    from restricted.quarantined_records as records
    left join marts.dim_projects as projects on records.project_id = projects.project_id
    where records.day >= %(start)s and records.day < %(end)s
      and (%(grain)s = 'organisation' or {IN_SCOPE.format(projects="projects")})
    order by records.day, records.batch_id, records.source_row
    limit %(limit)s
"""


class ReportBlocked(RuntimeError):
    """The inputs failed validation (or were never validated): no report is produced."""


def status(cur: Cursor) -> dict[str, Any]:
    """The latest validation of the inputs; raises ReportBlocked when they failed validation."""
    runs = {row["scope"]: row for row in cur.execute(LATEST_RUNS).fetchall()}
    if "marts" not in runs:
        raise ReportBlocked("the marts have never been validated: run the nightly pipeline first")
    failures = [message for run in runs.values() for message in run["failures"]]
    if failures:
        raise ReportBlocked("the latest validation failed, so no report is produced:\n  " + "\n  ".join(failures))
    return {
        "validated_at": runs["marts"]["validated_at"],
        "warnings": [message for scope in ("raw", "marts") if scope in runs for message in runs[scope]["warnings"]],
    }


def quarantined(cur: Cursor, params: dict[str, Any]) -> dict[str, Any]:
    """The unit's quarantined records in its period: how many, and the first ones."""
    records = cur.execute(QUARANTINED_RECORDS, {**params, "limit": QUARANTINED_SHOWN}).fetchall()
    return {"count": records[0]["total"] if records else 0, "records": records}


# What unblocks the reports, named in every blocked answer (the CLI's exit, the DAG's alert).
UNBLOCK = (
    "To unblock the reports: withdraw the bad export with `itss batch withdraw FILE --reason TEXT`, or correct"
    " the data and re-check it with `itss validate`; the next nightly run that validates renders them."
)


@dataclass(frozen=True)
class Gate:
    """The reports' gate for a period: ready, not yet (waiting for the nightly run after it closed) or blocked."""

    state: Literal["ready", "waiting", "blocked"]
    reason: str


def report_gate(url: str, period_end: date) -> Gate:
    """Whether the reports of a period ending on ``period_end`` (exclusive) can be produced.

    Ready once the marts passed a validation run after the period closed (Beijing time);
    the monthly DAG waits for this, the nightly run after a month closes having rebuilt and
    validated every figure of that month. Blocked when a validation run since then failed
    critically (waiting would only wait for a fix a person must make); not yet otherwise.
    """
    start = datetime.combine(period_end, time(), tzinfo=LOCAL_TIMEZONE)
    waiting = Gate("waiting", f"the marts have not been validated since {start:%Y-%m-%d %H:%M %Z}: the nightly run"
                              " after the period closed has not validated them yet")  # fmt: skip
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        exists = one_row(cur.execute("select to_regclass('raw.validation_runs') is not null as exists"))["exists"]
        if not exists:
            return waiting
        latest = one_row(cur.execute("select max(validated_at) as at from raw.validation_runs"))["at"]
        try:
            validated_at = status(cur)["validated_at"]
        except ReportBlocked as blocked:
            return Gate("blocked", f"{blocked}\n{UNBLOCK}") if latest and latest >= start else waiting
    return (
        Gate("ready", f"the marts passed validation at {validated_at:%Y-%m-%d %H:%M}")
        if validated_at >= start
        else waiting
    )
