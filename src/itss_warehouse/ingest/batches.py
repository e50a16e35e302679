"""The landed batches as people manage them: list them, withdraw a bad export, restore it.

A withdrawn batch keeps its raw rows (nothing is lost) but no build reads them: dbt's
staging models skip withdrawn batches (macro ``not_quarantined``), so the marts become what
they would be had the file never arrived. When the marts already hold the batch, the
withdrawal asks for a full build (``raw.rebuild_requests``), which the next nightly run (or
``itss warehouse rebuild``) makes; the reports wait for it. The same file dropped again is
skipped as already loaded, so it stays withdrawn until restored; a corrected file (other
bytes) is a new batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from itss_warehouse.warehouse.raw import ensure_raw_tables


class BatchError(ValueError):
    """No such batch, or a change it cannot take."""


@dataclass(frozen=True)
class Batch:
    batch_id: int
    source_name: str
    entity: str
    file_name: str
    loaded_at: dt.datetime
    rows: int
    quarantined_rows: int
    status: str  # withdrawn, failed, not validated, passed
    failures: list[str]
    withdrawal: str | None  # who, when, why

    def as_row(self) -> list[str]:
        return [str(self.batch_id), self.source_name, self.file_name, f"{self.loaded_at:%Y-%m-%d %H:%M}",
                str(self.rows), str(self.quarantined_rows), self.status]  # fmt: skip


BATCHES = """
    select batches.batch_id, batches.source_name, batches.entity, batches.file_name, batches.loaded_at,
           batches.row_count,
           (select count(distinct source_row) from raw.quarantined_rows as quarantined
            where quarantined.entity = batches.entity and quarantined.batch_id = batches.batch_id),
           case when batches.withdrawn_at is not null then 'withdrawn'
                when batches.mapped_at is null then 'not mapped'
                when batches.validated_at is null then 'not validated'
                when cardinality(batches.validation_failures) > 0 then 'failed'
                else 'passed' end,
           coalesce(batches.validation_failures, '{}'),
           case when batches.withdrawn_at is not null then
               batches.withdrawn_by || ', ' || to_char(batches.withdrawn_at at time zone 'Asia/Shanghai',
               'YYYY-MM-DD HH24:MI') || ': ' || batches.withdrawal_reason end
    from raw.load_batches as batches
    where (%(source)s::text is null or batches.source_name = %(source)s)
      and (%(since)s::date is null or batches.loaded_at >= %(since)s::date)
      and (%(batch_ids)s::bigint[] is null or batches.batch_id = any(%(batch_ids)s))
    order by batches.batch_id
"""


def list_batches(conn: psycopg.Connection, source: str | None = None, since: dt.date | None = None) -> list[Batch]:
    return [Batch(*row) for row in conn.execute(BATCHES, {"source": source, "since": since, "batch_ids": None})]


def find_batch(conn: psycopg.Connection, file_or_id: str) -> Batch:
    """The batch with this id, or the latest batch of this file name."""
    if file_or_id.isdigit():
        ids = [int(file_or_id)]
    else:
        ids = [row[0] for row in conn.execute(
            "select batch_id from raw.load_batches where file_name = %s order by batch_id desc limit 1", (file_or_id,)
        )]  # fmt: skip
    found = conn.execute(BATCHES, {"source": None, "since": None, "batch_ids": ids}).fetchall() if ids else []
    if not found:
        raise BatchError(f"no loaded batch {file_or_id!r}: `itss batch list` shows the batches")
    return Batch(*found[0])


def request_rebuild(conn: psycopg.Connection, reason: str) -> None:
    """Make the next build a full one: the incremental models read only batches after the latest
    they hold, so they can neither forget a batch nor take one in behind it."""
    conn.execute("insert into raw.rebuild_requests (reason) values (%s)", (reason,))


def _change(url: str, file_or_id: str, reason: str, actor: str, withdrawn: bool) -> tuple[Batch, bool]:
    action = "withdrawn" if withdrawn else "restored"
    if not reason.strip():
        raise BatchError(f"a batch is {action} only with a reason (--reason)")
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        batch = find_batch(conn, file_or_id)
        if (batch.status == "withdrawn") == withdrawn:
            state = f"already withdrawn: {batch.withdrawal}" if withdrawn else "not withdrawn"
            raise BatchError(f"batch {batch.batch_id} ({batch.file_name}) is {state}")
        conn.execute(
            "update raw.load_batches set withdrawn_at = case when %(withdrawn)s then now() end,"
            " withdrawn_by = case when %(withdrawn)s then %(actor)s end,"
            " withdrawal_reason = case when %(withdrawn)s then %(reason)s end where batch_id = %(batch_id)s",
            {"withdrawn": withdrawn, "actor": actor, "reason": reason, "batch_id": batch.batch_id},
        )
        conn.execute(
            "insert into raw.batch_withdrawals (batch_id, action, actor, reason) values (%s, %s, %s, %s)",
            (batch.batch_id, action, actor, reason),
        )
        # Builds never read a batch that failed validation or was never mapped: nothing to forget.
        rebuild = not withdrawn or batch.status in ("passed", "not validated")
        if rebuild:
            request_rebuild(conn, f"batch {batch.batch_id} ({batch.file_name}) {action}")
        return find_batch(conn, str(batch.batch_id)), rebuild


def withdraw(url: str, file_or_id: str, reason: str, actor: str) -> tuple[Batch, bool]:
    """Withdraw a batch; return it and whether the marts need a full build to drop it."""
    return _change(url, file_or_id, reason, actor, withdrawn=True)


def restore(url: str, file_or_id: str, reason: str, actor: str) -> tuple[Batch, bool]:
    """Let a withdrawn batch in again; return it and whether the marts need a full build to take it."""
    return _change(url, file_or_id, reason, actor, withdrawn=False)
