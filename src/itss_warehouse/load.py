"""Load landing files into the ``raw`` schema with PostgreSQL COPY.

Each file becomes one batch in ``raw.load_batches`` (source, file, SHA-256, row count);
a file whose checksum was already loaded for its source is skipped, so re-runs add
nothing. Raw tables are append-only, all text, with canonical column names and
``_batch_id``, ``_source_file``, ``_source_row`` (the row as a spreadsheet numbers it,
header = 1) and ``_loaded_at``. Values are kept as the source wrote them except for the
mapping's value translations and timestamps, which are stored as ISO 8601 with offset;
a value that does not parse is kept verbatim for validation to flag.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from itss_warehouse.canonical import ENTITIES
from itss_warehouse.mapping import Problem, read_mapped
from itss_warehouse.sources import Source, SourceSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedBatch:
    batch_id: int
    source: str
    entity: str
    file_name: str
    row_count: int
    problem_count: int


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    conn.execute(
        """
        create table if not exists raw.load_batches (
            batch_id bigserial primary key,
            source_name text not null,
            entity text not null,
            file_name text not null,
            checksum text not null,
            row_count integer not null,
            loaded_at timestamptz not null default now(),
            unique (source_name, checksum)
        )
        """
    )
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
    conn.execute("alter table raw.quarantined_rows add column if not exists raw_value text")
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
        conn.execute(
            sql.SQL("create index if not exists {} on {} (_batch_id)").format(
                sql.Identifier(f"{entity}_batch_idx"), table
            )
        )


def _copy_frame(conn: psycopg.Connection, entity: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in frame.columns)
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(sql.Identifier("raw", entity), columns)
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


def _mapping_problems(batch_id: int, entity: str, file_name: str, problems: list[Problem]) -> list[QuarantinedRow]:
    # One quarantine row per row and field, so a value failing two steps (extraction and
    # the value map) keeps both reasons.
    reasons: dict[tuple[int, str, str], list[str]] = {}
    for problem in problems:
        reasons.setdefault((problem.row, problem.field, problem.value), []).append(problem.reason)
    return [
        QuarantinedRow(batch_id, entity, file_name, row, f"mapping:{field or 'row'}", field or None, value,
                       "; ".join(row_reasons))
        for (row, field, value), row_reasons in reasons.items()
    ]  # fmt: skip


def load_file(conn: psycopg.Connection, path: Path, source: Source, timezone: str) -> LoadedBatch | None:
    """Load one file as one batch in one transaction; None when this exact file was loaded before.

    The file streams through in chunks, so memory stays bounded; a failure anywhere rolls
    the whole batch back and the next run loads the file again, whole.
    """
    checksum = file_checksum(path)
    with conn.transaction():
        row = conn.execute(
            """
            insert into raw.load_batches (source_name, entity, file_name, checksum, row_count)
            values (%s, %s, %s, %s, 0)
            on conflict (source_name, checksum) do nothing
            returning batch_id, loaded_at
            """,
            (source.name, source.entity, path.name, checksum),
        ).fetchone()
        if row is None:
            return None
        batch_id, loaded_at = row
        rows = problems = 0
        for chunk in read_mapped(path, source, timezone):
            frame = chunk.frame
            frame.insert(0, "_batch_id", batch_id)
            frame.insert(1, "_source_file", path.name)
            frame["_loaded_at"] = loaded_at.isoformat()
            _copy_frame(conn, source.entity, frame)
            record_quarantined(conn, _mapping_problems(batch_id, source.entity, path.name, chunk.problems))
            rows += len(frame)
            problems += len(chunk.problems)
        conn.execute("update raw.load_batches set row_count = %s where batch_id = %s", (rows, batch_id))
    log.info("loaded %s rows of %s into raw.%s (batch %s, %s values flagged)", rows, path.name, source.entity,
             batch_id, problems)  # fmt: skip
    return LoadedBatch(batch_id, source.name, source.entity, path.name, rows, problems)


@dataclass(frozen=True)
class BatchSummary:
    file_name: str
    entity: str
    rows: int
    quarantined_rows: int


def last_batch_id(url: str) -> int:
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('raw.load_batches')").fetchone()[0] is None:
            return 0
        return conn.execute("select coalesce(max(batch_id), 0) from raw.load_batches").fetchone()[0]


def batch_summaries(url: str, after_batch_id: int) -> list[BatchSummary]:
    """Loaded and quarantined row counts of the batches after ``after_batch_id``, for run summaries."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select batches.file_name, batches.entity, batches.row_count,
                   count(distinct quarantined.source_row)
            from raw.load_batches as batches
            left join raw.quarantined_rows as quarantined on quarantined.batch_id = batches.batch_id
            where batches.batch_id > %s
            group by batches.batch_id
            order by batches.batch_id
            """,
            (after_batch_id,),
        ).fetchall()
    return [BatchSummary(*row) for row in rows]


def load_landing(url: str, landing_dir: Path, sources: SourceSet) -> list[LoadedBatch]:
    """Load every not-yet-loaded landing file that a source claims; return the new batches."""
    loaded: list[LoadedBatch] = []
    claimed = {path for source in sources.sources for path in landing_dir.glob(source.pattern)}
    for path in sorted(set(landing_dir.iterdir()) - claimed):
        log.warning("%s matches no source definition and was not loaded", path.name)
    with psycopg.connect(url) as conn:
        with conn.transaction():
            ensure_raw_tables(conn)
        for source in sources.sources:
            for path in sorted(landing_dir.glob(source.pattern)):
                batch = load_file(conn, path, source, sources.timezone)
                if batch is not None:
                    loaded.append(batch)
        # Planner statistics for what validation and dbt read next (autovacuum may lag).
        for entity in sorted({batch.entity for batch in loaded}):
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier("raw", entity)))
    return loaded
