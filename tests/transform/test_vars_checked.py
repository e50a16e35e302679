"""dbt vars are pasted into SQL text: a value of the wrong shape stops the run before any query."""

from __future__ import annotations

import re

import pytest

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings
from itss_warehouse.transform.dbt import DbtError, run_dbt

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ("{run_date: '2026-11-2x'}", "var('run_date') = 2026-11-2x is not valid"),
        (
            "{run_date: '2026-11-21', organisation_owner: \"x'; drop table marts.kpi_scorecard; --\"}",
            "organisation_owner",
        ),
        ("{run_date: '2026-11-21', timezone: \"Asia/Shanghai' --\"}", "var('timezone')"),
        ("{run_date: '2026-11-21', low_score_threshold: '80 or true'}", "var('low_score_threshold')"),
        ("{run_date: '2026-11-21', rating_scores: {satisfied: '100; select 1'}}", "var('rating_scores')"),
    ],
)
def test_a_malformed_var_stops_the_run(create_warehouse, tmp_path, monkeypatch, variables, named):
    settings = Settings(_env_file=None, home=tmp_path)
    for key, value in environment.tool_environment(settings, create_warehouse("dbt_vars")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    with pytest.raises(DbtError, match=re.escape(named)):
        run_dbt(settings, "--quiet", "run", "--select", "dim_calendar", "--vars", variables)
