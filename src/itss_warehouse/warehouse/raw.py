"""The ``raw`` schema's own tables, created here and nowhere else, and the helpers that write to them.

Every canonical entity has a table of text columns (``raw.tickets`` …), fed by the
mapping step; beside them the pipeline's bookkeeping: ``load_batches`` (one row per
landed file), ``quarantined_rows`` (what was kept out of the marts, and why),
``validation_runs`` (every validation, logged), ``batch_withdrawals`` and ``rebuild_requests``
(withdrawn exports, and the full builds they need), ``source_watermarks``
(where each database or API source's extraction stands), ``mail_log`` (every report
e-mail), ``report_approvals`` (who reviewed and approved which report content), ``issued_documents``
(every version of every report issued) and ``pseudonym_key``.
"""

from __future__ import annotations

import io
from dataclasses import astuple, dataclass

import pandas as pd
import psycopg
from psycopg import sql

from itss_warehouse.ingest.canonical import ENTITIES
from itss_warehouse.warehouse import pseudonym
from itss_warehouse.warehouse.connection import lock_ddl

PSEUDONYM_KEY = """
    create table if not exists raw.pseudonym_key (
        singleton boolean primary key default true check (singleton),
        inner_pad bytea not null,
        outer_pad bytea not null,
        created_at timestamptz not null default now()
    )
"""

SOURCE_WATERMARKS = """
    create table if not exists raw.source_watermarks (
        source_name text primary key,
        watermark text not null,
        file_name text,
        extracted_at timestamptz not null default now()
    )
"""

MAIL_LOG = """
    create table if not exists raw.mail_log (
        mail_id bigserial primary key,
        report_kind text not null,
        period text not null,
        unit_id text not null,
        language text not null,
        recipient text not null,
        checksum text not null,
        status text not null,
        is_correction boolean not null default false,
        attempts integer not null default 0,
        error text,
        logged_at timestamptz not null default now()
    );
    create index if not exists mail_log_report_idx on raw.mail_log (report_kind, period, unit_id, recipient)
"""

MAIL_STATUSES = "('sent', 'failed', 'written', 'withheld', 'awaiting_approval')"
MAIL_STATUS_CHECK = f"""
    alter table raw.mail_log drop constraint if exists mail_log_status_check;
    alter table raw.mail_log add constraint mail_log_status_check check (status in {MAIL_STATUSES})
"""

# Every review and approval of a report (itss report approve), kept: the latest of a role counts
# while the report's content still has the fingerprint it was given for.
REPORT_APPROVALS = """
    create table if not exists raw.report_approvals (
        approval_id bigserial primary key,
        report_kind text not null,
        period text not null,
        unit_id text not null,
        role text not null check (role in ('reviewed', 'approved')),
        approved_by text not null,
        approved_at timestamptz not null default now(),
        fingerprint text not null
    );
    create index if not exists report_approvals_report_idx on raw.report_approvals (report_kind, period, unit_id)
"""


# One row per version of a report document: a re-render with the same figures finds its row and
# keeps the version; other figures make the next version, saying what changed.
ISSUED_DOCUMENTS = """
    create table if not exists raw.issued_documents (
        report_kind text not null,
        period text not null,
        unit_id text not null,
        language text not null,
        version integer not null check (version >= 1),
        document_number text not null,
        fingerprint text not null,
        figures jsonb not null,
        change_note text not null,
        issued_at timestamptz not null default now(),
        primary key (report_kind, period, unit_id, language, version)
    )
"""

# Each batch's own state: its latest validation (the reports' gate reads this, not the last
# run) and whether it is withdrawn.
BATCH_STATE = """
    alter table raw.load_batches
        add column validated_at timestamptz,
        add column validation_failures text[],
        add column validation_warnings text[],
        add column withdrawn_at timestamptz,
        add column withdrawn_by text,
        add column withdrawal_reason text
"""

# Every withdrawal and restoration, kept: load_batches holds only the current state.
BATCH_WITHDRAWALS = """
    create table if not exists raw.batch_withdrawals (
        event_id bigserial primary key,
        batch_id bigint not null references raw.load_batches,
        action text not null check (action in ('withdrawn', 'restored')),
        actor text not null,
        reason text not null,
        happened_at timestamptz not null default now()
    )
"""

# A change to batches the marts already hold (a withdrawal, a batch let in again): the next
# build is a full one, and reports wait for it.
REBUILD_REQUESTS = """
    create table if not exists raw.rebuild_requests (
        request_id bigserial primary key,
        reason text not null,
        requested_at timestamptz not null default now(),
        built_at timestamptz
    )
"""


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """Create (or bring up to date) the tables every load writes to, and the pseudonym key."""
    lock_ddl(conn)
    conn.execute(PSEUDONYM_KEY)
    pseudonym.ensure_key(conn)
    conn.execute(
        """
        create table if not exists raw.load_batches (
            batch_id bigserial primary key,
            source_name text not null,
            entity text not null,
            file_name text not null,
            checksum text not null,
            header text[],
            landed_rows integer,
            row_count integer not null,
            loaded_at timestamptz not null default now(),
            mapped_at timestamptz,
            unique (source_name, checksum)
        )
        """
    )
    has_landing = conn.execute(
        "select 1 from information_schema.columns"
        " where table_schema = 'raw' and table_name = 'load_batches' and column_name = 'mapped_at'"
    ).fetchone()
    if not has_landing:
        # Batches loaded before landing tables existed were mapped while they loaded.
        conn.execute(
            "alter table raw.load_batches add column header text[], add column landed_rows integer,"
            " add column mapped_at timestamptz"
        )
        conn.execute("update raw.load_batches set mapped_at = loaded_at")
    if not conn.execute(
        "select 1 from information_schema.columns"
        " where table_schema = 'raw' and table_name = 'load_batches' and column_name = 'validated_at'"
    ).fetchone():
        conn.execute(BATCH_STATE)
        # Batches loaded before batches had a verdict of their own were validated as they loaded.
        conn.execute(
            "update raw.load_batches"
            " set validated_at = loaded_at, validation_failures = '{}', validation_warnings = '{}'"
        )
    conn.execute(BATCH_WITHDRAWALS)
    conn.execute(REBUILD_REQUESTS)
    conn.execute(
        """
        create table if not exists raw.quarantined_rows (
            batch_id bigint not null references raw.load_batches,
            entity text not null,
            source_file text not null,
            source_row integer not null,
            check_name text not null,
            column_name text,
            raw_value text,
            reason text not null,
            quarantined_at timestamptz not null default now(),
            primary key (entity, batch_id, source_row, check_name)
        )
        """
    )
    # One row per validation run, so reports can state (and be gated on) the status of their inputs.
    conn.execute(
        """
        create table if not exists raw.validation_runs (
            run_id bigserial primary key,
            scope text not null check (scope in ('raw', 'marts')),
            validated_at timestamptz not null default now(),
            checked integer not null,
            quarantined_rows integer not null,
            warnings text[] not null,
            failures text[] not null
        )
        """
    )
    if conn.execute(
        "select 1 from information_schema.tables where table_schema = 'raw' and table_name = 'sla_policies'"
        " and not exists (select 1 from information_schema.columns where table_schema = 'raw'"
        " and table_name = 'sla_policies' and column_name = 'valid_from')"
    ).fetchone():
        # A warehouse from before dated SLA policies: dbt reloads a seed into its existing table, which
        # lacks the seeds' new valid_from/valid_to columns, so the next build must be a full one.
        conn.execute(
            "insert into raw.rebuild_requests (reason) values"
            " ('the SLA seeds gained valid_from and valid_to (dated policies and calendars)')"
        )
    # Every canonical entity gets its table, fed or not, so staging and validation can rely on it.
    for entity, fields in ENTITIES.items():
        table = sql.Identifier("raw", entity)
        conn.execute(
            sql.SQL(
                "create table if not exists {} (_batch_id bigint not null references raw.load_batches,"
                " _source_file text not null, _source_row integer not null, _loaded_at timestamptz not null)"
            ).format(table)
        )
        for field in fields:
            conn.execute(
                sql.SQL("alter table {} add column if not exists {} text").format(table, sql.Identifier(field))
            )
        # By batch for staging's new rows, by load time for `dbt source freshness` (its
        # max(_loaded_at) would otherwise read the whole history every night).
        for column, index in (("_batch_id", f"{entity}_batch_idx"), ("_loaded_at", f"{entity}_loaded_at_idx")):
            conn.execute(
                sql.SQL("create index if not exists {} on {} ({})").format(
                    sql.Identifier(index), table, sql.Identifier(column)
                )
            )


def copy_frame(conn: psycopg.Connection, table: sql.Composable, frame: pd.DataFrame, keep_empty: bool = False) -> None:
    """Append ``frame`` to ``table``. Missing values become NULL, and so do empty strings
    unless ``keep_empty`` (then a NULL cannot come from the frame)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    names = sql.SQL(", ").join(sql.Identifier(column) for column in frame.columns)
    options = sql.SQL(", force_not_null ({})").format(names) if keep_empty else sql.SQL("")
    statement = sql.SQL("copy {} ({}) from stdin with (format csv{})").format(table, names, options)
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())


@dataclass(frozen=True)
class QuarantinedRow:
    """A row kept out of the marts, with why; the raw row (if it could be split into fields) stays."""

    batch_id: int
    entity: str
    source_file: str
    source_row: int
    check_name: str
    column_name: str | None
    raw_value: str | None
    reason: str


def record_quarantined(conn: psycopg.Connection, rows: list[QuarantinedRow]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            """
            insert into raw.quarantined_rows
                (batch_id, entity, source_file, source_row, check_name, column_name, raw_value, reason)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict do nothing
            """,
            [astuple(row) for row in rows],
        )


def ensure_source_watermarks(conn: psycopg.Connection) -> None:
    lock_ddl(conn)
    conn.execute(SOURCE_WATERMARKS)


def ensure_mail_log(conn: psycopg.Connection) -> None:
    lock_ddl(conn)
    conn.execute(MAIL_LOG)
    checked = conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'raw.mail_log'::regclass and conname = 'mail_log_status_check'"
    ).fetchone()
    if checked is None or "awaiting_approval" not in checked[0]:  # new, or from before the approval step
        conn.execute(MAIL_STATUS_CHECK)


def ensure_report_approvals(conn: psycopg.Connection) -> None:
    lock_ddl(conn)
    conn.execute(REPORT_APPROVALS)


def ensure_issued_documents(conn: psycopg.Connection) -> None:
    lock_ddl(conn)
    conn.execute(ISSUED_DOCUMENTS)
