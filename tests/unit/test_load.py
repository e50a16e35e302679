"""The raw loader against a real PostgreSQL: COPY, metadata, idempotency, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from itss_warehouse.load import load_landing
from itss_warehouse.mapping import SourceFileError
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.sources import load_sources

pytestmark = pytest.mark.integration
SOURCES = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")


@pytest.fixture()
def url(create_warehouse) -> str:
    return create_warehouse("load")


def test_files_load_once_with_metadata_and_canonical_values(url: str, small_landing: Path):
    first = load_landing(url, small_landing, SOURCES)
    assert sorted(batch.entity for batch in first) == [
        "customers",
        "departments",
        "projects",
        "sla_policies",
        "tickets",
    ]
    assert load_landing(url, small_landing, SOURCES) == []  # same files again: nothing new

    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.tickets").fetchone()[0] == 20
        row = conn.execute(
            "select ticket_id, ticket_type, priority, opened_at, onsite_arrived_at, delivery_mode,"
            " _source_file, _source_row from raw.tickets where ticket_id = 'INC-6'"
        ).fetchone()
        projects = conn.execute("select project_id, kind, start_date from raw.projects order by 1").fetchall()
    assert row == (
        "INC-6",
        "incident",
        "P1",
        "2026-10-03T20:00:00+0800",
        "2026-10-03T21:30:00+0800",
        "onsite",
        "tickets.csv",
        7,
    )
    assert projects == [("P1", "new", "2026-01-01"), ("P2", "new", "2026-01-01")]


def test_unmapped_value_is_kept_verbatim_for_validation(url: str, small_landing: Path):
    load_landing(url, small_landing, SOURCES)
    with psycopg.connect(url) as conn:
        assert conn.execute("select priority from raw.tickets where ticket_id = 'INC-8'").fetchone() == ("未知",)


def test_missing_column_names_file_and_column(url: str, small_landing: Path, tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    source = (small_landing / "tickets.csv").read_text(encoding="utf-8-sig")
    (landing / "tickets.csv").write_text(source.replace("优先级", "级别", 1), encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"tickets\.csv: missing column\(s\) 优先级 required by source"):
        load_landing(url, landing, SOURCES)


def test_unparseable_timestamp_is_kept_as_written(url: str, small_landing: Path, tmp_path: Path):
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    text = (landing / "tickets.csv").read_text(encoding="utf-8-sig")
    (landing / "tickets.csv").write_text(
        text.replace("2026-10-05 09:00:00", "2026-02-30 25:61:00", 1), encoding="utf-8-sig"
    )
    load_landing(url, landing, SOURCES)
    with psycopg.connect(url) as conn:
        assert conn.execute("select opened_at from raw.tickets where ticket_id = 'INC-1'").fetchone() == (
            "2026-02-30 25:61:00",
        )
