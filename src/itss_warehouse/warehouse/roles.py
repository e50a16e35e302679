"""Database roles for the people and programs using the warehouse (``itss setup-roles``, idempotent).

- ``itss_analyst``: analysts and BI tools. Reads ``marts`` and nothing else: no ``raw``, no
  staging, no writes.
- ``itss_loader``: the nightly load. Writes ``raw_landing`` and ``raw``.
- ``itss_transformer``: dbt. Reads ``raw``, builds ``staging``, ``intermediate`` and ``marts``.

They are group roles without login: a person or tool logs in as its own user made a member,
e.g. ``create user metabase password '…' in role itss_analyst``. dbt rebuilds tables every
night, so the analyst's read access to tables made later comes from default privileges of
the roles that create them (the transformer and the warehouse owner running this).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

ANALYST, LOADER, TRANSFORMER = "itss_analyst", "itss_loader", "itss_transformer"
READS = {ANALYST: ["marts"], LOADER: [], TRANSFORMER: ["raw"]}
WRITES = {ANALYST: [], LOADER: ["raw_landing", "raw"], TRANSFORMER: ["staging", "intermediate", "marts"]}
ALL_SCHEMAS = ("raw_landing", "raw", "staging", "intermediate", "marts")
CREATOR = {"raw": LOADER, "marts": TRANSFORMER}  # who makes the tables of a schema read by another role


def setup_roles(url: str) -> list[str]:
    """Create the roles if missing and (re)apply their grants; return the statements run."""
    statements: list[sql.Composable] = []
    with psycopg.connect(url, autocommit=True) as conn:
        owner = sql.Identifier(conn.info.user)
        database = sql.Identifier(conn.info.dbname)
        for role in (ANALYST, LOADER, TRANSFORMER):
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                statements.append(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        for role in (ANALYST, LOADER, TRANSFORMER):
            name = sql.Identifier(role)
            statements.append(sql.SQL("grant connect on database {} to {}").format(database, name))
            # Start from nothing on every schema, so a re-run also removes what was granted by hand.
            for schema in ALL_SCHEMAS:
                target = sql.Identifier(schema)
                statements += [
                    sql.SQL("revoke all on schema {} from {}").format(target, name),
                    sql.SQL("revoke all on all tables in schema {} from {}").format(target, name),
                ]
            for schema in READS[role] + WRITES[role]:
                statements.append(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), name))
            for schema in READS[role]:
                statements += _select(sql.Identifier(schema), name, owner, sql.Identifier(CREATOR[schema]))
            for schema in WRITES[role]:
                target = sql.Identifier(schema)
                statements += [
                    sql.SQL("grant create on schema {} to {}").format(target, name),
                    sql.SQL("grant all on all tables in schema {} to {}").format(target, name),
                    sql.SQL("grant all on all sequences in schema {} to {}").format(target, name),
                ]
        statements.append(sql.SQL("revoke create on schema public from public"))
        for statement in statements:
            conn.execute(statement)
        return [statement.as_string(conn) for statement in statements]


def _select(schema: sql.Identifier, role: sql.Identifier, *creators: sql.Identifier) -> list[sql.Composable]:
    """Read access to the schema's tables and views, now and for those its creators make later."""
    return [
        sql.SQL("grant select on all tables in schema {} to {}").format(schema, role),
        *(
            sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                creator, schema, role
            )
            for creator in creators
        ),
    ]
