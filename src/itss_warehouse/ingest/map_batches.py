"""Map landed batches to canonical fields: ``raw_landing.batch_<id>`` → ``raw.<entity>``.

The step after :mod:`load`. Each batch not yet mapped is read back from its landing
table in chunks (memory stays bounded), mapped by its source definition
(:mod:`mapping`) and appended to ``raw.<entity>`` with ``_batch_id``, ``_source_file``,
``_source_row`` and ``_loaded_at``; the values it could not map are quarantined with
their reasons. One transaction per batch: a crash leaves the batch unmapped, and the
next run maps it whole.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from itss_warehouse.ingest.canonical import SOURCE_SETTINGS
from itss_warehouse.ingest.improvement_register import quarantine_register_rows
from itss_warehouse.ingest.landing import landing_columns, landing_table, quarantine_problems
from itss_warehouse.ingest.mapping import CHUNK_ROWS, Mapper, RawChunk, SourceFileError
from itss_warehouse.ingest.sla_exemptions import quarantine_exemption_rows
from itss_warehouse.ingest.sources import SourceSet
from itss_warehouse.warehouse.connection import one_row
from itss_warehouse.warehouse.raw import copy_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MappedBatch:
    batch_id: int
    source: str
    entity: str
    file_name: str
    row_count: int
    problem_count: int  # records rejected while landing plus values the mapping could not read


class _CopyOutStream(io.RawIOBase):
    """The output of ``COPY … TO STDOUT`` as a readable file, for pandas to parse in chunks."""

    def __init__(self, copy: psycopg.Copy) -> None:
        self._copy = copy
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            block = self._copy.read()
            if not block:
                return 0
            self._pending = bytes(block)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _landed_chunks(reader: psycopg.Connection, batch_id: int, header: list[str]) -> Iterator[RawChunk]:
    positions = landing_columns(len(header))
    columns = sql.SQL(", ").join(map(sql.Identifier, ["_source_row", *positions]))
    statement = sql.SQL("copy {} ({}) to stdout with (format csv)").format(landing_table(batch_id), columns)
    with reader.cursor().copy(statement) as copy:
        stream = io.BufferedReader(_CopyOutStream(copy), 1 << 20)
        for frame in pd.read_csv(stream, header=None, names=["_source_row", *positions], dtype=str,
                                 na_filter=False, chunksize=CHUNK_ROWS):  # fmt: skip
            rows = frame.pop("_source_row").astype(int).tolist()
            yield RawChunk(frame.set_axis(header, axis="columns"), rows, [])


def _map_batch(conn: psycopg.Connection, reader: psycopg.Connection, batch: tuple, sources: SourceSet) -> MappedBatch:
    batch_id, source_name, entity, file_name, header, landed_rows, loaded_at = batch
    by_name = {source.name: source for source in sources.sources}
    if source_name not in by_name:
        raise SourceFileError(
            f"{file_name} (batch {batch_id}) was loaded by source '{source_name}', which the source definitions"
            " no longer have; restore it to map the batch"
        )
    source = by_name[source_name]
    mapper = Mapper(source, sources.timezone)
    rows = problems = 0
    with conn.transaction():
        for chunk in _landed_chunks(reader, batch_id, header) if landed_rows else []:
            mapped = mapper.map(chunk, file_name)
            frame = mapped.frame
            frame.insert(0, "_batch_id", batch_id)
            frame.insert(1, "_source_file", file_name)
            frame["_loaded_at"] = loaded_at.isoformat()
            # Each row carries its source's settings, so tools sharing a warehouse keep their own.
            for setting in (field for field, of in SOURCE_SETTINGS.items() if of == entity):
                frame[setting] = getattr(source, setting)
            copy_frame(conn, sql.Identifier("raw", entity), frame)
            quarantine_problems(conn, batch_id, entity, file_name, mapped.problems)
            if entity == "improvement_register":
                # Rows filled in by people are held to the item's life too (status order, owner).
                problems += quarantine_register_rows(conn, batch_id, file_name, frame)
            if entity == "sla_exemptions":
                # An exemption must name a known ticket and a breached metric.
                problems += quarantine_exemption_rows(conn, batch_id, file_name, frame)
            rows += len(frame)
            problems += len(mapped.problems)
        rejected = one_row(
            conn.execute(
                "select count(*) from raw.quarantined_rows where batch_id = %s and check_name = 'mapping:row'",
                (batch_id,),
            )
        )[0]
        conn.execute(
            "update raw.load_batches set row_count = %s, mapped_at = now() where batch_id = %s", (rows, batch_id)
        )
    log.info("mapped %s rows of %s into raw.%s (batch %s, %s values flagged)", rows, file_name, entity, batch_id,
             problems)  # fmt: skip
    return MappedBatch(batch_id, source_name, entity, file_name, rows, problems + rejected)


def map_landed(url: str, sources: SourceSet) -> list[MappedBatch]:
    """Map every landed batch not yet mapped, oldest first; return them."""
    with psycopg.connect(url) as conn, psycopg.connect(url) as reader:
        pending = conn.execute(
            "select batch_id, source_name, entity, file_name, header, landed_rows, loaded_at"
            " from raw.load_batches where mapped_at is null order by batch_id"
        ).fetchall()
        conn.commit()
        mapped = [_map_batch(conn, reader, batch, sources) for batch in pending]
        # Planner statistics for what validation and dbt read next (autovacuum may lag).
        for entity in sorted({batch.entity for batch in mapped}):
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier("raw", entity)))
        conn.commit()
    return mapped
