"""`itss source init`: proposals for the shipped fixtures, the Excel template and hand-made
exports load as definitions and map their file as `itss source check` reads it."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.ingest import source_init
from itss_warehouse.ingest.excel_template import write_template
from itss_warehouse.ingest.mapping import Problem, read_mapped
from itss_warehouse.ingest.sources import Source, load_sources
from itss_warehouse.settings import PACKAGE_DIR

MAPPINGS = PACKAGE_DIR / "mappings"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"


def _init(export: Path, tmp_path: Path, *options: str) -> Path:
    proposed = tmp_path / "proposed.yml"
    result = CliRunner().invoke(app, ["source", "init", str(export), "--output", str(proposed), *options])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"itss source check {shlex.quote(str(export))} --mapping {proposed}")
    return proposed


def _mapped(export: Path, mapping: Path) -> tuple[Source, list[dict], list[Problem]]:
    """The source the file name selects, its rows mapped (NaN as None) and every problem.

    What `itss source check` does: a header problem raises HeaderError and fails the test.
    """
    definitions = load_sources(mapping)
    source = definitions.source_for(export.name)
    chunks = list(read_mapped(export, source, definitions.timezone))
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True).astype(object)
    return source, frame.where(frame.notna(), None).to_dict("records"), [p for c in chunks for p in c.problems]


@pytest.mark.parametrize(
    ("fixture", "shipped"),
    [
        ("incident_servicenow.csv", "servicenow.yml"),
        ("jira_jsm_export.csv", "jira_service_management.yml"),
        ("sn_incident_history.csv", "servicenow_audit.yml"),
    ],
)
def test_proposal_maps_a_fixture_as_its_shipped_mapping_does(fixture: str, shipped: str, tmp_path: Path):
    export = FIXTURES / fixture
    proposed = _init(export, tmp_path)
    source, rows, problems = _mapped(export, proposed)
    reference, reference_rows, reference_problems = _mapped(export, MAPPINGS / shipped)
    assert source.columns == reference.columns
    assert source.constants == reference.constants
    assert rows == reference_rows
    # Only the values the shipped mapping leaves unmapped on purpose (Canceled, Post-incident
    # review) are problems, and the proposal lists them as TODOs.
    assert problems == reference_problems
    for problem in problems:
        assert f"# {source_init._scalar(problem.value)}:   # 1 row" in proposed.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["source", "check", str(export), "--mapping", str(proposed)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{fixture}: source '{source.name}' → raw.tickets, {len(rows)} rows,")


def test_servicenow_list_export_proposal():
    text = source_init.propose(FIXTURES / "incident_servicenow.csv")
    source = load_sources_text(text)
    assert source.pattern == "incident_servicenow*.csv"
    assert source.constants == {"ticket_type": "incident"}  # from the shipped mapping: no column gives it
    assert source.values["priority"] == {
        "1 - Critical": "P1", "2 - High": "P2", "3 - Moderate": "P3", "4 - Low": "P4", "5 - Planning": "P4"
    }  # fmt: skip
    assert "Canceled" not in source.values["status"]
    assert source.datetime_formats == []  # ISO 8601 reads them
    assert "update_sequence" not in source.fields
    for header in ("short_description", "caller_id", "company", "sys_class_name", "cmdb_ci"):
        assert f"\n      # {header}:\n" in text


def test_audit_export_is_proposed_as_event_style():
    text = source_init.propose(FIXTURES / "sn_incident_history.csv")
    source = load_sources_text(text)
    assert source.columns["sys_mod_count"] == "update_sequence"
    assert source.columns["sys_updated_on"] == "updated_at"
    assert source.columns["incident_state"] == "status"
    assert "# Event style: number repeats in the sample (3 ticket(s) with more than one row" in text
    assert source.null_markers == ["", "?"]
    assert source.datetime_formats == ["%d/%m/%Y %H:%M"]
    assert "day first: 13/11/2026 10:00 cannot be month first (no month 13)" in text
    assert source.values["status"]["Awaiting User Info"] == "pending_customer"


def test_jira_export_proposal_reads_jira_times():
    source = load_sources_text(source_init.propose(FIXTURES / "jira_jsm_export.csv"))
    assert source.datetime_formats == ["%d/%b/%y %I:%M %p"]
    assert source.values["ticket_type"]["[System] Service request"] == "service_request"
    assert source.timestamps == ["opened_at", "updated_at", "resolved_at"]


def load_sources_text(text: str) -> Source:
    document = yaml.safe_load(text)
    assert len(document["sources"]) == 1
    return Source.model_validate(document["sources"][0])


def test_filled_excel_template(tmp_path: Path):
    workbook = load_workbook(write_template(tmp_path))
    sheet = workbook["工单"]
    columns = [cell.value for cell in sheet[1]]
    filled = [
        {
            "工单编号": "YW-2026-0001", "工单类型": "事件", "项目编号": "P001", "优先级": "紧急", "分类": "网络",
            "创建时间": datetime(2026, 11, 21, 9, 5), "响应时间": datetime(2026, 11, 21, 9, 12),
            "到场时间": datetime(2026, 11, 21, 9, 50), "解决时间": datetime(2026, 11, 21, 11, 30), "关闭时间": "无",
            "状态": "已解决", "处理人": "张伟", "处理组": "网络组", "转派次数": 0, "重开次数": 0, "是否重大": "否",
            "服务方式": "现场", "实施结果": "/", "关联问题": "/", "更新时间": datetime(2026, 11, 21, 11, 31),
        },
        {
            "工单编号": "YW-2026-0002", "工单类型": "变更", "项目编号": "P001", "优先级": "中", "分类": "服务器",
            "创建时间": "2026/11/22 20:00", "解决时间": "无", "状态": "处理中", "处理人": "李娜",
            "转派次数": 1, "重开次数": 0, "实施结果": "成功", "关联问题": "/", "更新时间": "2026-11-22 21:15",
        },
    ]  # fmt: skip
    for row in filled:
        sheet.append([row.get(header) for header in columns])
    export = tmp_path / "运维工单登记表_2026-11.xlsx"
    workbook.save(export)

    proposed = _init(export, tmp_path)
    source, rows, problems = _mapped(export, proposed)
    reference, reference_rows, _ = _mapped(export, MAPPINGS / "excel_template.yml")
    assert problems == []
    assert (source.pattern, source.sheet, source.header_row) == ("运维工单登记表*.xlsx", "工单", 1)
    assert source.columns == reference.columns
    assert source.null_markers == ["", "/", "无"]
    assert rows == reference_rows
    assert rows[1]["opened_at"] == "2026-11-22T20:00:00+0800"


def test_gb18030_csv_with_title_rows_above_the_header(tmp_path: Path):
    export = tmp_path / "工单导出_20261125.csv"
    export.write_bytes(
        "运维工单导出报表,,,,,,\n"
        "导出时间：2026-11-25 08:00,,,,,,\n"
        "工单编号,工单类型,项目编号,优先级,创建时间,状态,处理人\n"
        "YW-1,事件,P001,紧急,2026-11-21 09:05,处理中,张伟\n"
        "YW-2,服务请求,P002,低,2026-11-22 10:30,挂起,李娜\n".encode("gb18030")
    )
    with pytest.raises(UnicodeDecodeError):
        export.read_text(encoding="utf-8")
    source, rows, problems = _mapped(export, _init(export, tmp_path))
    assert (source.encoding, source.header_row, source.pattern, source.name) == (
        "gb18030",
        3,
        "工单导出*.csv",
        "工单导出",
    )
    assert problems == []
    assert [(row["ticket_type"], row["priority"], row["status"]) for row in rows] == [
        ("incident", "P1", "in_progress"), ("service_request", "P4", "on_hold")
    ]  # fmt: skip
    assert rows[0]["opened_at"] == "2026-11-21T09:05:00+0800"


def test_day_first_semicolon_file(tmp_path: Path):
    export = tmp_path / "tickets.csv"
    export.write_text(
        "工单号;优先级;报障时间;完成时间;状态\n"
        "A-1;高;25/11/2026 14:05:33;3/12/2026 9:05:00;已处理\n"
        "A-2;中;1/12/2026 08:00:00;;处理中\n",
        encoding="utf-8",
    )
    proposed = _init(export, tmp_path)
    source, rows, problems = _mapped(export, proposed)
    assert source.delimiter == ";"
    assert source.datetime_formats == ["%d/%m/%Y %H:%M:%S"]
    assert "day first: 25/11/2026 14:05:33 cannot be month first (no month 25)" in proposed.read_text(encoding="utf-8")
    assert problems == []
    assert [(row["opened_at"], row["resolved_at"]) for row in rows] == [
        ("2026-11-25T14:05:33+0800", "2026-12-03T09:05:00+0800"), ("2026-12-01T08:00:00+0800", None)
    ]  # fmt: skip
    assert [(row["priority"], row["status"]) for row in rows] == [("P2", "resolved"), ("P3", "in_progress")]


@pytest.mark.parametrize(
    ("values", "formats", "note", "unread"),
    [
        (["2026-11-21 09:05", "2026-11-21T09:05:00+08:00", "2026/11/22 20:00"], [], None, []),
        (["21/Nov/26 9:05 AM", "24/Nov/26 12:05 AM"], ["%d/%b/%y %I:%M %p"], None, []),
        (["11/25/2026 2:05 PM", "12/3/2026 11:15 AM"], ["%m/%d/%Y %I:%M %p"], "month first: 11/25/2026", []),
        (["03/11/2026 08:05", "2026-11-03 09:00"], ["%d/%m/%Y %H:%M"], "TODO: no value tells day-first", []),
        (["13/11/2026 08:05", "11/13/2026 08:05"], ["%d/%m/%Y %H:%M"], "values are written both day first",
         ["11/13/2026 08:05"]),
        (["2026年11月21日 09:05", "soon"], ["%Y年%m月%d日 %H:%M"], None, ["soon"]),
    ],
)  # fmt: skip
def test_timestamp_formats(values: list[str], formats: list[str], note: str | None, unread: list[str]):
    found = source_init.timestamp_formats(values)
    assert found.formats == formats
    assert (found.order_note or "").startswith(note or "")
    assert bool(found.order_note) == bool(note)
    assert found.unread == unread


def test_unknown_headers_are_shown_commented_out(tmp_path: Path):
    export = tmp_path / "tickets.csv"
    export.write_text(
        "工单编号,工单号,优先级,创建时间,客户满意度,状态,状态\nYW-1,1,紧急,2026-11-21 09:05,满意,新建,新建\n",
        encoding="utf-8",
    )
    text = _init(export, tmp_path).read_text(encoding="utf-8")
    source = load_sources_text(text)
    assert source.columns == {"工单编号": "ticket_id", "优先级": "priority", "创建时间": "opened_at"}
    assert "      # 客户满意度:\n" in text
    assert "      # 工单号: ticket_id\n" in text  # a field takes one column: the preferred name is mapped
    assert "Appears 2 times; a mapped column must appear once:\n      # 状态: status\n" in text
    assert "TODO: no column recognised for ticket_type, project_id, status" in text


def test_update_counter_without_repeated_tickets_is_not_mapped(tmp_path: Path):
    export = tmp_path / "incidents.csv"
    export.write_text(
        "number,state,priority,opened_at,sys_updated_on,sys_mod_count\n"
        "INC1,New,1 - Critical,2026-11-21 09:05:00,2026-11-21 09:05:00,0\n"
        "INC2,Closed,4 - Low,2026-11-21 10:05:00,2026-11-22 09:05:00,7\n",
        encoding="utf-8",
    )
    text = source_init.propose(export)
    assert "update_sequence" not in load_sources_text(text).fields
    assert "number does not repeat in the sample, one row per ticket (not event style)" in text
    assert "      # sys_mod_count: update_sequence\n" in text


def test_repeated_tickets_without_update_counter(tmp_path: Path):
    export = tmp_path / "tickets.csv"
    export.write_text(
        "工单编号,状态,更新时间\nYW-1,新建,2026-11-21 09:05\nYW-1,处理中,2026-11-21 09:30\n", encoding="utf-8"
    )
    text = source_init.propose(export)
    assert "# Event style: 工单编号 repeats in the sample (1 ticket(s) with more than one row, e.g. YW-1)" in text
    assert "TODO: no update counter was recognised" in " ".join(line.strip("# ") for line in text.splitlines())


def test_hostile_headers_and_values_stay_data(tmp_path: Path):
    export = tmp_path / "tickets.csv"
    export.write_text(
        '工单编号,状态,是否重大,"evil\u2028sources: []","x: y # z"\n'
        'YW-1,"[System] Incident",Yes,1,2\n'
        'YW-2,"Done\u2028injected: true",No,1,2\n'
        'YW-3," In  Progress ",No,1,2\n',
        encoding="utf-8",
    )
    text = source_init.propose(export)
    document = yaml.safe_load(text)
    assert set(document) == {"timezone", "sources"} and "injected" not in document["sources"][0]
    source = load_sources_text(text)
    assert source.values["is_major"] == {"Yes": "true", "No": "false"}  # quoted: YAML would read yes as true
    assert source.values["status"] == {"In  Progress": "in_progress"}
    assert '# "Done\\U00002028injected: true":   # 1 row' in text
    assert '      # "evil\\U00002028sources: []":\n' in text
    assert all(line.isprintable() for line in text.splitlines())


@given(st.text())
def test_scalars_read_back_as_written(text: str):
    assert yaml.safe_load(f"key: {source_init._scalar(text)}") == {"key": text}
    assert yaml.safe_load(f"{source_init._scalar(text)}: value") == {text: "value"}
    assert source_init._quoted(text).isprintable()


def test_excel_workbook_sheet_and_title_row_are_found(tmp_path: Path):
    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本表由工单系统导出"])
    data = workbook.create_sheet("导出")
    data.append(["2026年11月工单"])
    data.append([])
    data.append(["工单编号", "优先级", "创建时间", "状态"])
    data.append(["YW-1", "紧急", datetime(2026, 11, 21, 9, 5), "已关闭"])
    export = tmp_path / "export.xlsx"
    workbook.save(export)
    source, rows, problems = _mapped(export, _init(export, tmp_path))
    assert (source.sheet, source.header_row) == ("导出", 3)
    assert problems == []
    assert rows[0]["opened_at"] == "2026-11-21T09:05:00+0800" and rows[0]["status"] == "closed"


def test_an_existing_output_is_kept_unless_forced(tmp_path: Path):
    export, proposed = FIXTURES / "jira_jsm_export.csv", tmp_path / "proposed.yml"
    proposed.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["source", "init", str(export), "--output", str(proposed)])
    assert result.exit_code == 1
    assert result.stderr == f"{proposed}: exists; pass --force to overwrite it\n"
    assert proposed.read_text(encoding="utf-8") == "mine\n"
    assert _init(export, tmp_path, "--force") == proposed
    assert load_sources(proposed).sources[0].name == "jira_jsm_export"


def test_printed_proposal_goes_to_stdout_and_the_hint_to_stderr():
    result = CliRunner().invoke(app, ["source", "init", str(FIXTURES / "jira_jsm_export.csv")])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["sources"][0]["name"] == "jira_jsm_export"
    assert result.stderr.startswith("Save it as PATH, review it (the TODOs first), then run: itss source check")


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (None, [], "no such file"),
        (b"\xff\xfe\xff" * 20, [], "is neither utf-8-sig nor gb18030 text"),
        (b"just,some,words\n1,2,3\n", [], "no header row found (delimiter ',', encoding utf-8-sig)"),
        ((FIXTURES / "incident_servicenow.csv").read_bytes(), ["--tool", "jira"], "no header row found"),
        ((FIXTURES / "incident_servicenow.csv").read_bytes(), ["--tool", "nosuch"], "unknown tool 'nosuch'"),
    ],
)
def test_bad_input_exits_1_with_a_message(content: bytes | None, options: list[str], message: str, tmp_path: Path):
    export = tmp_path / "export.csv"
    if content is not None:
        export.write_bytes(content)
    result = CliRunner().invoke(app, ["source", "init", str(export), *options])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_a_broken_workbook_exits_1(tmp_path: Path):
    export = tmp_path / "export.xlsx"
    export.write_bytes(b"PK\x03\x04 not really a zip")
    result = CliRunner().invoke(app, ["source", "init", str(export)])
    assert result.exit_code == 1
    assert result.stderr.startswith("export.xlsx: cannot be read as an Excel workbook")


def test_dictionary_codes_are_the_shipped_mappings_codes():
    dictionary = source_init.load_dictionary()
    shipped: dict[str, set[str]] = {}
    for path in MAPPINGS.glob("*.yml"):
        if path.name != "recipients.yml":
            for source in load_sources(path).sources:
                for field, translation in source.values.items():
                    shipped.setdefault(field, set()).update(translation.values())
    assert dictionary.values.keys() <= shipped.keys()
    for field in dictionary.values:
        assert set(dictionary.codes(field)) <= shipped[field], field


def test_a_header_with_two_meanings_is_a_dictionary_error(tmp_path: Path):
    path = tmp_path / "dictionary.yml"
    path.write_text(
        "tools:\n"
        "  a: {description: A, headers: {ticket_id: [Number]}}\n"
        "  b: {description: B, headers: {reopen_count: [number]}}\n"
        "values: {}\nnull_markers: []\n",
        encoding="utf-8",
    )
    with pytest.raises(source_init.FieldDictionaryError, match="header 'number' means both ticket_id and reopen_count"):
        source_init.load_dictionary(path)
