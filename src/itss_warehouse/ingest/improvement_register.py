"""The rules a filled-in improvement register row must keep, checked as its batch is mapped.

The register comes back from people (``itss improvements export``, filled in, dropped in the
landing folder), so besides the field checks of its validation suite each row is held to the
item's life: it names an item the warehouse generated or is raised by hand (an audit, a
management review, a customer visit, with the day raised), its status never goes back from the item's last accepted
entry, it is verified only once done, and an open item has an owner. A row breaking one is
quarantined with the reason, and the item keeps its previous entry; nothing is dropped.

These rules need the warehouse (the generated items of the last build, the item's previous
entries), which a GX suite over one batch cannot read before the marts exist; so they run
here, in the mapping transaction, and an empty warehouse simply knows no generated item yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg

from itss_warehouse.ingest.canonical import HAND_RAISED_IMPROVEMENT_ORIGINS, IMPROVEMENT_STATUS_RANKS
from itss_warehouse.warehouse.connection import one_row
from itss_warehouse.warehouse.raw import QuarantinedRow, record_quarantined

ENTITY = "improvement_register"
OPEN_STATUSES = ("open", "in_progress")
VERIFIED_STATUSES = ("verified", "not_effective")

# Each item's last accepted entry before this batch: rows of earlier batches neither
# quarantined nor held back (withdrawn, failed validation), the latest batch's row winning.
PREVIOUS_STATUSES = """
    select distinct on (entries.item_id) entries.item_id, entries.status
    from raw.improvement_register as entries
    where entries._batch_id < %(batch_id)s
      and entries.item_id = any(%(item_ids)s)
      and not exists (
          select 1 from raw.quarantined_rows as quarantined
          where quarantined.entity = 'improvement_register' and quarantined.batch_id = entries._batch_id
            and quarantined.source_row = entries._source_row)
      and entries._batch_id not in (
          select batch_id from raw.load_batches
          where withdrawn_at is not null or cardinality(validation_failures) > 0)
    order by entries.item_id, entries._batch_id desc, entries._source_row desc
"""


@dataclass(frozen=True)
class RegisterEntry:
    row: int
    item_id: str | None
    origin: str | None
    raised_date: str | None
    status: str | None
    owner: str | None
    completed_date: str | None
    verified_date: str | None


def _entries(frame: pd.DataFrame) -> list[RegisterEntry]:
    fields = ("item_id", "origin", "raised_date", "status", "owner", "completed_date", "verified_date")
    # A source may leave a field unmapped: it is then empty in every row.
    selected = frame.reindex(columns=["_source_row", *fields])
    return [
        RegisterEntry(int(values[0]), *(None if pd.isna(value) else str(value) for value in values[1:]))
        for values in selected.itertuples(index=False, name=None)
    ]


def _generated_item_ids(conn: psycopg.Connection, item_ids: list[str]) -> set[str]:
    if one_row(conn.execute("select to_regclass('marts.improvement_items')"))[0] is None:
        return set()  # nothing built yet: no generated item exists
    rows = conn.execute("select item_id from marts.improvement_items where item_id = any(%s)", (item_ids,)).fetchall()
    return {row[0] for row in rows}


def entry_problems(
    entry: RegisterEntry, generated: set[str], previous_status: str | None
) -> list[tuple[str, str | None, str]]:
    """(column, raw value, reason) for each rule ``entry`` breaks."""
    problems: list[tuple[str, str | None, str]] = []
    if entry.item_id and entry.item_id not in generated and entry.origin not in HAND_RAISED_IMPROVEMENT_ORIGINS:
        problems.append(("item_id", entry.item_id, "unknown item id: not an item the warehouse generated, and the"
                         " origin does not say the item was raised by hand (audit, management review, customer"
                         " visit, other)"))  # fmt: skip
    if entry.origin in HAND_RAISED_IMPROVEMENT_ORIGINS and not entry.raised_date:
        problems.append(("raised_date", None, "an item raised by hand needs the day it was raised"))
    rank, previous_rank = (
        IMPROVEMENT_STATUS_RANKS.get(entry.status or ""),
        IMPROVEMENT_STATUS_RANKS.get(previous_status or ""),
    )
    if rank is not None and previous_rank is not None and rank < previous_rank:
        problems.append(("status", entry.status, f"status goes backwards: the item is already {previous_status}"))
    if entry.status in VERIFIED_STATUSES:
        if not entry.completed_date:
            problems.append(("status", entry.status, "verified before done: no completed date"))
        elif entry.verified_date and entry.verified_date < entry.completed_date:
            problems.append(("verified_date", entry.verified_date, "verified before done: verified date is before"
                             f" the completed date {entry.completed_date}"))  # fmt: skip
    if entry.status in OPEN_STATUSES and not entry.owner:
        problems.append(("owner", None, "missing owner on an open item"))
    return problems


def quarantine_register_rows(conn: psycopg.Connection, batch_id: int, file_name: str, frame: pd.DataFrame) -> int:
    """Quarantine the mapped rows of ``frame`` that break the register's rules; return how many rows."""
    entries = _entries(frame)
    item_ids = sorted({entry.item_id for entry in entries if entry.item_id})
    generated = _generated_item_ids(conn, item_ids)
    parameters = {"batch_id": batch_id, "item_ids": item_ids}
    previous: dict[str, str] = dict(conn.execute(PREVIOUS_STATUSES, parameters).fetchall())
    # One quarantine row per row and column, with every reason it breaks there.
    reasons: dict[tuple[int, str, str | None], list[str]] = {}
    for entry in entries:
        for column, value, reason in entry_problems(entry, generated, previous.get(entry.item_id or "")):
            reasons.setdefault((entry.row, column, value), []).append(reason)
    quarantined = [
        # Named as the mapping step's checks, which re-validating a batch keeps (validate.runner).
        QuarantinedRow(batch_id, ENTITY, file_name, row, f"mapping:register:{column}", column, value,
                       "; ".join(row_reasons))
        for (row, column, value), row_reasons in reasons.items()
    ]  # fmt: skip
    record_quarantined(conn, quarantined)
    return len({row.source_row for row in quarantined})
