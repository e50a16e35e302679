"""The command line's small commands, against the real warehouse server."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from itss_warehouse.cli import app

pytestmark = pytest.mark.integration


def test_warehouse_url_connects():
    result = CliRunner().invoke(app, ["warehouse", "url"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_demo_generate_writes_into_the_landing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ITSS_LANDING_DIR", str(tmp_path / "landing"))
    result = CliRunner().invoke(app, ["demo", "generate", "--seed", "3", "--end-date", "2026-11-21"])
    assert result.exit_code == 0, result.output
    written = result.output.split()
    assert str(tmp_path / "landing" / "tickets.csv") in written
    assert len(written) == 15
