"""Shared fixtures: a real PostgreSQL for every test that needs one.

By default the embedded server (the same one `make run` uses) hosts throw-away test
databases; with ITSS_WAREHOUSE_URL set, that server does. Test databases are named
``itss_test_*`` and recreated at the start of each use, never the warehouse itself.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse import embedded
from itss_warehouse.warehouse.connection import libpq_url

REPO = Path(__file__).resolve().parents[1]
# The suite runs in two workers (pytest-xdist): each runs dbt in its own target and log folders,
# unless a test sets them itself.
_WORKER_DIR = REPO / ".itss" / "pytest" / os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ.setdefault("DBT_TARGET_PATH", str(_WORKER_DIR / "dbt_target"))
os.environ.setdefault("DBT_LOG_PATH", str(_WORKER_DIR / "dbt_logs"))


# The longest files (minutes each) go to the two workers first, so that neither is left running
# one alone at the end (xdist then hands out the other files in order: --no-loadscope-reorder).
LONGEST_FIRST = ["e2e/test_bench_small.py", "e2e/test_nightly_run.py", "e2e/test_celery_scale_out.py"]


# A test using one of these needs PostgreSQL: it is marked integration whether or not its file says so,
# so that `make test-fast` (-m "not integration") never waits on a server.
DATABASE_FIXTURES = {"maintenance_url", "create_database", "create_warehouse", "tool_environment"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)

    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(REPO / "tests").as_posix()
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def maintenance_url() -> str:
    configured = os.environ.get("ITSS_WAREHOUSE_URL")
    if configured:
        return libpq_url(configured)
    settings = Settings(_env_file=None, home=REPO / ".itss")
    port = embedded.ensure_running(settings.embedded_data_path, settings.embedded_port)
    return f"postgresql://{embedded.SUPERUSER}@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def create_database(maintenance_url: str) -> Callable[[str], str]:
    """Return a function that (re)creates an empty ``itss_test_<suffix>`` database and gives its URL."""

    def create(suffix: str) -> str:
        name = f"itss_test_{suffix}"
        with psycopg.connect(maintenance_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return _with_database(maintenance_url, name)

    return create


@pytest.fixture(scope="session")
def create_warehouse(create_database) -> Callable[[str], str]:
    """Like create_database, with the warehouse schemas (raw, staging, intermediate, marts)."""
    from itss_warehouse.warehouse.connection import ensure_schemas

    def create(suffix: str) -> str:
        url = create_database(suffix)
        ensure_schemas(url)
        return url

    return create


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    from support.small_landing import write_small_landing

    return write_small_landing(tmp_path_factory.mktemp("landing"))


@pytest.fixture(scope="module")
def pipeline_settings(tmp_path_factory, small_landing: Path) -> Settings:
    """Settings for in-process pipeline tests: a scratch home with its own copy of the small landing."""
    home = tmp_path_factory.mktemp("home")
    landing = shutil.copytree(small_landing, home / "landing")
    return Settings(_env_file=None, home=home, landing_dir=landing)


@pytest.fixture(scope="module")
def tool_environment(pipeline_settings: Settings, create_warehouse, request) -> str:
    """Create the module's pipeline test database and export the dbt/GX environment for this module only."""
    from itss_warehouse.orchestration import environment

    url = create_warehouse(f"pipeline_{request.path.stem.removeprefix('test_')}")
    saved = dict(os.environ)
    environment.export(pipeline_settings, url)
    yield url
    os.environ.clear()
    os.environ.update(saved)
