"""Load landing files into the warehouse as they are, with PostgreSQL COPY.

Each file becomes one batch: a row of ``raw.load_batches`` (source, file, SHA-256,
header, record count, load time) and a table ``raw_landing.batch_<id>`` holding the
file's records as text, one column per header position (``c1``, ``c2`` …) plus
``_source_row``, the record's row as a spreadsheet numbers it (header = 1). A file whose
checksum was already loaded for its source is skipped, so re-runs add nothing; each batch
is one transaction, so a crash leaves nothing half-loaded and the re-run loads it whole.

CSV files stream into COPY byte for byte, unparsed by Python. Files COPY cannot take as
they are (Excel workbooks, encodings PostgreSQL does not share with Python, a record with
the wrong number of fields, a blank line) are read by Python and copied record by
record, in chunks; a record that cannot be split into the header's fields is quarantined
with its row and text. Mapping to canonical fields follows in :mod:`map_batches`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from itss_warehouse import pseudonym
from itss_warehouse.canonical import ENTITIES
from itss_warehouse.mapping import Problem, check_header, is_excel, read_raw
from itss_warehouse.sources import Source, SourceSet
from itss_warehouse.warehouse.connection import lock_ddl

log = logging.getLogger(__name__)

LANDING_SCHEMA = "raw_landing"
# Python codec → PostgreSQL encoding, for the encodings both read the same way.
COPY_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "gbk": "GBK", "gb18030": "GB18030"}
# Where COPY reads a CSV file differently from Python's csv module, silently: a line
# holding only ``\.`` ends COPY's input, and a quote inside an unquoted field (``27" 显示器``)
# starts quoting for COPY but is a plain character for Python (and for Excel).
END_OF_DATA_LINE = re.compile(rb"[\r\n]\\\.(?:[\r\n]|$)")


def _quote_inside_field(delimiter: str) -> re.Pattern[bytes]:
    plain = re.escape(delimiter.encode()) + rb'\r\n"'
    return re.compile(rb"[^" + plain + rb']"[^' + plain + rb"]")


@dataclass(frozen=True)
class LandedBatch:
    batch_id: int
    source: str
    entity: str
    file_name: str
    records: int
    rejected: int


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    lock_ddl(conn)
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


def quarantine_problems(
    conn: psycopg.Connection, batch_id: int, entity: str, file_name: str, problems: list[Problem]
) -> None:
    # One quarantine row per row and field, so a value failing two steps (extraction and
    # the value map) keeps both reasons.
    reasons: dict[tuple[int, str, str], list[str]] = {}
    for problem in problems:
        reasons.setdefault((problem.row, problem.field, problem.value), []).append(problem.reason)
    record_quarantined(conn, [
        QuarantinedRow(batch_id, entity, file_name, row, f"mapping:{field or 'row'}", field or None, value,
                       "; ".join(row_reasons))
        for (row, field, value), row_reasons in reasons.items()
    ])  # fmt: skip


def landing_table(batch_id: int) -> sql.Identifier:
    return sql.Identifier(LANDING_SCHEMA, f"batch_{batch_id}")


def landing_columns(width: int) -> list[str]:
    return [f"c{position}" for position in range(1, width + 1)]


def _create_landing_table(conn: psycopg.Connection, table: sql.Identifier, width: int, first_row: int) -> None:
    columns = sql.SQL("").join(sql.SQL(", {} text").format(sql.Identifier(name)) for name in landing_columns(width))
    conn.execute(
        sql.SQL("create table {} (_source_row integer generated by default as identity (start with {}){})").format(
            table, sql.Literal(first_row), columns
        )
    )


class _NeedsPython(Exception):
    """COPY cannot take this file as it is."""


def _copyable_header(path: Path, source: Source) -> tuple[list[str], int]:
    """The header's names and the byte offset of the first record, if COPY can read the records."""
    if (
        is_excel(path)
        or codecs.lookup(source.encoding).name not in COPY_ENCODINGS
        or len(source.delimiter.encode()) != 1
        or source.delimiter in '"\r\n'
    ):
        raise _NeedsPython
    with path.open("rb") as handle:
        lines = [handle.readline() for _ in range(source.header_row)]
        offset = handle.tell()
    try:
        texts = [line.decode(source.encoding) for line in lines]
    except UnicodeDecodeError:
        raise _NeedsPython from None
    if any(text.count('"') % 2 for text in texts):  # a quoted header spanning lines
        raise _NeedsPython
    header = [name.strip() for name in next(csv.reader([texts[-1]], delimiter=source.delimiter), [])]
    if len(header) < 2:  # one column: COPY would read a blank line as a record
        raise _NeedsPython
    return header, offset


def _land_with_copy(
    conn: psycopg.Connection, table: sql.Identifier, path: Path, source: Source
) -> tuple[list[str], int]:
    header, offset = _copyable_header(path, source)
    check_header(header, source, path.name)
    columns = sql.SQL(", ").join(map(sql.Identifier, landing_columns(len(header))))
    statement = sql.SQL(
        "copy {table} ({columns}) from stdin with (format csv, delimiter {delimiter}, encoding {encoding},"
        " force_not_null ({columns}))"
    ).format(
        table=table, columns=columns, delimiter=sql.Literal(source.delimiter),
        encoding=sql.Literal(COPY_ENCODINGS[codecs.lookup(source.encoding).name]),
    )  # fmt: skip
    try:
        with conn.transaction():
            _create_landing_table(conn, table, len(header), source.header_row + 1)
            cursor = conn.cursor()
            with cursor.copy(statement) as copy, path.open("rb") as handle:
                handle.seek(offset)
                inside_field = _quote_inside_field(source.delimiter)
                previous = b"\n"
                while block := handle.read(1 << 20):
                    # The regular expressions are slow; a byte search first skips most blocks.
                    seam = previous[-3:] + block
                    if (b"\\." in seam and END_OF_DATA_LINE.search(seam)) or (
                        b'"' in seam and inside_field.search(seam)
                    ):
                        raise _NeedsPython
                    copy.write(block)
                    previous = block
    except psycopg.errors.DataError as error:  # wrong field count, bad bytes for the encoding
        log.info("%s: COPY refused the file (%s); reading it with Python", path.name, error.diag.message_primary)
        raise _NeedsPython from error
    return header, cursor.rowcount


def _land_with_python(
    conn: psycopg.Connection, table: sql.Identifier, path: Path, source: Source
) -> tuple[list[str], int, list[Problem]]:
    header: list[str] | None = None
    records, rejected = 0, []
    for chunk in read_raw(path, source):
        if header is None:
            header = [str(name).strip() for name in chunk.frame.columns]
            check_header(header, source, path.name)
            _create_landing_table(conn, table, len(header), source.header_row + 1)
        frame = chunk.frame.set_axis(landing_columns(len(header)), axis="columns")
        frame.insert(0, "_source_row", chunk.rows)
        copy_frame(conn, table, frame, keep_empty=True)  # as COPY lands an empty field
        records += len(frame)
        rejected += chunk.rejected
    return header or [], records, rejected


def load_file(conn: psycopg.Connection, path: Path, source: Source) -> LandedBatch | None:
    """Land one file as one batch in one transaction; None when this exact file was loaded before."""
    checksum = file_checksum(path)
    with conn.transaction():
        row = conn.execute(
            """
            insert into raw.load_batches (source_name, entity, file_name, checksum, row_count)
            values (%s, %s, %s, %s, 0)
            on conflict (source_name, checksum) do nothing
            returning batch_id
            """,
            (source.name, source.entity, path.name, checksum),
        ).fetchone()
        if row is None:
            return None
        batch_id = row[0]
        table = landing_table(batch_id)
        try:
            header, records = _land_with_copy(conn, table, path, source)
            rejected: list[Problem] = []
        except _NeedsPython:
            header, records, rejected = _land_with_python(conn, table, path, source)
        quarantine_problems(conn, batch_id, source.entity, path.name, rejected)
        conn.execute(
            "update raw.load_batches set header = %s, landed_rows = %s where batch_id = %s",
            (header, records, batch_id),
        )
    log.info("landed %s records of %s in %s (%s rejected)", records, path.name, table.as_string(conn), len(rejected))
    return LandedBatch(batch_id, source.name, source.entity, path.name, records, len(rejected))


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
        if conn.execute("select to_regclass('raw.load_batches')").fetchone()[0] is None:
            return []  # the run loaded nothing (and created no raw table)
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


def load_landing(url: str, landing_dir: Path, sources: SourceSet) -> list[LandedBatch]:
    """Land every not-yet-loaded landing file that a source claims; return the new batches."""
    loaded: list[LandedBatch] = []
    claimed = {path for source in sources.sources for path in landing_dir.glob(source.pattern)}
    for path in sorted(set(landing_dir.iterdir()) - claimed):
        log.warning("%s matches no source definition and was not loaded", path.name)
    with psycopg.connect(url) as conn:
        with conn.transaction():
            ensure_raw_tables(conn)
        for source in sources.sources:
            for path in sorted(landing_dir.glob(source.pattern)):
                batch = load_file(conn, path, source)
                if batch is not None:
                    loaded.append(batch)
    return loaded
