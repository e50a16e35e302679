"""The demo generator writes deterministic files that follow the demo mapping exactly."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from itss_warehouse.tools.demo import BAD_OPENED_AT, BAD_PRIORITY, generate

MAPPING = Path(__file__).parents[2] / "src" / "itss_warehouse" / "mappings" / "demo.yml"
# The sources the demo writes: every one, in Chinese only where a register has an English source
# too (it reads the same entity from an English workbook).
SOURCES = [
    source
    for source in yaml.safe_load(MAPPING.read_text(encoding="utf-8"))["sources"]
    if source["name"] not in ("improvement_register_en", "sla_exemptions_en")
]
END_DATE = date(2026, 11, 21)
CUTOFF = datetime.combine(END_DATE, time(23, 59, 59))
FILE_NAMES = sorted(source["pattern"].replace("*", "") for source in SOURCES)
BOM_FILES = {"tickets.csv", "ticket_status_history.csv", "incident_callbacks.csv"}
PLANNED_DATES = {
    ("pmo_projects", "end_date"), ("service_reports", "due_date"), ("improvement_register_zh", "planned_date")
}  # deadlines, not events  # fmt: skip
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
RUNS = {"default": {}, "small": {"months": 2, "tickets_per_project_month": 5}}
# The ticketing exports a night brings, the tickets first.
NIGHT_STEMS = ("tickets", "ticket_status_history", "ticket_assignment_history", "ticket_sla_records",
               "incident_callbacks")  # fmt: skip


def _source(name: str) -> dict:
    return next(source for source in SOURCES if source["name"] == name)


def _read(landing: Path, source: dict) -> tuple[list[str], list[dict[str, object]]]:
    """Header and rows (keyed by header, empty cells as "") of a source's file."""
    path = landing / source["pattern"].replace("*", "")
    if path.suffix == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        header, *rows = workbook[source["sheet"]].iter_rows(values_only=True)
        workbook.close()
        return list(header), [{h: "" if v is None else v for h, v in zip(header, row, strict=True)} for row in rows]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _column(landing: Path, source_name: str, field: str) -> list[object]:
    source = _source(source_name)
    header = next(h for h, canonical in source["columns"].items() if canonical == field)
    return [row[header] for row in _read(landing, source)[1]]


@pytest.fixture(scope="module", params=list(RUNS))
def landing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp(request.param)
    paths = generate(directory, seed=42, end_date=END_DATE, **RUNS[request.param])
    assert paths == sorted(directory / name for name in FILE_NAMES)
    return directory


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=42, end_date=END_DATE)
    second = generate(tmp_path / "b", seed=42, end_date=END_DATE)
    assert [p.name for p in first] == [p.name for p in second] == FILE_NAMES
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_different_seed_gives_different_tickets(tmp_path: Path) -> None:
    small = RUNS["small"]
    generate(tmp_path / "a", seed=1, end_date=END_DATE, **small)
    generate(tmp_path / "b", seed=2, end_date=END_DATE, **small)
    assert (tmp_path / "a" / "tickets.csv").read_bytes() != (tmp_path / "b" / "tickets.csv").read_bytes()


def test_headers_and_sheets_follow_the_mapping(landing: Path) -> None:
    for source in SOURCES:
        path = landing / source["pattern"].replace("*", "")
        if path.suffix == ".xlsx":
            assert load_workbook(path, read_only=True).sheetnames == [source["sheet"]]
        assert _read(landing, source)[0] == list(source["columns"]), source["name"]
        assert path.read_bytes().startswith(b"\xef\xbb\xbf") == (path.name in BOM_FILES), path.name


def test_coded_values_are_known_or_empty(landing: Path) -> None:
    for source in SOURCES:
        for field, mapping in source.get("values", {}).items():
            values = _column(landing, source["name"], field)
            unknown = [v for v in values if v != "" and str(v) not in {str(key) for key in mapping}]
            expected = [BAD_PRIORITY] if (source["name"], field) == ("ticket_tool_tickets", "priority") else []
            assert unknown == expected, (source["name"], field)


def test_nothing_happens_after_the_end_date(landing: Path) -> None:
    for source in SOURCES:
        for field in source.get("timestamps", []):
            values = [v for v in _column(landing, source["name"], field) if v != ""]
            if (source["name"], field) == ("ticket_tool_tickets", "opened_at"):
                assert values.count(BAD_OPENED_AT) == 1
                values = [v for v in values if v != BAD_OPENED_AT]
            assert all(TIMESTAMP.fullmatch(v) for v in values), (source["name"], field)
            assert max(values, default="") <= str(CUTOFF), (source["name"], field)
        for field in set(source.get("dates", [])) - {f for name, f in PLANNED_DATES if name == source["name"]}:
            for value in _column(landing, source["name"], field):
                if isinstance(value, datetime):  # a real Excel date cell
                    value = value.date()
                elif value != "":
                    assert DATE.fullmatch(value), (source["name"], field, value)
                    value = date.fromisoformat(value)
                assert value == "" or value <= END_DATE, (source["name"], field, value)


def test_deliberate_bad_rows_appear_once_each(landing: Path) -> None:
    rows = _read(landing, _source("ticket_tool_tickets"))[1]
    assert sum(row["工单编号"] == "" for row in rows) == 1
    assert sum(row["创建时间"] == BAD_OPENED_AT for row in rows) == 1
    assert sum(row["优先级"] == BAD_PRIORITY for row in rows) == 1
    timed = [row for row in rows if row["解决时间"] and row["创建时间"] != BAD_OPENED_AT]
    assert sum(row["解决时间"] < row["创建时间"] for row in timed) == 1


def test_references_are_consistent(landing: Path) -> None:
    ticket_ids = [i for i in _column(landing, "ticket_tool_tickets", "ticket_id") if i]
    assert len(ticket_ids) == len(set(ticket_ids))
    assert set(_column(landing, "ticket_tool_status_history", "ticket_id")) <= set(ticket_ids)
    assert set(_column(landing, "incident_callbacks", "ticket_id")) <= set(ticket_ids)
    problems = {i for i in ticket_ids if i.startswith("PRB-")}
    assert set(_column(landing, "ticket_tool_tickets", "related_problem_id")) - {""} <= problems

    policies = set(_column(landing, "sla_policies", "policy_id"))
    assert set(_column(landing, "pmo_projects", "sla_policy_id")) <= policies
    projects = set(_column(landing, "pmo_projects", "project_id"))
    assert set(_column(landing, "ticket_tool_tickets", "project_id")) <= projects
    assert set(_column(landing, "pmo_projects", "customer_id")) <= set(_column(landing, "customers", "customer_id"))
    assert set(_column(landing, "pmo_projects", "dept_id")) <= set(_column(landing, "departments", "dept_id"))


def _csv_rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle))[1:]]


def test_held_back_nights_add_up_to_the_full_export(tmp_path: Path) -> None:
    """History held back two nights plus each night's changes is what the tool exports at the end."""
    options = {"end_date": date(2026, 6, 30), "months": 3, "tickets_per_project_month": 60}
    generate(tmp_path / "full", **options)
    generate(tmp_path / "held", **options, nights=2, nights_dir=tmp_path / "nights")
    nights = [tmp_path / "nights" / day for day in ("2026-06-29", "2026-06-30")]
    assert sorted(path.name for night in nights for path in night.iterdir()) == sorted(
        f"{stem}_{night.name}.csv" for night in nights for stem in NIGHT_STEMS
    )
    latest: dict[str, tuple[str, ...]] = {}
    for path in [tmp_path / "held" / "tickets.csv", *(night / f"tickets_{night.name}.csv" for night in nights)]:
        for row in _csv_rows(path):
            latest[row[0]] = row  # a later export's row replaces the ticket's earlier one
    full = _csv_rows(tmp_path / "full" / "tickets.csv")
    assert sorted(latest.values()) == sorted(full)
    night_tickets = _csv_rows(nights[1] / "tickets_2026-06-30.csv")
    # A night's export: tickets new that day and older ones that moved on.
    assert any(row[5] < "2026-06-30" for row in night_tickets) and any(row[5] >= "2026-06-30" for row in night_tickets)
    assert all(row[-1].startswith("2026-06-30") for row in night_tickets)
    for stem in NIGHT_STEMS[1:]:
        parts = [tmp_path / "held" / f"{stem}.csv", *(night / f"{stem}_{night.name}.csv" for night in nights)]
        assert sorted(row for path in parts for row in _csv_rows(path)) == sorted(
            _csv_rows(tmp_path / "full" / f"{stem}.csv")
        )
    # The other exports do not hold back.
    assert (tmp_path / "held" / "complaints.csv").read_bytes() == (tmp_path / "full" / "complaints.csv").read_bytes()


def test_the_register_has_items_raised_by_hand_in_every_state(landing: Path) -> None:
    rows = _read(landing, _source("improvement_register_zh"))[1]
    assert {row["来源"] for row in rows} == {"内部审核", "管理评审", "客户走访"}  # raised by hand, ids of their own
    assert all(row["改进项编号"].startswith("NS-") and row["提出日期"] for row in rows)
    statuses = [row["状态"] for row in rows]
    end = datetime.combine(END_DATE, time())
    assert {"待处理", "进行中"} <= set(statuses)
    assert any(row["状态"] == "进行中" and row["计划完成日期"] < end for row in rows)  # overdue
    assert all(row["责任人"] for row in rows)  # an open item has an owner
    for row in rows:
        if row["状态"] in ("验证有效", "验证无效"):
            assert row["实际完成日期"] <= row["验证日期"] <= end, row["改进项编号"]
    if len(rows) > 5:  # the default run's two years, not the small run's two months
        assert set(statuses) == {"待处理", "进行中", "已完成", "验证有效", "验证无效"}
        done = [row for row in rows if row["实际完成日期"]]
        assert any(row["实际完成日期"] > row["计划完成日期"] for row in done)  # done late
        assert any(row["实际完成日期"] <= row["计划完成日期"] for row in done)  # on time
