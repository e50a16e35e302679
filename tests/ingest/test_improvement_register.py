"""The improvement register's Excel round trip on the small organisation (support/small_landing.py).

``itss improvements export`` → cells filled in with openpyxl as the quality manager would →
landed → loaded, validated and built as the night does → marts.improvement_items shows the
values and the state; rows breaking the register's rules are quarantined with their reason;
the same file loaded again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import psycopg
import pytest
import yaml
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from support.ingest import ingest
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.ingest import sources
from itss_warehouse.ingest.improvement_register import RegisterEntry, entry_problems
from itss_warehouse.ingest.improvement_workbook import BLANK_ROWS, REGISTER_MAPPING, export_register
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.transform import dbt
from itss_warehouse.validate import runner

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUN_DATE = "{run_date: '2026-11-21'}"
AS_OF_DAY = dt.date(2026, 11, 22)  # macro as_of_date: the day of the end of the run date
ZH_SHEET, EN_SHEET = "改进措施", "Improvements"
FORMULA_LIKE = '=HYPERLINK("http://example.invalid")'
MART = """
    select item_id, kind, cause_category, cause_analysis, corrective_action, preventive_action, planned_date, status,
           completed_date, verified_date, verification_note, state, days_open, raised_date, assigned_owner_key,
           verified_by_key
    from marts.improvement_items order by item_id
"""


def _night(url: str, settings) -> list[int]:
    """Load, validate and build what the register feeds, as the nightly does; the new batches' ids."""
    batches = ingest(url, settings.landing_path, sources.load_sources(settings.sources_file))
    ids = [batch.batch_id for batch in batches]
    if ids:
        runner.validate_raw_batches(url, ids, settings)
    dbt.run_dbt(settings, "--quiet", "build", "--select", "stg_quality__improvement_register+",
                "--exclude-resource-type", "unit_test", "--vars", RUN_DATE)  # fmt: skip
    return ids


def _mart(url: str) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(MART)
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _columns(sheet: Worksheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def _row_of(sheet: Worksheet, item_id: str) -> int:
    return next(row[0].row for row in sheet.iter_rows(min_row=2) if row[0].value == item_id)


def _fill(sheet: Worksheet, row: int, values: dict[str, object]) -> None:
    columns = _columns(sheet)
    for header, value in values.items():
        sheet.cell(row=row, column=columns[header]).value = value  # None empties the cell


@pytest.fixture(scope="module")
def built(tool_environment: str, pipeline_settings) -> str:
    batches = ingest(
        tool_environment, pipeline_settings.landing_path, sources.load_sources(pipeline_settings.sources_file)
    )
    runner.validate_raw_batches(tool_environment, [batch.batch_id for batch in batches], pipeline_settings)
    dbt.run_dbt(pipeline_settings, "--quiet", "build", "--exclude-resource-type", "unit_test", "--vars", RUN_DATE)
    return tool_environment


@pytest.fixture(scope="module")
def items(built: str) -> list[str]:
    """Five month items of October (the small organisation's missed KPIs and SLA reviews), by id."""
    with psycopg.connect(built) as conn:
        rows = conn.execute(
            "select item_id from marts.improvement_items where period_type = 'month' order by item_id"
        ).fetchall()
    assert len(rows) >= 5, rows
    return [row[0] for row in rows[:5]]


@pytest.fixture(scope="module")
def round_trip(built: str, items: list[str], pipeline_settings, tmp_path_factory) -> Path:
    """The Chinese export filled in and read back; the filled file."""
    exported = export_register(built, pipeline_settings.templates_path, tmp_path_factory.mktemp("export"))
    workbook = load_workbook(exported.path)
    sheet = workbook[ZH_SHEET]
    done, verified, late = items[0], items[1], items[2]
    _fill(sheet, _row_of(sheet, done), {
        "原因类别": "人员", "原因分析": "值班工程师未按流程升级", "纠正措施": "补充升级培训", "预防措施": "每月抽查升级记录",
        "责任人": "孙七", "计划完成日期": dt.date(2026, 11, 30), "状态": "已完成", "实际完成日期": dt.date(2026, 11, 15),
    })  # fmt: skip
    _fill(sheet, _row_of(sheet, verified), {
        "原因类别": "Supplier", "纠正措施": "更换备件供应商", "状态": "验证有效", "实际完成日期": dt.date(2026, 11, 5),
        "验证人": "质量经理", "验证日期": dt.date(2026, 11, 18), "验证说明": "11 月已达标",
    })  # fmt: skip
    sheet.cell(row=_row_of(sheet, verified), column=_columns(sheet)["原因分析"], value=FORMULA_LIKE).data_type = "s"
    _fill(sheet, _row_of(sheet, late), {"状态": "进行中", "计划完成日期": dt.date(2026, 11, 20)})
    hand_row = exported.items + 2  # the first empty row below the items
    _fill(sheet, hand_row, {
        "改进项编号": "NS-2026-001", "来源": "内部审核", "问题描述": "内审发现变更记录不完整", "提出日期": dt.date(2026, 11, 10),
        "原因类别": "过程", "责任人": "王五", "状态": "进行中",
    })  # fmt: skip
    filled = pipeline_settings.landing_path / "改进措施登记表_2026-11.xlsx"
    workbook.save(filled)
    _night(built, pipeline_settings)
    return filled


def test_export_has_dropdowns_locked_ids_dates_and_instructions(built: str, pipeline_settings, tmp_path: Path):
    exported = export_register(built, pipeline_settings.templates_path, tmp_path / "register.xlsx")
    workbook = load_workbook(exported.path)
    assert workbook.sheetnames == [ZH_SHEET, "填写说明"]
    sheet = workbook[ZH_SHEET]
    columns = _columns(sheet)
    with psycopg.connect(built) as conn:
        assert exported.items == conn.execute("select count(*) from marts.improvement_items").fetchone()[0]
    lists = {rule.formula1: str(rule.sqref) for rule in sheet.data_validations.dataValidation if rule.type == "list"}
    assert '"待处理,进行中,已完成,验证有效,验证无效"' in lists
    assert '"人员,过程,工具/技术,资源,供应商,客户,其他"' in lists
    assert '"内部审核,管理评审,客户走访,其他"' in lists
    dates = [str(rule.sqref) for rule in sheet.data_validations.dataValidation if rule.type == "date"]
    assert len(dates) == 4
    assert sheet.protection.sheet
    first, blank = 2, exported.items + 2
    assert sheet.cell(first, columns["改进项编号"]).protection.locked
    assert sheet.cell(first, columns["来源"]).protection.locked
    assert sheet.cell(first, columns["提出日期"]).protection.locked
    assert sheet.cell(first, columns["差距"]).protection.locked
    assert not sheet.cell(first, columns["原因分析"]).protection.locked
    assert not sheet.cell(first, columns["状态"]).protection.locked
    assert not sheet.cell(blank, columns["改进项编号"]).protection.locked  # items raised by hand
    assert not sheet.cell(exported.items + 1 + BLANK_ROWS, columns["来源"]).protection.locked
    assert sheet.cell(first, columns["计划完成日期"]).number_format == "yyyy-mm-dd"
    assert isinstance(sheet.cell(first, columns["完成期限"]).value, dt.datetime)
    assert sheet.cell(first, columns["状态"]).value == "待处理"
    gaps = [sheet.cell(row, columns["差距"]).value for row in range(first, blank)]
    assert any(gap is not None for gap in gaps)  # the KPI gap that opened each missed-KPI item
    instructions = [row[0] for row in workbook["填写说明"].iter_rows(values_only=True)]
    assert "计划完成日期" in instructions and any("状态倒退" in str(line) for line in instructions)


def test_english_export_is_english_and_read_by_the_english_source(built: str, pipeline_settings, tmp_path: Path):
    exported = export_register(built, pipeline_settings.templates_path, tmp_path, language="en")
    assert exported.path.name.startswith("improvement_register_")
    workbook = load_workbook(exported.path)
    assert workbook.sheetnames == [EN_SHEET, "Instructions"]
    header = [cell.value for cell in workbook[EN_SHEET][1]]
    assert header[:3] == ["Item ID", "Origin", "Description"] and "Gap" in header
    assert sources.load_sources(pipeline_settings.sources_file).source_for(exported.path.name).name == (
        "improvement_register_en"
    )


def test_filled_in_register_reaches_the_mart_with_its_state(built: str, items: list[str], round_trip: Path):
    mart = _mart(built)
    done, verified, late, untouched = mart[items[0]], mart[items[1]], mart[items[2]], mart[items[3]]
    assert (done["status"], done["state"], done["cause_category"]) == ("done", "done", "people")
    assert (done["cause_analysis"], done["corrective_action"], done["preventive_action"]) == (
        "值班工程师未按流程升级", "补充升级培训", "每月抽查升级记录",
    )  # fmt: skip
    assert done["planned_date"] == dt.date(2026, 11, 30) and done["completed_date"] == dt.date(2026, 11, 15)
    # October's items are raised when October ends: done 14 days later.
    assert done["raised_date"] == dt.date(2026, 11, 1) and done["days_open"] == 14
    assert done["assigned_owner_key"] is not None and "孙七" not in done["assigned_owner_key"]
    assert (verified["state"], verified["cause_category"], verified["verification_note"]) == (
        "verified_effective", "supplier", "11 月已达标",
    )  # fmt: skip
    assert verified["cause_analysis"] == FORMULA_LIKE and verified["verified_by_key"] is not None
    assert (late["status"], late["state"]) == ("in_progress", "overdue")  # planned 20 November
    assert (untouched["status"], untouched["state"], untouched["cause_analysis"]) == ("open", "open", None)
    assert untouched["days_open"] == (AS_OF_DAY - dt.date(2026, 11, 1)).days
    hand = mart["NS-2026-001"]
    assert (hand["kind"], hand["state"], hand["cause_category"]) == ("audit", "in_progress", "process")
    assert hand["days_open"] == (AS_OF_DAY - dt.date(2026, 11, 10)).days
    with psycopg.connect(built) as conn:
        people = {row[0]: row[1:] for row in conn.execute(
            "select item_id, owner, description from restricted.improvement_register_people"
        )}  # fmt: skip
    # Free text stays out of marts: names and descriptions are restricted.
    assert people[items[0]][0] == "孙七" and people["NS-2026-001"] == ("王五", "内审发现变更记录不完整")


def test_re_export_merges_what_was_filled_in(built: str, items: list[str], round_trip: Path, pipeline_settings,
                                             tmp_path: Path):  # fmt: skip
    exported = export_register(built, pipeline_settings.templates_path, tmp_path)
    sheet = load_workbook(exported.path)[ZH_SHEET]
    columns = _columns(sheet)
    row = _row_of(sheet, items[0])
    assert sheet.cell(row, columns["状态"]).value == "已完成"
    assert sheet.cell(row, columns["原因类别"]).value == "人员"
    assert sheet.cell(row, columns["责任人"]).value == "孙七"
    assert sheet.cell(row, columns["当前状态"]).value == "已完成"
    formula_cell = sheet.cell(_row_of(sheet, items[1]), columns["原因分析"])
    assert formula_cell.value == FORMULA_LIKE and formula_cell.data_type == "s"  # text, never a formula
    hand = _row_of(sheet, "NS-2026-001")
    assert sheet.cell(hand, columns["来源"]).value == "内部审核"
    by_owner = export_register(built, pipeline_settings.templates_path, tmp_path / "li.xlsx", owner="孙七")
    assert by_owner.items == 1


def test_loading_the_same_file_again_changes_nothing(built: str, round_trip: Path, pipeline_settings):
    before = _mart(built)
    with psycopg.connect(built) as conn:
        entries = conn.execute("select count(*) from raw.improvement_register").fetchone()[0]
    shutil.copy(round_trip, round_trip.with_name("改进措施登记表_2026-11-again.xlsx"))
    assert _night(built, pipeline_settings) == []
    with psycopg.connect(built) as conn:
        assert conn.execute("select count(*) from raw.improvement_register").fetchone()[0] == entries
    assert _mart(built) == before


def test_rule_breaking_rows_are_quarantined_with_their_reason(built: str, items: list[str], round_trip: Path,
                                                              pipeline_settings, tmp_path: Path):  # fmt: skip
    before = _mart(built)
    exported = export_register(built, pipeline_settings.templates_path, tmp_path, language="en")
    workbook = load_workbook(exported.path)
    sheet = workbook[EN_SHEET]
    backwards, unverified, ownerless = _row_of(sheet, items[0]), _row_of(sheet, items[3]), _row_of(sheet, items[4])
    unknown = exported.items + 2
    _fill(sheet, backwards, {"Status": "In progress"})  # already done
    _fill(sheet, unverified, {"Status": "Verified effective", "Verified by": "QA"})  # never done
    _fill(sheet, ownerless, {"Owner": None})  # still open
    _fill(sheet, unknown, {"Item ID": "IMP-404", "Status": "Open", "Owner": "赵六"})  # no origin: not raised by hand
    landed = pipeline_settings.landing_path / exported.path.name
    workbook.save(landed)
    (batch_id,) = _night(built, pipeline_settings)
    with psycopg.connect(built) as conn:
        quarantined = conn.execute(
            "select source_row, check_name, reason from raw.quarantined_rows where batch_id = %s order by source_row",
            (batch_id,),
        ).fetchall()
    reasons = {row: (check, reason) for row, check, reason in quarantined}
    assert set(reasons) == {backwards, unverified, ownerless, unknown}, quarantined
    assert reasons[backwards] == ("mapping:register:status", "status goes backwards: the item is already done")
    assert reasons[unverified] == ("mapping:register:status", "verified before done: no completed date")
    assert reasons[ownerless] == ("mapping:register:owner", "missing owner on an open item")
    assert reasons[unknown][0] == "mapping:register:item_id" and reasons[unknown][1].startswith("unknown item id")
    after = _mart(built)
    assert after[items[0]]["status"] == "done" and after[items[3]]["status"] == "open"
    assert "IMP-404" not in after
    assert after == before  # the other rows of the English file say what the marts held


def test_verified_date_before_completed_date_is_quarantined(built: str, round_trip: Path, pipeline_settings,
                                                            tmp_path: Path):  # fmt: skip
    exported = export_register(built, pipeline_settings.templates_path, tmp_path)
    workbook = load_workbook(exported.path)
    sheet = workbook[ZH_SHEET]
    _fill(sheet, exported.items + 2, {
        "改进项编号": "NS-2026-002", "来源": "客户走访", "问题描述": "客户反映夜间响应慢", "提出日期": dt.date(2026, 11, 3),
        "状态": "验证有效", "实际完成日期": dt.date(2026, 11, 12), "验证日期": dt.date(2026, 11, 9),
    })  # fmt: skip
    workbook.save(pipeline_settings.landing_path / "改进措施登记表_2026-11-visit.xlsx")
    (batch_id,) = _night(built, pipeline_settings)
    with psycopg.connect(built) as conn:
        quarantined = conn.execute(
            "select check_name, raw_value, reason from raw.quarantined_rows where batch_id = %s", (batch_id,)
        ).fetchall()
    assert quarantined == [
        ("mapping:register:verified_date", "2026-11-09", "verified before done: verified date is before the completed date"
         " 2026-11-12"),
    ]  # fmt: skip
    assert "NS-2026-002" not in _mart(built)


def test_cli_exports_the_register(built: str, pipeline_settings, tmp_path: Path):
    result = CliRunner().invoke(app, ["improvements", "export", "--period", "2026-10", "--lang", "en",
                                      "--output", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.iterdir()
    assert written.name == "improvement_register_2026-10.xlsx"
    assert " improvement item(s) in " in result.output


def test_the_shipped_definition_file_carries_the_register_sources():
    register = yaml.safe_load(REGISTER_MAPPING.read_text(encoding="utf-8"))["sources"]
    demo = yaml.safe_load((PACKAGE_DIR / "mappings" / "demo.yml").read_text(encoding="utf-8"))["sources"]
    assert [source for source in demo if source["entity"] == "improvement_register"] == register


def _entry(**fields) -> RegisterEntry:
    defaults = {"row": 2, "item_id": "A", "origin": "kpi_missed", "raised_date": None, "status": "open",
                "owner": "孙七", "completed_date": None, "verified_date": None}  # fmt: skip
    return RegisterEntry(**{**defaults, **fields})


def test_register_rules_without_a_warehouse():
    assert entry_problems(_entry(), {"A"}, None) == []
    assert entry_problems(_entry(status="in_progress"), {"A"}, "open") == []  # forward
    # The verifier's two verdicts are one step: a second look may change it.
    assert entry_problems(_entry(status="not_effective", completed_date="2026-11-01"), {"A"}, "verified") == []
    assert entry_problems(_entry(status="verified"), {"A"}, "done") == [
        ("status", "verified", "verified before done: no completed date")
    ]
    assert entry_problems(_entry(status="in_progress", owner=None), {"A"}, "done") == [
        ("status", "in_progress", "status goes backwards: the item is already done"),
        ("owner", None, "missing owner on an open item"),
    ]
    assert entry_problems(_entry(item_id="NS-1", origin="audit", raised_date="2026-11-03"), {"A"}, None) == []
    assert entry_problems(_entry(item_id="NS-1", origin="audit"), {"A"}, None) == [
        ("raised_date", None, "an item raised by hand needs the day it was raised")
    ]
    assert entry_problems(_entry(status="done", owner=None), {"A"}, None) == []  # only open items need an owner
