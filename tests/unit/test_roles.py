"""The warehouse roles on a real PostgreSQL: the analyst reads marts only and writes nothing."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from itss_warehouse.warehouse.roles import ANALYST, LOADER, TRANSFORMER, setup_roles

pytestmark = pytest.mark.integration
USER = "itss_test_bi"


def _as(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.hostname}:{parts.port}"))


@pytest.fixture()
def url(create_warehouse) -> str:
    url = create_warehouse("roles")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table marts.kpi (value numeric); insert into marts.kpi values (0.95)")
        conn.execute("create table raw.tickets (ticket_id text, caller_phone text)")
        conn.execute(f"drop role if exists {USER}")
        conn.execute(f"create user {USER}")
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop owned by {USER}; drop role {USER}")


def test_setup_is_idempotent_and_the_analyst_reads_marts_only(url):
    setup_roles(url)
    setup_roles(url)  # a second run changes nothing and does not fail
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"grant {ANALYST} to {USER}")
        roles = {row[0] for row in conn.execute("select rolname from pg_roles where rolname like 'itss_%'")}
        conn.execute("create table marts.made_later as select 1 as n")  # the nightly build's new table
    assert {ANALYST, LOADER, TRANSFORMER} <= roles
    with psycopg.connect(_as(url, USER), autocommit=True) as analyst:
        assert analyst.execute("select value::text from marts.kpi").fetchone() == ("0.95",)
        assert analyst.execute("select n from marts.made_later").fetchone() == (1,)
        for statement in (
            "select * from raw.tickets",
            "insert into marts.kpi values (1)",
            "update marts.kpi set value = 1",
            "create table marts.mine (n int)",
            "create table public.mine (n int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                analyst.execute(statement)


def test_the_loader_writes_raw_and_cannot_touch_marts(url):
    setup_roles(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"grant {LOADER} to {USER}")
    with psycopg.connect(_as(url, USER), autocommit=True) as loader:
        loader.execute("insert into raw.tickets values ('INC-1', null)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            loader.execute("select * from marts.kpi")


def test_the_command_line_sets_up_the_roles(url):
    from typer.testing import CliRunner

    from itss_warehouse.cli import app

    result = CliRunner().invoke(app, ["setup-roles"], env={"ITSS_WAREHOUSE_URL": url})
    assert result.exit_code == 0, result.output
    assert "roles itss_analyst (marts, read only)" in result.output
