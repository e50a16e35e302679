"""Build demo exports into a warehouse as the nightly run does: land, map, validate, dbt build, validate marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from itss_warehouse.ingest import sources
from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings
from itss_warehouse.transform import dbt
from itss_warehouse.validate import runner
from support.dbt_build import NIGHTLY_BUILD
from support.ingest import ingest


def build(url: str, landing: Path, home: Path, run_date: date) -> None:
    settings = Settings(_env_file=None, home=home, landing_dir=landing)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.tool_environment(settings, url).items():
            patch.setenv(key, value)
        # Our own dbt target and logs: other test runs may build in dbt_project/target at the same time.
        patch.setenv("DBT_TARGET_PATH", str(home / "dbt_target"))
        patch.setenv("DBT_LOG_PATH", str(home / "dbt_logs"))
        batches = ingest(url, landing, sources.load_sources(settings.sources_file))
        runner.validate_raw_batches(url, [batch.batch_id for batch in batches], settings)
        dbt.run_dbt(settings, "--quiet", *NIGHTLY_BUILD, "--vars", f"{{run_date: '{run_date}'}}")
        runner.validate_marts(url, settings)
