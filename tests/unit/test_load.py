"""The raw loader against a real PostgreSQL: COPY, metadata, idempotency, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from itss_warehouse.load import load_landing
from itss_warehouse.mapping import SourceFileError
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.sources import Source, SourceSet, load_sources

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


def _with_tickets(small_landing: Path, tmp_path: Path, edit) -> Path:
    landing = tmp_path / "landing"
    landing.mkdir()
    text = (small_landing / "tickets.csv").read_text(encoding="utf-8-sig")
    (landing / "tickets.csv").write_text(edit(text), encoding="utf-8-sig")
    return landing


def test_malformed_lines_are_rejected_with_line_and_text_and_the_rest_loads(url, small_landing, tmp_path):
    # line 4 (INC-3) loses its last field; a stray line with two fields follows INC-6
    def edit(text: str) -> str:
        lines = text.splitlines()
        lines[3] = lines[3].rsplit(",", 1)[0]
        lines.insert(7, "垃圾,行")
        return "\n".join(lines) + "\n"

    landing = _with_tickets(small_landing, tmp_path, edit)
    (batch,) = load_landing(url, landing, SOURCES)
    assert (batch.row_count, batch.problem_count) == (19, 3)  # 21 data lines, 2 rejected, 1 unknown priority
    with psycopg.connect(url) as conn:
        rejected = conn.execute(
            "select source_row, check_name, column_name, reason from raw.quarantined_rows"
            " where check_name = 'mapping:row' order by source_row"
        ).fetchall()
        stored = conn.execute("select count(*) from raw.tickets where ticket_id in ('INC-3', '垃圾')").fetchone()
    assert rejected == [
        (4, "mapping:row", None, "expected 20 fields, found 19"),
        (8, "mapping:row", None, "expected 20 fields, found 2"),
    ]
    assert stored == (0,)


def test_a_crash_mid_batch_leaves_nothing_and_the_rerun_loads_the_file_whole(url, small_landing, monkeypatch):
    import itss_warehouse.load as load_module
    import itss_warehouse.mapping as mapping_module

    monkeypatch.setattr(mapping_module, "CHUNK_ROWS", 5)
    real_copy = load_module._copy_frame
    calls = []

    def crash_on_second_chunk(conn, entity, frame):  # fault injection: the process "dies" mid-file
        calls.append(entity)
        if entity == "tickets" and calls.count("tickets") == 2:
            raise RuntimeError("injected crash")
        real_copy(conn, entity, frame)

    monkeypatch.setattr(load_module, "_copy_frame", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="injected crash"):
        load_landing(url, small_landing, SOURCES)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.tickets").fetchone() == (0,)
        assert conn.execute("select count(*) from raw.load_batches where entity = 'tickets'").fetchone() == (0,)

    monkeypatch.setattr(load_module, "_copy_frame", real_copy)
    loaded = load_landing(url, small_landing, SOURCES)
    assert [batch.entity for batch in loaded] == ["tickets"]  # the other files were loaded before the crash
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*), count(distinct _source_row) from raw.tickets").fetchone() == (20, 20)


def test_a_value_failing_two_mapping_steps_keeps_both_reasons(url: str, tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "levels.csv").write_text("id,level\nL-1,P1 - urgent\nL-2,紧急\n", encoding="utf-8")
    source = Source(
        name="levels", entity="tickets", pattern="levels.csv", columns={"id": "ticket_id", "level": "priority"},
        extract={"priority": r"^(P\d)\b"}, values={"priority": {"P1": "P1"}},
    )  # fmt: skip
    (batch,) = load_landing(url, landing, SourceSet(timezone="UTC", sources=[source]))
    assert batch.problem_count == 2
    with psycopg.connect(url) as conn:
        quarantined = conn.execute(
            "select source_row, check_name, raw_value, reason from raw.quarantined_rows where batch_id = %s",
            (batch.batch_id,),
        ).fetchall()
    assert quarantined == [
        (3, "mapping:priority", "紧急", r"does not match ^(P\d)\b; value not in the mapping's value map")
    ]
