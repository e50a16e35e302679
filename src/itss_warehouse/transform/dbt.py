"""Run dbt in-process for the command line (inside Airflow, cosmos runs it)."""

from __future__ import annotations

from pathlib import Path

from itss_warehouse.settings import Settings


class DbtError(RuntimeError):
    pass


def run_dbt(settings: Settings, *args: str) -> None:
    """``dbt <args>`` against the dbt project; the environment must already be exported."""
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_path)
    result = dbtRunner().invoke([*args, "--project-dir", project, "--profiles-dir", project])
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed: {result.exception or 'see the dbt log above'}")


def generate_docs(settings: Settings, *args: str) -> Path:
    """``dbt docs generate`` into $ITSS_HOME/dbt_docs (outside the repo); return the folder."""
    target = settings.home_path / "dbt_docs"
    run_dbt(settings, "--quiet", "docs", "generate", "--target-path", str(target), *args)
    return target
