"""The load benchmark keeps working (small mode); its figures are measured, never asserted."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from itss_warehouse.cli import app

pytestmark = pytest.mark.integration


def test_small_load_benchmark_writes_its_figures(tmp_path, monkeypatch, maintenance_url):
    monkeypatch.setenv("ITSS_HOME", str(tmp_path))
    monkeypatch.setenv("ITSS_WAREHOUSE_URL", maintenance_url)
    result = CliRunner().invoke(app, ["bench", "load", "--rows", "2000"])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "bench" / "load.json").read_text())
    assert figures["rows"] == 2000
    assert figures["copy_seconds"] > 0 and figures["load_seconds"] > 0 and figures["load_peak_megabytes"] > 0
    assert "| 2000 |" in (tmp_path / "bench" / "load.md").read_text()
