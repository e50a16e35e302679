"""Database roles for the people and programs using the warehouse (``itss setup-roles``, idempotent).

- ``itss_analyst``: analysts and BI tools. Reads ``marts`` and nothing else: no ``raw``, no
  staging, no writes.
- ``itss_loader``: the pipeline's own connection (``ITSS_WAREHOUSE_URL``). Writes ``raw_landing``
  and ``raw`` (loads, quarantine, validation and mail logs); reads ``marts`` to validate them,
  and ``restricted`` (names and free text) to render the reports.
- ``itss_transformer``: dbt. Reads ``raw``, builds ``staging``, ``intermediate``, ``restricted``
  and ``marts``.

They are group roles without login. A person or tool logs in as its own user, a member whose
sessions start as the group (``--login NAME=ROLE``), so what it creates belongs to the group.
dbt rebuilds tables every night, so read access to tables made later comes from default
privileges of the roles that create them (the group roles and the warehouse owner running this).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import psycopg
from psycopg import sql

from itss_warehouse.warehouse.connection import SCHEMAS

ANALYST, LOADER, TRANSFORMER = "itss_analyst", "itss_loader", "itss_transformer"
READS = {ANALYST: ["marts"], LOADER: ["marts", "restricted"], TRANSFORMER: ["raw"]}
WRITES = {ANALYST: [], LOADER: ["raw_landing", "raw"], TRANSFORMER: ["staging", "intermediate", "restricted", "marts"]}
OWNER = {schema: role for role, schemas in WRITES.items() for schema in schemas}  # who (re)builds a schema's tables


class LoginError(ValueError):
    pass


def password_variable(login: str) -> str:
    """The environment variable holding a login's password: ``bi`` → ``BI_PASSWORD``."""
    return re.sub(r"\W", "_", login).upper() + "_PASSWORD"


def parse_login(text: str) -> tuple[str, str]:
    """``NAME=ROLE`` of ``--login``, the role one of ours and the password in the environment."""
    name, _, role = text.partition("=")
    if not name or role not in READS:
        raise LoginError(f"--login {text!r}: expected NAME=ROLE with ROLE one of {', '.join(READS)}")
    if not os.environ.get(password_variable(name)):
        raise LoginError(f"--login {name}: set its password in the environment variable {password_variable(name)}")
    return name, role


def setup_roles(url: str, logins: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Create the roles if missing, (re)apply their grants, hand each schema's tables to the role
    that rebuilds them and create or update the ``(name, role)`` logins; return the statements run
    (passwords shown as ``***``)."""
    statements: list[sql.SQL | sql.Composed] = []
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
            for schema in SCHEMAS:
                target = sql.Identifier(schema)
                statements += [
                    sql.SQL("revoke all on schema {} from {}").format(target, name),
                    sql.SQL("revoke all on all tables in schema {} from {}").format(target, name),
                ]
            for schema in READS[role] + WRITES[role]:
                statements.append(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), name))
            for schema in READS[role]:
                statements += _select(sql.Identifier(schema), name, owner, sql.Identifier(OWNER[schema]))
            for schema in WRITES[role]:
                target = sql.Identifier(schema)
                statements += [
                    sql.SQL("grant create on schema {} to {}").format(target, name),
                    sql.SQL("grant all on all tables in schema {} to {}").format(target, name),
                    sql.SQL("grant all on all sequences in schema {} to {}").format(target, name),
                ]
        statements.append(sql.SQL("revoke create on schema public from public"))
        statements += _hand_over_tables(conn)
        # One transaction: the revokes that start from nothing never show to a running
        # pipeline or BI query before the grants that follow them.
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
            shown = [statement.as_string(conn) for statement in statements]
            for login, login_role in logins:
                shown += _login(conn, login, login_role)
        return shown


def _hand_over_tables(conn: psycopg.Connection) -> list[sql.Composed]:
    """Tables made before the roles existed (say, by the owner) go to the role that rebuilds
    them: dbt can only replace a table its role owns."""
    rows = conn.execute(
        "select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'S')"
        " and pg_get_userbyid(c.relowner) <> all(%s)"
        # a serial column's sequence follows its table and cannot be handed over on its own
        " and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i'))",
        (list(OWNER), list(READS)),
    ).fetchall()
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
    return [
        sql.SQL("alter {} {}.{} owner to {}").format(
            sql.SQL(kinds[kind]), sql.Identifier(schema), sql.Identifier(name), sql.Identifier(OWNER[schema])
        )
        for schema, name, kind in rows
    ]


def _login(conn: psycopg.Connection, name: str, role: str) -> list[str]:
    """A login member of ``role`` alone, whose sessions start as it; the password is never shown."""
    existing = conn.execute("select rolsuper from pg_roles where rolname = %s", (name,)).fetchone()
    if name in READS or (existing and existing[0]):
        raise LoginError(f"--login {name}: a group role or a superuser cannot be made a login of {role}")
    user = sql.Identifier(name)
    verb = sql.SQL("alter" if existing else "create")
    # Hashed here (SCRAM), so not even the server's statement log sees the password.
    secret = conn.pgconn.encrypt_password(os.environ[password_variable(name)].encode(), name.encode(), b"scram-sha-256")
    conn.execute(sql.SQL("{} role {} with login password {}").format(verb, user, sql.Literal(secret.decode())))
    statements = [
        *(sql.SQL("revoke {} from {}").format(sql.Identifier(other), user) for other in READS if other != role),
        sql.SQL("grant {} to {}").format(sql.Identifier(role), user),
        sql.SQL("alter role {} set role = {}").format(user, sql.Literal(role)),
    ]
    for statement in statements:
        conn.execute(statement)
    shown = sql.SQL("{} role {} with login password '***'").format(verb, user)
    return [statement.as_string(conn) for statement in (shown, *statements)]


def _select(schema: sql.Identifier, role: sql.Identifier, *creators: sql.Identifier) -> list[sql.Composed]:
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
