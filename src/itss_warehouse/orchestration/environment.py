"""Process environment for the tools we drive: dbt and Airflow.

dbt reads its connection from ``ITSS_DBT_*`` (see dbt_project/profiles.yml) and Airflow
its home and DAG folder from ``AIRFLOW_*``; both are derived here from the settings so
that there is one source of configuration. Airflow reads its configuration when it is
first imported, so these must be exported before anything imports airflow.
"""

from __future__ import annotations

import os

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse.connection import dbt_environment


def tool_environment(settings: Settings, url: str) -> dict[str, str]:
    airflow_home = settings.airflow_home
    return {
        "ITSS_WAREHOUSE_URL": url,
        **dbt_environment(url),
        "DBT_PROFILES_DIR": str(settings.dbt_project_path),
        # JIT-compiling a model's query costs seconds, more than it saves at this scale,
        # and the planner's guess of a night's changes (a third of history) sets it off.
        "PGOPTIONS": " ".join(filter(None, [os.environ.get("PGOPTIONS"), "-c jit=off"])),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        # No internet in production networks either: no usage pings from cosmos.
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.home_path / "cosmos_cache"),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{airflow_home / 'airflow.db'}"
        ),
    }


def export(settings: Settings, url: str) -> dict[str, str]:
    """Export the tool environment into this process (children inherit it) and return it."""
    environment = tool_environment(settings, url)
    os.environ.update(environment)
    return environment
