"""Landing and mapping against a real PostgreSQL: COPY, metadata, idempotency, atomic batches, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from support.ingest import ingest

from itss_warehouse.ingest.landing import load_landing
from itss_warehouse.ingest.map_batches import map_landed
from itss_warehouse.ingest.mapping import SourceFileError
from itss_warehouse.ingest.sources import Source, SourceSet, load_sources
from itss_warehouse.settings import PACKAGE_DIR

pytestmark = pytest.mark.integration
SOURCES = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")


@pytest.fixture()
def url(create_warehouse) -> str:
    return create_warehouse("load")


def test_files_load_once_with_metadata_and_canonical_values(url: str, small_landing: Path):
    first = ingest(url, small_landing, SOURCES)
    assert sorted(batch.entity for batch in first) == [
        "customers",
        "departments",
        "incident_callbacks",
        "projects",
        "sla_policies",
        "survey_responses",
        "tickets",
    ]
    assert ingest(url, small_landing, SOURCES) == []  # same files again: nothing new

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
    ingest(url, small_landing, SOURCES)
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
    ingest(url, landing, SOURCES)
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
    (batch,) = ingest(url, landing, SOURCES)
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


def test_a_crash_mid_landing_leaves_nothing_and_the_rerun_lands_the_file_whole(url, small_landing, monkeypatch):
    import itss_warehouse.ingest.landing as load_module

    real_quarantine = load_module.quarantine_problems

    def crash_after_tickets_landed(conn, batch_id, entity, file_name, problems):  # fault injection
        if entity == "tickets":
            raise RuntimeError("injected crash")
        real_quarantine(conn, batch_id, entity, file_name, problems)

    monkeypatch.setattr(load_module, "quarantine_problems", crash_after_tickets_landed)
    with pytest.raises(RuntimeError, match="injected crash"):
        load_landing(url, small_landing, SOURCES)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.load_batches where entity = 'tickets'").fetchone() == (0,)
        assert conn.execute("select count(*) from pg_tables where schemaname = 'raw_landing'").fetchone() == (
            4,
        )  # the four files landed before the crash; not the tickets, nor the files after them

    monkeypatch.setattr(load_module, "quarantine_problems", real_quarantine)
    landed = load_landing(url, small_landing, SOURCES)
    assert [(batch.entity, batch.records) for batch in landed] == [
        ("tickets", 20),
        ("incident_callbacks", 1),
        ("survey_responses", 5),
    ]


def test_a_crash_mid_mapping_leaves_the_batch_unmapped_and_the_rerun_maps_it_whole(url, small_landing, monkeypatch):
    import itss_warehouse.ingest.map_batches as map_module

    load_landing(url, small_landing, SOURCES)
    monkeypatch.setattr(map_module, "CHUNK_ROWS", 5)
    real_copy = map_module.copy_frame
    calls = []

    def crash_on_second_chunk(conn, table, frame):  # fault injection: the process "dies" mid-batch
        calls.append(table.as_string(conn))
        if calls.count('"raw"."tickets"') == 2:
            raise RuntimeError("injected crash")
        real_copy(conn, table, frame)

    monkeypatch.setattr(map_module, "copy_frame", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="injected crash"):
        map_landed(url, SOURCES)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.tickets").fetchone() == (0,)
        assert conn.execute(
            "select row_count, mapped_at is null from raw.load_batches where entity = 'tickets'"
        ).fetchone() == (0, True)

    monkeypatch.setattr(map_module, "copy_frame", real_copy)
    mapped = map_landed(url, SOURCES)
    assert [(batch.entity, batch.row_count) for batch in mapped] == [
        ("tickets", 20),
        ("incident_callbacks", 1),
        ("survey_responses", 5),
    ]
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*), count(distinct _source_row) from raw.tickets").fetchone() == (20, 20)


def test_a_batch_whose_source_was_removed_fails_mapping_with_its_name(url, small_landing):
    load_landing(url, small_landing, SOURCES)
    remaining = SourceSet(timezone=SOURCES.timezone, sources=[s for s in SOURCES.sources if s.entity != "tickets"])
    with pytest.raises(SourceFileError, match=r"tickets\.csv \(batch \d+\) was loaded by source 'ticket_tool_tickets'"):
        map_landed(url, remaining)


def test_a_value_failing_two_mapping_steps_keeps_both_reasons(url: str, tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "levels.csv").write_text("id,level\nL-1,P1 - urgent\nL-2,紧急\n", encoding="utf-8")
    source = Source(
        name="levels", entity="tickets", pattern="levels.csv", columns={"id": "ticket_id", "level": "priority"},
        extract={"priority": r"^(P\d)\b"}, values={"priority": {"P1": "P1"}},
    )  # fmt: skip
    (batch,) = ingest(url, landing, SourceSet(timezone="UTC", sources=[source]))
    assert batch.problem_count == 2
    with psycopg.connect(url) as conn:
        quarantined = conn.execute(
            "select source_row, check_name, raw_value, reason from raw.quarantined_rows where batch_id = %s",
            (batch.batch_id,),
        ).fetchall()
    assert quarantined == [
        (3, "mapping:priority", "紧急", r"does not match ^(P\d)\b; value not in the mapping's value map")
    ]


def test_batches_loaded_before_landing_tables_count_as_mapped(url: str, small_landing: Path):
    with psycopg.connect(url) as conn:  # raw.load_batches as the loader created it before landing tables
        conn.execute(
            "create table raw.load_batches (batch_id bigserial primary key, source_name text not null,"
            " entity text not null, file_name text not null, checksum text not null, row_count integer not null,"
            " loaded_at timestamptz not null default now(), unique (source_name, checksum))"
        )
        conn.execute(
            "insert into raw.load_batches (source_name, entity, file_name, checksum, row_count)"
            " values ('ticket_tool_tickets', 'tickets', 'old.csv', 'abc', 7)"
        )
    mapped = ingest(url, small_landing, SOURCES)
    assert 1 not in [batch.batch_id for batch in mapped]
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select row_count, mapped_at = loaded_at from raw.load_batches where batch_id = 1"
        ).fetchone() == (7, True)


def test_each_ticket_row_carries_its_sources_closed_without_resolution_rule(url: str, small_landing: Path):
    tickets = next(source for source in SOURCES.sources if source.entity == "tickets")
    strict = SourceSet(
        timezone=SOURCES.timezone,
        sources=[tickets.model_copy(update={"closed_without_resolution": "unmeasured"}) if source is tickets
                 else source for source in SOURCES.sources],
    )  # fmt: skip
    ingest(url, small_landing, strict)
    with psycopg.connect(url) as conn:
        rules = conn.execute("select closed_without_resolution, count(*) from raw.tickets group by 1").fetchall()
    assert rules == [("unmeasured", 20)]
