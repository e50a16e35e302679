"""The reports' gate: may figures be published from the warehouse as it is now?

It reads what is current, not merely the last run: each batch's own verdict
(``raw.load_batches``), the withdrawals the marts have not been rebuilt for yet
(``raw.rebuild_requests``), and the latest validation of the marts. Each reason it gives
names what to run next.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import tuple_row

from itss_warehouse.warehouse.connection import one_row

FAILED_BATCHES = """
    select batch_id, file_name, validated_at is null, coalesce(validation_failures, '{}')
    from raw.load_batches
    where withdrawn_at is null and mapped_at is not null
      and (validated_at is null or cardinality(validation_failures) > 0)
    order by batch_id
"""
PENDING_REBUILDS = "select reason from raw.rebuild_requests where built_at is null order by request_id"
LATEST_MARTS_RUN = (
    "select validated_at, failures from raw.validation_runs where scope = 'marts' order by run_id desc limit 1"
)
BATCH_STATE_TABLES = ("raw.load_batches", "raw.rebuild_requests", "raw.validation_runs")


def blockers(conn: psycopg.Connection) -> list[str]:
    """Why no report may be produced now, each with what to do; empty when the gate is open."""
    cur = conn.cursor(row_factory=tuple_row)
    if any(one_row(cur.execute("select to_regclass(%s)", (table,)))[0] is None for table in BATCH_STATE_TABLES):
        return ["the warehouse has no loaded and validated data yet: run `itss run`"]
    if one_row(cur.execute(
        "select count(*) from information_schema.columns"
        " where table_schema = 'raw' and table_name = 'load_batches' and column_name = 'validated_at'"
    ))[0] == 0:  # fmt: skip
        return ["the warehouse predates batch verdicts: run `itss run` once to bring it up to date"]
    reasons = []
    for batch_id, file_name, never_validated, failures in cur.execute(FAILED_BATCHES).fetchall():
        what = "was never validated" if never_validated else "failed validation: " + "; ".join(failures)
        reasons.append(
            f"{file_name} (batch {batch_id}) {what}. Withdraw it (`itss batch withdraw {batch_id} --reason …`),"
            " or fix the cause (the source definition, a missing register) and re-check (`itss validate --raw`)"
        )
    pending = [row[0] for row in cur.execute(PENDING_REBUILDS).fetchall()]
    if pending:
        reasons.append(
            f"the marts wait for a full build ({'; '.join(pending)}): `itss warehouse rebuild` makes it now,"
            " or the next nightly run"
        )
    latest = cur.execute(LATEST_MARTS_RUN).fetchone()
    if latest is None:
        reasons.append("the marts have never been validated: run the nightly pipeline first (`itss run`)")
    elif latest[1]:
        reasons.append(
            "the marts failed validation: " + "; ".join(latest[1]) + ". Fix the cause, rebuild"
            " (`itss warehouse rebuild`) or re-check (`itss validate --marts`)"
        )
    return reasons
