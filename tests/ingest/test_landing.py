"""Landing takes the fast path (COPY of the file's bytes) only where it lands exactly what
Python's csv module reads; everything else goes through Python, with the same result."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

import itss_warehouse.ingest.landing as load_module
from itss_warehouse.ingest.map_batches import map_landed
from itss_warehouse.ingest.sources import Source, SourceSet, load_sources
from itss_warehouse.settings import PACKAGE_DIR

pytestmark = pytest.mark.integration
MAPPINGS = PACKAGE_DIR / "mappings"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"


def _crafted(encoding: str) -> SourceSet:
    source = Source(
        name="crafted",
        entity="tickets",
        pattern="crafted*.csv",
        encoding=encoding,
        delimiter=";",
        header_row=2,
        columns={"单号": "ticket_id", "级别": "priority", "备注": "category"},
    )
    return SourceSet(timezone="UTC", sources=[source])


# A title line above the header, CRLF line ends, a quoted field spanning lines, doubled
# quotes, empty fields, a trailing field separator's empty value, Chinese text.
CRAFTED_TEXT = (
    '工单导出 2026年11月;;\r\n单号;级别;备注\r\nT-1;P1;"多行\r\n备注"\r\nT-2;;"他说""好"""\r\nT-3;P2;\r\nT-4;"";""\r\n'
)


def _case_small(small_landing: Path, landing: Path) -> SourceSet:
    shutil.copytree(small_landing, landing, dirs_exist_ok=True)
    return load_sources(MAPPINGS / "demo.yml")


def _case_servicenow(small_landing: Path, landing: Path) -> SourceSet:
    shutil.copy(FIXTURES / "incident_servicenow.csv", landing)
    return load_sources(MAPPINGS / "servicenow.yml")


def _case_jira(small_landing: Path, landing: Path) -> SourceSet:
    shutil.copy(FIXTURES / "jira_jsm_export.csv", landing)
    return load_sources(MAPPINGS / "jira_service_management.yml")


def _case_gbk(small_landing: Path, landing: Path) -> SourceSet:
    (landing / "crafted.csv").write_bytes(CRAFTED_TEXT.encode("gbk"))
    return _crafted("gbk")


def _case_gb18030(small_landing: Path, landing: Path) -> SourceSet:
    (landing / "crafted.csv").write_bytes(CRAFTED_TEXT.replace("好", "𠀀").encode("gb18030"))  # a four-byte character
    return _crafted("gb18030")


CASES = {
    "small": _case_small,
    "servicenow": _case_servicenow,
    "jira": _case_jira,
    "gbk": _case_gbk,
    "gb18030": _case_gb18030,
}


def _snapshot(url: str) -> dict:
    """Everything landing and mapping wrote, but for load times."""
    with psycopg.connect(url) as conn:
        batches = conn.execute(
            "select batch_id, source_name, file_name, header, landed_rows, row_count from raw.load_batches order by 1"
        ).fetchall()
        landed = {
            batch[0]: conn.execute(
                sql.SQL("select * from {} order by _source_row").format(load_module.landing_table(batch[0]))
            ).fetchall()
            for batch in batches
        }
        tickets = conn.execute(
            "select * from raw.tickets order by _batch_id, _source_row"
        ).fetchall()  # _loaded_at differs between the two runs
        quarantined = conn.execute(
            "select batch_id, source_row, check_name, column_name, raw_value, reason from raw.quarantined_rows"
            " order by 1, 2, 3"
        ).fetchall()
    return {
        "batches": batches,
        "landed": landed,
        "tickets": [row[:3] + row[4:] for row in tickets],
        "quarantined": quarantined,
    }


def _land_and_map(url: str, landing: Path, sources: SourceSet, monkeypatch) -> list[str]:
    """Land and map; return the files that went through Python."""
    through_python = []
    real = load_module._land_with_python

    def spy(conn, table, path, source):
        through_python.append(path.name)
        return real(conn, table, path, source)

    monkeypatch.setattr(load_module, "_land_with_python", spy)
    load_module.load_landing(url, landing, sources)
    map_landed(url, sources)
    return through_python


@pytest.mark.parametrize("case", CASES)
def test_copy_path_lands_and_maps_what_the_python_path_does(
    case, create_warehouse, small_landing, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    landing.mkdir()
    sources = CASES[case](small_landing, landing)
    fast, python = create_warehouse("landing_copy"), create_warehouse("landing_python")

    through_python = _land_and_map(fast, landing, sources, monkeypatch)
    assert through_python == sorted(path.name for path in landing.glob("*.xlsx"))  # every CSV took the fast path

    def refuse(*args):
        raise load_module._NeedsPython

    monkeypatch.setattr(load_module, "_land_with_copy", refuse)
    _land_and_map(python, landing, sources, monkeypatch)
    assert _snapshot(fast) == _snapshot(python)


def test_crafted_gbk_file_lands_as_written(create_warehouse, tmp_path, monkeypatch):
    url = create_warehouse("landing_gbk")
    landing = tmp_path / "landing"
    landing.mkdir()
    sources = _case_gbk(tmp_path, landing)
    assert _land_and_map(url, landing, sources, monkeypatch) == []
    with psycopg.connect(url) as conn:
        header, landed = conn.execute("select header, landed_rows from raw.load_batches").fetchone()
        rows = conn.execute("select * from raw_landing.batch_1 order by 1").fetchall()
    assert (header, landed) == (["单号", "级别", "备注"], 4)
    # rows numbered as a spreadsheet shows them: title 1, header 2, the two-line record is row 3
    assert rows == [
        (3, "T-1", "P1", "多行\r\n备注"),
        (4, "T-2", "", '他说"好"'),
        (5, "T-3", "P2", ""),
        (6, "T-4", "", ""),
    ]


PLAIN = SourceSet(
    timezone="UTC",
    sources=[
        Source(
            name="plain",
            entity="tickets",
            pattern="plain.csv",
            columns={"a": "ticket_id", "b": "category", "c": "assignee"},
        )
    ],
)


@pytest.mark.parametrize(
    ("text", "landed", "rejected"),
    [
        pytest.param(
            "a,b,c\n1,2,3\n4,5\n6,7,8\n", [(2, "1", "2", "3"), (4, "6", "7", "8")], [(3, "4,5")], id="wrong field count"
        ),
        pytest.param("a,b,c\n1,2,3\n\n4,5,6\n", [(2, "1", "2", "3"), (4, "4", "5", "6")], [], id="blank line"),
        pytest.param(
            "a,b,c\n1,2,3\n\\.\n4,5,6\n",
            [(2, "1", "2", "3"), (4, "4", "5", "6")],
            [(3, "\\.")],
            id="end-of-data marker",
        ),
        pytest.param(
            'a,b,c\n1,27" 显示器,3\n4,5,6\n',
            [(2, "1", '27" 显示器', "3"), (3, "4", "5", "6")],
            [],
            id="quote inside a field",
        ),
    ],
)
def test_what_copy_would_misread_goes_through_python(text, landed, rejected, create_warehouse, tmp_path, monkeypatch):
    url = create_warehouse("landing_fallback")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "plain.csv").write_text(text, encoding="utf-8")
    assert _land_and_map(url, landing, PLAIN, monkeypatch) == ["plain.csv"]
    with psycopg.connect(url) as conn:
        assert conn.execute("select * from raw_landing.batch_1 order by 1").fetchall() == landed
        assert (
            conn.execute(
                "select source_row, raw_value from raw.quarantined_rows where check_name = 'mapping:row' order by 1"
            ).fetchall()
            == rejected
        )
        assert conn.execute("select count(*) from raw.tickets").fetchone() == (len(landed),)
