"""The rest extractor against a local paginated JSON API: retries, flattening, watermark."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from itss_warehouse.ingest import extract
from itss_warehouse.ingest.extract import ExtractError, extract_source
from itss_warehouse.ingest.sources import Source

pytestmark = pytest.mark.integration
SOURCE = Source(
    name="itsm_api",
    entity="tickets",
    type="rest",
    connection_env="ITSS_TEST_ITSM_API_URL",
    watermark_column="updated_at",
    page_size=2,
    records_key="data",
    columns={"id": "ticket_id", "title": "title", "updated_at": "updated_at", "assignee.name": "assignee"},
)
RECORDS = [
    {"id": "REQ-1", "title": "打印机无法连接", "updated_at": "2026-11-20 09:00:00", "assignee": {"name": "张伟"}},
    {
        "id": "REQ-2",
        "title": "VPN 断线",
        "updated_at": "2026-11-20 09:30:00",
        "assignee": {"name": "李娜", "group": {"code": "L1"}},
    },
    {"id": "REQ-3", "title": "邮箱扩容", "updated_at": "2026-11-20 10:00:00", "assignee": None},
    {"id": "REQ-4", "title": "服务器宕机", "updated_at": "2026-11-20 10:30:00", "tags": ["P1", "机房"]},
    {
        "id": "REQ-5",
        "title": "账号解锁",
        "updated_at": "2026-11-20 11:00:00",
        "assignee": {"name": "王芳"},
        "sla": {"breached": False},
    },
]


class Api:
    """A ticket API: ``GET /api/tickets?updated_since=&page=&page_size=`` with queued failures first."""

    def __init__(self) -> None:
        self.records = [dict(record) for record in RECORDS]
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.requests: list[dict[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {key: values[0] for key, values in parse_qs(url.query).items()}
                api.requests.append(params)
                if url.path != "/api/tickets":
                    return self._send(404, {"error": "not found"})
                if api.failures:
                    status, headers = api.failures.pop(0)
                    return self._send(status, {"error": "try again"}, headers)
                size, page = int(params["page_size"]), int(params["page"])
                changed = [r for r in api.records if r["updated_at"] >= params["updated_since"]]
                changed.sort(key=lambda r: (r["updated_at"], r["id"]))
                self._send(200, {"data": changed[(page - 1) * size : page * size], "total": len(changed)})

            def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture()
def api(monkeypatch) -> Api:
    server = Api()
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    monkeypatch.setenv("ITSS_TEST_ITSM_API_URL", f"{server.url}/api/tickets")
    monkeypatch.setattr(extract, "RETRY_BASE_DELAY", 0.01)
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture()
def warehouse(create_warehouse) -> str:
    return create_warehouse("extract_rest")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _watermark(url: str) -> tuple[str, str] | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select watermark, file_name from raw.source_watermarks where source_name = 'itsm_api'"
        ).fetchone()


def test_retries_a_server_error_and_lands_all_pages_flattened(api: Api, warehouse: str, tmp_path: Path):
    api.failures.append((500, {}))
    path = extract_source(SOURCE, tmp_path, warehouse)
    first_page = {"updated_since": "1970-01-01 00:00:00", "page": "1", "page_size": "2"}
    assert api.requests == [first_page, first_page, {**first_page, "page": "2"}, {**first_page, "page": "3"}]
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip()
    assert header == "id,title,updated_at,assignee.name,assignee.group.code,assignee,tags,sla.breached"
    rows = _read(path)
    assert [row["id"] for row in rows] == ["REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5"]
    assert rows[1]["assignee.name"] == "李娜" and rows[1]["assignee.group.code"] == "L1"
    assert rows[0]["assignee.group.code"] == "" and rows[3]["tags"] == '["P1", "机房"]'
    assert rows[4]["sla.breached"] == "false"
    assert _watermark(warehouse) == ("2026-11-20 11:00:00", path.name)


def test_honours_retry_after_on_429(api: Api, warehouse: str, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(extract, "RETRY_BASE_DELAY", 5.0)  # the test would take 5 s if Retry-After were ignored
    api.failures.append((429, {"Retry-After": "0"}))
    started = time.monotonic()
    path = extract_source(SOURCE, tmp_path, warehouse)
    assert time.monotonic() - started < 2
    assert [request["page"] for request in api.requests] == ["1", "1", "2", "3"]
    assert len(_read(path)) == 5


def test_client_error_fails_at_once(api: Api, warehouse: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ITSS_TEST_ITSM_API_URL", f"{api.url}/api/tikets")
    with pytest.raises(
        ExtractError, match=r'GET http://127\.0\.0\.1:\d+/api/tikets\?.* HTTP 404: {"error": "not found"}'
    ):
        extract_source(SOURCE, tmp_path, warehouse)
    assert len(api.requests) == 1
    assert list(tmp_path.iterdir()) == []
    assert _watermark(warehouse) is None


def test_persistent_server_error_gives_up_after_the_attempts(api: Api, warehouse: str, tmp_path: Path):
    api.failures.extend([(503, {})] * extract.MAX_ATTEMPTS)
    with pytest.raises(ExtractError, match=r"failed after 5 attempts: HTTP 503"):
        extract_source(SOURCE, tmp_path, warehouse)
    assert len(api.requests) == extract.MAX_ATTEMPTS
    assert list(tmp_path.iterdir()) == []


def test_connection_errors_are_retried_then_reported(warehouse: str, tmp_path: Path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ITSS_TEST_ITSM_API_URL", f"http://127.0.0.1:{port}/api/tickets")
    monkeypatch.setattr(extract, "RETRY_BASE_DELAY", 0.01)
    with pytest.raises(ExtractError, match=r"failed after 5 attempts: ConnectError"):
        extract_source(SOURCE, tmp_path, warehouse)
    assert list(tmp_path.iterdir()) == []


def test_second_extract_gets_only_the_new_record(api: Api, warehouse: str, tmp_path: Path):
    first = extract_source(SOURCE, tmp_path, warehouse)
    api.records.append({"id": "REQ-6", "title": "新员工入职电脑", "updated_at": "2026-11-20 12:00:00"})
    second = extract_source(SOURCE, tmp_path, warehouse)
    assert second != first
    # REQ-5 sits at the old watermark and comes back with the new record (updated_since is >=)
    assert [row["id"] for row in _read(second)] == ["REQ-5", "REQ-6"]
    assert api.requests[-2:] == [
        {"updated_since": "2026-11-20 11:00:00", "page": "1", "page_size": "2"},
        {"updated_since": "2026-11-20 11:00:00", "page": "2", "page_size": "2"},  # page 1 was full
    ]
    assert _watermark(warehouse) == ("2026-11-20 12:00:00", second.name)
    assert extract_source(SOURCE, tmp_path, warehouse) is None  # only REQ-6 at the watermark: nothing new
    assert sorted(tmp_path.iterdir()) == sorted([first, second])
