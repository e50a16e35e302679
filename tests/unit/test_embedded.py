"""The embedded PostgreSQL started by two processes at once, as by two `itss` commands on a new
machine (or two test workers): one server, initialised once, and both get its port."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from itss_warehouse.warehouse import embedded

pytestmark = pytest.mark.integration
START = "import sys, pathlib; from itss_warehouse.warehouse import embedded; print(embedded.ensure_running(pathlib.Path(sys.argv[1]), 55400))"


def test_two_processes_starting_a_new_server_share_one(tmp_path):
    pgdata = tmp_path / "pgdata"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", START, str(pgdata)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        outcomes = [(start.wait(120), *start.communicate()) for start in starts]
        assert [code for code, _, _ in outcomes] == [0, 0], outcomes
        [port] = {int(out) for _, out, _ in outcomes}
        with psycopg.connect(f"postgresql://{embedded.SUPERUSER}@127.0.0.1:{port}/postgres") as conn:
            assert conn.execute("select setting from pg_settings where name = 'data_directory'").fetchone() == (
                str(pgdata),
            )
    finally:
        embedded.stop(pgdata)
