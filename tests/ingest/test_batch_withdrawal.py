"""Withdrawing a bad export and re-judging without a new one, on real PostgreSQL, dbt and GX.

Each night runs the nightly DAG's steps in order, in process (the DAG itself runs in
tests/e2e): land, map, validate raw (which plans the build), dbt build, validate marts.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from support.small_landing import TICKET_HEADERS, _ticket
from typer.testing import CliRunner

from itss_warehouse import pipeline
from itss_warehouse.cli import app
from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings
from itss_warehouse.transform import dbt
from itss_warehouse.validate import gate

RUN_DATE = "{run_date: '2026-11-21'}"
# Columns that say when or from which batch a row was written, not what it says; and the
# pseudonyms (project_manager_key, improvement_items.owner), keyed by each warehouse's own random key.
STAMPS = {"sla_measured_at", "measured_at", "measured_through_batch", "sla_measured_through", "last_batch_id",
          "project_manager_key", "owner"}  # fmt: skip
EXTRA = "tickets_2026-11-21.csv"
# Per ticket batch: landed records, raw rows, records rejected while landing, raw rows
# quarantined, rows in staging, withdrawn.
ACCOUNTS = """
    select batches.batch_id, batches.landed_rows,
           (select count(*) from raw.tickets where _batch_id = batches.batch_id),
           (select count(*) from raw.quarantined_rows as held
            where held.batch_id = batches.batch_id and held.check_name = 'mapping:row'),
           (select count(distinct held.source_row) from raw.quarantined_rows as held
            where held.batch_id = batches.batch_id and held.check_name <> 'mapping:row'),
           (select count(*) from staging.stg_ticket_tool__tickets as staged where staged.batch_id = batches.batch_id),
           batches.withdrawn_at is not null
    from raw.load_batches as batches
    where batches.entity = 'tickets'
    order by batches.batch_id
"""


def _extra_export(landing: Path) -> None:
    """A later ticket export: INC-2 answered in time after all, and a new ticket INC-9."""
    inc2 = _ticket("INC-2", "事件", "P1", "高", "2026-10-10 10:00:00", "2026-10-10 10:20:00", "", "2026-10-10 12:00:00")
    inc2[-1] = "2026-11-21 09:00:00"
    inc9 = _ticket("INC-9", "事件", "P2", "低", "2026-11-21 08:00:00", "2026-11-21 08:30:00", "", "")
    with (landing / EXTRA).open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(TICKET_HEADERS)
        writer.writerows([inc2, inc9])


class Warehouse:
    def __init__(self, url: str, home: Path, small_landing: Path) -> None:
        self.url = url
        self.settings = Settings(
            _env_file=None, home=home, landing_dir=shutil.copytree(small_landing, home / "landing")
        )

    def env(self) -> pytest.MonkeyPatch:
        patch = pytest.MonkeyPatch()
        values = {**environment.tool_environment(self.settings, self.url), "ITSS_HOME": str(self.settings.home_path),
                  "ITSS_LANDING_DIR": str(self.settings.landing_path)}  # fmt: skip
        for key, value in values.items():
            patch.setenv(key, value)
        return patch

    def night(self) -> dict:
        patch = self.env()
        try:
            pipeline.load_raw()
            checked = pipeline.validate_raw(pipeline.map_raw())
            full = ["--full-refresh"] if checked["build"]["full_refresh"] else []
            dbt.run_dbt(self.settings, "--quiet", "build", *full, "--vars", RUN_DATE)
            pipeline.validate_marts(checked["build"])
            return checked["build"]
        finally:
            patch.undo()

    def itss(self, *args: str) -> tuple[int, str]:
        patch = self.env()
        try:
            result = CliRunner().invoke(app, list(args))
        finally:
            patch.undo()
        return result.exit_code, result.output

    def marts(self) -> dict[str, Counter]:
        """Every mart's rows as a multiset (an EXCEPT ALL either way is empty iff they are equal)."""
        with psycopg.connect(self.url) as conn:
            relations = [row[0] for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            )]  # fmt: skip
            snapshot = {}
            for relation in relations:
                columns = [name for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts'"
                    " and table_name = %s order by ordinal_position", (relation,),
                ) if name not in STAMPS]  # fmt: skip
                query = psycopg.sql.SQL("select {} from {}").format(
                    psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns)),
                    psycopg.sql.Identifier("marts", relation),
                )
                snapshot[relation] = Counter(conn.execute(query).fetchall())
        return snapshot

    def gate(self) -> list[str]:
        with psycopg.connect(self.url) as conn:
            return gate.blockers(conn)

    def one(self, query: str, *params) -> tuple:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(query, params).fetchone()
            assert row is not None
            return row


def _differences(left: dict[str, Counter], right: dict[str, Counter]) -> dict[str, tuple]:
    return {
        name: (left[name] - right[name], right[name] - left[name])
        for name in left.keys() | right.keys()
        if left.get(name) != right.get(name)
    }


@pytest.fixture(scope="module")
def without_file(create_warehouse, small_landing, tmp_path_factory) -> dict[str, Counter]:
    """The marts of a warehouse that never saw the extra export."""
    warehouse = Warehouse(create_warehouse("never_saw"), tmp_path_factory.mktemp("never_saw"), small_landing)
    warehouse.night()
    return warehouse.marts()


def test_a_withdrawn_export_leaves_the_marts_as_if_it_never_arrived(
    create_warehouse, small_landing, tmp_path, without_file, caplog
):
    warehouse = Warehouse(create_warehouse("withdrawal"), tmp_path, small_landing)
    _extra_export(warehouse.settings.landing_path)
    assert warehouse.night()["full_refresh"] is False
    [batch] = warehouse.one("select batch_id from raw.load_batches where file_name = %s", EXTRA)
    with_file = warehouse.marts()
    assert _differences(with_file, without_file)  # the file changed figures (INC-2 met, INC-9 open)

    code, output = warehouse.itss("batch", "withdraw", EXTRA, "--reason", "导出时间范围错误", "--by", "王质量")
    assert code == 0, output
    assert "the next build is a full one" in output
    blockers = warehouse.gate()
    assert len(blockers) == 1 and blockers[0].startswith(
        f"the marts wait for a full build (batch {batch} ({EXTRA}) withdrawn)"
    )
    code, output = warehouse.itss("batch", "list", "--source", "ticket_tool_tickets")
    assert code == 0, output
    assert re.search(rf"^{batch} +ticket_tool_tickets +{EXTRA} .* 2 +0 +withdrawn$", output, re.MULTILINE), output
    assert f"batch {batch} withdrawn by 王质量" in output and "导出时间范围错误" in output

    # The next night: the same file dropped again stays withdrawn (and says so); the build is full.
    shutil.copy(warehouse.settings.landing_path / EXTRA, warehouse.settings.landing_path / "tickets_again.csv")
    with caplog.at_level(logging.WARNING, logger="itss_warehouse.ingest.landing"):
        assert warehouse.night()["full_refresh"] is True
    assert f"tickets_again.csv has the same bytes as withdrawn batch {batch} and stays withdrawn" in caplog.text
    assert list(_differences(warehouse.marts(), without_file)) == []
    assert warehouse.gate() == []
    # Kept and marked, and on record: nothing is lost.
    assert warehouse.one("select count(*) from raw.tickets where _batch_id = %s", batch) == (2,)
    assert warehouse.one("select count(*) from raw.load_batches where file_name = %s", EXTRA) == (1,)
    assert warehouse.one("select action, actor, reason from raw.batch_withdrawals") == (
        "withdrawn", "王质量", "导出时间范围错误",
    )  # fmt: skip
    assert warehouse.one("select count(*) from staging.stg_ticket_tool__tickets where batch_id = %s", batch) == (0,)
    # Nothing lost: every landed ticket record is in raw (or was rejected while landing, with its
    # reason), and every raw row is in staging, quarantined, or in the withdrawn batch.
    with psycopg.connect(warehouse.url) as conn:
        accounts = conn.execute(ACCOUNTS).fetchall()
    # tickets.csv with its one bad priority (INC-8), and the withdrawn export
    assert [(account[0], account[4], account[6]) for account in accounts][-1] == (batch, 0, True)
    assert len(accounts) == 2 and accounts[0][4] == 1
    for _, landed, in_raw, rejected, quarantined, staged, withdrawn in accounts:
        assert landed == in_raw + rejected
        assert staged == (0 if withdrawn else in_raw - quarantined)

    # Restored: the file's figures return, again through a full build.
    code, output = warehouse.itss("batch", "restore", str(batch), "--reason", "核实无误")
    assert code == 0, output
    assert warehouse.night()["full_refresh"] is True
    assert _differences(warehouse.marts(), with_file) == {}


FAILING = "tickets_2026-11-22.csv"


def _failing_export(landing: Path) -> None:
    """A ticket export with 12 unknown priorities of 15: beyond the default tolerance of 10 rows."""
    rows = [
        _ticket(f"INC-{n}", "事件", "P1", "普通" if n < 42 else "中", "2026-11-20 08:00:00", "", "", "")
        for n in range(30, 45)
    ]
    with (landing / FAILING).open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(TICKET_HEADERS)
        writer.writerows(rows)


def test_a_failed_export_blocks_the_reports_until_withdrawn(create_warehouse, small_landing, tmp_path, without_file):
    from itss_warehouse.validate.runner import ValidationFailed

    warehouse = Warehouse(create_warehouse("failed_export"), tmp_path, small_landing)
    warehouse.night()
    _failing_export(warehouse.settings.landing_path)
    with pytest.raises(ValidationFailed, match="12 row"):
        warehouse.night()
    [batch] = warehouse.one("select batch_id from raw.load_batches where file_name = %s", FAILING)
    [blocker] = warehouse.gate()
    assert blocker.startswith(f"tickets_2026-11-22.csv (batch {batch}) failed validation: tickets_2026-11-22.csv, col")
    assert f"`itss batch withdraw {batch} --reason …`" in blocker and "`itss validate --raw`" in blocker

    code, output = warehouse.itss("doctor")
    assert code == 1 and "✗ reports gate: closed:" in output and blocker in output
    # Re-judging alone does not help (the export is still bad), and says so with a non-zero exit.
    code, output = warehouse.itss("validate", "--raw")
    assert code == 1 and "The reports' gate is closed" in output and f"(batch {batch})" in output
    # Withdrawn: no build ever read it, so no rebuild is needed and the gate opens at once.
    code, output = warehouse.itss("batch", "withdraw", str(batch), "--reason", "优先级全部无法识别")
    assert code == 0 and "full one" not in output
    code, output = warehouse.itss("validate")
    assert code == 0 and "The reports' gate is open." in output
    assert "✓ reports gate: open" in warehouse.itss("doctor")[1]
    assert warehouse.night()["full_refresh"] is False
    assert _differences(warehouse.marts(), without_file) == {}


def test_a_failed_export_passing_on_re_validation_enters_the_marts_through_a_full_build(
    create_warehouse, small_landing, tmp_path
):
    from itss_warehouse.validate.runner import ValidationFailed

    warehouse = Warehouse(create_warehouse("revalidated"), tmp_path, small_landing)
    _extra_export(warehouse.settings.landing_path)  # a later, good export is built before it is re-judged
    warehouse.night()
    _failing_export(warehouse.settings.landing_path)
    with pytest.raises(ValidationFailed):
        warehouse.night()
    [batch] = warehouse.one("select batch_id from raw.load_batches where file_name = %s", FAILING)
    # The quality department decides twelve unknown priorities in this export are tolerable.
    patch = pytest.MonkeyPatch()
    patch.setenv("ITSS_QUARANTINE_TOLERANCE_ROWS", "12")
    try:
        code, output = warehouse.itss("validate", "--raw")
    finally:
        patch.undo()
    assert code == 1, output  # now passed, but the marts have not taken it in yet
    assert f"the marts wait for a full build (batch {batch} ({FAILING}) re-validated)" in output
    assert "Raw: 1 batch(es) validated, 12 rows quarantined" in output
    assert warehouse.one("select count(*) from marts.fct_tickets where ticket_id like 'INC-4%%'") == (0,)
    assert warehouse.night()["full_refresh"] is True
    assert warehouse.gate() == []
    # Its three good tickets are in; its twelve bad ones stay quarantined in raw.
    assert warehouse.one(
        "select array_agg(ticket_id order by ticket_id) from marts.fct_tickets where ticket_id like 'INC-4%%'"
    ) == (["INC-42", "INC-43", "INC-44"],)
