"""Extract sql and rest sources into the landing folder as CSV files.

Each run lands the rows changed since the source's watermark (the newest value of
``watermark_column`` extracted so far, kept in ``raw.source_watermarks``) as
``NAME__<UTC stamp>.csv``; the ordinary file loader then loads it with the source's mapping.

Queries and APIs should select rows ``>=`` the watermark, not ``>``: with ``>``, a row
committed after an extract but stamped with that extract's newest time would be skipped
forever. With ``>=`` the rows at the watermark come back every run, which is harmless (the
marts keep the latest version of each ticket by updated_at); a run whose newest row does not
pass the watermark writes no file, so an idle source lands nothing and a late row at the
watermark lands with the next newer change. REST pages are read by number, so a record
updated while they are read may move to a page already read; it lands with its next change.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy

from itss_warehouse.ingest.sources import Source, SourceSet
from itss_warehouse.warehouse import raw

log = logging.getLogger(__name__)

SQL_BATCH_ROWS = 10_000
REST_TIMEOUT_SECONDS = 60.0
MAX_ATTEMPTS = 5
RETRY_BASE_DELAY = 1.0  # seconds; doubles with each retry
MAX_RETRY_AFTER = 300.0

Rows = Iterable[Sequence[Any]]


class ExtractError(RuntimeError):
    pass


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")  # YYYY-MM-DD HH:MM:SS when naive, whole seconds
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _connection_url(source: Source) -> str:
    name = source.connection_env or ""
    url = os.environ.get(name)
    if not url:
        raise ExtractError(f"source '{source.name}': environment variable {name} is not set (it holds the URL)")
    return url


def _read_watermark(warehouse_url: str, source: Source) -> str:
    with psycopg.connect(warehouse_url) as conn:
        raw.ensure_source_watermarks(conn)
        row = conn.execute(
            "select watermark from raw.source_watermarks where source_name = %s", (source.name,)
        ).fetchone()
    return row[0] if row else source.initial_watermark


def _save_watermark(warehouse_url: str, source: Source, watermark: str, file_name: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into raw.source_watermarks (source_name, watermark, file_name) values (%s, %s, %s)"
            " on conflict (source_name) do update"
            " set watermark = excluded.watermark, file_name = excluded.file_name, extracted_at = now()",
            (source.name, watermark, file_name),
        )


def _free_path(landing_dir: Path, name: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = (landing_dir / f"{name}__{stamp}{f'_{n}' if n > 1 else ''}.csv" for n in itertools.count(1))
    return next(path for path in paths if not path.exists())


def _land(source: Source, landing_dir: Path, columns: list[str], rows: Rows, watermark: str) -> tuple[Path, str] | None:
    """Write the rows to a new landing file; None when the newest row does not pass the watermark."""
    if not columns:  # a REST extract without records
        return None
    if source.watermark_column not in columns:
        raise ExtractError(f"source '{source.name}': the result has no column '{source.watermark_column}'")
    position = columns.index(source.watermark_column)
    landing_dir.mkdir(parents=True, exist_ok=True)
    # A temp name outside the source's pattern, renamed when complete: the loader never sees half a file.
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=landing_dir, prefix=f".{source.name}__", suffix=".tmp", delete=False
    )
    temp = Path(handle.name)
    try:
        newest, count = None, 0
        with handle:
            writer = csv.writer(handle, delimiter=source.delimiter)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(value) for value in row])
                count += 1
                value = row[position]
                if value is not None and (newest is None or value > newest):
                    newest = value
            handle.flush()
            os.fsync(handle.fileno())
        new_watermark = watermark if newest is None else _cell(newest)
        if new_watermark == watermark:
            log.info("%s: %s rows, none newer than watermark %s; no file", source.name, count, watermark)
            return None
        path = _free_path(landing_dir, source.name)
        os.replace(temp, path)
        log.info("%s: extracted %s rows to %s (watermark %s → %s)", source.name, count, path.name, watermark,
                 new_watermark)  # fmt: skip
        return path, new_watermark
    finally:
        temp.unlink(missing_ok=True)


# Dialects where `SET TRANSACTION READ ONLY`, run first, makes the query's transaction read-only.
READ_ONLY_DIALECTS = {"postgresql", "mysql", "mariadb", "oracle"}


@contextmanager
def _sql_rows(source: Source, url: str, watermark: str) -> Iterator[tuple[list[str], Rows]]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            # The query is the mapping's own SQL, run on the customer's database: whatever it
            # says, it cannot change anything there.
            if engine.dialect.name in READ_ONLY_DIALECTS:
                conn.execute(sqlalchemy.text("set transaction read only"))
            else:
                log.warning("%s: cannot make a %s transaction read-only; connect with a read-only account",
                            source.name, engine.dialect.name)  # fmt: skip
            # yield_per streams with a server-side cursor, fetching SQL_BATCH_ROWS at a time.
            result = conn.execution_options(yield_per=SQL_BATCH_ROWS).execute(
                sqlalchemy.text(source.query or ""), {"watermark": watermark}
            )
            yield list(result.keys()), result
    finally:
        engine.dispose()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers["Retry-After"]), MAX_RETRY_AFTER)
    except (KeyError, ValueError):  # absent, or an HTTP date: use the back-off
        return None


def _get_json(client: httpx.Client, url: str, params: dict[str, Any]) -> Any:
    problem = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        wait = None
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as error:
            problem = f"{type(error).__name__}: {error}"
        else:
            status = response.status_code
            if status == 429 or status >= 500:
                problem, wait = f"HTTP {status}: {response.text[:200]}", _retry_after(response)
            elif not response.is_success:
                raise ExtractError(f"GET {response.url} failed with HTTP {status}: {response.text[:200]}")
            else:
                try:
                    return response.json()
                except ValueError:
                    raise ExtractError(f"GET {response.url} did not return JSON: {response.text[:200]}") from None
        if attempt < MAX_ATTEMPTS:
            delay = RETRY_BASE_DELAY * 2 ** (attempt - 1) if wait is None else wait
            log.warning("GET %s (%s): %s; retrying in %.1f s", url, params, problem, delay)
            time.sleep(delay)
    raise ExtractError(f"GET {url} ({params}) failed after {MAX_ATTEMPTS} attempts: {problem}")


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _rest_records(client: httpx.Client, source: Source, url: str, watermark: str) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        params = {source.updated_since_param: watermark, source.page_param: page, "page_size": source.page_size}
        records = _get_json(client, url, params)
        if source.records_key is not None:
            records = records.get(source.records_key) if isinstance(records, dict) else None
        if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
            where = f"'{source.records_key}'" if source.records_key else "the page"
            raise ExtractError(f"GET {url} page {page}: {where} is not a list of JSON objects")
        yield from records
        if len(records) < source.page_size:
            return
        page += 1


@contextmanager
def _rest_rows(source: Source, url: str, watermark: str) -> Iterator[tuple[list[str], Rows]]:
    # Records spool to disk because the CSV header (first-seen column order) is known only at the end.
    columns: dict[str, None] = {}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        with httpx.Client(timeout=REST_TIMEOUT_SECONDS, follow_redirects=True) as client:
            for record in _rest_records(client, source, url, watermark):
                flat = _flatten(record)
                columns.update(dict.fromkeys(flat))
                spool.write(json.dumps(flat, ensure_ascii=False) + "\n")
        spool.seek(0)
        names = list(columns)
        yield names, ([flat.get(name) for name in names] for flat in map(json.loads, spool))


def extract_source(source: Source, landing_dir: Path, warehouse_url: str) -> Path | None:
    """Land the rows changed since the watermark as one CSV file; None when nothing is new."""
    if source.type == "file":
        raise ExtractError(f"source '{source.name}' is a file source; there is nothing to extract")
    url = _connection_url(source)
    watermark = _read_watermark(warehouse_url, source)
    rows = _sql_rows if source.type == "sql" else _rest_rows
    with rows(source, url, watermark) as (columns, records):
        landed = _land(source, landing_dir, columns, records, watermark)
    if landed is None:
        return None
    # File first, watermark second: dying in between only means the next run extracts the
    # same rows again, which is harmless; the reverse order could lose them.
    path, new_watermark = landed
    _save_watermark(warehouse_url, source, new_watermark, path.name)
    return path


def extract_all(sources: SourceSet, landing_dir: Path, warehouse_url: str) -> list[Path]:
    """Extract every sql and rest source in definition order; return the files landed."""
    landed = (extract_source(source, landing_dir, warehouse_url) for source in sources.sources if source.type != "file")
    return [path for path in landed if path is not None]
