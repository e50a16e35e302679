"""The data-quality status every report states, and the gate that stops a report on bad inputs.

The status is the latest validation run of the raw batches and of the marts
(``raw.validation_runs``), the unit's records held in quarantine in its period and the
withdrawn exports touching it. A report is refused while the gate is closed
(:mod:`itss_warehouse.validate.gate`: a current batch failed validation, the marts await a
rebuild, or their latest validation failed): a customer must never receive figures built
from data that failed validation.
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
from itss_warehouse.validate import gate
from itss_warehouse.warehouse.connection import one_row

QUARANTINED_SHOWN = 20

LATEST_RUNS = """
    select distinct on (scope) scope, validated_at, warnings, failures
    from raw.validation_runs
    order by scope, run_id desc
"""

# The quarantined records of the unit's projects and period (restricted.quarantined_records
# places each one), each once with all its problems; one without a project only in the
# organisation's reports. A withdrawn batch's records are not listed: its withdrawal is.
QUARANTINED_RECORDS = f"""
    select records.source_file, records.source_row, records.problems, count(*) over () as total
    from restricted.quarantined_records as records
    left join marts.dim_projects as projects on records.project_id = projects.project_id
    inner join raw.load_batches as batches on records.batch_id = batches.batch_id and batches.withdrawn_at is null
    where records.day >= %(start)s and records.day < %(end)s
      and (%(grain)s = 'organisation' or {IN_SCOPE.format(projects="projects")})
    order by records.day, records.batch_id, records.source_row
    limit %(limit)s
"""


# The withdrawn exports with records in the unit's projects and period (restricted.withdrawn_batches).
WITHDRAWALS = f"""
    select withdrawals.batch_id, withdrawals.file_name, withdrawals.withdrawn_at, withdrawals.withdrawn_by,
           withdrawals.withdrawal_reason, sum(withdrawals.records)::integer as records
    from restricted.withdrawn_batches as withdrawals
    left join marts.dim_projects as projects on withdrawals.project_id = projects.project_id
    where withdrawals.month_start >= %(start)s and withdrawals.month_start < %(end)s
      and (%(grain)s = 'organisation' or {IN_SCOPE.format(projects="projects")})
    group by 1, 2, 3, 4, 5
    order by withdrawals.withdrawn_at, withdrawals.batch_id
"""


class ReportBlocked(RuntimeError):
    """The inputs failed validation (or were never validated): no report is produced."""


def status(cur: Cursor) -> dict[str, Any]:
    """The latest validation of the inputs; raises ReportBlocked when the gate is closed (validate.gate)."""
    if reasons := gate.blockers(cur.connection):
        raise ReportBlocked("no report is produced:\n  " + "\n  ".join(reasons))
    runs = {row["scope"]: row for row in cur.execute(LATEST_RUNS).fetchall()}
    return {
        "validated_at": runs["marts"]["validated_at"],
        "warnings": [message for scope in ("raw", "marts") if scope in runs for message in runs[scope]["warnings"]],
    }


def quarantined(cur: Cursor, params: dict[str, Any]) -> dict[str, Any]:
    """The unit's quarantined records in its period: how many, and the first ones."""
    records = cur.execute(QUARANTINED_RECORDS, {**params, "limit": QUARANTINED_SHOWN}).fetchall()
    return {"count": records[0]["total"] if records else 0, "records": records}


def withdrawals(cur: Cursor, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The withdrawn exports whose records fall in the unit's projects and period: file, who, when, why, how many."""
    return cur.execute(WITHDRAWALS, params).fetchall()


# Each of the gate's reasons names its command; a blocked answer (the CLI's exit, the DAG's alert) adds what follows.
UNBLOCK = "Once the gate is open, the next nightly run that validates the marts renders these reports."


@dataclass(frozen=True)
class Gate:
    """The reports' gate for a period: ready, not yet (waiting for the nightly run after it closed) or blocked."""

    state: Literal["ready", "waiting", "blocked"]
    reason: str


def report_gate(url: str, period_end: date) -> Gate:
    """Whether the reports of a period ending on ``period_end`` (exclusive) can be produced.

    Ready once the marts passed a validation run after the period closed (Beijing time);
    the monthly DAG waits for this, the nightly run after a month closes having rebuilt and
    validated every figure of that month. Blocked when the gate is closed (validate.gate: a
    current batch failed, a full build waits, the marts failed) and a validation ran since
    (waiting would only wait for a fix a person must make); not yet otherwise.
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
