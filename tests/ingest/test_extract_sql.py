"""The sql extractor against the machine's MariaDB: incremental CSV extracts, watermark, load."""

from __future__ import annotations

import csv
import re
import socket
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from support.ingest import ingest

from itss_warehouse.ingest.extract import ExtractError, extract_all, extract_source
from itss_warehouse.ingest.sources import Source, SourceSet

pytestmark = pytest.mark.integration
SERVER = "mysql+pymysql://root@127.0.0.1:3306"
DATABASE = "itss_test_helpdesk"
SOURCE = Source(
    name="helpdesk_tickets",
    entity="tickets",
    type="sql",
    connection_env="ITSS_TEST_HELPDESK_URL",
    query="select id, title, priority, status, created_at, updated_at from tickets"
    " where updated_at >= :watermark order by updated_at, id",
    watermark_column="updated_at",
    columns={
        "id": "ticket_id",
        "title": "title",
        "priority": "priority",
        "status": "status",
        "created_at": "opened_at",
        "updated_at": "updated_at",
    },
    values={"priority": {"紧急": "P1", "高": "P2", "中": "P3", "低": "P4"}},
    timestamps=["opened_at", "updated_at"],
)
TICKETS = [
    (1, "邮件服务器无法发送", "紧急", "已关闭", "2026-11-20 08:00:00", "2026-11-20 09:30:00"),
    (2, "打印机卡纸", "中", "处理中", "2026-11-20 09:00:00", "2026-11-20 10:00:00"),
    (3, "VPN 账号申请", "低", "已关闭", "2026-11-20 09:15:00", "2026-11-20 10:30:00"),
    (4, "核心交换机端口告警", "高", "处理中", "2026-11-20 10:00:00", "2026-11-20 11:00:00"),
    (5, "财务系统登录缓慢", "高", "新建", "2026-11-20 10:40:00", "2026-11-20 11:00:00"),
]


def _mariadb_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 3306), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture()
def helpdesk(monkeypatch) -> sqlalchemy.Engine:
    """A fresh ``itss_test_helpdesk`` database with five tickets, its URL in the source's variable."""
    if not _mariadb_answers():
        pytest.skip("MariaDB does not answer at 127.0.0.1:3306")
    admin = sqlalchemy.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"drop database if exists {DATABASE}")
        conn.exec_driver_sql(f"create database {DATABASE} character set utf8mb4")
    admin.dispose()
    engine = sqlalchemy.create_engine(f"{SERVER}/{DATABASE}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "create table tickets (id int primary key, title varchar(200), priority varchar(10),"
            " status varchar(20), created_at datetime, updated_at datetime)"
        )
        conn.exec_driver_sql("insert into tickets values (%s, %s, %s, %s, %s, %s)", TICKETS)
    monkeypatch.setenv("ITSS_TEST_HELPDESK_URL", f"{SERVER}/{DATABASE}")
    yield engine
    engine.dispose()


@pytest.fixture()
def warehouse(create_warehouse) -> str:
    return create_warehouse("extract_sql")


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _watermark(url: str) -> tuple[str, str]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select watermark, file_name from raw.source_watermarks where source_name = 'helpdesk_tickets'"
        ).fetchone()


def test_incremental_extracts_land_changed_rows_and_load(helpdesk, warehouse: str, tmp_path: Path):
    landing = tmp_path / "landing"
    first = extract_source(SOURCE, landing, warehouse)
    assert re.fullmatch(r"helpdesk_tickets__\d{8}T\d{6}Z\.csv", first.name)
    rows = _read(first)
    assert rows[0] == ["id", "title", "priority", "status", "created_at", "updated_at"]
    assert rows[1:] == [[str(value) for value in ticket] for ticket in TICKETS]
    assert _watermark(warehouse) == ("2026-11-20 11:00:00", first.name)

    with helpdesk.begin() as conn:
        conn.exec_driver_sql("update tickets set status = '已解决', updated_at = '2026-11-20 14:00:00' where id = 2")
        conn.exec_driver_sql(
            "insert into tickets values (6, '新员工开通邮箱', '低', '新建', '2026-11-20 12:50:00', '2026-11-20 13:00:00'),"
            # committed after the first extract, stamped with its newest time: >= still finds it
            " (7, '机房空调告警', '紧急', '处理中', '2026-11-20 10:55:00', '2026-11-20 11:00:00')"
        )
    second = extract_source(SOURCE, landing, warehouse)
    assert second != first and second.name.startswith("helpdesk_tickets__")
    # 6, 2 and the late 7 are new; 4 and 5 sit at the old watermark and are re-extracted (harmless)
    assert [row[0] for row in _read(second)[1:]] == ["4", "5", "7", "6", "2"]
    assert _watermark(warehouse) == ("2026-11-20 14:00:00", second.name)

    assert extract_all(SourceSet(timezone="Asia/Shanghai", sources=[SOURCE]), landing, warehouse) == []
    assert sorted(landing.iterdir()) == sorted([first, second])  # no third file, no temp file left
    assert _watermark(warehouse) == ("2026-11-20 14:00:00", second.name)

    batches = ingest(warehouse, landing, SourceSet(timezone="Asia/Shanghai", sources=[SOURCE]))
    assert [batch.row_count for batch in batches] == [5, 5]
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select count(*) from raw.tickets").fetchone() == (10,)
        latest = conn.execute(
            "select title, priority, status, opened_at, updated_at from raw.tickets"
            " where ticket_id = '2' order by updated_at desc limit 1"
        ).fetchone()
    assert latest == ("打印机卡纸", "P3", "已解决", "2026-11-20T09:00:00+0800", "2026-11-20T14:00:00+0800")


def test_unset_connection_variable_names_the_variable(monkeypatch, warehouse: str, tmp_path: Path):
    monkeypatch.delenv("ITSS_TEST_HELPDESK_URL", raising=False)
    with pytest.raises(ExtractError, match="environment variable ITSS_TEST_HELPDESK_URL is not set"):
        extract_source(SOURCE, tmp_path, warehouse)
    assert list(tmp_path.iterdir()) == []


def test_the_query_runs_read_only(monkeypatch, warehouse: str, tmp_path: Path):
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("create sequence public.ticket_numbers")  # nextval() is not undone by a rollback
    monkeypatch.setenv("ITSS_TEST_HELPDESK_URL", warehouse)
    writing = SOURCE.model_copy(
        update={"query": "select nextval('public.ticket_numbers') as id, :watermark as updated_at"}
    )
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only transaction"):
        extract_source(writing, tmp_path, warehouse)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select is_called from public.ticket_numbers").fetchone() == (False,)
