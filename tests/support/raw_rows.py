"""Raw rows written straight into ``raw.<entity>`` as one mapped batch, for tests that build marts from them."""

from __future__ import annotations

import hashlib

import psycopg
from psycopg import sql


def insert_raw(
    conn: psycopg.Connection, entity: str, columns: list[str], rows: list[tuple], *, loaded_at: str, export: str = ""
) -> int:
    """One batch of ``rows``; ``export`` tells a later export of the same rows from the first. Returns its id."""
    checksum = f"{entity}{export}-{hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}"
    batch_id = conn.execute(
        "insert into raw.load_batches (source_name, entity, file_name, checksum, row_count, mapped_at)"
        " values ('fixture', %s, %s, %s, %s, now()) returning batch_id",
        (entity, f"{entity}.csv", checksum, len(rows)),
    ).fetchone()[0]
    names = ["_batch_id", "_source_file", "_source_row", "_loaded_at", *columns]
    statement = sql.SQL("insert into {} ({}) values ({})").format(
        sql.Identifier("raw", entity),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder() * len(names)),
    )
    with conn.cursor() as cursor:
        cursor.executemany(
            statement,
            [(batch_id, f"{entity}.csv", number, loaded_at, *row) for number, row in enumerate(rows, start=2)],
        )
    return batch_id
