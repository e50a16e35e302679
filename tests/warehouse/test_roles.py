"""The warehouse roles on a real PostgreSQL: the analyst reads marts only and writes nothing."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from itss_warehouse.warehouse.roles import ANALYST, LOADER, TRANSFORMER, LoginError, password_variable, setup_roles

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


def test_the_loader_writes_raw_and_reads_marts_without_writing_them(url):
    setup_roles(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"grant {LOADER} to {USER}")
    with psycopg.connect(_as(url, USER), autocommit=True) as loader:
        loader.execute("insert into raw.tickets values ('INC-1', null)")
        assert loader.execute("select count(*) from marts.kpi").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            loader.execute("delete from marts.kpi")


def test_tables_made_by_the_owner_go_to_the_role_that_rebuilds_them(url):
    setup_roles(url)
    with psycopg.connect(url) as conn:
        owners = dict(conn.execute("select tablename, tableowner from pg_tables where tablename in ('kpi', 'tickets')"))
    assert owners == {"kpi": TRANSFORMER, "tickets": LOADER}


def test_a_login_starts_as_its_role_and_its_password_is_never_shown(url, monkeypatch):
    monkeypatch.setenv("ITSS_TEST_BI_PASSWORD", "Bi-Secret-7")
    statements = setup_roles(url, [(USER, TRANSFORMER)])
    statements += setup_roles(url, [(USER, TRANSFORMER)])  # an existing login is updated, not re-created
    assert not any("Bi-Secret-7" in statement for statement in statements)
    assert f"alter role \"{USER}\" with login password '***'" in statements
    with psycopg.connect(_as(url, USER), autocommit=True) as transformer:
        assert transformer.execute("select current_user").fetchone() == (TRANSFORMER,)
        transformer.execute("create table marts.rebuilt as select 1 as n")
    with psycopg.connect(url) as conn:
        assert conn.execute("select tableowner from pg_tables where tablename = 'rebuilt'").fetchone() == (TRANSFORMER,)
        assert conn.execute("select rolcanlogin from pg_roles where rolname = %s", (USER,)).fetchone() == (True,)
        # hashed before it was sent: the server never saw the password itself
        [(stored,)] = conn.execute("select rolpassword from pg_authid where rolname = %s", (USER,)).fetchall()
        assert stored.startswith("SCRAM-SHA-256$")


def test_a_login_moved_to_another_role_keeps_nothing_of_the_first(url, monkeypatch):
    monkeypatch.setenv("ITSS_TEST_BI_PASSWORD", "x")
    setup_roles(url, [(USER, LOADER)])
    setup_roles(url, [(USER, ANALYST)])
    with psycopg.connect(url) as conn:
        groups = conn.execute(
            "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid"
            " join pg_roles u on u.oid = m.member where u.rolname = %s",
            (USER,),
        ).fetchall()
    assert groups == [(ANALYST,)]


@pytest.mark.parametrize("name", [ANALYST, "postgres"])
def test_a_group_role_or_a_superuser_is_not_made_a_login(url, monkeypatch, name):
    monkeypatch.setenv(password_variable(name), "x")
    with pytest.raises(LoginError, match="a group role or a superuser"):
        setup_roles(url, [(name, ANALYST)])


def test_the_command_line_sets_up_the_roles_and_logins(url):
    from typer.testing import CliRunner

    from itss_warehouse.cli import app

    env = {"ITSS_WAREHOUSE_URL": url, "ITSS_TEST_BI_PASSWORD": "x"}
    result = CliRunner().invoke(app, ["setup-roles", "--login", f"{USER}={ANALYST}"], env=env)
    assert result.exit_code == 0, result.output
    assert "roles itss_analyst (marts, read only)" in result.output
    assert f"Login {USER}: member of {ANALYST}" in result.output
    result = CliRunner().invoke(app, ["setup-roles", "--login", "ops=itss_admin"], env=env)
    assert result.exit_code != 0 and "ROLE one of itss_analyst, itss_loader, itss_transformer" in result.output
    result = CliRunner().invoke(app, ["setup-roles", "--login", f"ops={ANALYST}"], env=env)
    assert result.exit_code != 0 and "OPS_PASSWORD" in result.output
