"""The optional approval step: a report reviewed and approved (itss report approve) before it is sent.

Which reports need it is configuration (``approval: true`` on a recipient group, see
``mail.recipients``); without it nothing changes. An approval is given to a report's
*content*: its fingerprint, a hash of every row the report read from the warehouse while
rendering (figures, as-of times, data quality). The rows do not depend on the language, so
one approval covers the zh-CN and the English report. Rendering the report again with the
same data keeps the approval; with changed figures the fingerprint differs, the old
approval no longer counts and the report is a draft again until approved anew.

Each rendered HTML report carries its fingerprint and whether it was approved in two
``<meta>`` tags: approving reads what the approver was shown, sending reads what it sends.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from itss_warehouse.warehouse import raw
from itss_warehouse.warehouse.connection import one_row

ROLES = ("reviewed", "approved")  # in this order: approving needs a review of the same content

# The latest of each role given to this content.
APPROVALS = """
    select distinct on (role) role, approved_by, approved_at
    from raw.report_approvals
    where report_kind = %s and period = %s and unit_id = %s and fingerprint = %s
    order by role, approved_at desc, approval_id desc
"""

INSERT = """
    insert into raw.report_approvals (report_kind, period, unit_id, role, approved_by, fingerprint)
    values (%s, %s, %s, %s, %s, %s)
    returning approved_at
"""

# As base.html.j2 writes them into the report's head.
_META = re.compile(r'<meta name="itss-(fingerprint|approval)" content="([^"]*)">')


# The option naming a report's unit, as `itss report` takes it; the other kinds have one report a period.
UNIT_OPTIONS = {"service_report": "--project", "quality_report": "--department"}


class ApprovalError(ValueError):
    """An approval that cannot be recorded: the message says why and what to do."""


class FingerprintingCursor(psycopg.Cursor[DictRow]):
    """A dict-row cursor that hashes every row it returns: the fingerprint of what a report read."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        super().__init__(connection, row_factory=dict_row)
        self._digest = hashlib.sha256()
        self._sealed = False

    def seal(self) -> str:
        """The fingerprint of the rows read so far; later rows (the appendix, the approvals) do not count."""
        self._sealed = True
        return self._digest.hexdigest()

    def _hash(self, rows: list[DictRow]) -> None:
        if self._sealed:
            return
        for row in rows:
            self._digest.update(json.dumps(row, default=str, sort_keys=True).encode())

    def fetchone(self) -> DictRow | None:
        row = super().fetchone()
        self._hash([row] if row is not None else [])
        return row

    def fetchmany(self, size: int = 0) -> list[DictRow]:
        rows = super().fetchmany(size)
        self._hash(rows)
        return rows

    def fetchall(self) -> list[DictRow]:
        rows = super().fetchall()
        self._hash(rows)
        return rows

    def __next__(self) -> DictRow:
        row = super().__next__()
        self._hash([row])
        return row


@dataclass(frozen=True)
class ArchivedState:
    """What an archived HTML report says of itself."""

    fingerprint: str
    approval: str  # "approved", "draft" or "not_required"


def approvals(cur: psycopg.Cursor[DictRow], kind: str, period: str, unit_id: str, fingerprint: str) -> dict:
    """The template's ``approvals``: role → {"by", "at"} of the latest given to this content; empty if none."""
    if not one_row(cur.execute("select to_regclass('raw.report_approvals') is not null as present"))["present"]:
        return {}  # nothing was ever approved in this warehouse
    found = {row["role"]: row for row in cur.execute(APPROVALS, (kind, period, unit_id, fingerprint)).fetchall()}
    # In the roles' order, as a document control block lists them: reviewed, then approved.
    return {
        role: {"by": found[role]["approved_by"], "at": found[role]["approved_at"]} for role in ROLES if role in found
    }


def record(url: str, kind: str, period: str, unit_id: str, role: str, by: str, fingerprint: str) -> datetime:
    """Record ``role`` by ``by`` for this content; approving needs its review first. Returns when."""
    if role not in ROLES:
        raise ApprovalError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    with psycopg.connect(url) as conn:
        raw.ensure_report_approvals(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            given = approvals(cur, kind, period, unit_id, fingerprint)
            if role == "approved" and "reviewed" not in given:
                raise ApprovalError(
                    f"the {kind} {unit_id} {period} has not been reviewed in its current content:"
                    " record the review first (--as reviewed), then the approval"
                )
            row = cur.execute(INSERT, (kind, period, unit_id, role, by, fingerprint)).fetchone()
    assert row is not None  # insert … returning gives its row
    return row["approved_at"]


def state(required: bool, given: dict) -> str:
    """The report's ``approval`` tag (base.html.j2 writes it, ``archived_state`` reads it)."""
    if not required:
        return "not_required"
    return "approved" if "approved" in given else "draft"


def archived_state(html: Path) -> ArchivedState | None:
    """The fingerprint and approval an archived HTML report was rendered with; None if it has none."""
    if not html.exists():
        return None
    found = dict(_META.findall(html.read_text(encoding="utf-8")[:4000]))
    if "fingerprint" not in found:
        return None
    return ArchivedState(found["fingerprint"], found.get("approval", "not_required"))


def approve_command(kind: str, period: str, unit_id: str, role: str) -> str:
    """The command that records ``role`` for this report (``period`` as the command takes it)."""
    unit = f" {UNIT_OPTIONS[kind]} {unit_id}" if kind in UNIT_OPTIONS else ""
    return f"itss report approve {kind.removesuffix('_report')} --period {period}{unit} --as {role}"


def send_command(kind: str, period: str) -> str:
    """The command that sends the period's reports once approved (the report DAGs send only their own period)."""
    return f"itss mail {kind.removesuffix('_report')} --period {period}"
