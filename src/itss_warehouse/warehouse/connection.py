"""Which warehouse to use and how to reach it, from the settings."""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse import embedded

EMBEDDED_DATABASE = "itss"
SCHEMAS = ("raw_landing", "raw", "staging", "intermediate", "restricted", "marts")

Row = TypeVar("Row")


def libpq_url(url: str) -> str:
    """Drop a SQLAlchemy driver suffix (``postgresql+psycopg2://``) so libpq accepts the URL."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def without_password(url: str) -> str:
    """The URL to show in output and logs: its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def one_row(cursor: psycopg.Cursor[Row]) -> Row:
    """The row of a query that always returns one (an aggregate, ``show``, ``to_regclass``)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"a query that always returns a row returned none (status {cursor.statusmessage!r})")
    return row


def warehouse_url(settings: Settings) -> str:
    """The configured warehouse, or the embedded one (started and created on demand)."""
    if settings.warehouse_url:
        return libpq_url(settings.warehouse_url)
    port = embedded.ensure_running(settings.embedded_data_path, settings.embedded_port)
    server = f"postgresql://{embedded.SUPERUSER}@127.0.0.1:{port}"
    ensure_database(server + "/postgres", EMBEDDED_DATABASE)
    return f"{server}/{EMBEDDED_DATABASE}"


# Any fixed number: the advisory lock every session takes before creating the warehouse or its objects.
DDL_LOCK_KEY = 0x1755_DD1


def ensure_database(maintenance_url: str, name: str) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        # Held until the connection closes (create database cannot run in a transaction): a
        # process creating it at the same time waits, then finds it.
        conn.execute("select pg_advisory_lock(%s)", (DDL_LOCK_KEY,))
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def lock_ddl(conn: psycopg.Connection) -> None:
    """Hold the warehouse's DDL lock until this transaction ends. Two sessions creating the
    same table at once collide in the catalog (a unique violation on pg_type), even with
    ``if not exists``: on a new warehouse, the monthly DAG's two send tasks did."""
    conn.execute("select pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))


def ensure_schemas(url: str) -> None:
    with psycopg.connect(url) as conn:
        lock_ddl(conn)
        existing = {row[0] for row in conn.execute("select nspname from pg_namespace")}
        # Only the missing ones: even `if not exists` needs the right to create schemas, which
        # the pipeline's loader role does not have.
        for schema in SCHEMAS:
            if schema not in existing:
                conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))


def missing_tables(url: str, tables: tuple[str, ...]) -> list[str]:
    """Which of ``tables`` (schema.name) do not exist: a new warehouse has none of them."""
    with psycopg.connect(url) as conn:
        return [table for table in tables if one_row(conn.execute("select to_regclass(%s)", (table,)))[0] is None]


def dbt_environment(url: str) -> dict[str, str]:
    """The variables ``dbt_project/profiles.yml`` reads, so no credential is written to disk."""
    parts = urlsplit(url)
    return {
        "ITSS_DBT_HOST": parts.hostname or "127.0.0.1",
        "ITSS_DBT_PORT": str(parts.port or 5432),
        "ITSS_DBT_USER": unquote(parts.username or "postgres"),
        "ITSS_DBT_PASSWORD": unquote(parts.password or ""),
        "ITSS_DBT_DATABASE": parts.path.lstrip("/") or "postgres",
    }
