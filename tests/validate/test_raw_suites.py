"""The committed GX suites against real raw batches: bad rows quarantined, critical stops."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook
from support.ingest import ingest

from itss_warehouse.ingest.sources import load_sources
from itss_warehouse.settings import PACKAGE_DIR, Settings
from itss_warehouse.tools import demo
from itss_warehouse.tools.demo import HEADERS, SHEETS
from itss_warehouse.validate.runner import ValidationFailed, data_docs_index, validate_raw_batches

pytestmark = pytest.mark.integration
SOURCES = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
PROJECT_EXPECTATIONS = Settings(_env_file=None).expectations_path


@pytest.fixture()
def url(create_warehouse) -> str:
    return create_warehouse("validation")


def _load(url: str, landing: Path) -> list[int]:
    return [batch.batch_id for batch in ingest(url, landing, SOURCES)]


def _deliberate_bad_rows(tickets_csv: Path) -> dict[int, str]:
    """Row numbers (header = 1) of the generator's four deliberate bad rows, found in the file."""
    with tickets_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bad = {}
    for number, row in enumerate(rows, start=2):
        if not row["工单编号"]:
            bad[number] = "ticket_id"
        elif row["创建时间"] == demo.BAD_OPENED_AT:
            bad[number] = "opened_at"
        elif row["优先级"] == demo.BAD_PRIORITY:
            bad[number] = "priority"
        elif row["解决时间"] and row["解决时间"] < row["创建时间"]:
            bad[number] = "resolved_at"
    return bad


def test_demo_bad_rows_are_quarantined_with_reasons(url: str, tmp_path: Path):
    landing = tmp_path / "landing"
    demo.generate(landing, seed=7, end_date=dt.date(2026, 11, 21), months=2, tickets_per_project_month=10)
    expected = _deliberate_bad_rows(landing / "tickets.csv")
    summary = validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))

    with psycopg.connect(url) as conn:
        quarantined = conn.execute(
            "select source_row, column_name, raw_value, reason from raw.quarantined_rows"
            " where source_file = 'tickets.csv' and check_name not like 'mapping:%%'"
        ).fetchall()
    assert sorted(expected.values()) == ["opened_at", "priority", "resolved_at", "ticket_id"]
    assert {row for row, *_ in quarantined} == set(expected)
    reasons = {(row, column): (value, reason) for row, column, value, reason in quarantined}
    for row, column in expected.items():
        assert (row, column) in reasons
    priority_row = next(row for row, column in expected.items() if column == "priority")
    assert reasons[(priority_row, "priority")] == ("未知", "priority is one of P1, P2, P3, P4")
    assert summary["failures"] == []
    assert summary["quarantined_rows"] == len(quarantined)


def _five_bad_priorities(small_landing: Path, tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    text = (landing / "tickets.csv").read_text(encoding="utf-8-sig")
    # Four 中 tickets become 普通 (unmapped), plus the fixture's 未知: 5 of 20, beyond the check's 5 %.
    (landing / "tickets.csv").write_text(text.replace(",中,", ",普通,"), encoding="utf-8-sig")
    return landing


def test_critical_failure_beyond_the_tolerance_names_file_column_and_rows(url, small_landing, tmp_path):
    landing = _five_bad_priorities(small_landing, tmp_path)
    with pytest.raises(ValidationFailed) as failure:
        validate_raw_batches(url, _load(url, landing), Settings(_env_file=None, quarantine_tolerance_rows=4))
    message = str(failure.value)
    assert (
        "tickets.csv, column priority: 5 row(s) fail 'priority is one of P1, P2, P3, P4' (rows 2, 5, 6, 8, 9)"
        in message
    )
    with psycopg.connect(url) as conn:  # the bad rows are kept and marked even though the run stops
        assert conn.execute(
            "select count(distinct source_row) from raw.quarantined_rows where column_name = 'priority'"
        ).fetchone() == (5,)
        # The batch's own verdict: what the reports' gate reads.
        assert conn.execute(
            "select validation_failures from raw.load_batches where file_name = 'tickets.csv'"
        ).fetchone() == ([message.splitlines()[1].strip()],)


def test_bad_rows_within_the_tolerance_are_quarantined_as_a_warning(url, small_landing, tmp_path):
    # The other side of the same line: five bad rows, five tolerated.
    landing = _five_bad_priorities(small_landing, tmp_path)
    summary = validate_raw_batches(url, _load(url, landing), Settings(_env_file=None, quarantine_tolerance_rows=5))
    assert summary["failures"] == []
    assert (
        "tickets.csv, column priority: 5 row(s) fail 'priority is one of P1, P2, P3, P4' (rows 2, 5, 6, 8, 9)"
        in summary["warnings"]
    )
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select count(distinct source_row) from raw.quarantined_rows where column_name = 'priority'"
        ).fetchone() == (5,)
        assert conn.execute(
            "select validation_failures from raw.load_batches where file_name = 'tickets.csv'"
        ).fetchone() == ([],)


def test_scores_out_of_scale_are_quarantined_and_unknown_references_are_warnings(url, small_landing, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEETS["surveys.xlsx"]
    sheet.append(list(HEADERS["surveys.xlsx"]))
    for survey_id, level, customer, score, scale in (
        ("S1", "annual", "C1", 95, "0-100"),
        ("S2", "project", "C1", 7, "1-5"),
        ("S3", "annual", "C9", 80, "0-100"),
    ):
        sheet.append([survey_id, level, customer, "P1", dt.date(2026, 10, 20), "总体满意度", score, scale, None])
    workbook.save(landing / "surveys.xlsx")

    summary = validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    assert (
        "surveys.xlsx, column customer_id: 1 row(s) fail 'customer_id refers to a known customer_id' (rows 4)"
        in (summary["warnings"])
    )
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select source_row, column_name, raw_value from raw.quarantined_rows where entity = 'survey_responses'"
        ).fetchall() == [(3, "score", "7")]


def test_an_export_much_smaller_than_recent_ones_is_a_warning(url, small_landing, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    lines = (landing / "tickets.csv").read_text(encoding="utf-8-sig").splitlines()
    (landing / "tickets_2026-11-22.csv").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8-sig")
    summary = validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    assert summary["warnings"] == [
        "tickets_2026-11-22.csv: check failed: 'the export has at least half the rows of the source's"
        " last seven exports on average'"
    ]


def _earlier_ticket_exports(url: str, row_counts: list[int]) -> None:
    """Batches of the tickets source as if loaded before (only their row counts matter here)."""
    from itss_warehouse.warehouse.raw import ensure_raw_tables

    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn)
        for number, rows in enumerate(row_counts):
            conn.execute(
                "insert into raw.load_batches (source_name, entity, file_name, checksum, row_count, mapped_at)"
                " values ('ticket_tool_tickets', 'tickets', %s, %s, %s, now())",
                (f"tickets_{number}.csv", f"earlier-{number}", rows),
            )


@pytest.mark.parametrize(("usual", "blocks"), [(201, True), (200, False)])
def test_an_export_under_a_tenth_of_the_usual_volume_is_critical(url, small_landing, tmp_path, usual, blocks):
    # The small landing's ticket export has 20 rows: under a tenth of 201, not of 200.
    _earlier_ticket_exports(url, [usual - 50, usual, usual + 50])
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    batch_ids = _load(url, landing)
    collapse = (
        "tickets.csv: 20 row(s), under a tenth of the 201 rows the source's last 3 exports had (median):"
        " a truncated or partial export?"
    )
    if blocks:
        with pytest.raises(ValidationFailed, match="under a tenth") as failure:
            validate_raw_batches(url, batch_ids, Settings(_env_file=None))
        assert collapse in str(failure.value)
    else:
        assert validate_raw_batches(url, batch_ids, Settings(_env_file=None))["failures"] == []


def test_a_company_calendar_id_is_not_quarantined(url, small_landing, tmp_path):
    # Calendars are configuration (seeds/sla_calendars.csv): raw validation only requires one;
    # dbt's relationship test checks that it names a seeded calendar.
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    with (landing / "sla_policies.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["sla_policies.csv"])
        writer.writerow(["SLA-5X8", "P1", 30, 240, 480, "5x8", "Asia/Shanghai", "", ""])
    validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.quarantined_rows where entity = 'sla_policies'").fetchone() == (
            0,
        )
        assert conn.execute("select calendar from raw.sla_policies").fetchall() == [("5x8",)]


def test_overlapping_policy_versions_stop_the_run(url, small_landing, tmp_path):
    # A version ending on or after the next one's start: which judges a ticket would be a guess.
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    with (landing / "sla_policies.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["sla_policies.csv"])
        writer.writerow(["SLA-A", "P1", 30, 240, 480, "7x24", "Asia/Shanghai", "", "2027-01-01"])
        writer.writerow(["SLA-A", "P1", 15, 120, 240, "7x24", "Asia/Shanghai", "2027-01-01", ""])
        writer.writerow(["SLA-A", "P2", 60, 240, 960, "7x24", "Asia/Shanghai", "", "2026-12-31"])
        writer.writerow(["SLA-A", "P2", 30, 240, 480, "7x24", "Asia/Shanghai", "2027-01-01", ""])
    with pytest.raises(ValidationFailed) as failure:
        validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    # Row 2 ends on the day row 3 begins; P2's versions (rows 4, 5) meet without overlapping.
    assert str(failure.value) == (
        "raw validation failed (critical):\n  sla_policies.csv, column valid_to: 1 row(s) fail 'a policy version's"
        " valid_to is before the valid_from of the next version of its priority' (rows 2)"
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_results_and_data_docs_go_under_itss_home_and_the_context_is_only_read(url, small_landing, tmp_path):
    # As an installed image or a read-only checkout: a copy of the code's context, compared
    # byte for byte afterwards (the tests run as root, so a read-only mode would not tell).
    project = tmp_path / "project"
    shutil.copytree(PROJECT_EXPECTATIONS, project / "expectations")
    before = _tree(project)
    settings = Settings(_env_file=None, project_dir=project, home=tmp_path / "home")
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    validate_raw_batches(url, _load(url, landing), settings)

    assert _tree(project) == before
    assert data_docs_index(settings) == tmp_path / "home" / "gx" / "data_docs" / "local_site" / "index.html"
    assert data_docs_index(settings).is_file()
    assert list((tmp_path / "home" / "gx" / "validations").rglob("*.json"))


def test_an_empty_rating_or_score_is_quarantined_not_left_to_fail_the_marts(url, small_landing, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    with (landing / "incident_callbacks_2026-11-22.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["incident_callbacks.csv"])
        writer.writerow(["HF-9", "INC-6", "2026-10-04 10:00:00", "", ""])
    summary = validate_raw_batches(url, _load(url, landing), Settings(_env_file=None))
    assert summary["failures"] == []
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select source_file, source_row, reason from raw.quarantined_rows where entity = 'incident_callbacks'"
        ).fetchall() == [("incident_callbacks_2026-11-22.csv", 2, "rating is present")]
