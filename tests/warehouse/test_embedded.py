"""The embedded warehouse started by two processes at once, as by two `itss` commands on a new
machine (or two test workers): one server, initialised once, one warehouse database, and both
get its URL."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from itss_warehouse.warehouse import embedded

pytestmark = pytest.mark.integration
# The embedded warehouse even where ITSS_WAREHOUSE_URL names a server (CI's second pass).
START = (
    "import sys; from itss_warehouse.settings import Settings; from itss_warehouse.warehouse.connection import"
    " warehouse_url; print(warehouse_url(Settings(_env_file=None, home=sys.argv[1], warehouse_url=None,"
    " embedded_port=55400)))"
)


def test_two_processes_starting_a_new_warehouse_share_one(tmp_path):
    pgdata = tmp_path / "pgdata"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", START, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        outcomes = [(start.wait(120), *start.communicate()) for start in starts]
        assert [code for code, _, _ in outcomes] == [0, 0], outcomes
        [url] = {out.strip() for _, out, _ in outcomes}
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database(), current_setting('data_directory')").fetchone() == (
                "itss",
                str(pgdata),
            )
    finally:
        embedded.stop(pgdata)
