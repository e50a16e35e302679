"""Mapping real-world export quirks to canonical fields (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from itss_warehouse.ingest.mapping import (
    HeaderError,
    Problem,
    SourceFileError,
    _iso_text,
    duration_minutes,
    header_problems,
    read_mapped,
)
from itss_warehouse.ingest.sources import Source, SourceDefinitionError, SourceSet

GBK_SOURCE = Source(
    name="excel_tickets",
    entity="tickets",
    pattern="工单*.csv",
    encoding="gb18030",
    delimiter=";",
    null_markers=["", "?", "N/A", "#N/B"],
    columns={
        "单号": "ticket_id",
        "级别": "priority",
        "创建": "opened_at",
        "分类": "category",
        "解决": "resolved_at",
    },
    extract={"priority": r"^(P\d)\b"},
    values={"priority": {"P1": "P1", "P2": "P2"}},
    timestamps=["opened_at", "resolved_at"],
    datetime_formats=["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"],
    timezone="UTC",
)


def _frame(path: Path, source: Source, **kwargs) -> tuple[pd.DataFrame, list[Problem]]:
    chunks = list(read_mapped(path, source, "Asia/Shanghai", **kwargs))
    return pd.concat([chunk.frame for chunk in chunks], ignore_index=True), [p for c in chunks for p in c.problems]


def test_gbk_csv_with_day_first_dates_null_markers_and_prefixes(tmp_path: Path):
    path = tmp_path / "工单导出.csv"
    path.write_bytes(
        "单号;级别;创建;分类;解决\n"
        "A-1;P1 - 紧急;03/04/2025 09:30;网络;03/04/2025 10:00:15\n"
        "A-2;P2 - 高;13/04/2025 18:05;N/A;?\n"
        "A-3;紧急;31/02/2025 08:00;#N/B;\n".encode("gb18030")
    )
    frame, problems = _frame(path, GBK_SOURCE)
    assert frame.to_dict("records")[0] == {
        "_source_row": 2,
        "ticket_id": "A-1",
        "priority": "P1",
        "opened_at": "2025-04-03T09:30:00+0000",
        "category": "网络",
        "resolved_at": "2025-04-03T10:00:15+0000",
    }
    assert pd.isna(frame.loc[1, "category"])
    assert pd.isna(frame.loc[1, "resolved_at"])
    assert frame.loc[2, "opened_at"] == "31/02/2025 08:00"  # kept as written for validation
    assert problems == [
        Problem(4, "priority", "紧急", r"does not match ^(P\d)\b"),
        Problem(4, "priority", "紧急", "value not in the mapping's value map"),
        Problem(4, "opened_at", "31/02/2025 08:00", "not a timestamp"),
    ]


def test_an_empty_cell_is_no_value_even_when_the_markers_leave_it_out(tmp_path: Path):
    path = tmp_path / "工单导出.csv"
    path.write_bytes("单号;级别;创建;分类;解决\nA-1;P1;03/04/2025 09:30;?;\n".encode("gb18030"))
    frame, problems = _frame(path, GBK_SOURCE.model_copy(update={"null_markers": ["?"]}))
    assert pd.isna(frame.loc[0, "category"]) and pd.isna(frame.loc[0, "resolved_at"])
    assert problems == []


def test_decimal_comma_numbers(tmp_path: Path):
    path = tmp_path / "survey.csv"
    path.write_text("问卷;题目;得分\nS1;服务态度;4,5\nS1;响应速度;1.234,0\nS1;总体;好\n", encoding="utf-8")
    source = Source(
        name="survey", entity="survey_responses", pattern="survey.csv", delimiter=";", decimal=",",
        columns={"问卷": "survey_id", "题目": "item", "得分": "score"}, numbers=["score"],
    )  # fmt: skip
    frame, problems = _frame(path, source)
    assert frame["score"].tolist() == ["4.5", "1234.0", "好"]
    assert problems == [Problem(4, "score", "好", "not a number")]


def test_xlsx_with_header_on_row_three_numbers_rows_as_excel_does(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工单"
    sheet.append(["某某公司运维工单台账"])
    sheet.append(["导出时间：2026-11-21"])
    sheet.append(["单号", "创建"])
    sheet.append(["B-1", "2026-11-20 08:00:00"])
    sheet.append(["B-2", "2026-11-20 09:00:00"])
    workbook.save(tmp_path / "ledger.xlsx")
    source = Source(
        name="ledger", entity="tickets", pattern="ledger.xlsx", sheet="工单", header_row=3,
        columns={"单号": "ticket_id", "创建": "opened_at"}, timestamps=["opened_at"],
    )  # fmt: skip
    frame, problems = _frame(tmp_path / "ledger.xlsx", source)
    assert frame[["_source_row", "ticket_id", "opened_at"]].values.tolist() == [
        [4, "B-1", "2026-11-20T08:00:00+0800"],
        [5, "B-2", "2026-11-20T09:00:00+0800"],
    ]
    assert problems == []


def test_large_files_stream_in_chunks_with_continuous_row_numbers(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("id\n" + "".join(f"T{n}\n" for n in range(5)), encoding="utf-8")
    source = Source(name="t", entity="tickets", pattern="t.csv", columns={"id": "ticket_id"})
    chunks = list(read_mapped(path, source, "UTC", chunk_rows=2))
    assert [len(chunk.frame) for chunk in chunks] == [2, 2, 1]
    assert [row for chunk in chunks for row in chunk.frame["_source_row"]] == [2, 3, 4, 5, 6]


def test_wrong_encoding_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "工单.csv"
    path.write_bytes("单号;级别;创建;分类;解决\n".encode("utf-16"))
    with pytest.raises(SourceFileError, match=r"工单\.csv: cannot be read as source 'excel_tickets'"):
        list(read_mapped(path, GBK_SOURCE, "UTC"))


def test_definition_errors_name_the_key():
    with pytest.raises(ValueError, match="extract.priority: the expression needs exactly one group, has 0"):
        Source(name="x", entity="tickets", pattern="x", columns={"a": "priority"}, extract={"priority": "P1"})
    with pytest.raises(ValueError, match="unknown encoding 'gbk2'"):
        Source(name="x", entity="tickets", pattern="x", columns={"a": "status"}, encoding="gbk2")
    with pytest.raises(ValueError, match="columns map to fields that tickets does not have: opend_at"):
        Source(name="x", entity="tickets", pattern="x", columns={"a": "opend_at"})
    with pytest.raises(ValueError, match="unknown entity 'ticket'"):
        Source(name="x", entity="ticket", pattern="x", columns={"a": "ticket_id"})
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Peking'"):
        Source(name="x", entity="tickets", pattern="x", columns={"a": "status"}, timezone="Asia/Peking")


def test_a_file_must_match_exactly_one_source():
    sources = SourceSet(
        timezone="UTC",
        sources=[
            Source(name="a", entity="tickets", pattern="tickets*.csv", columns={"x": "ticket_id"}),
            Source(name="b", entity="tickets", pattern="tickets_2*.csv", columns={"x": "ticket_id"}),
        ],
    )
    assert sources.source_for("tickets_1.csv").name == "a"
    with pytest.raises(SourceDefinitionError, match="tickets_2.csv: expected exactly one matching source, found a, b"):
        sources.source_for("tickets_2.csv")
    with pytest.raises(SourceDefinitionError, match="found none"):
        sources.source_for("other.csv")


def test_constants_fill_a_field_the_export_lacks_and_repeated_headers_are_refused(tmp_path: Path):
    path = tmp_path / "incidents.csv"
    path.write_text("number,state\nINC001,New\n", encoding="utf-8")
    source = Source(
        name="incidents", entity="tickets", pattern="incidents.csv",
        columns={"number": "ticket_id", "state": "status"}, constants={"ticket_type": "incident"},
    )  # fmt: skip
    frame, _ = _frame(path, source)
    assert frame.loc[0, "ticket_type"] == "incident"
    path.write_text("number,state,number\nINC001,New,INC002\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"incidents\.csv: column\(s\) number appear more than once"):
        _frame(path, source)


INCIDENTS = Source(
    name="incidents", entity="tickets", pattern="incidents.csv",
    columns={"number": "ticket_id", "state": "status", "opened_at": "opened_at", "priority": "priority"},
)  # fmt: skip


def test_every_header_problem_is_reported_at_once(tmp_path: Path):
    path = tmp_path / "incidents.csv"
    path.write_text("number,State,Opened_At,number,Priority \nINC001,New,2026-01-01,INC001,P1\n", encoding="utf-8")
    with pytest.raises(HeaderError) as raised:
        _frame(path, INCIDENTS)
    # "Priority " is trimmed to "Priority": a case difference, like State and Opened_At.
    assert raised.value.problems == [
        "missing column(s) state, opened_at, priority required by source 'incidents'",
        "column 'State' differs from the mapped column 'state' only in case or spacing",
        "column 'Opened_At' differs from the mapped column 'opened_at' only in case or spacing",
        "column 'Priority' differs from the mapped column 'priority' only in case or spacing",
        "column(s) number appear more than once",
    ]
    assert str(raised.value).startswith("incidents.csv: missing column(s) state, opened_at, priority required by")
    assert str(raised.value).endswith("; column(s) number appear more than once")


def test_a_header_without_any_mapped_column_points_at_header_row_and_delimiter():
    header = ["ServiceNow export 2026-11"]  # a title line read as the header
    assert header_problems(header, INCIDENTS) == [
        "missing column(s) number, state, opened_at, priority required by source 'incidents'",
        "none of the mapped columns is in header row 1 ('ServiceNow export 2026-11'): is header_row, delimiter ','"
        " or sheet right?",
    ]
    assert header_problems(["priority", "extra", "number", "opened_at", "state", "extra"], INCIDENTS) == []


def test_timestamps_with_their_own_offset_keep_their_instant_and_daylight_saving_edges_are_read(tmp_path: Path):
    path = tmp_path / "api.csv"
    path.write_text(
        "id,opened\n"
        "N1,2026-03-01T08:00:00Z\n"  # UTC, as REST APIs write it
        "N2,2026-03-01 09:00:00+02:00\n"
        "N3,2026-03-01 09:00:00\n"  # wall-clock time in the source's zone
        "N4,2026-03-08 02:30:00\n"  # skipped in New York: the moment of the jump
        "N5,2026-11-01 01:30:00\n"  # repeated in New York: its first occurrence (EDT)
        "N6,2026-03-01T25:00:00Z\n",
        encoding="utf-8",
    )
    source = Source(
        name="api", entity="tickets", pattern="api.csv", timezone="America/New_York",
        columns={"id": "ticket_id", "opened": "opened_at"}, timestamps=["opened_at"],
    )  # fmt: skip
    frame, problems = _frame(path, source)
    assert frame["opened_at"].tolist() == [
        "2026-03-01T03:00:00-0500",
        "2026-03-01T02:00:00-0500",
        "2026-03-01T09:00:00-0500",
        "2026-03-08T03:00:00-0400",
        "2026-11-01T01:30:00-0400",
        "2026-03-01T25:00:00Z",
    ]
    assert problems == [Problem(7, "opened_at", "2026-03-01T25:00:00Z", "not a timestamp")]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kolkata", "America/St_Johns", "UTC"])
def test_times_are_written_as_strftime_would_write_them(zone: str):
    # Every hour of 2026 in zones with daylight saving, half-hour and negative offsets.
    instants = pd.Series(pd.date_range("2026-01-01", "2026-12-31 23:00", freq="h", tz="UTC").tz_convert(zone))
    instants[3] = pd.NaT
    expected = instants.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    assert _iso_text(instants, True).where(instants.notna()).equals(expected.where(instants.notna()))
    assert _iso_text(instants, False).where(instants.notna()).equals(instants.dt.strftime("%Y-%m-%d"))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1 Day 2 Hours 3 Minutes", 1563),  # ServiceNow's display value
        ("3 Minutes 30 Seconds", 3.5),
        ("0 Seconds", 0),
        ("2h 30m", 150),  # Jira's short form
        ("-1h 5m", -65),  # past the target
        ("\u22122d", -2880),  # a typographic minus
        ("1w 2d", 12960),
        ("1mo", 40320),  # Jira: a month is four weeks
        ("26:15", 1575),
        ("-0:45:30", -45.5),
        ("45", 45),
        ("12.5", 12.5),
    ],
)
def test_durations_as_the_tools_write_them(text: str, minutes: float):
    assert duration_minutes(text) == minutes


@pytest.mark.parametrize("text", ["an hour", "2 parsecs", "1h lunch", "h", "--5", ""])
def test_what_is_no_duration_is_said_to_be_none(text: str):
    assert duration_minutes(text) is None


def test_a_value_that_is_no_duration_is_kept_and_reported(tmp_path: Path):
    path = tmp_path / "slas.csv"
    path.write_text("任务,用时\nT1,1 Hour 30 Minutes\nT2,a while\nT3,\n", encoding="utf-8")
    source = Source(name="s", entity="tool_sla_records", pattern="*.csv", columns={"任务": "ticket_id", "用时": "business_elapsed_minutes"},
                    durations=["business_elapsed_minutes"])  # fmt: skip
    frame, problems = _frame(path, source)
    assert frame["business_elapsed_minutes"].tolist()[:2] == ["90", "a while"]
    assert pd.isna(frame["business_elapsed_minutes"].iloc[2])
    assert problems == [Problem(3, "business_elapsed_minutes", "a while", "not a duration")]
