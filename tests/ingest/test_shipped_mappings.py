"""The shipped ticket-tool mappings and the Excel template, on small hand-written exports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from itss_warehouse.ingest.excel_template import FIELD_NOTES, INSTRUCTION_HEADERS, INSTRUCTIONS_SHEET, write_template
from itss_warehouse.ingest.mapping import Problem, read_mapped
from itss_warehouse.ingest.sources import Source, SourceSet, load_sources
from itss_warehouse.settings import PACKAGE_DIR

MAPPINGS = PACKAGE_DIR / "mappings"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
TICKET_FIELDS = {
    "ticket_id", "ticket_type", "project_id", "priority", "category", "opened_at", "responded_at",
    "onsite_arrived_at", "resolved_at", "closed_at", "status", "assignee", "assignment_group",
    "reassignment_count", "reopen_count", "is_major", "delivery_mode", "outcome", "related_problem_id", "updated_at",
    "impact", "urgency", "tool_sla_met", "update_sequence",
}  # fmt: skip
CANONICAL_CODES = {
    "ticket_type": {"incident", "service_request", "problem", "change", "release", "leftover_issue"},
    "priority": {"P1", "P2", "P3", "P4"},
    "status": {"new", "in_progress", "on_hold", "pending_customer", "resolved", "closed", "reopened"},
    "is_major": {"true", "false"},
    "delivery_mode": {"onsite", "remote"},
    "outcome": {"success", "failed", "rolled_back"},
    "impact": {"high", "medium", "low"},
    "urgency": {"high", "medium", "low"},
    "tool_sla_met": {"true", "false"},
}
SHIPPED = ["servicenow.yml", "servicenow_audit.yml", "jira_service_management.yml", "excel_template.yml"]


def _definitions(name: str) -> tuple[SourceSet, Source]:
    definitions = load_sources(MAPPINGS / name)
    assert len(definitions.sources) == 1
    return definitions, definitions.sources[0]


def _records(path: Path, name: str) -> tuple[list[dict], list[Problem]]:
    """Mapped rows (NaN as None) and all problems, with the source the file name selects."""
    definitions = load_sources(MAPPINGS / name)
    source = definitions.source_for(path.name)
    chunks = list(read_mapped(path, source, definitions.timezone))
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True).astype(object)
    frame = frame.where(frame.notna(), None)
    return frame.to_dict("records"), [p for c in chunks for p in c.problems]


def _mapped(path: Path, name: str) -> tuple[dict[str, dict], list[Problem]]:
    """Rows by ticket_id and all problems."""
    records, problems = _records(path, name)
    return {row["ticket_id"]: row for row in records}, problems


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_mapping_feeds_only_canonical_ticket_fields(name: str):
    _, source = _definitions(name)
    assert source.entity == "tickets"
    assert set(source.fields) <= TICKET_FIELDS
    assert {"ticket_id", "ticket_type", "project_id", "priority", "opened_at", "status"} <= set(source.fields)
    for field, translation in source.values.items():
        assert set(translation.values()) <= CANONICAL_CODES[field], field


def test_servicenow_incident_export():
    rows, problems = _mapped(FIXTURES / "incident_servicenow.csv", "servicenow.yml")
    assert list(rows) == [f"INC001023{n}" for n in range(1, 7)]
    assert rows["INC0010231"] == {
        "_source_row": 2,
        "ticket_id": "INC0010231",
        "ticket_type": "incident",
        "project_id": "P001",
        "priority": "P1",
        "category": "Network",
        "opened_at": "2026-11-20T08:12:45+0800",
        "resolved_at": "2026-11-20T10:03:10+0800",
        "closed_at": "2026-11-23T10:05:00+0800",
        "status": "closed",
        "assignee": "张伟",
        "assignment_group": "网络组",
        "reassignment_count": "1",
        "reopen_count": "0",
        "related_problem_id": "PRB0040012",
        "updated_at": "2026-11-23T10:05:00+0800",
        "impact": "high",
        "urgency": "high",
        "tool_sla_met": "false",
    }
    assert rows["INC0010233"] == {
        "_source_row": 4,
        "ticket_id": "INC0010233",
        "ticket_type": "incident",
        "project_id": "P002",
        "priority": "P3",
        "category": "Hardware",
        "opened_at": "2026-11-21T09:05:00+0800",
        "resolved_at": None,
        "closed_at": None,
        "status": "in_progress",
        "assignee": "王芳",
        "assignment_group": "桌面运维组",
        "reassignment_count": "2",
        "reopen_count": "0",
        "related_problem_id": None,
        "updated_at": "2026-11-21T09:40:12+0800",
        "impact": "medium",
        "urgency": "medium",
        "tool_sla_met": "true",
    }
    assert [rows[f"INC001023{n}"]["priority"] for n in range(1, 7)] == ["P1", "P2", "P3", "P4", "P4", "P3"]
    assert rows["INC0010235"]["priority"] == "P4"  # 5 - Planning
    assert [rows[f"INC001023{n}"]["status"] for n in range(1, 6)] == [
        "closed", "resolved", "in_progress", "on_hold", "new"
    ]  # fmt: skip
    assert rows["INC0010236"]["status"] == "Canceled"  # kept as written, reported
    assert problems == [Problem(7, "status", "Canceled", "value not in the mapping's value map")]


def test_servicenow_audit_export_maps_every_update_as_a_version():
    records, problems = _records(FIXTURES / "sn_incident_history.csv", "servicenow_audit.yml")
    assert problems == []
    assert len(records) == 18
    versions = {(row["ticket_id"], row["update_sequence"]): row for row in records}
    assert len(versions) == 18  # number + sys_mod_count identify a row
    assert versions[("INC0020101", "2")] == {
        "_source_row": 4,
        "ticket_id": "INC0020101",
        "ticket_type": "incident",
        "project_id": "P002",
        "priority": "P2",
        "impact": "high",
        "urgency": "medium",
        "category": "Network",
        "opened_at": "2026-11-03T08:05:00+0800",  # 3/11/2026: day first
        "resolved_at": None,  # ?
        "closed_at": None,
        "status": "pending_customer",  # Awaiting User Info
        "assignee": "张伟",
        "assignment_group": "网络组",
        "reassignment_count": "1",
        "reopen_count": "0",
        "related_problem_id": None,
        "updated_at": "2026-11-03T09:40:00+0800",
        "update_sequence": "2",
        "tool_sla_met": "true",
    }
    assert [versions[("INC0020101", str(n))]["status"] for n in range(6)] == [
        "new", "in_progress", "pending_customer", "in_progress", "resolved", "closed"
    ]  # fmt: skip
    closed = versions[("INC0020101", "5")]
    assert (closed["resolved_at"], closed["closed_at"]) == ("2026-11-03T15:30:00+0800", "2026-11-06T15:31:00+0800")
    # ISO timestamps beside day-first ones; On Hold (with its hold reason, not read) pauses.
    assert versions[("INC0020102", "0")]["opened_at"] == "2026-11-12T22:47:10+0800"
    assert versions[("INC0020102", "2")]["status"] == "on_hold"
    # Unpadded hours; the awaiting states other than the caller's are on_hold.
    assert versions[("INC0020103", "0")]["opened_at"] == "2026-11-13T09:05:00+0800"
    assert [versions[("INC0020103", str(n))]["status"] for n in range(6)] == [
        "new", "on_hold", "on_hold", "resolved", "in_progress", "on_hold"
    ]  # fmt: skip
    assert (versions[("INC0020103", "4")]["reopen_count"], versions[("INC0020103", "4")]["tool_sla_met"]) == (
        "1", "false"
    )  # fmt: skip
    planning = versions[("INC0020104", "1")]
    assert (planning["priority"], planning["category"], planning["updated_at"]) == (
        "P4", None, "2026-11-20T17:02:00+0800"
    )  # fmt: skip


def test_servicenow_assignment_group_metric_gives_each_reassignment():
    records, problems = _records(FIXTURES / "metric_instance_assignment_group.csv", "servicenow_assignment_history.yml")
    assert [(row["_source_row"], row["ticket_id"], row["assignment_group"], row["changed_at"]) for row in records] == [
        (2, "INC0010231", "Service Desk", "2026-03-02T09:00:00+0800"),
        (3, "INC0010231", "Network", "2026-03-02T09:20:00+0800"),  # the table's label taken off
        (4, "INC0010231", "Vendor Support", "2026-03-02T10:30:00+0800"),
        (5, "CHG0030001", "Change Board", "2026-03-02T11:00:00+0800"),
    ]
    # A change request's metric is no incident's: its row is quarantined, with the reason.
    assert problems == [Problem(5, "ticket_id", "CHG0030001", r"does not match (INC\d+)")]


def test_servicenow_task_sla_export_maps_each_record_to_our_metric():
    records, problems = _records(FIXTURES / "task_sla_servicenow.csv", "servicenow_task_sla.yml")
    assert records[0] == {
        "_source_row": 2,
        "ticket_id": "INC0010231",
        "metric": "response",
        "stage": "completed",
        "started_at": "2026-03-02T09:00:00+0800",
        "stopped_at": "2026-03-02T09:12:00+0800",
        "breach_at": "2026-03-02T09:15:00+0800",
        "has_breached": "false",
        "business_elapsed_minutes": "12",
        "paused_minutes": "0",
        "remaining_minutes": "3",
    }
    assert [
        (row["metric"], row["stage"], row["business_elapsed_minutes"], row["paused_minutes"]) for row in records[1:4]
    ] == [
        ("resolution", "completed", "570", "0"),
        ("resolution", "paused", "1563", "180"),  # 1 day 2 hours 3 minutes, 3 hours
        ("response", "cancelled", "5", "0"),
    ]
    # An OLA's definition is no metric of the contract, and "an hour" no duration: reported, row by row.
    assert problems == [
        Problem(6, "metric", "Major incident OLA (network)", "value not in the mapping's value map"),
        Problem(6, "business_elapsed_minutes", "an hour", "not a duration"),
    ]


def test_jira_sla_columns_give_one_record_per_sla_with_its_time_left():
    records, problems = _records(FIXTURES / "jsm_sla_export.csv", "jira_service_management_sla.yml")
    assert [(row["_source_row"], row["ticket_id"], row["metric"], row["remaining_minutes"]) for row in records] == [
        (2, "YWJC-101", "response", "45"),
        (2, "YWJC-101", "resolution", "-80"),  # past its target
        (3, "YWJC-102", "resolution", "425"),  # no response SLA on this issue: no record
        (4, "YWJC-103", "response", "-15"),
        (5, "YWJC-104", "response", "about 2 hours"),
        (5, "YWJC-104", "resolution", "1680"),
    ]
    assert problems == [Problem(5, "remaining_minutes", "about 2 hours", "not a duration")]
    assert load_sources(MAPPINGS / "jira_service_management_sla.yml").sources[0].sla_clock == "tool"


def test_every_awaiting_state_of_the_audit_mapping_is_an_sla_pause():
    _, source = _definitions("servicenow_audit.yml")
    pauses = set(
        pd.read_csv(Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "sla_pause_statuses.csv")["status"]
    )
    statuses = source.values["status"]
    awaiting = {state for state in statuses if state.startswith("Awaiting") or state == "On Hold"}
    assert awaiting == {
        "On Hold", "Awaiting User Info", "Awaiting Problem", "Awaiting Vendor", "Awaiting Change", "Awaiting Evidence"
    }  # fmt: skip
    assert {statuses[state] for state in awaiting} <= pauses
    assert {statuses[state] for state in set(statuses) - awaiting} & pauses == set()


def test_jira_service_management_export():
    rows, problems = _mapped(FIXTURES / "jira_jsm_export.csv", "jira_service_management.yml")
    assert rows["YWJC-101"] == {
        "_source_row": 7,
        "ticket_id": "YWJC-101",
        "ticket_type": "incident",
        "project_id": "YWJC",
        "priority": "P1",
        "opened_at": "2026-11-21T09:05:00+0800",
        "resolved_at": "2026-11-21T11:32:00+0800",
        "status": "resolved",
        "assignee": "张伟",
        "updated_at": "2026-11-21T11:40:00+0800",
    }
    assert rows["YWJC-102"] == {
        "_source_row": 2,
        "ticket_id": "YWJC-102",
        "ticket_type": "service_request",
        "project_id": "YWJC",
        "priority": "P3",
        "opened_at": "2026-11-21T14:15:00+0800",
        "resolved_at": None,
        "status": "pending_customer",
        "assignee": "王芳",
        "updated_at": "2026-11-22T10:02:00+0800",
    }
    assert {key: (row["ticket_type"], row["priority"], row["status"]) for key, row in rows.items()} == {
        "YWJC-102": ("service_request", "P3", "pending_customer"),
        "YWJC-103": ("problem", "P2", "in_progress"),
        "YWJC-104": ("change", "P4", "closed"),
        "RMYY-17": ("incident", "P4", "in_progress"),
        "YWJC-105": ("[System] Post-incident review", "P3", "new"),
        "YWJC-101": ("incident", "P1", "resolved"),
    }
    # 12 AM is midnight, 12 PM noon.
    assert rows["YWJC-104"]["resolved_at"] == "2026-11-24T00:05:00+0800"
    assert rows["RMYY-17"]["opened_at"] == "2026-11-23T12:40:00+0800"
    assert problems == [
        Problem(6, "ticket_type", "[System] Post-incident review", "value not in the mapping's value map")
    ]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("template"))


def test_template_is_written_from_the_mapping(template: Path):
    _, source = _definitions("excel_template.yml")
    assert template.name == "运维工单登记表.xlsx"
    assert source.sheet == "工单"
    workbook = load_workbook(template)
    assert workbook.sheetnames == ["工单", INSTRUCTIONS_SHEET]
    sheet = workbook["工单"]
    assert [cell.value for cell in sheet[1]] == list(source.columns)
    assert sheet.max_row == 1
    assert sheet.freeze_panes == "A2"
    headers = {cell.value: cell.column_letter for cell in sheet[1]}
    lists = {
        str(validation.sqref): validation.formula1
        for validation in sheet.data_validations.dataValidation
        if validation.type == "list"
    }
    expected = {}
    for header, field in source.columns.items():
        if field in source.values:
            letter = headers[header]
            expected[f"{letter}2:{letter}1048576"] = '"' + ",".join(source.values[field]) + '"'
    assert lists == expected
    assert lists["D2:D1048576"] == '"紧急,高,中,低"'  # 优先级
    assert sheet.column_dimensions[headers["创建时间"]].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions[headers["工单编号"]].number_format == "@"  # 001 stays 001
    assert all(sheet.column_dimensions[letter].width >= 2 * len(header) for header, letter in headers.items())
    assert sheet["A1"].font.bold


def test_template_instructions_document_every_column(template: Path):
    _, source = _definitions("excel_template.yml")
    assert set(FIELD_NOTES) == set(source.fields)
    rows = list(load_workbook(template)[INSTRUCTIONS_SHEET].iter_rows(values_only=True))
    assert rows[0] == INSTRUCTION_HEADERS
    described = rows[1 : len(source.columns) + 1]
    assert [row[0] for row in described] == list(source.columns)
    required = {row[0] for row in described if row[1] == "是"}
    assert {"工单编号", "工单类型", "项目编号", "优先级", "创建时间"} <= required
    by_header = {row[0]: row for row in described}
    assert by_header["优先级"][2] == "下拉选择：紧急、高、中、低"
    assert by_header["创建时间"][2].startswith("日期时间")
    assert all(row[3] for row in described)


def test_template_bytes_are_reproducible(template: Path, tmp_path: Path):
    assert write_template(tmp_path / "again.xlsx").read_bytes() == template.read_bytes()


def test_filled_template_maps_cleanly(template: Path, tmp_path: Path):
    workbook = load_workbook(template)
    sheet = workbook["工单"]
    columns = [cell.value for cell in sheet[1]]
    filled = [
        {
            "工单编号": "YW-2026-0001", "工单类型": "事件", "项目编号": "P001", "优先级": "紧急", "分类": "网络",
            "创建时间": datetime(2026, 11, 21, 9, 5), "响应时间": datetime(2026, 11, 21, 9, 12),
            "到场时间": datetime(2026, 11, 21, 9, 50), "解决时间": datetime(2026, 11, 21, 11, 30),
            "状态": "已解决", "处理人": "张伟", "处理组": "网络组", "转派次数": 0, "重开次数": 0, "是否重大": "否",
            "服务方式": "现场", "更新时间": datetime(2026, 11, 21, 11, 31),
        },
        {
            "工单编号": "YW-2026-0002", "工单类型": "变更", "项目编号": "P001", "优先级": "中", "分类": "服务器",
            "创建时间": "2026/11/22 20:00", "解决时间": "无", "状态": "处理中", "处理人": "李娜",
            "转派次数": 1, "重开次数": 0, "实施结果": "成功", "关联问题": "/", "更新时间": "2026-11-22 21:15",
        },
    ]  # fmt: skip
    for row in filled:
        sheet.append([row.get(header) for header in columns])
    path = tmp_path / "运维工单登记表_2026-11.xlsx"
    workbook.save(path)

    rows, problems = _mapped(path, "excel_template.yml")
    assert problems == []
    assert rows["YW-2026-0001"] == {
        "_source_row": 2,
        "ticket_id": "YW-2026-0001",
        "ticket_type": "incident",
        "project_id": "P001",
        "priority": "P1",
        "category": "网络",
        "opened_at": "2026-11-21T09:05:00+0800",
        "responded_at": "2026-11-21T09:12:00+0800",
        "onsite_arrived_at": "2026-11-21T09:50:00+0800",
        "resolved_at": "2026-11-21T11:30:00+0800",
        "closed_at": None,
        "status": "resolved",
        "assignee": "张伟",
        "assignment_group": "网络组",
        "reassignment_count": "0",
        "reopen_count": "0",
        "is_major": "false",
        "delivery_mode": "onsite",
        "outcome": None,
        "related_problem_id": None,
        "updated_at": "2026-11-21T11:31:00+0800",
    }
    second = rows["YW-2026-0002"]
    assert (second["ticket_type"], second["priority"], second["status"], second["outcome"]) == (
        "change", "P3", "in_progress", "success"
    )  # fmt: skip
    assert second["opened_at"] == "2026-11-22T20:00:00+0800"
    assert second["updated_at"] == "2026-11-22T21:15:00+0800"
    assert second["resolved_at"] is None and second["related_problem_id"] is None  # 无 and / mean empty


def test_the_published_template_is_what_the_mapping_generates(tmp_path: Path):
    published = Path(__file__).resolve().parents[2] / "docs" / "templates" / "运维工单登记表.xlsx"
    assert published.read_bytes() == write_template(tmp_path).read_bytes(), "run: itss source template docs/templates"
