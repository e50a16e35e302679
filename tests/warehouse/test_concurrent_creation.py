"""Two sessions creating the warehouse's objects at once, as the monthly DAG's two send tasks
do on a new warehouse: both succeed, where `create … if not exists` alone fails one of them
with a unique violation in the catalog."""

from __future__ import annotations

import threading

import psycopg
import pytest

from itss_warehouse.mail.sending import ensure_mail_log
from itss_warehouse.warehouse.connection import SCHEMAS, ensure_schemas
from itss_warehouse.warehouse.raw import ensure_issued_documents, ensure_raw_tables

pytestmark = pytest.mark.integration
ROUNDS = 5  # without the lock, nearly every round failed


def _raw_tables(url: str) -> None:
    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)


def _issued_documents(url: str) -> None:
    with psycopg.connect(url) as conn:
        ensure_issued_documents(conn)


def _at_once(create, url: str) -> list[str]:
    """Run ``create(url)`` in two threads released together; the errors they raised."""
    start, errors = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        try:
            create(url)
        except psycopg.Error as error:
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize(
    "create",
    [ensure_schemas, _raw_tables, ensure_mail_log, _issued_documents],
    ids=["schemas", "raw_tables", "mail_log", "issued_documents"],
)
def test_two_sessions_create_the_same_objects_at_once(create, create_database):
    url = create_database("concurrent_creation")
    for _ in range(ROUNDS):
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in SCHEMAS:
                conn.execute(f"drop schema if exists {schema} cascade")
            if create is not ensure_schemas:
                conn.execute("create schema raw")
        assert _at_once(create, url) == []
    with psycopg.connect(url) as conn:
        created = conn.execute(
            "select count(*) from pg_tables where schemaname = 'raw' and tablename in ('mail_log', 'load_batches', 'issued_documents')"
        ).fetchone()[0]
    assert created == (0 if create is ensure_schemas else 1)
