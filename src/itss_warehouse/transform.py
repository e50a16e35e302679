"""Run dbt in-process for the command line (inside Airflow, cosmos runs it)."""

from __future__ import annotations

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
