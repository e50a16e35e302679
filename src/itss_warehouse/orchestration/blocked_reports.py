"""The report runs the gate blocked, kept until a run of the same DAG and period passes the gate.

A report DAG run whose inputs failed validation fails at once (no day-long sensor) and is
recorded here; the nightly run that validates the marts again re-triggers every recorded run
whose gate is now open (``TriggerDagRunOperator`` with the recorded run id: Airflow clears
that run and runs it again). A row leaves when a run for its period passes the gate (the
re-triggered one, or one a person started, e.g. `itss run`), so a re-trigger that did not
happen is tried again the next night. This module owns ``raw.blocked_report_runs``.
"""

from __future__ import annotations

import datetime as dt

import psycopg

from itss_warehouse.warehouse.connection import lock_ddl

TABLE = """
    create table if not exists raw.blocked_report_runs (
        dag_id text not null,
        period text not null,
        run_id text not null,
        period_type text not null,
        day date not null,
        reason text not null,
        blocked_at timestamptz not null default now(),
        primary key (dag_id, period)
    )
"""


def _connect(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url)
    lock_ddl(conn)  # held until the transaction ends: two report DAGs may create the table at once
    conn.execute(TABLE)
    return conn


def record(url: str, dag_id: str, period: str, run_id: str, period_type: str, day: dt.date, reason: str) -> None:
    """Record the blocked run of ``dag_id`` for ``period`` (the latest one, when it was blocked before)."""
    with _connect(url) as conn:
        conn.execute(
            "insert into raw.blocked_report_runs (dag_id, period, run_id, period_type, day, reason)"
            " values (%s, %s, %s, %s, %s, %s) on conflict (dag_id, period) do update"
            " set run_id = excluded.run_id, day = excluded.day, reason = excluded.reason, blocked_at = now()",
            (dag_id, period, run_id, period_type, day, reason),
        )


def clear(url: str, dag_id: str, period: str) -> None:
    with _connect(url) as conn:
        conn.execute("delete from raw.blocked_report_runs where dag_id = %s and period = %s", (dag_id, period))


def recorded(url: str) -> list[tuple[str, str, str, dt.date]]:
    """(dag_id, run_id, period_type, day) of every blocked run, oldest first."""
    with _connect(url) as conn:
        rows = conn.execute("select dag_id, run_id, period_type, day from raw.blocked_report_runs order by blocked_at")
        return [(dag_id, run_id, period_type, day) for dag_id, run_id, period_type, day in rows]
