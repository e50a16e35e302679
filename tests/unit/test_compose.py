"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check that they
parse and point at files, commands and settings that exist in this repository."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from itss_warehouse.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
DBT_VARIABLES = set(re.findall(r"env_var\('(\w+)'", (REPO / "dbt_project" / "profiles.yml").read_text()))


def test_built_services_use_the_repository_dockerfile_whose_sources_exist():
    built = [name for name, service in COMPOSE["services"].items() if "build" in service]
    assert built == ["airflow"]
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), source


def test_bind_mounts_exist():
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                assert (REPO / host).is_dir(), host


def test_environment_names_settings_and_dbt_variables_that_exist():
    environment = COMPOSE["services"]["airflow"]["environment"]
    settings = {f"ITSS_{name.upper()}" for name in Settings.model_fields}
    for name in environment:
        if name.startswith("ITSS_DBT_"):
            assert name in DBT_VARIABLES, name
        elif name.startswith("ITSS_"):
            assert name in settings, name
    assert environment["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/itss/dags"
    assert "COPY dags ./dags" in DOCKERFILE and "WORKDIR /opt/itss" in DOCKERFILE
    assert (REPO / "dags" / "itss_nightly.py").exists()


def test_image_parses_the_dbt_manifest_cosmos_needs():
    assert "dbt parse --project-dir dbt_project --profiles-dir dbt_project" in DOCKERFILE
