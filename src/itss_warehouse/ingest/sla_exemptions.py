"""The rules a filled-in SLA exemption row must keep, checked as its batch is mapped.

An exemption (SLA 豁免) excuses a breach the customer caused, once the customer's
representative agreed. Besides the field checks of its validation suite, each row must name
a ticket the warehouse has (a ticket row of an accepted batch: batches are mapped in load
order, so the tickets of the same night count when their file was loaded first) and a
metric that breached. The breach is judged on marts.fct_ticket_sla as the last build measured
the ticket: a metric met, still in progress or not measured for the ticket at all did not
breach, and the row is quarantined with the reason. A ticket the last build has not measured
(an empty warehouse, a ticket new tonight) cannot be judged yet: its row is accepted, the
marts apply it to breached metrics only, and marts.sla_exemptions shows whether it applied
(DECISIONS.md, "SLA exemptions").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg

from itss_warehouse.warehouse.connection import one_row
from itss_warehouse.warehouse.raw import QuarantinedRow, record_quarantined

ENTITY = "sla_exemptions"

# Ticket ids with a row in an accepted batch (neither withdrawn nor failed in validation).
KNOWN_TICKETS = """
    select distinct tickets.ticket_id
    from raw.tickets as tickets
    where tickets.ticket_id = any(%s)
      and tickets._batch_id not in (
          select batch_id from raw.load_batches
          where withdrawn_at is not null or cardinality(validation_failures) > 0)
"""


@dataclass(frozen=True)
class ExemptionEntry:
    row: int
    ticket_id: str | None
    metric: str | None


def _entries(frame: pd.DataFrame) -> list[ExemptionEntry]:
    selected = frame.reindex(columns=["_source_row", "ticket_id", "metric"])
    return [
        ExemptionEntry(int(row), None if pd.isna(ticket) else str(ticket), None if pd.isna(metric) else str(metric))
        for row, ticket, metric in selected.itertuples(index=False, name=None)
    ]


def _measured_statuses(conn: psycopg.Connection, ticket_ids: list[str]) -> dict[str, dict[str, str]]:
    """Each ticket's status per metric as the last build measured it; none before the first build."""
    if one_row(conn.execute("select to_regclass('marts.fct_ticket_sla')"))[0] is None:
        return {}
    statuses: dict[str, dict[str, str]] = {}
    rows = conn.execute(
        "select ticket_id, metric, status from marts.fct_ticket_sla where ticket_id = any(%s)", (ticket_ids,)
    ).fetchall()
    for ticket_id, metric, status in rows:
        statuses.setdefault(ticket_id, {})[metric] = status
    return statuses


def exemption_problem(
    entry: ExemptionEntry, known: set[str], measured: dict[str, dict[str, str]]
) -> tuple[str, str | None, str] | None:
    """(column, raw value, reason) if ``entry`` cannot be accepted, else None."""
    if not entry.ticket_id or not entry.metric:
        return None  # the validation suite quarantines a missing field
    if entry.ticket_id not in known:
        return "ticket_id", entry.ticket_id, "unknown ticket: no ticket with this id has been loaded"
    statuses = measured.get(entry.ticket_id)
    if statuses is None:
        return None  # not measured yet: the marts apply it to breached metrics only
    if entry.metric == "all":
        if "breached" in statuses.values():
            return None
        return "metric", entry.metric, "did not breach: no metric of the ticket is breached"
    status = statuses.get(entry.metric)
    if status == "breached":
        return None
    return "metric", entry.metric, f"did not breach: the {entry.metric} metric is {status or 'not measured'}"


def quarantine_exemption_rows(conn: psycopg.Connection, batch_id: int, file_name: str, frame: pd.DataFrame) -> int:
    """Quarantine the mapped rows of ``frame`` whose ticket is unknown or did not breach; return how many."""
    entries = _entries(frame)
    ticket_ids = sorted({entry.ticket_id for entry in entries if entry.ticket_id})
    known = {row[0] for row in conn.execute(KNOWN_TICKETS, (ticket_ids,)).fetchall()}
    measured = _measured_statuses(conn, ticket_ids)
    problems = [(entry.row, exemption_problem(entry, known, measured)) for entry in entries]
    quarantined = [
        # Named as the mapping step's checks, which re-validating a batch keeps (validate.runner).
        QuarantinedRow(batch_id, ENTITY, file_name, row, f"mapping:exemption:{problem[0]}", *problem)
        for row, problem in problems
        if problem
    ]
    record_quarantined(conn, quarantined)
    return len(quarantined)
